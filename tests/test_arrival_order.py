"""Files are applied in the order they arrived, and orders only move forward (issue 21): a landing zone loaded
fresh, in one run, ends where the same zone loaded day by day ended, whatever the files are called; an old
export sent again cannot undo a refund, and does not block the run."""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ORDER_COLUMNS, PROFILE_COLUMNS, RELAXED_GATES, Runner, order, policy_with_gates, profile
from tests.conftest import write_csv as write_rows
from tests.test_ingest import ingest, rows


def write_csv(path: Path, records: list[dict], day: int, columns: list[str] = ORDER_COLUMNS, minute: int = 0) -> Path:
    """A landing file that arrived on a day of June 2025: its modification time, which `cp -p` keeps."""
    write_rows(path, records, columns)
    moment = int(datetime(2025, 6, day, 6, minute, tzinfo=UTC).timestamp())
    os.utime(path, (moment, moment))
    return path


# --- the pipeline, day by day and fresh -----------------------------------------------------------------

ORIGINAL = [
    order("o1", "c1", "2025-06-02 10:00:00", "100.00"),
    order("o2", "c1", "2025-06-03 10:00:00", "80.00"),
    order("o3", "c2", "2025-06-04 10:00:00", "60.00"),
    order("o4", "c2", "2025-06-05 10:00:00", "40.00"),
    order("o5", "c3", "2025-06-06 10:00:00", "20.00"),
]
AS_OF = (date(2025, 6, 28), date(2025, 6, 29), date(2025, 6, 30))


def add_day(landing: Path, day: int) -> None:
    """What arrives on each as-of date. Every refund file's name sorts before the original export's."""
    if day == 28:
        write_csv(landing / "orders" / "orders_2025-06.csv", ORIGINAL, 28)
        profiles = [profile(c, region="East") for c in ("c1", "c2", "c3")]
        write_csv(landing / "profiles" / "profiles.csv", profiles, 28, PROFILE_COLUMNS)
    elif day == 29:
        late = [
            {**ORIGINAL[0], "refunded_amount": "30.00"},  # a partial refund
            {**ORIGINAL[1], "status": "refunded", "refunded_amount": "80.00"},
            {**ORIGINAL[2], "status": "cancelled"},
        ]
        write_csv(landing / "orders" / "late_refunds.csv", late, 29)
        write_csv(landing / "profiles" / "changes.csv", [profile("c1", region="North")], 29, PROFILE_COLUMNS)
    else:
        full = [{**ORIGINAL[0], "status": "refunded", "refunded_amount": "100.00"}]  # the rest of o1 refunded
        write_csv(landing / "orders" / "full_refunds.csv", full, 30)
        # The original export sent again, written with its columns in another order: other bytes, same rows.
        resent = landing / "orders" / "orders_2025-06 (resent).csv"
        write_csv(resent, ORIGINAL, 30, list(reversed(ORDER_COLUMNS)), minute=1)


def state(runner: Runner) -> dict[str, list[tuple]]:
    """What must not depend on how the zone was loaded: landing orders, their verdicts and updates, the
    order-derived columns of customer_tiers, the current profiles."""
    return {
        "landing": runner.warehouse("select order_id, status, refunded_amount from landing.orders order by order_id"),
        "quarantine": runner.warehouse(
            "select source_file, source_row, reason, current_record from landing.quarantine order by all"
        ),
        "updates": runner.warehouse(
            "select record_key, previous, current, source_file from landing.updates order by all"
        ),
        "tiers": runner.published(
            "select customer_id, spend_30d, orders_30d, spend_90d, orders_90d, spend_365d, orders_365d, "
            "lifetime_spend, lifetime_orders, first_order_date, last_order_date, points_balance, "
            "points_earned_365d from customer_tiers order by customer_id"
        ),
        "profiles": runner.warehouse(
            "select customer_id, region from staging.stg_landing__profiles order by customer_id"
        ),
    }


