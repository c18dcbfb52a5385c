"""Household pooling, scenario by scenario, through `tierflow run` (the real pipeline and its gates). The
timeline below was written out by hand before the runs.

Policy: Bronze; Silver 1000 (keep 800); Gold 5000 (keep 4000), over a rolling 365 days; periodic downgrades
on 1 Jan; `pooling: {by: household}`. Every order is dated 2025-03-01.

ann 600, ben 500     household h1 since 2025-01-01 (profiles.csv)
    D1 2025-06-30    own 600 / 500, both Bronze alone; pooled 1100 >= 1000 -> both Silver, 2 members
    D2 2025-12-15    ann re-sent in a file without household columns (a new region): still in h1
    D3 2026-01-02    evaluation on 1 Jan: pooled 1100 >= keep 800 -> both keep Silver; none of the March
                     spend counts at the next evaluation (1 Jan 2027): keep_spend_gap 800 (fay's too)
cal 700, dan 400     household h2 since 2025-01-01
    D1               pooled 1100 -> both Silver; keep_spend_gap 0 (pooled keep window 1100)
    D2               dan leaves (household_id blank; counts from D2's as-of date): cal alone in h2 (1 member,
                     700: gap 100), dan on his own (no household columns, gap 400); both still Silver until
                     the evaluation
    D3               evaluation on 1 Jan on their own figures: 700 and 400 < 800 -> both fall to Bronze
eve 300              a 65-character household id -> quarantined invalid_household_id (no profile: Bronze)
fay 1200             no household: Silver on her own, household columns null

Pooling off (the same landing zone, the same nights, a second home): ann, ben, cal and dan stay Bronze on
their own figures, household columns null everywhere.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest
import yaml

from tests.conftest import ORDER_COLUMNS, PROFILE_COLUMNS, RELAXED_GATES, Runner, order, profile, write_csv
from tierflow.cli import main
from tierflow.ingest import INPUTS, ingest_input

pytestmark = pytest.mark.slow

NIGHTS = ("2025-06-30", "2025-12-15", "2026-01-02")
POLICY = {
    "version": "p1",
    "currency": "CNY",
    "timezone": "UTC",
    "downgrade": {"mode": "periodic", "every_months": 12, "anchor": "calendar"},
    "pooling": {"by": "household"},
    "tiers": [
        {"code": "bronze", "name": "Bronze"},
        {"code": "silver", "name": "Silver", "min_spend": 1000, "keep": {"min_spend": 800}},
        {"code": "gold", "name": "Gold", "min_spend": 5000, "keep": {"min_spend": 4000}},
    ],
    "gates": RELAXED_GATES,
}
SPEND = {"ann": "600", "ben": "500", "cal": "700", "dan": "400", "eve": "300", "fay": "1200"}
HOUSEHOLD_COLUMNS = ["customer_id", "signup_date", "household_id", "household_since"]
LONG_ID = "h" * 65

# After each night: customer -> (tier, household_id, members, pooled spend, pooled orders, keep_spend_gap).
POOLED = {
    "2025-06-30": {
        "ann": ("silver", "h1", 2, "1100.00", 2, "0.00"),
        "ben": ("silver", "h1", 2, "1100.00", 2, "0.00"),
        "cal": ("silver", "h2", 2, "1100.00", 2, "0.00"),
        "dan": ("silver", "h2", 2, "1100.00", 2, "0.00"),
        "eve": ("bronze", None, None, None, None, None),
        "fay": ("silver", None, None, None, None, "0.00"),
    },
    "2025-12-15": {
        "ann": ("silver", "h1", 2, "1100.00", 2, "0.00"),
        "ben": ("silver", "h1", 2, "1100.00", 2, "0.00"),
        "cal": ("silver", "h2", 1, "700.00", 1, "100.00"),
        "dan": ("silver", None, None, None, None, "400.00"),
        "eve": ("bronze", None, None, None, None, None),
        "fay": ("silver", None, None, None, None, "0.00"),
    },
    "2026-01-02": {
        "ann": ("silver", "h1", 2, "1100.00", 2, "800.00"),
        "ben": ("silver", "h1", 2, "1100.00", 2, "800.00"),
        "cal": ("bronze", "h2", 1, "700.00", 1, None),
        "dan": ("bronze", None, None, None, None, None),
        "eve": ("bronze", None, None, None, None, None),
        "fay": ("silver", None, None, None, None, "800.00"),
    },
}
UNPOOLED = {"ann": "bronze", "ben": "bronze", "cal": "bronze", "dan": "bronze", "eve": "bronze", "fay": "silver"}


def _landing(root: Path) -> Path:
    landing = root / "landing"
    orders = [order(f"o-{c}", c, "2025-03-01 12:00:00", amount) for c, amount in SPEND.items()]
    write_csv(landing / "orders" / "orders.csv", orders, ORDER_COLUMNS)
    members = [("ann", "h1"), ("ben", "h1"), ("cal", "h2"), ("dan", "h2"), ("eve", LONG_ID), ("fay", "")]
    rows = [profile(c, household_id=h, household_since="2025-01-01" if h else "") for c, h in members]
    write_csv(landing / "profiles" / "profiles_1.csv", rows, HOUSEHOLD_COLUMNS)
    return landing


def _second_night_files(landing: Path) -> None:
    write_csv(landing / "profiles" / "profiles_2.csv", [profile("dan", household_id="")], HOUSEHOLD_COLUMNS)
    write_csv(landing / "profiles" / "profiles_3.csv", [profile("ann", region="East")], PROFILE_COLUMNS)


def _tiers(runner: Runner) -> dict[str, tuple]:
    rows = runner.published(
        "select customer_id, tier, household_id, household_members, cast(household_qualifying_spend as varchar), "
        "household_qualifying_orders, cast(keep_spend_gap as varchar) from customer_tiers"
    )
    return {r[0]: r[1:] for r in rows}


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    root = tmp_path_factory.mktemp("pooling")
    landing = _landing(root)
    pooled_policy, unpooled_policy = root / "pooled.yml", root / "unpooled.yml"
    pooled_policy.write_text(yaml.safe_dump(POLICY), encoding="utf-8")
    unpooled = {**POLICY, "version": "p0"}
    del unpooled["pooling"]
    unpooled_policy.write_text(yaml.safe_dump(unpooled), encoding="utf-8")
    runners = {"pooled": Runner(root / "pooled", pooled_policy), "unpooled": Runner(root / "unpooled", unpooled_policy)}
    results: dict = {"runners": runners, "tiers": {name: {} for name in runners}, "summaries": {}}
    for night in NIGHTS:
        if night == NIGHTS[1]:
            _second_night_files(landing)
        for name, runner in runners.items():
            code, summary = runner(landing, night)
            assert code == 0, summary.get("message")
            results["tiers"][name][night] = _tiers(runner)
            results["summaries"][(name, night)] = summary
    yield results


def test_pooled_households_enter_keep_and_fall_together(nights: dict) -> None:
    for night, expected in POOLED.items():
        assert nights["tiers"]["pooled"][night] == expected, night


def test_own_window_figures_stay_the_members_own(nights: dict) -> None:
    rows = nights["runners"]["pooled"].published("select customer_id, cast(spend_365d as varchar) from customer_tiers")
    assert dict(rows) == {c: f"{amount}.00" for c, amount in SPEND.items()}


def test_without_pooling_the_household_has_no_effect(nights: dict) -> None:
    for night in NIGHTS:
        tiers = nights["tiers"]["unpooled"][night]
        assert {c: row[0] for c, row in tiers.items()} == UNPOOLED, night
        assert all(row[1:5] == (None, None, None, None) for row in tiers.values()), night


def test_a_household_id_that_fails_validation_is_quarantined(nights: dict) -> None:
    runner = nights["runners"]["pooled"]
    rows = runner.warehouse("select reason, record from landing.quarantine where input = 'profiles'")
    assert [(reason, json.loads(record)["customer_id"]) for reason, record in rows] == [("invalid_household_id", "eve")]


def test_the_leaving_member_falls_at_the_evaluation(nights: dict) -> None:
    changes = nights["runners"]["pooled"].published(
        "select customer_id, cast(effective_date as varchar), from_tier, to_tier, reason from tier_changes "
        "where change_type = 'downgrade' order by customer_id"
    )
    assert changes == [
        ("cal", "2026-01-01", "silver", "bronze", "evaluation"),
        ("dan", "2026-01-01", "silver", "bronze", "evaluation"),
    ]


def test_explain_shows_the_members_figures_beside_the_households(nights: dict) -> None:
    home = nights["runners"]["pooled"].home
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["explain", "ann", "--home", str(home), "--json"])
    assert code == 0
    explained = json.loads(out.getvalue())
    assert (explained["qualifying_spend"], explained["household_qualifying_spend"]) == (600.0, 1100.0)
    assert (explained["household_id"], explained["household_members"]) == ("h1", 2)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(["explain", "ann", "--home", str(home)])
    (line,) = [row for row in out.getvalue().splitlines() if row.lstrip().startswith("household")]
    assert line.split(None, 1)[1] == "h1, 2 members: spend 1,100.00, 2 order(s) pooled", line


def test_pooling_by_anything_but_household_is_refused(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text(yaml.safe_dump({**POLICY, "pooling": {"by": "street"}}), encoding="utf-8")
    landing = _landing(tmp_path)
    code, summary = Runner(tmp_path / "home", policy)(landing, NIGHTS[0])
    assert code == 2
    assert "pooling.by" in summary["message"]


def test_household_columns_are_validated_and_typed_at_ingest(tmp_path: Path) -> None:
    """Ingest alone: a valid id (64 characters at most) is kept, a blank one is '' (on their own), a file
    without the column leaves it NULL (households unchanged); longer ids, control characters and bad dates
    are quarantined, and the run's as-of date is recorded for memberships without household_since."""
    landing = tmp_path / "landing"
    rows = [
        profile("ok", household_id="h-1", household_since="2025-02-01"),
        profile("long_ok", household_id="x" * 64),
        profile("alone", household_id="  "),
        profile("too_long", household_id="x" * 65),
        profile("control", household_id="h\x01"),
        profile("bad_since", household_id="h-2", household_since="2025-13-01"),
    ]
    write_csv(landing / "profiles" / "a.csv", rows, HOUSEHOLD_COLUMNS)
    write_csv(landing / "profiles" / "b.csv", [profile("unknown")], ["customer_id", "signup_date"])
    warehouse = tmp_path / "wh.duckdb"
    result = ingest_input(
        warehouse,
        landing,
        INPUTS["profiles"],
        timezone="UTC",
        currency="CNY",
        currencies=["CNY"],
        run_id="test",
        as_of=date(2025, 6, 30),
    )
    assert result.total("rows_read") == 7
    with duckdb.connect(str(warehouse), read_only=True) as con:
        accepted = con.execute(
            "select customer_id, household_id, cast(household_since as varchar), cast(loaded_as_of as varchar) "
            "from landing.profiles order by customer_id"
        ).fetchall()
        quarantined = con.execute("select reason, source_row from landing.quarantine order by source_row").fetchall()
    assert accepted == [
        ("alone", "", None, "2025-06-30"),
        ("long_ok", "x" * 64, None, "2025-06-30"),
        ("ok", "h-1", "2025-02-01", "2025-06-30"),
        ("unknown", None, None, "2025-06-30"),
    ]
    assert quarantined == [("invalid_household_id", 4), ("invalid_household_id", 5), ("unparseable_date", 6)]
