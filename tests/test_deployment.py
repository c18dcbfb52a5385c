"""Dagster set up for production: the tier job partitioned by day, the landing sensor, one tier run at a
time, a PostgreSQL-backed instance from deploy/dagster.yaml, and the failure alert."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from orchestration.defs import build_definitions
from orchestration.defs.schedules import TIER_RUN_TAG, run_config_for
from tests.conftest import ORDER_COLUMNS, Runner, fresh_pg_database, order, profile, relaxed_policy, write_csv
from tests.crm_server import CrmServer
from tierflow.paths import REPO_ROOT
from tierflow.settings import Settings

AS_OF = date(2026, 2, 28)


def small_landing(root: Path) -> Path:
    write_csv(
        root / "orders" / "orders.csv",
        [order("o1", "c1", "2026-02-01T10:00:00Z", "1200.00"), order("o2", "c2", "2026-02-10T10:00:00Z", "80.00")],
        ORDER_COLUMNS,
    )
    write_csv(root / "profiles" / "profiles.csv", [profile("c1"), profile("c2")])
    return root


@pytest.fixture
def defs(tmp_path: Path) -> dg.Definitions:
    small_landing(tmp_path / "landing")
    return build_definitions(Settings(home=tmp_path / "home", landing=tmp_path / "landing", policy=relaxed_policy()))


def test_tier_job_is_partitioned_by_local_day_and_tagged_for_one_run_at_a_time(defs: dg.Definitions) -> None:
    job = defs.resolve_job_def("tier_job")
    partitions = job.partitions_def
    assert isinstance(partitions, dg.DailyPartitionsDefinition)
    assert partitions.timezone == "Asia/Shanghai"  # the policy's zone
    config = job.partitioned_config.get_run_config_for_partition_key("2026-02-28")
    assert config["ops"] == run_config_for("2026-02-28")["ops"]
    assert job.tags[TIER_RUN_TAG] == "1"
    # Backfills are launched in partition order, so days are computed in the order they depend on each other.
    keys = partitions.get_partition_keys_in_range(dg.PartitionKeyRange("2026-02-26", "2026-03-01"))
    assert keys == ["2026-02-26", "2026-02-27", "2026-02-28", "2026-03-01"]


def test_landing_sensor_requests_a_run_for_new_or_changed_files_only(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    (landing / "orders").mkdir(parents=True)
    defs = build_definitions(Settings(home=tmp_path / "home", landing=landing))
    sensor = defs.resolve_sensor_def("new_landing_files")
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED

    def tick(cursor: str | None) -> dg.SensorResult | dg.SkipReason:
        with dg.build_sensor_context(cursor=cursor, definitions=defs) as context:
            return sensor.evaluate_tick(context)

    empty = tick(None)
    assert not empty.run_requests and "no input files" in empty.skip_message
    small_landing(landing)
    first = tick(None)
    [request] = first.run_requests
    assert request.partition_key == request.tags["tierflow/as_of"]
    assert request.tags["tierflow/trigger"] == "sensor"
    assert not tick(first.cursor).run_requests  # nothing new
    write_csv(landing / "orders" / "orders_2.csv", [order("o3", "c1", "2026-02-20T10:00:00Z", "5.00")], ORDER_COLUMNS)
    second = tick(first.cursor)
    assert len(second.run_requests) == 1 and second.cursor != first.cursor
    assert second.run_requests[0].run_key != request.run_key


@pytest.fixture
def dagster_database() -> Iterator[str]:
    with fresh_pg_database("tierflow_dagster") as dsn:
        yield dsn


@pytest.mark.slow
def test_deployed_instance_keeps_runs_in_postgres_and_queues_one_tier_run(
    defs: dg.Definitions, dagster_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text((REPO_ROOT / "deploy" / "dagster.yaml").read_text())
    url = psycopg.conninfo.conninfo_to_dict(dagster_database)
    monkeypatch.setenv(
        "TIERFLOW_DAGSTER_PG_URL", f"postgresql+psycopg2://{url.get('host')}:{url.get('port')}/{url['dbname']}"
    )
    with dg.DagsterInstance.from_config(str(home)) as instance:
        coordinator = instance.run_coordinator
        assert type(coordinator).__name__ == "QueuedRunCoordinator"
        limits = coordinator.get_run_queue_config().tag_concurrency_limits
        # One entry for the tag, without a value: it counts every run carrying the key, whatever its value.
        assert [dict(limit) for limit in limits if limit["key"] == TIER_RUN_TAG] == [{"key": TIER_RUN_TAG, "limit": 1}]
        # Every tier run carries the tag the limit counts, so the queue daemon holds back a second one.
        job = defs.resolve_job_def("tier_job")
        assert TIER_RUN_TAG in job.tags
        result = job.execute_in_process(
            run_config=run_config_for(AS_OF.isoformat()), instance=instance, raise_on_error=False
        )
        assert result.success
        run_id = result.run_id
    # The run and its events are rows in PostgreSQL, readable by any other webserver or daemon.
    with psycopg.connect(dagster_database) as conn:
        status = conn.execute("select status from runs where run_id = %s", [run_id]).fetchone()
        events = conn.execute("select count(*) from event_logs where run_id = %s", [run_id]).fetchone()[0]
        tagged = conn.execute("select value from run_tags where run_id = %s and key = %s", [run_id, TIER_RUN_TAG])
        tagged = tagged.fetchall()
    assert status == ("SUCCESS",) and events > 20
    assert tagged == [("1",)]  # the tag the queue's limit counts is on the stored run


@pytest.mark.slow
def test_failed_run_posts_an_alert_to_the_webhook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    landing = small_landing(tmp_path / "landing")
    (landing / "orders" / "broken.csv").write_text("order_id,amount\nx,1\n")  # no customer_id: the run stops
    with CrmServer() as server:
        monkeypatch.setenv("TIERFLOW_ALERT_WEBHOOK_URL", server.url)
        code, summary = Runner(tmp_path / "home")(landing, AS_OF)
    assert code == 2
    [alert] = [r["body"] for r in server.requests]
    assert alert["run_id"] == summary["run_id"] and alert["job"] == "tier_job"
    # Every input's new files are checked before any input loads: the run stops at its first step.
    assert "customer_id" in alert["text"] and alert["step"] == "run_parameters"