def test_a_zone_loaded_fresh_ends_as_it_did_day_by_day(tmp_path: Path) -> None:
    # The quarantine share gate stays on: an old export sent again loses nothing and must not block a run.
    policy = policy_with_gates(tmp_path / "policy.yml", **{**RELAXED_GATES, "max_quarantine_share": 0.05})
    landing = tmp_path / "landing"
    daily = Runner(tmp_path / "daily", policy)
    for as_of in AS_OF:
        add_day(landing, as_of.day)
        code, summary = daily(landing, as_of)
        assert code == 0 and summary["status"] == "published", summary

    # A new home (a rebuild, a move to another target) gets the whole zone at once, copied as `cp -p` does.
    copied = tmp_path / "copied"
    shutil.copytree(landing, copied)
    fresh = Runner(tmp_path / "fresh", policy)
    for as_of in AS_OF:
        code, summary = fresh(copied, as_of)
        assert code == 0 and summary["status"] == "published", summary

    expected = state(daily)
    assert expected["landing"] == [
        ("o1", "refunded", Decimal("100.00")),
        ("o2", "refunded", Decimal("80.00")),
        ("o3", "cancelled", None),
        ("o4", "completed", None),
        ("o5", "completed", None),
    ]
    resent = [r for r in expected["quarantine"] if "resent" in r[0]]
    assert [r[2] for r in resent] == ["stale_update"] * 3 + ["duplicate_order"] * 2
    assert '"status":"refunded"' in resent[0][3]  # the version the stale row would have replaced
    assert expected["profiles"][0] == ("c1", "North")
    assert state(fresh) == expected


# --- ingest: any names, any arrival times -----------------------------------------------------------------

AMOUNT = "100.00"
PARTIAL_REFUNDS = ("10.00", "25.00", "60.00")
NAMES = ("0", "a", "late_refunds", "orders_2025-06", "orders_2025-06 (resent)", "z")


def moment(tick: int) -> int:
    """A modification time in nanoseconds; few distinct ticks, so that files often arrive at the same time."""
    return int(datetime(2025, 6, 1, tzinfo=UTC).timestamp() + tick) * 10**9


@st.composite
def histories(draw: st.DrawFn) -> list[list[dict]]:
    """For each of three orders, its versions from first to furthest forward: completed, partial refunds
    growing, then maybe refunded or cancelled."""
    chains = []
    for i in range(3):
        first = order(f"o{i}", f"c{i}", "2025-06-01 10:00:00", AMOUNT, status="completed")
        refunds = sorted(draw(st.sets(st.sampled_from(PARTIAL_REFUNDS), max_size=2)), key=Decimal)
        chain = [first, *({**first, "refunded_amount": r} for r in refunds)]
        end = draw(st.sampled_from(["", "refunded", "cancelled"]))
        if end:
            chain.append({**first, "status": end, "refunded_amount": AMOUNT if end == "refunded" else ""})
        chains.append(chain)
    return chains


@st.composite
def landing_files(draw: st.DrawFn, chains: list[list[dict]]) -> list[dict]:
    """Files carrying every version at least once (some twice), rows shuffled, under shuffled names, with
    shuffled arrival times and formats; each file lands before the first ingest or before the second."""
    count = draw(st.integers(1, 5))
    names = draw(st.permutations(NAMES))[:count]
    contents: list[list[dict]] = [[] for _ in range(count)]
    for version in (v for chain in chains for v in chain):
        for index in draw(st.sets(st.integers(0, count - 1), min_size=1, max_size=2)):
            contents[index].append(version)
    return [
        {
            "name": name,
            "rows": draw(st.permutations(records)),
            "mtime_ns": moment(draw(st.integers(0, 3))),
            "parquet": draw(st.booleans()),
            "second_ingest": draw(st.booleans()),
        }
        for name, records in zip(names, contents, strict=True)
        if records
    ]


