"""Quality gates on the published tables: one blocking Great Expectations suite per table.

A failing suite stops the run before anything is published (the publish assets are downstream of every
gated table), so BI and CRM keep the last good version.
"""

from typing import Any

import dagster as dg
import duckdb

from orchestration.defs.resources import TierflowResource
from orchestration.expectations import SuiteError, load_suite, suite_path, validate_frame
from orchestration.ingest.files import quote_identifier
from orchestration.warehouse import connect, scalar


def gate_parameters(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Values suites refer to as {"$PARAMETER": name}: they come from the policy and the run, not the table."""
    tier_codes = [
        r[0] for r in con.execute("select tier_code from tierflow.policy_tiers order by tier_rank").fetchall()
    ]
    return {
        "tier_codes": tier_codes,
        "tier_count": len(tier_codes),
        "known_customers": scalar(con, "select count(*) from intermediate.int_customers_joined"),
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
        try:
            spec = load_suite(path)
            with connect(tierflow.layout.warehouse, read_only=True) as con:
                frame = con.execute(f"select * from marts.{quote_identifier(table)}").df()
                parameters = gate_parameters(con)
            outcome = validate_frame(frame, spec, parameters)
        except SuiteError as exc:
            return dg.AssetCheckResult(passed=False, metadata={"suite": str(path), "error": str(exc)})
        for failed in outcome.failed:
            context.log.error(f"{table}: {failed.expectation} on {failed.column or 'table'} failed: {failed.as_dict()}")
        return dg.AssetCheckResult(
            passed=outcome.success,
            metadata={
                "suite": dg.MetadataValue.path(str(path)),
                "rows": outcome.rows,
                "expectations": len(outcome.outcomes),
                "failed": dg.MetadataValue.json([f.as_dict() for f in outcome.failed]),
            },
        )

    return _suite_check
