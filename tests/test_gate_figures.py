"""Every circuit-breaker figure against a value computed by hand on a small example, on a real DuckDB file
holding this run's mart and the last publication (tests/test_quality_gates.py shows the breakers firing in
real runs; this file shows the numbers they fire on are the right ones).

The example, ten members published as of 2025-06-29, nine in this run:

    member        c01     c02     c03     c04     c05     c06     c07     c08     c09     c10
    published     bronze  bronze  bronze  bronze  bronze  silver  silver  silver  gold    gold
    this run      -       bronze  silver  bronze  bronze  bronze  silver  gold    silver  gold
                  gone            up                      down            up      down

- tier_change_share: 9 members in both runs (c02-c10), 4 changed tier (c03, c06, c08, c09): 4/9 = 0.444444.
- customer_drop_share: 10 published, 9 now: (10 - 9) / 10 = 0.1.
- downgrade_share: 2 of the 9 fell (c06 silver -> bronze, c09 gold -> silver): 2/9 = 0.222222.
- tier_psi: shares now (a) bronze 4/9, silver 3/9, gold 2/9; published (e) 5/10, 3/10, 2/10.
  PSI = sum (a - e) * ln(a / e):
    bronze (0.444444 - 0.5) * ln(0.888889) = -0.055556 * -0.117783 = 0.006544
    silver (0.333333 - 0.3) * ln(1.111111) =  0.033333 *  0.105361 = 0.003512
    gold   (0.222222 - 0.2) * ln(1.111111) =  0.022222 *  0.105361 = 0.002341
    total 0.012397
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tierflow.gates.measures import circuit_breakers, psi
from tierflow.policy.gates import Gates
from tierflow.publish.state import LOG_DDL

RANK = {"bronze": 1, "silver": 2, "gold": 3}
PUBLISHED = {f"c0{i}": "bronze" for i in range(1, 6)} | {"c06": "silver", "c07": "silver", "c08": "silver"}
PUBLISHED |= {"c09": "gold", "c10": "gold"}
CURRENT = {"c02": "bronze", "c03": "silver", "c04": "bronze", "c05": "bronze", "c06": "bronze"}
CURRENT |= {"c07": "silver", "c08": "gold", "c09": "silver", "c10": "gold"}


def _tiers(con: duckdb.DuckDBPyConnection, table: str, tiers: dict[str, str], as_of: str) -> None:
    con.execute(f"create table {table} (customer_id varchar, tier varchar, tier_rank integer, as_of_date date)")
    con.executemany(
        f"insert into {table} values (?, ?, ?, ?)", [(c, t, RANK[t], as_of) for c, t in sorted(tiers.items())]
    )


@pytest.fixture
def con(tmp_path: Path):
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        con.execute("create schema marts")
        con.execute("create schema published_state")
        _tiers(con, "published_state.customer_tiers", PUBLISHED, "2025-06-29")
        # The breakers compare only once a run has published: the log holds that run.
        con.execute(LOG_DDL)
        con.execute(
            "insert into published_state.publish_log "
            "values ('r1', '2025-06-29', 'v1', now(), '', '', '', 1, null, null)"
        )
        _tiers(con, "marts.customer_tiers", CURRENT, "2025-06-30")
        yield con


def test_every_breaker_figure_is_the_hand_computed_one(con: duckdb.DuckDBPyConnection) -> None:
    results = {r.name: r for r in circuit_breakers(con, Gates(), allowed={})}
    assert {name: r.figure for name, r in results.items()} == {
        "tier_change_share": 0.444444,
        "customer_drop_share": 0.1,
        "tier_psi": 0.012397,
        "downgrade_share": 0.222222,
    }
    # Under the shipped thresholds (0.20, 0.02, 0.25 with a warning at 0.1, 0.05).
    assert {name: r.status for name, r in results.items()} == {
        "tier_change_share": "failed",
        "customer_drop_share": "failed",
        "tier_psi": "passed",
        "downgrade_share": "failed",
    }
    # The samples name the members behind the figures: downgrades first, then by id.
    assert [r["customer_id"] for r in results["tier_change_share"].sample] == ["c06", "c09", "c03", "c08"]
    assert [r["customer_id"] for r in results["downgrade_share"].sample] == ["c06", "c09"]
    assert results["customer_drop_share"].sample == [{"customer_id": "c01", "previous_tier": "bronze"}]
    assert "4 of 9 members changed tier against the run published as of 2025-06-29" in (
        results["tier_change_share"].message
    )


def test_a_breaker_allowed_for_the_run_is_overridden_and_psi_above_the_warning_level_warns(
    con: duckdb.DuckDBPyConnection,
) -> None:
    gates = Gates(warn_psi=Decimal("0.012"), max_psi=Decimal("0.013"))  # 0.012397 lies between them
    results = {r.name: r for r in circuit_breakers(con, gates, allowed={"downgrade_share": "announced"})}
    assert results["tier_psi"].status == "warned"
    assert results["downgrade_share"].status == "overridden" and "announced" in results["downgrade_share"].message
    assert results["tier_change_share"].status == "failed"  # not allowed, still blocks
    tighter = {r.name: r for r in circuit_breakers(con, Gates(warn_psi=None, max_psi=Decimal("0.012")), {})}
    assert tighter["tier_psi"].status == "failed"


def test_psi_by_hand_including_an_empty_tier() -> None:
    # Identical distributions: every term is 0.
    assert psi({"bronze": 5, "gold": 5}, {"bronze": 1, "gold": 1}) == 0.0
    # A tier empty on one side counts as a share of 0.0001, so the index stays finite:
    #   bronze a = 0.5, e = 1.0:     (0.5 - 1.0) * ln(0.5)           = 0.346574
    #   gold   a = 0.5, e = 0.0001:  (0.5 - 0.0001) * ln(5000) = 0.4999 * 8.517193 = 4.257745
    #   total 4.604318 (to six places, 4.60431847)
    assert psi({"bronze": 1, "gold": 1}, {"bronze": 2}) == 4.604318
    # PSI is symmetric in its two distributions: swapping them swaps the sign of both factors.
    assert psi({"bronze": 2}, {"bronze": 1, "gold": 1}) == 4.604318
