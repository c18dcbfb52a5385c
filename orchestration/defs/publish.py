"""Publish assets: the BI tables and the CRM export. Both sit downstream of every gated table, so a failed
blocking check on any of them publishes nothing."""

import dagster as dg

from orchestration.crm_export import export_segments
from orchestration.defs.resources import TierflowResource
from orchestration.ingest.files import quote_identifier
from orchestration.published_state import record_publication
from orchestration.publishing import publish_bi
from orchestration.warehouse import connect

OWNERS = ["team:data-platform"]


def _current_run(tierflow: TierflowResource, tables: tuple[str, ...]) -> dict[str, str]:
    """The run the marts were built by; refuses to publish marts left over from another run."""
    with connect(tierflow.layout.warehouse, read_only=True) as con:
        run_id, as_of, version = con.execute(
            "select run_id, cast(as_of_date as varchar), policy_version from tierflow.run_parameters"
        ).fetchall()[0]
        for table in tables:
            stamps = {
                r[0] for r in con.execute(f"select distinct run_id from marts.{quote_identifier(table)}").fetchall()
            }
            if stamps - {run_id}:
                raise dg.Failure(
                    f"marts.{table} was built by run(s) {sorted(stamps)}, not by {run_id}: rebuild it first"
                )
    return {"run_id": run_id, "as_of": as_of, "policy_version": version}


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


def build_publish_assets(tables: tuple[str, ...]) -> list[dg.AssetsDefinition]:
    gated = [dg.AssetKey(["marts", t]) for t in tables]

    @dg.asset(
        key="published_tables",
        deps=gated,
        group_name="publish",
        kinds={"duckdb", "parquet"},
        owners=OWNERS,
        description="The gated marts for BI: published/tierflow.duckdb, replaced atomically, and Parquet "
        "copies under published/parquet/latest.",
    )
    def published_tables(context: dg.AssetExecutionContext, tierflow: TierflowResource) -> dg.MaterializeResult:
        run = _current_run(tierflow, tables)
        publication = publish_bi(tierflow.layout, tables=list(tables), **run)
        # Only now is this run anyone's "previous published run".
        record_publication(tierflow.layout.warehouse, list(tables), publication.entry)
        counts, customers = tier_counts(tierflow)
        context.log.info(f"published {publication.row_counts} to {publication.duckdb_path}")
        return dg.MaterializeResult(
            metadata={
                **run,
                "duckdb_path": dg.MetadataValue.path(str(publication.duckdb_path)),
                "parquet_dir": dg.MetadataValue.path(str(publication.parquet_latest)),
                "row_counts": dg.MetadataValue.json(publication.row_counts),
                "tier_counts": dg.MetadataValue.json(counts),
                "customers": dg.MetadataValue.json(customers),
            }
        )

    @dg.asset(
        key="crm_segment_export",
        deps=[*gated, published_tables.key],
        group_name="publish",
        kinds={"csv", "parquet"},
        owners=OWNERS,
        description="The full segment snapshot for CRM systems with its manifest, under exports/crm/.",
    )
    def crm_segment_export(context: dg.AssetExecutionContext, tierflow: TierflowResource) -> dg.MaterializeResult:
        run = _current_run(tierflow, tables)
        export = export_segments(tierflow.layout, **run)
        context.log.info(f"exported {export.manifest['row_count']:,} segments to {export.directory}")
        return dg.MaterializeResult(
            metadata={
                **run,
                "directory": dg.MetadataValue.path(str(export.directory)),
                "row_count": export.manifest["row_count"],
                "manifest": dg.MetadataValue.json(export.manifest),
            }
        )

    return [published_tables, crm_segment_export]
