"""Suites judged in DuckDB agree with Great Expectations on the same rows, and GX only sees a bounded batch;
a publish log written before breaker overrides existed stays readable."""

from __future__ import annotations

from pathlib import Path

import duckdb

from tierflow.gates.gx_docs import build_docs, validate_batch
from tierflow.gates.suites import run_suite
from tierflow.publish.state import LOG_DDL, new_entry, publish_log_rows, record_publication

SPEC = {
    "name": "tiers",
    "expectations": [
        {"type": "expect_table_row_count_to_equal", "kwargs": {"value": {"$PARAMETER": "known"}}},
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "customer_id"}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "tier"}},
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "tier", "value_set": ["bronze", "gold"]}},
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "spend_365d", "min_value": 0}},
        {
            "type": "expect_column_pair_values_to_be_in_set",
            "kwargs": {"column_A": "tier", "column_B": "tier_rank", "value_pairs_set": {"$PARAMETER": "pairs"}},
        },
        {
            "type": "expect_column_pair_values_a_to_be_greater_than_b",
            "kwargs": {"column_A": "lifetime_spend", "column_B": "spend_365d", "or_equal": True},
        },
        {"type": "expect_compound_columns_to_be_unique", "kwargs": {"column_list": ["customer_id", "tier"]}},
        {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "customer_id", "regex": "^C[0-9]+$"}},
    ],
}
PARAMETERS = {"known": 5000, "pairs": [["bronze", 1], ["gold", 2]]}
# Rows 0..4999 are clean; a handful of rows break one expectation each.
TABLE = """
create table tiers as
select
    case when i = 4000 then 'C1' else 'C' || i end as customer_id,
    case when i = 10 then null when i = 11 then 'silver' when i % 2 = 0 then 'gold' else 'bronze' end as tier,
    case when i = 12 then 1 when i % 2 = 0 then 2 else 1 end as tier_rank,
    cast(case when i = 13 then -1 else i end as decimal(18, 2)) as spend_365d,
    cast(case when i = 14 then 0 else i + 10 end as decimal(18, 2)) as lifetime_spend
from range(5000) as t(i)
"""
BROKEN = {
    "expect_column_values_to_be_unique": 2,  # C1 twice
    "expect_column_values_to_not_be_null": 1,
    "expect_column_values_to_be_in_set": 1,
    "expect_column_values_to_be_between": 1,
    "expect_column_pair_values_to_be_in_set": 2,  # silver (not in the pairs) and gold with rank 1
    "expect_column_pair_values_a_to_be_greater_than_b": 1,
}


def test_sql_and_great_expectations_find_the_same_broken_rows(tmp_path: Path) -> None:
    with duckdb.connect() as con:
        con.execute(TABLE)
        outcome = run_suite(con, "tiers", SPEC, PARAMETERS, name="tiers", docs_dir=tmp_path / "docs", batch_rows=100)
        frame = con.execute("select * from tiers").df()
    assert outcome.rows == 5000 and outcome.batch_rows == 100  # Great Expectations never saw the whole table
    sql = {o.expectation: o for o in outcome.outcomes}
    assert {o.expectation: o.unexpected_count for o in outcome.failed} == BROKEN
    assert sql["expect_table_row_count_to_equal"].success  # judged over all rows, not the 100-row batch
    assert any(row["customer_id"] == "C1" for row in sql["expect_column_values_to_be_unique"].sample)
    # Great Expectations on the whole frame agrees expectation by expectation.
    on_frame = validate_batch(frame, SPEC, PARAMETERS, name="whole", docs_dir=tmp_path / "docs")
    assert {o.expectation: o.success for o in on_frame} == {o.expectation: o.success for o in outcome.outcomes}
    # Data Docs are rendered once, after the last suite of a run: both validations are in them.
    index = build_docs(tmp_path / "docs")
    assert index == tmp_path / "docs" / "index.html"
    assert {p.name for p in (tmp_path / "docs" / "validations").iterdir()} == {"tiers", "whole"}
    assert "whole" in index.read_text(encoding="utf-8")


def test_a_suite_is_validated_for_data_docs_only_when_asked_or_failing_and_an_empty_table_counts(
    tmp_path: Path,
) -> None:
    spec = {"name": "empty", "expectations": SPEC["expectations"][1:3]}  # judged in SQL entirely
    with duckdb.connect() as con:
        con.execute(TABLE)
        con.execute("create table empty as select * from tiers limit 0")
        quiet = run_suite(con, "empty", spec, {}, name="quiet", docs_dir=tmp_path / "quiet", docs=False)
        shown = run_suite(con, "empty", spec, {}, name="shown", docs_dir=tmp_path / "shown", docs=True)
        failing = run_suite(con, "tiers", spec, {}, name="failing", docs_dir=tmp_path / "failing", docs=False)
    assert quiet.success and not quiet.validated and build_docs(tmp_path / "quiet") is None
    # Validated with no row in its batch: the check still links the docs that hold it.
    assert shown.success and shown.validated and shown.batch_rows == 0
    assert build_docs(tmp_path / "shown") is not None
    assert not failing.success and failing.validated  # a failing suite is always shown


def test_a_publish_log_from_before_overrides_stays_readable(tmp_path: Path) -> None:

    warehouse = tmp_path / "warehouse.duckdb"
    old_ddl = LOG_DDL.replace(",\n    overrides varchar,\n    full_audit boolean", "")
    assert "overrides" not in old_ddl and "full_audit" not in old_ddl
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema published_state")
        con.execute(old_ddl)
        con.execute(
            "insert into published_state.publish_log values ('r0', '2025-01-01', 'v', now(), '[]', '{}', '{}', 1)"
        )
    entry = new_entry(
        run_id="r1",
        as_of="2025-01-02",
        policy_version="v",
        row_counts={},
        checksums={},
        seconds=1.0,
        overrides={"tier_psi": "campaign"},
    )
    record_publication(warehouse, [], entry)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = publish_log_rows(con)
    assert [(r[0], r[8]) for r in rows] == [("r0", None), ("r1", '{"tier_psi": "campaign"}')]
