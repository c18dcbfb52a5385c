"""The tier job (ingest → dbt → gates → publish), partitioned by day, its daily schedule and the sensor that
runs it when new landing files arrive. The CLI runs the same job."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from orchestration.defs.alerts import alert_on_failure
from orchestration.defs.landing_watch import landing_fingerprint

TIER_JOB_NAME = "tier_job"
# Every tier run carries this tag; the deployed instance (deploy/dagster.yaml) queues runs so that only one
# with it runs at a time: each day's state depends on the day before, and DuckDB has a single writer.
TIER_RUN_TAG = "tierflow/tier-run"
FIRST_PARTITION = "2020-01-01"


def run_config_for(as_of: str) -> dict:
    return {"ops": {"run_parameters": {"config": {"as_of_date": as_of}}}}


def tier_partitions(timezone: str) -> dg.DailyPartitionsDefinition:
    """One partition per as-of date, in the policy's time zone; the newest is the last complete day."""
    return dg.DailyPartitionsDefinition(start_date=FIRST_PARTITION, timezone=timezone)


# Unannotated: the type `define_asset_job` returns is not part of dagster's public API.
def build_tier_job(timezone: str):
    partitions = tier_partitions(timezone)
    return dg.define_asset_job(
        TIER_JOB_NAME,
        selection=dg.AssetSelection.all(),
        description="Ingest new landing files, rebuild the tier models, run the quality gates, and publish.",
        # The partition is the as-of date; the assets themselves are not partitioned (each run rebuilds the
        # state from the last published one), so a backfill is a sequence of runs, one per day, in order.
        config=dg.PartitionedConfig(
            partitions_def=partitions, run_config_for_partition_key_fn=lambda key: run_config_for(key)
        ),
        executor_def=dg.in_process_executor,  # one process: the DuckDB warehouse has a single writer
        tags={TIER_RUN_TAG: "1"},
        hooks={alert_on_failure},
    )


def build_daily_schedule(cron: str, timezone: str) -> dg.ScheduleDefinition:
    @dg.schedule(
        name="daily_tiers",
        cron_schedule=cron,
        execution_timezone=timezone,
        job_name=TIER_JOB_NAME,
        description="Recompute tiers every night as of the previous day (the last complete day).",
    )
    def daily_tiers(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        as_of = (context.scheduled_execution_time.date() - timedelta(days=1)).isoformat()
        return dg.RunRequest(run_key=as_of, partition_key=as_of, tags={"tierflow/as_of": as_of})

    return daily_tiers


def build_landing_sensor(landing: str, timezone: str) -> dg.SensorDefinition:
    @dg.sensor(
        name="new_landing_files",
        job_name=TIER_JOB_NAME,
        minimum_interval_seconds=120,
        default_status=dg.DefaultSensorStatus.STOPPED,  # switch it on in the UI where files land at odd hours
        description="Run the tier job as of the previous local day when files are added to or changed in the "
        "landing zone (a fingerprint of names, sizes and modification times; contents are not read).",
    )
    def new_landing_files(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
        fingerprint = landing_fingerprint(landing)
        if fingerprint is None:
            return dg.SkipReason(f"landing zone {landing} holds no input files")
        if fingerprint == context.cursor:
            return dg.SkipReason("no new or changed landing files")
        as_of = previous_day(datetime.now(ZoneInfo(timezone)))
        request = dg.RunRequest(
            run_key=f"{as_of}:{fingerprint[:16]}",
            partition_key=as_of,
            tags={"tierflow/as_of": as_of, "tierflow/trigger": "sensor"},
        )
        return dg.SensorResult(run_requests=[request], cursor=fingerprint)

    return new_landing_files


def previous_day(now: datetime) -> str:
    return (now.date() - timedelta(days=1)).isoformat()
