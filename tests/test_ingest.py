"""Ingest on real DuckDB files: every row accepted or quarantined with a reason, counts that reconcile,
files tracked by content, Parquet and CSV alike."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import write_csv
from tierflow.ingest import INPUTS, LandingFileError, ingest_input

NOW = datetime(2025, 7, 1, 12, 0, tzinfo=UTC)


def ingest(warehouse: Path, landing: Path, name: str = "orders"):
    return ingest_input(
        warehouse,
        landing,
        INPUTS[name],
        timezone="Asia/Shanghai",
        currency="CNY",
        currencies=["CNY", "USD"],
        run_id="test",
        now=NOW,
    )


def rows(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


DIRTY_ORDERS = [
    {"order_id": "o1", "customer_id": "c1", "order_ts": "2025-06-01 10:00:00", "amount": "100.00"},
    {"order_id": "o2", "customer_id": "", "order_ts": "2025-06-01 10:00:00", "amount": "1"},
    {"order_id": "o3", "customer_id": "c1", "order_ts": "2025-13-45 25:00:00", "amount": "1"},
    {"order_id": "o4", "customer_id": "c1", "order_ts": "2099-01-01 00:00:00", "amount": "1"},
    {"order_id": "o5", "customer_id": "c1", "order_ts": "2025-06-01 10:00:00", "amount": "12.3.4"},
    {"order_id": "o6", "customer_id": "c1", "order_ts": "2025-06-01 10:00:00", "amount": "-5"},
    {
        "order_id": "o7",
        "customer_id": "c1",
        "order_ts": "2025-06-01 10:00:00",
        "amount": "5",
        "status": "shipped?",
    },
    {
        "order_id": "o8",
        "customer_id": "c1",
        "order_ts": "2025-06-01 10:00:00",
        "amount": "5",
        "refunded_amount": "6",
    },
    {
        "order_id": "o9",
        "customer_id": "c1",
        "order_ts": "2025-06-01 10:00:00",
        "amount": "5",
        "currency": "XYZ",
    },
    {"order_id": "o1", "customer_id": "c1", "order_ts": "2025-06-01 10:00:00", "amount": "100.00"},
    {"order_id": "o1", "customer_id": "c1", "order_ts": "2025-06-01 10:00:00", "amount": "999.00"},
    # an order dated after the run's as-of date is not bad: it is kept for later runs
    {"order_id": "o10", "customer_id": "c2", "order_ts": "2025-07-01 08:00:00", "amount": "5", "extra": "x"},
]
EXPECTED_REASONS = {
    "missing_customer_id": 1,
    "unparseable_timestamp": 1,
    "future_timestamp": 1,
    "unparseable_amount": 1,
    "negative_amount": 1,
    "bad_status": 1,
    "bad_refund": 1,
    "unknown_currency": 1,
    "duplicate_order": 1,
    "duplicate_order_conflict": 1,
}
COLUMNS = ["order_id", "customer_id", "order_ts", "amount", "currency", "status", "refunded_amount", "extra"]


def test_dirty_rows_are_quarantined_with_reasons_and_counts_reconcile(tmp_path: Path) -> None:
    landing, warehouse = tmp_path / "landing", tmp_path / "wh.duckdb"
    write_csv(landing / "orders" / "a.csv", DIRTY_ORDERS, COLUMNS)
    result = ingest(warehouse, landing)
    summary = result.as_dict()
    assert summary["rows_read"] == len(DIRTY_ORDERS)
    assert summary["rows_read"] == summary["rows_accepted"] + summary["rows_quarantined"]
    assert summary["quarantine_reasons"] == EXPECTED_REASONS
    assert rows(warehouse, "select order_id from landing.orders order by order_id") == [("o1",), ("o10",)]
    stored = rows(warehouse, "select reason, count(*) from landing.quarantine group by reason order by reason")
    assert dict(stored) == EXPECTED_REASONS
    # every quarantined row keeps its file, record number and the raw record
    assert rows(
        warehouse,
        "select source_file, source_row, record like '%12.3.4%' from landing.quarantine "
        "where reason = 'unparseable_amount'",
    ) == [("orders/a.csv", 5, True)]
    assert rows(warehouse, "select extra_columns from landing.orders where order_id = 'o10'") == [('{"extra":"x"}',)]


def test_timestamps_without_offset_are_in_the_policy_time_zone(tmp_path: Path) -> None:
    landing, warehouse = tmp_path / "landing", tmp_path / "wh.duckdb"
    write_csv(
        landing / "orders" / "a.csv",
        [
            {"order_id": "a", "customer_id": "c", "order_ts": "2025-01-01 08:00:00", "amount": "1"},
            {"order_id": "b", "customer_id": "c", "order_ts": "2025-01-01T08:00:00+08:00", "amount": "1"},
            {"order_id": "c", "customer_id": "c", "order_ts": "2025-01-01T00:00:00Z", "amount": "1"},
        ],
    )
    ingest(warehouse, landing)
    stored = rows(warehouse, "select distinct cast(order_ts as varchar) from landing.orders")
    assert stored == [("2025-01-01 00:00:00",)]  # all the same instant, stored in UTC


def test_the_same_file_is_never_ingested_twice(tmp_path: Path) -> None:
    landing, warehouse = tmp_path / "landing", tmp_path / "wh.duckdb"
    write_csv(landing / "orders" / "a.csv", DIRTY_ORDERS, COLUMNS)
    ingest(warehouse, landing)
    before = rows(warehouse, "select (select count(*) from landing.orders), (select count(*) from landing.quarantine)")
    shutil.copy(landing / "orders" / "a.csv", landing / "orders" / "a-resent.csv")
    again = ingest(warehouse, landing)
    assert [f.skipped for f in again.files] == [True, True]
    assert again.as_dict()["rows_read"] == 0
    assert (
        rows(
            warehouse,
            "select (select count(*) from landing.orders), (select count(*) from landing.quarantine)",
        )
        == before
    )
    assert rows(warehouse, "select count(*) from landing.ingested_files") == [(1,)]


def test_a_missing_required_column_stops_before_loading_anything(tmp_path: Path) -> None:
    landing, warehouse = tmp_path / "landing", tmp_path / "wh.duckdb"
    write_csv(landing / "orders" / "good.csv", DIRTY_ORDERS[:1])
    write_csv(landing / "orders" / "late.csv", [{"order_id": "x", "customer_id": "c", "order_ts": "2025-01-01"}])
    with pytest.raises(LandingFileError, match=r"orders/late.csv: missing required column 'amount'"):
        ingest(warehouse, landing)
    assert rows(warehouse, "select count(*) from landing.orders") == [(0,)]


def test_parquet_files_load_like_csv(tmp_path: Path) -> None:
    landing, warehouse = tmp_path / "landing", tmp_path / "wh.duckdb"
    (landing / "orders").mkdir(parents=True)
    table = pa.table(
        {
            "order_id": ["p1", "p2", "p3"],
            "customer_id": ["007", "008", None],
            "order_ts": ["2025-06-01 10:00:00", "2025-06-01 11:00:00", "2025-06-01 12:00:00"],
            "amount": [10.5, 20.0, 1.0],
        }
    )
    pq.write_table(table, landing / "orders" / "part-0.parquet")
    summary = ingest(warehouse, landing).as_dict()
    assert (summary["rows_read"], summary["rows_accepted"], summary["rows_quarantined"]) == (3, 2, 1)
    # ids stay strings: leading zeros survive
    assert rows(warehouse, "select customer_id, amount from landing.orders order by 1") == [
        ("007", pytest.approx(10.5)),
        ("008", pytest.approx(20.0)),
    ]


def test_profiles_resent_in_a_later_file_update_the_customer(tmp_path: Path) -> None:
    landing, warehouse = tmp_path / "landing", tmp_path / "wh.duckdb"
    write_csv(landing / "profiles" / "1.csv", [{"customer_id": "c1", "signup_date": "2024-01-01", "region": "East"}])
    ingest(warehouse, landing, "profiles")
    write_csv(
        landing / "profiles" / "2.csv",
        [
            {"customer_id": "c1", "signup_date": "2024-01-01", "region": "North"},
            {"customer_id": "c2", "signup_date": "2024-02-30", "region": "North"},
        ],
    )
    summary = ingest(warehouse, landing, "profiles").as_dict()
    assert summary["quarantine_reasons"] == {"unparseable_date": 1}
    assert rows(warehouse, "select region, load_seq from landing.profiles order by load_seq") == [
        ("East", 1),
        ("North", 2),
    ]


def test_events_are_optional(tmp_path: Path) -> None:
    (tmp_path / "landing").mkdir()
    assert ingest(tmp_path / "wh.duckdb", tmp_path / "landing", "events").files == []
    with pytest.raises(LandingFileError, match="must hold orders/"):
        ingest(tmp_path / "wh.duckdb", tmp_path / "landing", "orders")


def test_a_later_refund_updates_the_order_and_other_repeats_are_quarantined(tmp_path: Path) -> None:
    landing, warehouse = tmp_path / "landing", tmp_path / "wh.duckdb"
    columns = ["order_id", "customer_id", "order_ts", "amount", "status", "refunded_amount"]
    first = [
        {"order_id": "o1", "customer_id": "c1", "order_ts": "2025-06-01 10:00:00", "amount": "100", "status": ""},
        {"order_id": "o2", "customer_id": "c1", "order_ts": "2025-06-01 11:00:00", "amount": "50", "status": ""},
        {"order_id": "o3", "customer_id": "c1", "order_ts": "2025-06-01 12:00:00", "amount": "10", "status": ""},
    ]
    write_csv(landing / "orders" / "1.csv", first, columns)
    ingest(warehouse, landing)
    later = [
        {**first[0], "status": "refunded", "refunded_amount": "100"},  # a late refund: an update
        first[1],  # the same order again: a duplicate
        {**first[2], "amount": "11"},  # another amount: a conflict, the first one loaded wins
        {"order_id": "o4", "customer_id": "c2", "order_ts": "2025-06-02 10:00:00", "amount": "5"},
    ]
    write_csv(landing / "orders" / "2.csv", later, columns)
    summary = ingest(warehouse, landing).as_dict()
    assert (summary["rows_read"], summary["rows_accepted"], summary["rows_updated"]) == (4, 1, 1)
    assert summary["quarantine_reasons"] == {"duplicate_order": 1, "duplicate_order_conflict": 1}
    stored = dict(
        (r[0], r[1:])
        for r in rows(warehouse, "select order_id, status, refunded_amount, source_file from landing.orders")
    )
    assert stored["o1"] == ("refunded", pytest.approx(100), "orders/1.csv")
    assert stored["o3"][0:1] == ("completed",) and len(stored) == 4
    assert rows(warehouse, "select record_key, previous, current, source_file, source_row from landing.updates") == [
        (
            "o1",
            '{"status":"completed","refunded_amount":null}',
            '{"status":"refunded","refunded_amount":100.00}',
            "orders/2.csv",
            1,
        )
    ]
    # per file, rows read = accepted + updated + quarantined, as recorded
    assert rows(
        warehouse,
        "select source_file, rows_read, rows_accepted, rows_updated, rows_quarantined from landing.ingested_files "
        "order by load_seq",
    ) == [("orders/1.csv", 3, 3, 0, 0), ("orders/2.csv", 4, 1, 1, 2)]
    # the same refund sent again is now a plain duplicate of the updated row
    write_csv(landing / "orders" / "3.csv", [later[0]], columns)
    assert ingest(warehouse, landing).as_dict()["quarantine_reasons"] == {"duplicate_order": 1}


def test_unchanged_files_are_not_read_again_but_a_changed_one_is(tmp_path: Path) -> None:
    landing, warehouse = tmp_path / "landing", tmp_path / "wh.duckdb"
    path = write_csv(landing / "orders" / "a.csv", DIRTY_ORDERS[:1])
    ingest(warehouse, landing)
    with duckdb.connect(str(warehouse)) as con:  # a recorded fingerprint that no longer matches the content
        con.execute("update landing.ingested_files set file_sha256 = 'stale'")
    assert [f.skipped for f in ingest(warehouse, landing).files] == [True]  # same name, size and mtime: not hashed
    write_csv(path, [*DIRTY_ORDERS[:1], {**DIRTY_ORDERS[0], "order_id": "o99"}])
    again = ingest(warehouse, landing)
    assert [(f.skipped, f.rows_accepted) for f in again.files] == [(False, 1)]