def land(landing: Path, file: dict) -> None:
    columns = ["order_id", "customer_id", "order_ts", "amount", "status", "refunded_amount"]
    if file["parquet"]:
        path = landing / "orders" / f"{file['name']}.parquet"
        pq.write_table(pa.table({c: [r.get(c) or None for r in file["rows"]] for c in columns}), path)
    else:
        path = write_rows(landing / "orders" / f"{file['name']}.csv", file["rows"], columns)
    os.utime(path, ns=(file["mtime_ns"], file["mtime_ns"]))


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_landing_holds_the_furthest_forward_version_whatever_the_arrival_order(data: st.DataObject) -> None:
    chains = data.draw(histories())
    files = data.draw(landing_files(chains))
    with tempfile.TemporaryDirectory(prefix="tierflow-arrival-") as scratch:
        landing, warehouse = Path(scratch) / "landing", Path(scratch) / "warehouse.duckdb"
        (landing / "orders").mkdir(parents=True)
        for second in (False, True):
            for file in (f for f in files if f["second_ingest"] == second):
                land(landing, file)
            ingest(warehouse, landing)

        furthest = sorted(
            (
                c[-1]["order_id"],
                c[-1]["status"],
                Decimal(c[-1]["refunded_amount"]) if c[-1].get("refunded_amount") else None,
            )
            for c in chains
        )
        assert rows(warehouse, "select order_id, status, refunded_amount from landing.orders order by all") == furthest
        recorded = rows(
            warehouse,
            "select source_file, rows_read, rows_accepted, rows_updated, rows_quarantined, rows_redundant "
            "from landing.ingested_files",
        )
        for source_file, read, accepted, updated, quarantined, redundant in recorded:
            assert read == accepted + updated + quarantined, source_file
            assert redundant == quarantined, source_file  # repeats and versions behind: nothing is lost
        assert sum(r[2] for r in recorded) == len(chains)  # each order accepted once, in whichever file came first
        verdicts = rows(warehouse, "select distinct reason, current_record is not null from landing.quarantine")
        assert set(verdicts) <= {("duplicate_order", True), ("stale_update", True)}


def test_profiles_apply_in_arrival_order_and_statuses_only_move_forward(tmp_path: Path) -> None:
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    # The newer profile arrived later, under a name that sorts first: it is the one loaded last.
    write_csv(landing / "profiles" / "b.csv", [profile("c1", region="East")], 1, PROFILE_COLUMNS)
    write_csv(landing / "profiles" / "a.csv", [profile("c1", region="North")], 2, PROFILE_COLUMNS)
    ingest(warehouse, landing, "profiles")
    assert rows(warehouse, "select region from landing.profiles order by load_seq") == [("East",), ("North",)]

    first = order("o1", "c1", "2025-06-01 10:00:00", "100.00", status="completed")
    write_csv(landing / "orders" / "z.csv", [first], 1)
    write_csv(landing / "orders" / "y.csv", [{**first, "status": "refunded", "refunded_amount": "100.00"}], 2)
    write_csv(landing / "orders" / "x.csv", [{**first, "status": "cancelled"}, first], 3)
    summary = ingest(warehouse, landing).as_dict()
    assert (summary["rows_read"], summary["rows_accepted"], summary["rows_updated"]) == (4, 1, 1)
    # refunded and cancelled are separate branches; the original again is behind the refund
    assert summary["quarantine_reasons"] == {"duplicate_order_conflict": 1, "stale_update": 1}
    assert summary["rows_redundant"] == 1
    stale = rows(warehouse, "select record, current_record from landing.quarantine where reason = 'stale_update'")
    assert '"status":"completed"' in stale[0][0] and '"status":"refunded"' in stale[0][1]
    assert rows(warehouse, "select status from landing.orders") == [("refunded",)]
    assert rows(warehouse, "select previous, current, source_file from landing.updates") == [
        (
            '{"status":"completed","refunded_amount":null}',
            '{"status":"refunded","refunded_amount":100.00}',
            "orders/y.csv",
        )
    ]
