"""Publish assets: the BI tables, the CRM export and the webhook sync. All sit downstream of every gated table,
so a failed blocking check on any of them publishes nothing."""

import dagster as dg

from orchestration.defs.dbt.project import dbt_project
from orchestration.defs.gates import allowed_breakers
from orchestration.defs.resources import TierflowResource
from tierflow.delivery.backoff import with_backoff
from tierflow.delivery.crm_export import export_segments, record_snapshot
from tierflow.delivery.sync import sync_exports
from tierflow.faults import fault_point
from tierflow.publish.files import discard_staged_parquet, publish_duckdb_file, publish_parquet_latest, stage_parquet
from tierflow.publish.postgres import PostgresUnreachable, publish_postgres
from tierflow.publish.state import primary_keys, record_publication, state_tables
from tierflow.secrets import pg_dsn
from tierflow.sql_safety import identifier
from tierflow.timing import Stopwatch
from tierflow.unchanged import FINGERPRINT_TAG, forget, remember_audited
from tierflow.warehouse import connect, scalar

OWNERS = ["team:data-platform"]
PUBLISH_GROUP = "publish"  # every step after the gates (the report too): what a resumed run executes


def _current_run(tierflow: TierflowResource, tables: tuple[str, ...]) -> dict[str, str]:
    """The run the marts were built by; refuses to publish marts left over from another run."""
    with connect(tierflow.layout.warehouse, read_only=True) as con:
        run_id, as_of, version = con.execute(
            "select run_id, cast(as_of_date as varchar), policy_version from tierflow.run_parameters"
        ).fetchall()[0]
        for table in tables:
            name = identifier(table, "published table")
            stamps = {r[0] for r in con.execute(f"select distinct run_id from marts.{name}").fetchall()}
            if stamps - {run_id}:
                raise dg.Failure(
                    f"marts.{table} was built by run(s) {sorted(stamps)}, not by {run_id}: rebuild it first"
                )
    return {"run_id": run_id, "as_of": as_of, "policy_version": version}


def _is_full_audit(tierflow: TierflowResource) -> bool:
    with connect(tierflow.layout.warehouse, read_only=True) as con:
        return bool(scalar(con, "select is_full_audit from tierflow.run_parameters"))


def tier_counts(tierflow: TierflowResource) -> tuple[dict[str, int], dict[str, int]]:
    """Members per tier (every policy tier, lowest first) and the customer totals for the run summary."""
    with connect(tierflow.layout.warehouse, read_only=True) as con:
        rows = con.execute(
            "select p.tier_code, count(t.customer_id) from tierflow.policy_tiers as p "
            "left join marts.customer_tiers as t on t.tier = p.tier_code group by p.tier_code, p.tier_rank "
            "order by p.tier_rank"
        ).fetchall()
        total, without_profile, prospects = con.execute(
            "select count(*), count(*) filter (where not has_profile), "
            "count(*) filter (where lifecycle_stage = 'prospect') from marts.customer_tiers"
        ).fetchall()[0]
    customers = {"total": total, "without_profile": without_profile, "without_orders": prospects}
    return dict(rows), customers


def _publish_bi(context: dg.AssetExecutionContext, tierflow: TierflowResource, tables: tuple[str, ...]) -> dict:
    run = _current_run(tierflow, tables)
    layout = tierflow.layout
    forget(layout)  # a run launched by Dagster changes the published state too
    digest = context.run.tags.get(FINGERPRINT_TAG)
    if digest:  # every gate has passed: a run with the same inputs may publish this build if this one stops
        remember_audited(layout, run["run_id"], digest)
    fault_point("publish.start")
    # Seconds per target, in the step's metadata: what each costs (bench/stages.py, BENCHMARKS.md).
    watch = Stopwatch()
    with watch.part("parquet_files"):
        staged = stage_parquet(
            layout,
            tables=list(tables),
            keys=primary_keys(dbt_project().manifest_path),
            overrides=allowed_breakers(context.run.tags) or None,
            full_audit=_is_full_audit(tierflow),
            **run,
        )
    fault_point("publish.parquet_staged")
    where: dict[str, str] = {}
    # PostgreSQL first: it is the target most likely to fail, and then nothing else has changed yet.
    dsn = pg_dsn()
    if dsn:
        try:
            with watch.part("postgres"):
                where["postgres"] = with_backoff(
                    lambda: publish_postgres(
                        dsn,
                        schema=tierflow.pg_schema,
                        reader_role=tierflow.pg_reader_role,
                        files=staged.files,
                        entry=staged.entry,
                        scratch=layout.tmp / staged.run_id,
                        log=context.log.info,
                    ),
                    transient=PostgresUnreachable,
                    attempts=tierflow.retry_attempts,
                    base_seconds=tierflow.retry_base_seconds,
                    log=context.log.warning,
                )
        except ConnectionError as exc:
            raise dg.Failure(str(exc)) from None
    if "duckdb" in tierflow.targets:
        with watch.part("duckdb_file"):
            where["duckdb"] = str(publish_duckdb_file(layout, staged))
        fault_point("publish.duckdb_replaced")
    if "parquet" in tierflow.targets:
        with watch.part("parquet_switch"):
            where["parquet"] = str(publish_parquet_latest(layout, staged))
        fault_point("publish.parquet_switched")
    else:
        discard_staged_parquet(staged)
    # Only now is this run anyone's "previous published run" (the commit point: see tierflow.recovery).
    with watch.part("recording"):
        record_publication(layout.warehouse, list(state_tables(dbt_project().manifest_path)), staged.entry)
    fault_point("publish.recorded")
    counts, customers = tier_counts(tierflow)
    context.log.info(f"published {staged.row_counts} to {', '.join(where)}")
    return {
        **run,
        **{f"{target}_path": dg.MetadataValue.path(path) for target, path in where.items()},
        "row_counts": dg.MetadataValue.json(staged.row_counts),
        "checksums": dg.MetadataValue.json(staged.entry.checksums),
        "tier_counts": dg.MetadataValue.json(counts),
        "customers": dg.MetadataValue.json(customers),
        "seconds": dg.MetadataValue.json(watch.rounded()),
    }


