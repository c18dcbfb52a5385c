"""Ingest assets: one per landing input, plus the run parameters the dbt models read."""

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
from pydantic import Field

from orchestration.defs.dbt.project import dbt_project
from orchestration.defs.resources import TierflowResource, bad_input
from tierflow.faults import fault_point
from tierflow.gates.audit import FULL_AUDIT_TAG, is_full_audit, last_full_audit
from tierflow.ingest import INPUTS, InputSpec, LandingFileError, check_new_files, ingest_input
from tierflow.ingest.overrides import OverridesError, load_overrides
from tierflow.policy.parameters import convertible_currencies, write_run_parameters
from tierflow.publish.state import prepare_published_state
from tierflow.warehouse import connect

OWNERS = ["team:data-platform"]
RUN_PARAMETERS_KEY = dg.AssetKey(["tierflow", "run_parameters"])


def landing_key(spec: InputSpec) -> dg.AssetKey:
    # Matches the default key dagster-dbt gives source('landing', <input>), which joins the graph.
    return dg.AssetKey(["landing", spec.name])


def build_ingest_asset(spec: InputSpec) -> dg.AssetsDefinition:
    @dg.asset(
        key=landing_key(spec),
        # After the run parameters: a landing row records the as-of date of the run that loaded it.
        deps=[RUN_PARAMETERS_KEY],
        group_name="ingest",
        kinds={"duckdb", "csv", "parquet"},
        owners=OWNERS,
        description=(
            f"New {spec.name} files from the landing zone in arrival order (modification time, then name), "
            f"validated in one set-based pass per file: accepted rows are appended to landing.{spec.name}, "
            "rejected rows go to landing.quarantine with a reason code, a later status/refund of a loaded order "
            "moves it forward (logged in landing.updates) and a version behind it is quarantined as "
            "stale_update. Files already ingested (same SHA-256) are skipped."
        ),
    )
    def _ingest(context: dg.AssetExecutionContext, tierflow: TierflowResource) -> dg.MaterializeResult:
        policy = tierflow.load_policy()
        with connect(tierflow.layout.warehouse, read_only=True) as con:
            (as_of,) = con.execute("select as_of_date from tierflow.run_parameters").fetchone()
        try:
            result = ingest_input(
                tierflow.layout.warehouse,
                tierflow.landing_dir,
                spec,
                timezone=policy.timezone,
                currency=policy.currency,
                currencies=convertible_currencies(),
                run_id=context.run.run_id,
                as_of=as_of,
                progress=context.log.info,
            )
        except LandingFileError as exc:
            raise bad_input(str(exc)) from None
        fault_point(f"ingest.{spec.name}")
        summary = result.as_dict()
        return dg.MaterializeResult(
            metadata={
                **{k: v for k, v in summary.items() if k != "quarantine_reasons"},
                "quarantine_reasons": dg.MetadataValue.json(summary["quarantine_reasons"]),
                "files": dg.MetadataValue.json([vars(f) for f in result.files]),
            }
        )

    return _ingest


def build_reconciliation_check(spec: InputSpec) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=landing_key(spec),
        name="rows_reconcile",
        blocking=True,
        description="For every file loaded in this run: rows read = rows accepted + rows updated + rows "
        "quarantined, and the accepted and quarantined counts match what is stored in the warehouse (updates "
        "change rows of earlier files and are logged in landing.updates).",
    )
    def _reconcile(context: dg.AssetCheckExecutionContext, tierflow: TierflowResource) -> dg.AssetCheckResult:
        with connect(tierflow.layout.warehouse, read_only=True) as con:
            rows = con.execute(
                f"""
                select
                    f.source_file, f.rows_read, f.rows_accepted, f.rows_quarantined, coalesce(f.rows_updated, 0),
                    (select count(*) from landing.{spec.name} as t where t.file_sha256 = f.file_sha256),
                    (select count(*) from landing.quarantine as q
                     where q.file_sha256 = f.file_sha256 and q.input = f.input)
                from landing.ingested_files as f
                where f.input = ? and f.run_id = ?
                """,
                [spec.name, context.run.run_id],
            ).fetchall()
        broken = [
            {
                "file": r[0],
                "read": r[1],
                "accepted": r[2],
                "quarantined": r[3],
                "updated": r[4],
                "stored": r[5],
                "in_quarantine": r[6],
            }
            for r in rows
            if r[1] != r[2] + r[3] + r[4] or r[2] != r[5] or r[3] != r[6]
        ]
        return dg.AssetCheckResult(
            passed=not broken,
            metadata={"files_checked": len(rows), "mismatches": dg.MetadataValue.json(broken)},
        )

    return _reconcile


