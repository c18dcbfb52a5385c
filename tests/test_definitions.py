"""The Dagster code location: it loads and validates, groups assets by concern, gates publishing behind
blocking checks, and its daily schedule asks for the previous day."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from orchestration.defs import build_definitions
from orchestration.defs.gates import GATE_CHECKS
from tierflow.paths import REPO_ROOT
from tierflow.settings import Settings


@pytest.fixture(scope="module")
def defs(tmp_path_factory: pytest.TempPathFactory) -> dg.Definitions:
    home = tmp_path_factory.mktemp("home")
    return build_definitions(Settings(home=home, schedule_cron="30 1 * * *"))


def test_assets_are_grouped_by_concern(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    groups = {key.to_user_string(): graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert groups["landing/orders"] == "ingest"
    assert groups["marts/customer_tiers"] == "transform"
    assert groups["published_tables"] == "publish" and groups["crm_segment_export"] == "publish"


def test_publishing_waits_for_blocking_suites_on_every_published_table(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    checks = {(k.asset_key.to_user_string(), k.name): graph.get_check_spec(k) for k in graph.asset_check_keys}
    for table in ("marts/customer_tiers", "marts/crm_segments"):
        assert checks[(table, "expectation_suite")].blocking
    for upstream in ("marts/customer_tiers", "marts/crm_segments"):
        key = dg.AssetKey.from_user_string(upstream)
        assert dg.AssetKey("published_tables") in graph.get(key).child_keys
        assert dg.AssetKey("crm_segment_export") in graph.get(key).child_keys
    assert checks[("landing/orders", "rows_reconcile")].blocking
    # dbt waits for the input gates: a bad landing batch never reaches `dbt build`.
    for landing in ("landing/orders", "landing/profiles", "landing/events"):
        assert checks[(landing, "input_gates")].blocking
    for gate in GATE_CHECKS:
        assert checks[("marts/customer_tiers", gate)].blocking


def test_daily_schedule_computes_the_previous_local_day(defs: dg.Definitions) -> None:
    schedule = defs.resolve_schedule_def("daily_tiers")
    assert schedule.cron_schedule == "30 1 * * *"
    assert schedule.execution_timezone == "Asia/Shanghai"  # the policy's zone unless configured
    when = datetime(2026, 3, 10, 1, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    with dg.build_schedule_context(scheduled_execution_time=when, repository_def=defs.get_repository_def()) as context:
        request = schedule.evaluate_tick(context).run_requests[0]
    assert request.partition_key == "2026-03-09"
    job = defs.resolve_job_def("tier_job")
    config = job.partitioned_config.get_run_config_for_partition_key(request.partition_key)
    assert config["ops"]["run_parameters"]["config"]["as_of_date"] == "2026-03-09"
    # The schedule and the sensor name the tier job; the repository resolves them to it.


@pytest.mark.slow
def test_code_location_loads_as_dagster_dev_loads_it_without_the_venv_on_path(tmp_path: Path) -> None:
    # `dagster dev` from an unactivated venv: nothing of the venv on PATH, and DAGSTER_IS_DEV_CLI set, under
    # which dagster-dbt's own preparer would look for `dbt` on PATH and fail to load the code location.
    assert subprocess.run(["sh", "-c", "command -v dbt"], env={"PATH": "/usr/bin:/bin"}).returncode != 0
    dagster = Path(sys.executable).parent / "dagster"
    done = subprocess.run(
        [str(dagster), "definitions", "validate", "-m", "orchestration"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={
            "PATH": "/usr/bin:/bin",
            "DAGSTER_IS_DEV_CLI": "1",
            "TIERFLOW_HOME": str(tmp_path),
            "DAGSTER_HOME": str(tmp_path),
        },
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "All code locations passed validation" in done.stderr + done.stdout
