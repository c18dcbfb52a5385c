"""Typed Parquet (issue 17): what `tierflow generate --format parquet` writes is ingested as typed columns,
reconciles with the generator's dirty rows, and loads the same rows as CSV and text Parquet of the same seed;
integer ids are kept as text, naive timestamps are read in the policy time zone, and a column whose Parquet
type cannot hold its values stops the run (exit 2) naming the file, column, expected and found type."""

from __future__ import annotations

import contextlib
import io
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import Runner, profile, write_csv
from tierflow.cli import main
from tierflow.generate import GenerateReport
from tierflow.generate import generate_landing as generate
from tierflow.ingest import INPUTS, ingest_input

END = date(2025, 6, 30)
NOW = datetime(2025, 7, 1, 12, 0, tzinfo=UTC)  # after END, so only the year-2099 rows are in the future
ZONE = dict(customers=300, days=200, seed=13, end=END)


def ingest_all(
    landing: Path, warehouse: Path, timezone: str = "Asia/Shanghai", inputs: tuple[str, ...] = tuple(INPUTS)
) -> dict[str, dict]:
    """The inputs of the landing zone into `warehouse`, as the ingest assets load them; the summary per input."""
    return {
        name: ingest_input(
            warehouse,
            landing,
            INPUTS[name],
            timezone=timezone,
            currency="CNY",
            currencies=["CNY", "USD", "HKD"],
            now=NOW,
        ).as_dict()
        for name in inputs
    }


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_typed_parquet_round_trip_reconciles_with_the_generated_dirty_rows(tmp_path: Path) -> None:
    landing, warehouse = tmp_path / "landing", tmp_path / "wh.duckdb"
    args = ["generate", "--customers", "300", "--days", "200", "--seed", "13", "--end", END.isoformat()]
    with contextlib.redirect_stderr(io.StringIO()):
        assert main([*args, "--format", "parquet", "--dirty-rate", "0.05", "--out", str(landing)]) == 0
    # The CLI's report is not returned: the same arguments give the same files and counts.
    report = generate(tmp_path / "twin", fmt="parquet", dirty_rate=0.05, **ZONE)
    assert {p.name: p.read_bytes() for p in landing.rglob("*.parquet")} == {
        p.name: p.read_bytes() for p in (tmp_path / "twin").rglob("*.parquet")
    }
    summary = ingest_all(landing, warehouse)

    assert (summary["orders"]["rows_read"], summary["profiles"]["rows_read"], summary["events"]["rows_read"]) == (
        report.orders,
        report.profiles,
        report.events,
    )
    generated: dict[str, dict[str, int]] = {}
    for kind, count in report.dirty_rows.items():
        name, reason = kind.split(".")
        generated.setdefault(name, {})[reason] = count
    for name, counts in summary.items():
        assert counts["rows_read"] == counts["rows_accepted"] + counts["rows_quarantined"], name
        assert counts["quarantine_reasons"] == generated[name], name
    stored = dict(query(warehouse, "select input || '.' || reason, count(*) from landing.quarantine group by all"))
    assert stored == report.dirty_rows
    # The typed values arrive as they were written: no amount or time was lost on the way.
    assert query(warehouse, "select count(*) from landing.orders where amount is null or order_ts is null") == [(0,)]


def _landing_rows(warehouse: Path, name: str) -> list[tuple]:
    # Everything but where the row came from (file names and hashes differ between formats).
    return query(
        warehouse,
        f"select * exclude (source_file, file_sha256, load_seq, ingested_at) from landing.{name} order by all",
    )


def test_typed_and_text_files_of_one_seed_load_the_same_rows(tmp_path: Path) -> None:
    zones: dict[str, GenerateReport] = {}
    for fmt in ("parquet", "parquet-text", "csv"):
        zones[fmt] = generate(tmp_path / fmt, fmt=fmt, **ZONE)
        ingest_all(tmp_path / fmt, tmp_path / f"{fmt}.duckdb")
    for name in INPUTS:
        typed = _landing_rows(tmp_path / "parquet.duckdb", name)
        assert len(typed) == getattr(zones["parquet"], name) > 0, name
        assert _landing_rows(tmp_path / "parquet-text.duckdb", name) == typed, name
        assert _landing_rows(tmp_path / "csv.duckdb", name) == typed, name


