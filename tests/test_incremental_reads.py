"""A daily run reads the day's slice of the order history, not the whole of it (issue 17).

dbt's DuckDB logs every query's rows scanned (TIERFLOW__DUCKDB_QUERY_LOG, read by bench/reads.py). After a
first run over 400 days of orders, one more day arrives: every query of the daily run that reads the order
facts (the landing orders, `int_orders_converted` and the views over them) must scan no more than the row
groups holding the slices the run needs (the new loads, the days entering or leaving a window, the recent
window of the lifecycle) plus one pass over the carried customer tables. The same day run with
`--full-refresh` reads the whole history and breaks the bound: the check can fail.

DuckDB skips whole row groups by their min/max statistics. At its default of 122,880 rows a small test's
history is one row group, so after the first run the test rewrites the order tables (in their own order)
in row groups of 2,048 rows, the smallest DuckDB allows, and runs on with TIERFLOW__DUCKDB_MAX_VACUUM_TASKS=0
so that no checkpoint merges them back: the history then spans about 60 of them.
Many orders per customer and day keep the carried customer tables small beside the orders.
"""

from __future__ import annotations

import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from bench.reads import queries
from tests.conftest import Runner, write_csv

pytestmark = pytest.mark.slow

END = date(2026, 3, 31)
DAYS = 400
CUSTOMERS = [f"C{n:04d}" for n in range(1, 41)]
ORDERS_A_DAY = 60  # per customer, on the days they order (every 8th day, staggered)
ROW_GROUP = 2048
ORDER_COLUMNS = ["order_id", "customer_id", "order_ts", "amount", "currency", "status", "refunded_amount", "category"]
PROFILE_COLUMNS = ["customer_id", "signup_date", "region", "marketing_opt_in"]
# What the order facts are read through, by name in a query's SQL.
ORDER_FACTS = re.compile(r"int_orders_converted|int_orders_valued|stg_landing__orders|\"landing\"\.\"orders\"")
# The carried customer tables a daily run may read once whole.
CARRIED_CUSTOMER_TABLES = (
    "int_customer_days_accumulated",
    "int_customer_orders_summarised",
    "int_customer_order_groups_summarised",
)


def _orders(day: date, customers: list[str], first: int) -> list[dict]:
    return [
        {
            "order_id": f"O{first + n:07d}",
            "customer_id": customer,
            "order_ts": f"{day} {8 + n % 12:02d}:{n % 60:02d}:00+08:00",
            "amount": f"{20 + (n * 37) % 400}.50",
            "currency": "CNY",
            "status": "completed",
            "refunded_amount": "0",
            "category": ["groceries", "beauty", "electronics"][n % 3],
        }
        for n, customer in enumerate(c for c in customers for _ in range(ORDERS_A_DAY))
    ]


def _landing(landing: Path) -> int:
    """400 days of orders, one file a month; returns the number of orders."""
    profiles = [
        {"customer_id": c, "signup_date": "2024-01-01", "region": "North", "marketing_opt_in": "true"}
        for c in CUSTOMERS
    ]
    write_csv(landing / "profiles" / "profiles.csv", profiles, PROFILE_COLUMNS)
    months: dict[str, list[dict]] = {}
    count = 0
    for offset in range(DAYS):
        day = END - timedelta(days=DAYS - 1 - offset)
        buyers = [c for i, c in enumerate(CUSTOMERS) if (offset + i) % 8 == 0]
        rows = _orders(day, buyers, count)
        months.setdefault(f"{day:%Y-%m}", []).extend(rows)
        count += len(rows)
    for month, rows in months.items():
        write_csv(landing / "orders" / f"orders_{month}.csv", rows, ORDER_COLUMNS)
    return count


def _in_small_row_groups(warehouse: Path, tables: list[str]) -> None:
    """Rewrite `tables` in their own row order in row groups of ROW_GROUP rows (a setting of the attached
    database, used by every row group written through it)."""
    with duckdb.connect() as con:
        con.execute(f"attach '{warehouse}' as warehouse (row_group_size {ROW_GROUP})")
        for table in tables:
            con.execute(f"create temp table kept as select * from warehouse.{table}")
            con.execute(f"delete from warehouse.{table}")
            con.execute(f"insert into warehouse.{table} select * from kept")
            con.execute("drop table kept")
        con.execute("checkpoint warehouse")


def _order_fact_reads(log: Path) -> list[tuple[str, int]]:
    """(dbt node, rows scanned) of every logged dbt query that reads the order facts."""
    return [(q.node or "(hook)", q.rows_scanned) for q in queries(log) if ORDER_FACTS.search(q.sql)]


def test_a_daily_run_reads_the_days_slice_of_the_order_history(tmp_path: Path, monkeypatch) -> None:
    landing = tmp_path / "landing"
    history = _landing(landing)
    run = Runner(tmp_path / "home")
    code, summary = run(landing, END)
    assert code == 0, summary
    warehouse = run.home / "warehouse" / "warehouse.duckdb"
    _in_small_row_groups(warehouse, ["landing.orders", "intermediate.int_orders_converted"])
    monkeypatch.setenv("TIERFLOW__DUCKDB_MAX_VACUUM_TASKS", "0")
    rebuilt = Runner(tmp_path / "rebuilt")
    shutil.copytree(run.home, rebuilt.home, symlinks=True)

    # The next day: orders of three known customers and of one new one.
    day = END + timedelta(days=1)
    new_rows = _orders(day, ["C0001", "C0002", "C0003", "C0999"], history)
    write_csv(landing / "orders" / "orders_next.csv", new_rows, ORDER_COLUMNS)

    def daily(runner: Runner, log: Path, *flags: str) -> list[tuple[str, int]]:
        monkeypatch.setenv("TIERFLOW__DUCKDB_QUERY_LOG", str(log))
        log.mkdir()
        code, summary = runner(landing, day, *flags)
        assert code == 0 and summary["status"] == "published", summary
        monkeypatch.delenv("TIERFLOW__DUCKDB_QUERY_LOG")
        reads = _order_fact_reads(log)
        assert reads, "no logged query read the order facts"
        return reads

    reads = daily(run, tmp_path / "log-daily")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        carried = sum(
            con.execute(f"select count(*) from intermediate.{table}").fetchone()[0] for table in CARRIED_CUSTOMER_TABLES
        )
        orders = con.execute("select count(*) from intermediate.int_orders_converted").fetchone()[0]
    assert orders == history + len(new_rows)
    # Per query: one pass over the carried customer tables, and for each slice (the new load; the days
    # entering or leaving the 30, 90 and 365-day windows; the recent window of new_days = 30) the two row
    # groups at most that hold it, plus the recent window's own rows.
    recent = 30 * len(CUSTOMERS) * ORDERS_A_DAY // 8
    bound = carried + 5 * 2 * ROW_GROUP + recent
    assert bound < history / 2, "the test's history is too small to tell a slice from the whole"
    over = [(node, rows) for node, rows in reads if rows > bound]
    assert not over, f"read more than {bound:,} rows of {history:,} orders: {over}"

    # A full refresh reads every order: the same bound fails.
    refreshed = daily(rebuilt, tmp_path / "log-full-refresh", "--full-refresh")
    assert max(rows for _, rows in refreshed) > history
