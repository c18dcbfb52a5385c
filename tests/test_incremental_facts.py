"""The per-customer-day facts are incremental (issue 7): a run recomputes only the customers whose facts changed,
and the table always equals a full rebuild, whatever changed in between (new orders, a late refund, an
earlier as-of date, a table from before the checksum column). Real dbt runs on a real warehouse; the full
rebuild runs on a copy."""

from __future__ import annotations

import csv
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb

from orchestration.defs.dbt.assets import warehouse_environment
from orchestration.defs.dbt.project import dbt_cli, dbt_project
from tests.conftest import Runner, write_csv
from tierflow.cli import main
from tierflow.policy.parameters import write_run_parameters
from tierflow.policy.schema import load_policy
from tierflow.warehouse import connect

MODEL = "int_customer_days_accumulated"
TABLE = f"intermediate.{MODEL}"
END = date(2026, 10, 31)


def build_model(warehouse: Path, target: Path, *args: str) -> None:
    """`dbt run` of the facts model alone, as the pipeline's `dbt build` would run it."""
    with warehouse_environment(warehouse):
        dbt_cli(dbt_project()).cli(["run", "--select", MODEL, "--quiet", *args], target_path=target).wait()


def differing_customers(warehouse: Path, scratch: Path) -> set[str]:
    """Customers whose rows differ from a full rebuild of the model under the same run parameters."""
    scratch.mkdir(parents=True)
    copy = scratch / "warehouse.duckdb"
    shutil.copyfile(warehouse, copy)
    build_model(copy, scratch / "target", "--full-refresh")
    with duckdb.connect(str(copy)) as con:
        con.execute(f"attach '{warehouse}' as live (read_only)")
        # computed_run_id says which run computed a customer: a rebuild gives every customer its own id.
        rows = con.execute(
            f"""
            select customer_id from (
                select * exclude (computed_run_id) from live.{TABLE}
                except all select * exclude (computed_run_id) from {TABLE}
            )
            union all
            select customer_id from (
                select * exclude (computed_run_id) from {TABLE}
                except all select * exclude (computed_run_id) from live.{TABLE}
            )
            """
        ).fetchall()
    return {row[0] for row in rows}


def late_refund(landing: Path, before: date) -> tuple[str, str]:
    """A later orders file fully refunding a completed order placed before `before`; its order and customer."""
    files = sorted((landing / "orders").glob("*.csv"))
    with files[0].open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    refunded = next(r for r in rows if r["status"] == "completed" and r["order_ts"][:10] < before.isoformat())
    write_csv(
        landing / "orders" / "orders_late_refunds.csv",
        [{**refunded, "status": "refunded", "refunded_amount": refunded["amount"]}],
        list(rows[0]),
    )
    return refunded["order_id"], refunded["customer_id"]


def last_cumulative_spend(warehouse: Path, customer: str) -> float:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            f"select cumulative_spend from {TABLE} where customer_id = ? order by fact_date desc limit 1", [customer]
        ).fetchall()
    return float(rows[0][0])