def build_publish_assets(tables: tuple[str, ...]) -> list[dg.AssetsDefinition]:
    gated = [dg.AssetKey(["marts", t]) for t in tables]

    @dg.asset(
        key="published_tables",
        deps=gated,
        group_name=PUBLISH_GROUP,
        kinds={"duckdb", "parquet", "postgres"},
        owners=OWNERS,
        description="The gated marts for BI: published/tierflow.duckdb (replaced atomically), Parquet under "
        "published/parquet/latest, and PostgreSQL when TIERFLOW_PG_DSN is set (swapped in one transaction).",
    )
    def published_tables(context: dg.AssetExecutionContext, tierflow: TierflowResource) -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata=_publish_bi(context, tierflow, tables))

    @dg.asset(
        key="crm_segment_export",
        deps=[*gated, published_tables.key],
        group_name=PUBLISH_GROUP,
        kinds={"csv", "parquet"},
        owners=OWNERS,
        description="The full segment snapshot and the delta against the previous published as-of date, and the "
        "tier notices raised or withdrawn since then, for CRM systems, with a manifest, under exports/crm/.",
    )
    def crm_segment_export(context: dg.AssetExecutionContext, tierflow: TierflowResource) -> dg.MaterializeResult:
        run = _current_run(tierflow, tables)
        export = export_segments(tierflow.layout, **run)
        record_snapshot(tierflow.layout, export)
        fault_point("export.snapshot_recorded")
        verb = "kept the identical export" if export.reused else "exported"
        counts = export.manifest["delta_counts"]
        context.log.info(f"{verb} {export.manifest['row_count']:,} segments, delta {counts}, in {export.directory}")
        return dg.MaterializeResult(
            metadata={
                **run,
                "directory": dg.MetadataValue.path(str(export.directory)),
                "export_id": export.export_id,
                "reused": export.reused,
                "row_count": export.manifest["row_count"],
                "delta_counts": dg.MetadataValue.json(counts),
                "notice_counts": dg.MetadataValue.json(export.manifest.get("notice_counts", {})),
                "manifest": dg.MetadataValue.json(export.manifest),
                "seconds": dg.MetadataValue.json(export.seconds),
            }
        )

    @dg.asset(
        key="crm_webhook_sync",
        deps=[crm_segment_export.key],
        group_name=PUBLISH_GROUP,
        kinds={"http"},
        owners=OWNERS,
        description="Sends CRM deltas not yet delivered to TIERFLOW_CRM_WEBHOOK_URL in batches with idempotency "
        "keys, oldest first; does nothing when no webhook is configured.",
    )
    def crm_webhook_sync(context: dg.AssetExecutionContext, tierflow: TierflowResource) -> dg.MaterializeResult:
        config = tierflow.webhook_config()
        if config is None:
            return dg.MaterializeResult(metadata={"status": "disabled (TIERFLOW_CRM_WEBHOOK_URL not set)"})
        report = sync_exports(tierflow.layout, config, sync_id=context.run.run_id, trigger="run", log=context.log.info)
        if not report.complete:
            context.log.warning(
                f"CRM sync incomplete: {report.batches_failed} batch(es) failed, {report.batches_pending} waiting; "
                "the next run or `tierflow sync` retries them first"
            )
        return dg.MaterializeResult(
            metadata={"status": "complete" if report.complete else "incomplete", **report.as_dict()}
        )

    return [published_tables, crm_segment_export, crm_webhook_sync]
