"""Quality gates on the published tables: one blocking Great Expectations suite per table.

A failing suite stops the run before anything is published (the publish assets are downstream of every
gated table), so BI and CRM keep the last good version. Suites are judged in DuckDB over the whole table and
by Great Expectations on a bounded batch (`tierflow.gates.suites`); the outcome goes to the gate report.
"""

from typing import Any

import dagster as dg
import duckdb

from orchestration.defs.gates import run_identity
from orchestration.defs.resources import TierflowResource
from tierflow.faults import fault_point
from tierflow.gates.audit import renders_data_docs
from tierflow.gates.expectations import SuiteError, load_suite, suite_path
from tierflow.gates.report import data_docs_dir, suite_entry, write_part
from tierflow.gates.suites import run_suite
from tierflow.sql_safety import identifier
from tierflow.warehouse import connect, scalar


def gate_parameters(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Values suites refer to as {"$PARAMETER": name}: they come from the policy and the run, not the table."""
    tiers = con.execute("select tier_code, tier_rank from tierflow.policy_tiers order by tier_rank").fetchall()
    tier_codes = [code for code, _ in tiers]
    return {
        "tier_codes": tier_codes,
        "tier_count": len(tier_codes),
        "tier_rank_pairs": [[code, rank] for code, rank in tiers],
        "known_customers": scalar(con, "select known_customers from marts.run_figures"),
        "as_of_dates": [str(scalar(con, "select as_of_date from tierflow.run_parameters"))],
    }


def build_suite_check(table: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(["marts", table]),
        name="expectation_suite",
        blocking=True,
        description=f"Great Expectations suite expectations/{table}.json on the freshly built table; "
        "publishing waits for it and nothing is published when it fails.",
    )
    def _suite_check(context: dg.AssetCheckExecutionContext, tierflow: TierflowResource) -> dg.AssetCheckResult:
        path = suite_path(tierflow.expectations_dir, table)
        run_dir = tierflow.layout.run_dir(context.run.run_id)
        try:
            spec = load_suite(path)
            with connect(tierflow.layout.warehouse, read_only=True) as con:
                parameters = gate_parameters(con)
                run = run_identity(con)
                outcome = run_suite(
                    con,
                    f"marts.{identifier(table, 'published table')}",
                    spec,
                    parameters,
                    name=table,
                    docs_dir=data_docs_dir(run_dir),
                    docs=renders_data_docs(con, tierflow.load_policy().gates.data_docs),
                )
            fault_point(f"gate.{table}")
        except SuiteError as exc:
            return dg.AssetCheckResult(passed=False, metadata={"suite": str(path), "error": str(exc)})
        report = write_part(run_dir, f"suite__{table}", run=run, suites=[suite_entry(f"marts.{table}", outcome)])
        for failed in outcome.failed:
            context.log.error(f"{table}: {failed.expectation} on {failed.column or 'table'} failed: {failed.as_dict()}")
        return dg.AssetCheckResult(
            passed=outcome.success,
            metadata={
                "suite": dg.MetadataValue.path(str(path)),
                "rows": outcome.rows,
                "expectations": len(outcome.outcomes),
                "failed": dg.MetadataValue.json([f.as_dict() for f in outcome.failed]),
                "gate_report": dg.MetadataValue.path(str(report)),
                # Rendered after the last suite (run_gates), where Great Expectations validated this one.
                **(
                    {"data_docs": dg.MetadataValue.path(str(data_docs_dir(run_dir) / "index.html"))}
                    if outcome.validated
                    else {}
                ),
            },
        )

    return _suite_check