def test_only_changed_customers_are_recomputed_and_the_table_equals_a_full_rebuild(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    generate = ["generate", "--customers", "120", "--days", "90", "--end", END.isoformat(), "--out", str(landing)]
    assert main(generate) == 0
    run = Runner(tmp_path / "home")
    warehouse = run.home / "warehouse" / "warehouse.duckdb"
    assert run(landing, END)[0] == 0
    assert differing_customers(warehouse, tmp_path / "rebuild-1") == set()

    # Rows altered behind the model's back show what a build recomputes. With its mark (same as-of date, policy
    # and rates, nothing loaded since), the build trusts the table and reads no facts: both stay altered.
    untouched, stale = (r[0] for r in run.warehouse(f"select distinct customer_id from {TABLE} order by 1 limit 2"))
    with connect(warehouse) as con:
        con.execute(f"update {TABLE} set day_points = day_points + 1000 where customer_id = ?", [untouched])
        con.execute(f"update {TABLE} set day_spend = -1, input_checksum = 0 where customer_id = ?", [stale])
    build_model(warehouse, tmp_path / "target-2")
    assert differing_customers(warehouse, tmp_path / "rebuild-2") == {untouched, stale}
    # Without the mark, every customer's checksum is compared: `untouched` keeps its altered points (its facts
    # did not change, so it is not recomputed); `stale`, whose checksum no longer matches, is recomputed.
    with connect(warehouse) as con:
        con.execute(f"drop table {TABLE}__mark")
    build_model(warehouse, tmp_path / "target-2b")
    assert differing_customers(warehouse, tmp_path / "rebuild-2b") == {untouched}

    # A customer missing from the table is computed again; then a real daily run: the next day's orders and a
    # late refund of an order placed weeks ago (it reopens that customer's old days).
    with connect(warehouse) as con:
        con.execute(f"delete from {TABLE} where customer_id = ?", [untouched])
    assert main([*generate, "--next-days", "1"]) == 0
    _, refunded_customer = late_refund(landing, END - timedelta(days=30))
    spend_before = last_cumulative_spend(warehouse, refunded_customer)
    code, summary = run(landing, END + timedelta(days=1))
    assert code == 0, summary
    assert differing_customers(warehouse, tmp_path / "rebuild-3") == set()
    assert last_cumulative_spend(warehouse, refunded_customer) < spend_before

    # An earlier as-of date: facts after it disappear, and customers with none left disappear with them.
    earlier = END - timedelta(days=45)
    with connect(warehouse) as con:
        write_run_parameters(con, run_id="back-dated", as_of=earlier, policy=load_policy(run.policy))
    build_model(warehouse, tmp_path / "target-4")
    assert differing_customers(warehouse, tmp_path / "rebuild-4") == set()
    assert run.warehouse(f"select max(fact_date) from {TABLE}")[0][0] <= earlier

    # A table built before the checksum column existed is emptied and rebuilt whole, the column added.
    with connect(warehouse) as con:
        con.execute(f"alter table {TABLE} drop column input_checksum")
    build_model(warehouse, tmp_path / "target-5")
    assert differing_customers(warehouse, tmp_path / "rebuild-5") == set()


def test_daily_dbt_tests_judge_only_the_recomputed_customers(tmp_path: Path) -> None:
    """The carried tables' dbt tests take `where: __changed_customers__` (macros/changed_customers.sql): after a
    daily run they judge the customers that run recomputed, after a full build every customer."""
    landing = tmp_path / "landing"
    generate = ["generate", "--customers", "60", "--days", "60", "--end", END.isoformat(), "--out", str(landing)]
    assert main(generate) == 0
    run = Runner(tmp_path / "home")
    warehouse = run.home / "warehouse" / "warehouse.duckdb"
    assert run(landing, END)[0] == 0
    assert main([*generate, "--next-days", "1"]) == 0
    code, summary = run(landing, END + timedelta(days=1))
    assert code == 0, summary

    def duplicate_last_day(recomputed: bool) -> None:
        """Duplicates the last row of a customer this run did (not) recompute: a primary_key failure."""
        with connect(warehouse) as con:
            con.execute(
                f"""
                insert into {TABLE}
                select * from {TABLE}
                where customer_id = (
                    select min(days.customer_id) from {TABLE} as days
                    where days.valid_until = date '9999-12-31'
                        and (days.computed_run_id in (select run_id from staging.stg_tierflow__run_parameters))
                            = ?
                ) and valid_until = date '9999-12-31'
                """,
                [recomputed],
            )

    def tests_pass(target: str) -> bool:
        with warehouse_environment(warehouse):
            invocation = dbt_cli(dbt_project()).cli(
                ["test", "--select", MODEL, "--quiet"], target_path=tmp_path / target, raise_on_error=False
            )
            return invocation.wait().is_successful()

    assert tests_pass("target-clean")
    duplicate_last_day(recomputed=False)
    assert tests_pass("target-unchanged")  # not this run's customer: left to the full audit
    duplicate_last_day(recomputed=True)
    assert not tests_pass("target-changed")
    # A full build gives every customer this run's id: the tests see the whole table again.
    build_model(warehouse, tmp_path / "target-full", "--full-refresh")
    duplicate_last_day(recomputed=True)
    assert not tests_pass("target-full-test")
