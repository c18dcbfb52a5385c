"""The tier job (ingest → dbt → gates → publish) and its daily schedule; the CLI runs the same job."""

from datetime import timedelta

import dagster as dg

TIER_JOB_NAME = "tier_job"

tier_job = dg.define_asset_job(
    TIER_JOB_NAME,
    selection=dg.AssetSelection.all(),
    description="Ingest new landing files, rebuild the tier models, run the quality gates, and publish.",
    executor_def=dg.in_process_executor,  # one process: the DuckDB warehouse has a single writer
)


def run_config_for(as_of: str) -> dict:
    return {"ops": {"run_parameters": {"config": {"as_of_date": as_of}}}}


def build_daily_schedule(cron: str, timezone: str) -> dg.ScheduleDefinition:
    @dg.schedule(
        name="daily_tiers",
        cron_schedule=cron,
        execution_timezone=timezone,
        job=tier_job,
        description="Recompute tiers every night as of the previous day (the last complete day).",
    )
    def daily_tiers(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        as_of = (context.scheduled_execution_time.date() - timedelta(days=1)).isoformat()
        return dg.RunRequest(run_key=as_of, run_config=run_config_for(as_of), tags={"tierflow/as_of": as_of})

    return daily_tiers