class RunParametersConfig(dg.Config):
    as_of_date: str = Field(
        "",
        description="Date to compute tiers for (YYYY-MM-DD). Empty: yesterday in the policy time zone.",
    )


RUN_PARAMETER_TABLES = {
    "run_parameters": "The as-of date, run id and policy settings of the current run (one row).",
    "policy_tiers": "The tiers of the policy in force, with their thresholds and benefits.",
    "policy_promotions": "The yearly promotion periods of the policy (behaviour flag discount_seeker).",
    "policy_engine": "The tier engine's policy keys: qualification period, downgrades, points (one row).",
    "policy_point_multipliers": "Points multipliers of the policy (date ranges, optional categories).",
    "policy_point_events": "Points per engagement event type.",
    "overrides": "Manual tier overrides from the overrides CSV (TIERFLOW_OVERRIDES or the policy's overrides).",
}
RUN_PARAMETER_KEYS = [dg.AssetKey(["tierflow", table]) for table in RUN_PARAMETER_TABLES]


@dg.multi_asset(
    specs=[
        dg.AssetSpec(key, group_name="ingest", kinds={"duckdb"}, owners=OWNERS, description=description)
        for key, description in zip(RUN_PARAMETER_KEYS, RUN_PARAMETER_TABLES.values(), strict=True)
    ],
)
def run_parameters(context: dg.AssetExecutionContext, config: RunParametersConfig, tierflow: TierflowResource):
    policy = tierflow.load_policy()
    if config.as_of_date:
        try:
            as_of = date.fromisoformat(config.as_of_date)
        except ValueError:
            raise bad_input(f"as-of date {config.as_of_date!r} is not a date like 2026-01-31") from None
    else:
        as_of = datetime.now(ZoneInfo(policy.timezone)).date() - timedelta(days=1)
    with connect(tierflow.layout.warehouse) as con:
        try:
            check_new_files(con, tierflow.landing_dir)  # every input's new files, before any input loads
        except LandingFileError as exc:
            raise bad_input(str(exc)) from None
        # The models read the last publication as dbt sources: they must exist, empty, before the first one.
        prepare_published_state(con, dbt_project().manifest_path)
        full_audit = is_full_audit(
            as_of,
            last_full_audit(con),
            policy.gates.full_audit_every_days,
            forced=context.run.tags.get(FULL_AUDIT_TAG) == "true",
        )
        write_run_parameters(con, run_id=context.run.run_id, as_of=as_of, policy=policy, full_audit=full_audit)
        try:
            overrides_file, overrides = load_overrides(
                con, policy_location=policy.overrides, landing=Path(tierflow.landing), home=Path(tierflow.home)
            )
        except OverridesError as exc:
            raise bad_input(str(exc)) from None
    fault_point("ingest.run_parameters")
    context.log.info(f"computing tiers as of {as_of} under policy {policy.version}")
    if overrides_file:
        # Whether each one can apply (known customer and tier) is judged in dbt (the override_issues mart).
        context.log.info(f"{len(overrides)} manual override(s) from {overrides_file}")
    yield dg.MaterializeResult(
        asset_key=RUN_PARAMETER_KEYS[0],
        metadata={"as_of_date": as_of.isoformat(), "policy_version": policy.version, "is_full_audit": full_audit},
    )
    yield dg.MaterializeResult(asset_key=RUN_PARAMETER_KEYS[1], metadata={"tiers": len(policy.tiers)})
    yield dg.MaterializeResult(
        asset_key=RUN_PARAMETER_KEYS[2], metadata={"promotions": len(policy.behaviour.promotions)}
    )
    for key in RUN_PARAMETER_KEYS[3:-1]:
        yield dg.MaterializeResult(asset_key=key)
    yield dg.MaterializeResult(
        asset_key=RUN_PARAMETER_KEYS[-1], metadata={"overrides": len(overrides), "file": str(overrides_file or "")}
    )


ingest_assets = [build_ingest_asset(spec) for spec in INPUTS.values()]
reconciliation_checks = [build_reconciliation_check(spec) for spec in INPUTS.values()]
