"""The Dagster code location of tierflow, assembled from the modules beside this one."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.checks import build_suite_check
from orchestration.defs.dbt.assets import build_dbt_assets
from orchestration.defs.dbt.project import dbt_cli, dbt_project, prepare_manifest, published_models
from orchestration.defs.gates import input_gates, run_gates
from orchestration.defs.ingest import ingest_assets, reconciliation_checks, run_parameters
from orchestration.defs.publish import build_publish_assets
from orchestration.defs.report import build_report_asset
from orchestration.defs.resources import TierflowResource
from orchestration.defs.schedules import build_daily_schedule, build_landing_sensor, build_tier_job
from orchestration.progress import cli_progress_logger
from tierflow.policy.schema import load_policy
from tierflow.settings import Settings


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    settings = settings or Settings.from_env()
    project = dbt_project()
    prepare_manifest(project)
    tables = published_models()
    timezone = settings.schedule_timezone or load_policy(settings.policy).timezone
    tier_job = build_tier_job(timezone)
    return dg.Definitions(
        assets=[
            *ingest_assets,
            run_parameters,
            build_dbt_assets(project),
            *build_publish_assets(tables),
            build_report_asset(),
        ],
        asset_checks=[*reconciliation_checks, *(build_suite_check(t) for t in tables), input_gates, run_gates],
        jobs=[tier_job],
        loggers={"tierflow_cli": cli_progress_logger},
        schedules=[build_daily_schedule(settings.schedule_cron, timezone)],
        sensors=[build_landing_sensor(str(settings.landing_dir.resolve()), timezone)],
        resources={
            "tierflow": TierflowResource.from_settings(settings),
            "dbt": dbt_cli(project, target=settings.target),
        },
    )