def test_integer_ids_are_kept_as_text(tmp_path: Path) -> None:
    landing, warehouse = tmp_path / "landing", tmp_path / "wh.duckdb"
    (landing / "orders").mkdir(parents=True)
    orders = {
        "order_id": pa.array([7, 8], pa.int64()),
        "customer_id": pa.array([42, 43], pa.int32()),
        "order_ts": pa.array([datetime(2025, 6, 1, 10, tzinfo=UTC)] * 2, pa.timestamp("us", tz="UTC")),
        "amount": pa.array([10, 20], pa.int64()),
        "store_id": pa.array([3, None], pa.uint16()),
        "category": pa.array([None, None], pa.null()),  # an empty column has no type to misfit
    }
    pq.write_table(pa.table(orders), landing / "orders" / "1.parquet")
    # A later CSV file re-sends order 7 with another amount: the same key, so a conflict, not a new order.
    write_csv(
        landing / "orders" / "2.csv",
        [{"order_id": "7", "customer_id": "42", "order_ts": "2025-06-01 18:00:00", "amount": "11"}],
    )
    summary = ingest_all(landing, warehouse, inputs=("orders",))["orders"]
    assert summary["quarantine_reasons"] == {"duplicate_order_conflict": 1}
    stored = "select order_id, customer_id, amount, store_id, category from landing.orders order by 1"
    assert query(warehouse, stored) == [
        ("7", "42", pytest.approx(10), "3", None),
        ("8", "43", pytest.approx(20), None, None),
    ]


def test_naive_timestamps_are_read_in_the_policy_time_zone(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    (landing / "orders").mkdir(parents=True)
    wall = datetime(2025, 6, 1, 8, 0)
    base = {"customer_id": ["c"], "amount": pa.array([1.5], pa.float64())}
    naive = pa.table({"order_id": ["naive"], "order_ts": pa.array([wall], pa.timestamp("ms")), **base})
    aware = pa.table(
        {"order_id": ["aware"], "order_ts": pa.array([wall.replace(tzinfo=UTC)], pa.timestamp("us", "UTC")), **base}
    )
    pq.write_table(naive, landing / "orders" / "naive.parquet")
    pq.write_table(aware, landing / "orders" / "aware.parquet")
    stored = {}
    for zone in ("Asia/Shanghai", "America/New_York"):
        warehouse = tmp_path / f"{zone.replace('/', '_')}.duckdb"
        ingest_all(landing, warehouse, timezone=zone, inputs=("orders",))
        stored[zone] = dict(query(warehouse, "select order_id, order_ts from landing.orders"))  # UTC
    assert stored["Asia/Shanghai"] == {"naive": datetime(2025, 6, 1, 0, 0), "aware": datetime(2025, 6, 1, 8, 0)}
    assert stored["America/New_York"] == {"naive": datetime(2025, 6, 1, 12, 0), "aware": datetime(2025, 6, 1, 8, 0)}


def test_a_column_whose_parquet_type_cannot_hold_it_exits_2_and_loads_nothing_of_any_input(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    (landing / "orders").mkdir(parents=True)
    good = {"order_id": ["o1"], "customer_id": ["c1"], "order_ts": ["2025-06-01 10:00:00"], "amount": ["10.00"]}
    pq.write_table(pa.table(good), landing / "orders" / "2025-05.parquet")
    pq.write_table(pa.table({**good, "amount": [True]}), landing / "orders" / "2025-06.parquet")
    epoch_seconds = pa.array([1_748_772_000], pa.int64())
    pq.write_table(pa.table({**good, "order_ts": epoch_seconds}), landing / "orders" / "2025-07.parquet")
    write_csv(landing / "profiles" / "profiles.csv", [profile("c1")])
    run = Runner(tmp_path / "home")

    code, summary = run(landing, "2025-06-30")

    assert code == 2 and summary["status"] == "error"
    message = summary["message"]
    assert "orders/2025-06.parquet: column 'amount' is BOOLEAN, expected a decimal, double or integer amount" in message
    assert "orders/2025-07.parquet: column 'order_ts' is BIGINT, expected a timestamp" in message
    assert "2025-05.parquet" not in message and "Traceback" not in message
    # Nothing was loaded: not the good orders file, not the profiles beside it; nothing transformed or published.
    assert run.warehouse("select count(*) from landing.orders") == [(0,)]
    assert run.warehouse("select count(*) from landing.profiles") == [(0,)]
    assert run.warehouse("select count(*) from landing.ingested_files") == [(0,)]
    assert run.warehouse("select count(*) from information_schema.tables where table_schema = 'marts'") == [(0,)]
    assert not (run.home / "published" / "tierflow.duckdb").exists()
