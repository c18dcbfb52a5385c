"""The carried customer tables are incremental (issues 7 and 17): the per-customer-day facts and the order
summaries. A run recomputes only the customers whose facts or orders changed (or, for the summaries, whose
orders entered or left a window), and each table always equals a full rebuild, whatever changed in between
(new orders, a late refund, an earlier as-of date, a table from before the checksum column). Real dbt runs on
a real warehouse; the full rebuild runs on a copy."""

from __future__ import annotations

import csv
import re
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
SUMMARIES = "int_customer_orders_summarised"
GROUPS = "int_customer_order_groups_summarised"
END = date(2026, 10, 31)


def build_model(warehouse: Path, target: Path, *args: str, model: str = MODEL) -> None:
    """`dbt run` of one carried model alone, as the pipeline's `dbt build` would run it."""
    with warehouse_environment(warehouse):
        dbt_cli(dbt_project()).cli(["run", "--select", model, "--quiet", *args], target_path=target).wait()


def differing_customers(warehouse: Path, scratch: Path, model: str = MODEL) -> set[str]:
    """Customers whose rows differ from a full rebuild of the model under the same run parameters."""
    scratch.mkdir(parents=True)
    copy = scratch / "warehouse.duckdb"
    shutil.copyfile(warehouse, copy)
    build_model(copy, scratch / "target", "--full-refresh", model=model)
    table = f"intermediate.{model}"
    with duckdb.connect(str(copy)) as con:
        con.execute(f"attach '{warehouse}' as live (read_only)")
        # computed_run_id says which run computed a customer: a rebuild gives every customer its own id.
        rows = con.execute(
            f"""
            select customer_id from (
                select * exclude (computed_run_id) from live.{table}
                except all select * exclude (computed_run_id) from {table}
            )
            union all
            select customer_id from (
                select * exclude (computed_run_id) from {table}
                except all select * exclude (computed_run_id) from live.{table}
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


def first_run(tmp_path: Path, days: int, model: str) -> tuple[Path, list[str], Runner, Path]:
    """A generated zone of 120 customers published as of END; the model equals a full rebuild. Returns the
    landing zone, its generate command (for the next days), the runner and the warehouse."""
    landing = tmp_path / "landing"
    generate = ["generate", "--customers", "120", "--days", str(days), "--end", END.isoformat(), "--out", str(landing)]
    assert main(generate) == 0
    run = Runner(tmp_path / "home")
    warehouse = run.home / "warehouse" / "warehouse.duckdb"
    assert run(landing, END)[0] == 0
    assert differing_customers(warehouse, tmp_path / "rebuild-1", model) == set()
    return landing, generate, run, warehouse


def test_only_changed_customers_are_recomputed_and_the_table_equals_a_full_rebuild(tmp_path: Path) -> None:
    landing, generate, run, warehouse = first_run(tmp_path, 90, MODEL)

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

    # Without the mark, a customer missing from the table is computed again.
    with connect(warehouse) as con:
        con.execute(f"delete from {TABLE} where customer_id = ?", [untouched])
        con.execute(f"drop table {TABLE}__mark")
    build_model(warehouse, tmp_path / "target-2c")
    assert differing_customers(warehouse, tmp_path / "rebuild-2c") == set()

    # A real daily run: the next day's orders and a late refund of an order placed weeks ago (it reopens that
    # customer's old days, which are computed whole again). Customers whose new facts all fall after their
    # last day keep their rows and get the new days appended (customer_day_extensions).
    assert main([*generate, "--next-days", "1"]) == 0
    _, refunded_customer = late_refund(landing, END - timedelta(days=30))
    spend_before = last_cumulative_spend(warehouse, refunded_customer)
    code, summary = run(landing, END + timedelta(days=1))
    assert code == 0, summary
    assert differing_customers(warehouse, tmp_path / "rebuild-3") == set()
    assert last_cumulative_spend(warehouse, refunded_customer) < spend_before
    runs_by_customer = dict(
        run.warehouse(f"select customer_id, count(distinct computed_run_id) from {TABLE} group by 1")
    )
    assert runs_by_customer[refunded_customer] == 1
    assert 2 in runs_by_customer.values(), "no customer had days appended"
    # The hooks' working tables are gone once the run committed.
    assert not run.warehouse(
        "select table_name from information_schema.tables where table_name in "
        f"('{MODEL}__extension', '{SUMMARIES}__recomputed')"
    )

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
    """The carried tables' dbt tests take `where: __changed_customers__`, `__resummarised_customers__` or
    `__regrouped_customers__` (macros/changed_customers.sql): after a daily run they judge the customers that
    run recomputed, after a full build every customer."""
    landing = tmp_path / "landing"
    generate = ["generate", "--customers", "60", "--days", "60", "--end", END.isoformat(), "--out", str(landing)]
    assert main(generate) == 0
    run = Runner(tmp_path / "home")
    warehouse = run.home / "warehouse" / "warehouse.duckdb"
    assert run(landing, END)[0] == 0
    assert main([*generate, "--next-days", "1"]) == 0
    code, summary = run(landing, END + timedelta(days=1))
    assert code == 0, summary

    def tests_pass(target: str, model: str) -> bool:
        with warehouse_environment(warehouse):
            invocation = dbt_cli(dbt_project()).cli(
                ["test", "--select", model, "--quiet"], target_path=tmp_path / model / target, raise_on_error=False
            )
            return invocation.wait().is_successful()

    # Each carried table, and which of a customer's rows is its last (the one duplicated).
    for model, last_row in ((MODEL, "valid_until = date '9999-12-31'"), (SUMMARIES, "true"), (GROUPS, "true")):
        table = f"intermediate.{model}"

        def duplicate_last_row(recomputed: bool, table: str = table, last_row: str = last_row) -> None:
            """Duplicates the last row of a customer this run did (not) recompute: a primary_key failure."""
            with connect(warehouse) as con:
                con.execute(
                    f"""
                    insert into {table}
                    select * from {table}
                    where customer_id = (
                        select min(rows.customer_id) from {table} as rows
                        where {last_row}
                            and (rows.computed_run_id in (select run_id from staging.stg_tierflow__run_parameters))
                                = ?
                    ) and {last_row}
                    """,
                    [recomputed],
                )

        assert tests_pass("target-clean", model), model
        duplicate_last_row(recomputed=False)
        assert tests_pass("target-unchanged", model), model  # not this run's customer: left to the full audit
        duplicate_last_row(recomputed=True)
        assert not tests_pass("target-changed", model), model
        # A full build gives every customer this run's id: the tests see the whole table again.
        build_model(warehouse, tmp_path / model / "target-full", "--full-refresh", model=model)
        duplicate_last_row(recomputed=True)
        assert not tests_pass("target-full-test", model), model

    # The landing staging views' tests take `where: __loaded_this_run__`: the rows this run loaded, like the
    # landing suites. An order repeated from an earlier load is left to the full audit; one of this run's is not.
    def repeat_order(this_run: bool) -> None:
        with connect(warehouse) as con:
            con.execute(
                "insert into landing.orders select * from landing.orders where order_id = (select min(order_id) "
                "from landing.orders where (load_seq = (select max(load_seq) from landing.orders)) = ?)",
                [this_run],
            )

    staging = "stg_landing__orders"
    assert tests_pass("target-landing-clean", staging)
    repeat_order(this_run=False)
    assert tests_pass("target-landing-earlier", staging)
    repeat_order(this_run=True)
    assert not tests_pass("target-landing-this-run", staging)


def test_order_summaries_are_redone_only_for_changed_customers_and_equal_a_full_rebuild(tmp_path: Path) -> None:
    """A daily run summarises again the customers with new or changed orders and those with an order on a day
    that enters or leaves a window, no one else; the table equals a full rebuild after it and after an earlier
    as-of date."""
    landing, generate, run, warehouse = first_run(tmp_path, 400, SUMMARIES)

    assert main([*generate, "--next-days", "1"]) == 0
    _, refunded_customer = late_refund(landing, END - timedelta(days=200))
    code, summary = run(landing, END + timedelta(days=1))
    assert code == 0, summary
    assert differing_customers(warehouse, tmp_path / "rebuild-2", SUMMARIES) == set()
    table = f"intermediate.{SUMMARIES}"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        redone = {
            row[0]
            for row in con.execute(
                f"select customer_id from {table}"
                " where computed_run_id in (select run_id from staging.stg_tierflow__run_parameters)"
            ).fetchall()
        }
    # Who had to be summarised again: new orders (the next day's), the late refund, and orders on a day that
    # moved into or out of a window (the windows of the shipped policy: 30, 90, 365 days, qualification 365,
    # RFM unset, lifecycle new_days 30).
    day = END + timedelta(days=1)
    edges = [day - timedelta(days=n) for n in (0, 30, 90, 365)]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        expected = {
            row[0]
            for row in con.execute(
                "select customer_id from intermediate.int_orders_converted where order_date = any(?)", [edges]
            ).fetchall()
        } | {refunded_customer}
    assert refunded_customer in redone
    assert redone == expected, (sorted(redone - expected), sorted(expected - redone))
    everyone = run.warehouse(f"select count(*) from {table}")[0][0]
    assert 0 < len(redone) < everyone / 2, (len(redone), everyone)

    # An earlier as-of date: the mark no longer vouches for the table, and it is rebuilt.
    with connect(warehouse) as con:
        write_run_parameters(con, run_id="back-dated", as_of=END - timedelta(days=45), policy=load_policy(run.policy))
    build_model(warehouse, tmp_path / "target-earlier", model=SUMMARIES)
    assert differing_customers(warehouse, tmp_path / "rebuild-3", SUMMARIES) == set()


def test_a_build_too_large_for_one_statement_runs_in_customer_batches(tmp_path: Path) -> None:
    """Both carried customer tables built in batches of customers (macros/customer_batches.sql; the var stands
    in for a build larger than DuckDB's memory and spill bound) equal the same tables built in one statement."""
    _, _, _, warehouse = first_run(tmp_path, 60, MODEL)
    for model in (MODEL, SUMMARIES):
        target = tmp_path / model / "batched"
        build_model(warehouse, target, "--full-refresh", "--vars", "{customer_batch_rows: 100}", model=model)
        compiled = next(target.glob(f"compiled/**/{model}.sql")).read_text(encoding="utf-8")
        batches = re.search(r"hash\(\w+\.customer_id\) % (\d+) = 0", compiled)
        assert batches and int(batches.group(1)) > 2, compiled[:2000]
        assert differing_customers(warehouse, tmp_path / model / "one-statement", model) == set()
