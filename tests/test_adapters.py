"""The private-API speed-ups (orchestration/adapters): pinned to the library versions they were written for,
failing here when a library changes the private surface they rely on, and really saving what they claim."""

from __future__ import annotations

import hashlib
import inspect
import json
import stat
from functools import cached_property
from importlib.metadata import version
from pathlib import Path

import dagster as dg
import pytest
from dagster_dbt import DbtCliResource
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from orchestration import adapters
from orchestration.adapters.dagster_dbt import TierflowDbtCli
from orchestration.adapters.dagster_storage import REPLACED_CONNECT_SHA256
from orchestration.defs.dbt.assets import warehouse_environment
from orchestration.defs.dbt.project import dbt_cli, dbt_executable, dbt_project


def test_installed_libraries_are_the_versions_the_adapters_were_written_for() -> None:
    # An upgrade past the pin makes tierflow fall back to the stock classes (slower); this test makes the
    # upgrade visible, so someone re-checks the private surface and moves the pin.
    for library, pinned in adapters.PINNED.items():
        assert Version(version(library)) in pinned, f"{library} {version(library)} is outside {pinned}"


def test_dagster_dbt_still_has_the_private_members_the_dbt_override_replaces() -> None:
    assert isinstance(inspect.getattr_static(DbtCliResource, "_cli_version"), cached_property)
    assert list(inspect.signature(DbtCliResource._initialize_dbt_core_adapter).parameters) == ["self", "args"]
    # `cli` is what consults them: an override of a member nothing reads any more would save nothing.
    body = inspect.getsource(DbtCliResource.cli)
    assert "self._cli_version" in body and "self._initialize_dbt_core_adapter(args)" in body


def test_dagster_still_has_the_private_members_the_event_log_override_relies_on() -> None:
    # The stock class, as the adapter module imports it (the only place that touches dagster internals).
    from orchestration.adapters.dagster_storage import SqliteEventLogStorage

    assert list(inspect.signature(SqliteEventLogStorage.__init__).parameters)[:3] == ["self", "base_dir", "inst_data"]
    assert list(inspect.signature(SqliteEventLogStorage._connect).parameters) == ["self", "shard"]
    inspect.signature(SqliteEventLogStorage._initdb).bind(None, None)  # called as `self._initdb(engine)`
    assert list(inspect.signature(SqliteEventLogStorage.conn_string_for_shard).parameters) == ["self", "shard_name"]
    body = inspect.getsource(SqliteEventLogStorage)
    assert "self._db_lock" in body and "self._initialized_dbs" in body
    # The override is a copy of the stock `_connect` with a cached engine: a change there must be carried over.
    stock = hashlib.sha256(inspect.getsource(SqliteEventLogStorage._connect).encode()).hexdigest()
    assert stock == REPLACED_CONNECT_SHA256, "dagster changed SqliteEventLogStorage._connect: re-check the override"


def _logging_dbt(tmp_path: Path) -> tuple[Path, Path]:
    """A `dbt` that records each start-up's arguments, then runs the real dbt beside this Python."""
    calls = tmp_path / "dbt_calls.txt"
    script = tmp_path / "dbt"
    script.write_text(f'#!/bin/sh\necho "$*" >> {calls}\nexec {dbt_executable()} "$@"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script, calls


@pytest.mark.parametrize("plain", [False, True], ids=["override", "stock"])
def test_a_dbt_command_starts_dbt_once_and_no_adapter_in_process(
    plain: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if plain:
        monkeypatch.setenv("TIERFLOW__PLAIN_ADAPTERS", "dagster-dbt")
    project = dbt_project()
    resource = type(dbt_cli(project))
    assert resource is (DbtCliResource if plain else TierflowDbtCli)
    script, calls = _logging_dbt(tmp_path)
    invocation = resource(project_dir=project, dbt_executable=str(script)).cli(
        ["debug", "--config-dir"], target_path=tmp_path / "target", raise_on_error=False
    )
    invocation.wait()
    assert invocation.is_successful()
    started = calls.read_text().splitlines()
    if plain:  # the stock resource asks a second dbt for its version and builds an adapter in this process
        assert started == ["--version", "debug --config-dir"] and invocation.adapter is not None
    else:
        assert started == ["debug --config-dir"] and invocation.adapter is None


@dg.asset
def _numbers() -> list[int]:
    return [1, 2, 3]


@dg.asset_check(asset=_numbers)
def _three_numbers(_numbers: list[int]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=len(_numbers) == 3)


def test_event_log_override_keeps_one_engine_per_database_file_in_the_stock_layout(tmp_path: Path) -> None:
    home = str(tmp_path)
    overrides = adapters.instance_overrides(home)
    assert overrides, "the dagster override is not in use on the pinned version"
    with dg.DagsterInstance.local_temp(home, overrides=overrides) as instance:
        storage = instance.event_log_storage
        assert type(storage).__name__ == "CachedEngineSqliteEventLogStorage"
        result = dg.materialize([_numbers], instance=instance)
        dg.materialize([_numbers, _three_numbers], instance=instance)
        events = len(instance.all_logs(result.run_id))
        # Both runs' events went through the cached engines: one per database file (each run's, the index).
        assert events > 5 and 1 <= len(storage._engines) <= 3
    # The stock storage reads what the override wrote: `dagster dev` on this home sees the CLI's runs.
    with dg.DagsterInstance.local_temp(home) as stock:
        assert type(stock.event_log_storage).__name__ == "SqliteEventLogStorage"
        assert len(stock.all_logs(result.run_id)) == events


def test_switched_off_or_unpinned_adapters_fall_back_to_the_stock_classes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERFLOW__PLAIN_ADAPTERS", "1")
    assert adapters.instance_overrides("/nowhere") == {}
    assert type(dbt_cli(dbt_project())) is DbtCliResource
    monkeypatch.delenv("TIERFLOW__PLAIN_ADAPTERS")
    monkeypatch.setitem(adapters.PINNED, "dagster", SpecifierSet("<0.1"))
    assert adapters.instance_overrides("/nowhere") == {}
    assert adapters.enabled("dagster-dbt") and type(dbt_cli(dbt_project())) is TierflowDbtCli


def test_dbt_duckdb_still_lets_plugins_update_the_connection_before_it_opens_the_path() -> None:
    from dbt.adapters.duckdb.environments import Environment

    body = inspect.getsource(Environment.initialize_db)
    hook, opened = body.find("plugin.update_connection_config(creds, config)"), body.find("duckdb.connect(creds.path")
    assert 0 <= hook < opened, "dbt-duckdb changed Environment.initialize_db: re-check the connect plugin"


SHOWN = (
    "select current_setting('temp_directory') as temp_directory, current_setting('max_temp_directory_size') as max_temp"
)


@pytest.mark.parametrize("plain", [False, True], ids=["override", "stock"])
def test_dbt_opens_each_homes_warehouse_with_its_spill_settings_and_reuses_the_saved_parse(
    plain: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if plain:
        monkeypatch.setenv("TIERFLOW__PLAIN_ADAPTERS", "dbt-duckdb")
    monkeypatch.setenv("TIERFLOW_MAX_SPILL_GB", "3")
    project = dbt_project()
    warehouse = tmp_path / "home" / "warehouse" / "warehouse.duckdb"
    warehouse.parent.mkdir(parents=True)
    target = tmp_path / "target"
    with warehouse_environment(warehouse, tmp_path / "home"):
        invocation = dbt_cli(project).cli(["show", "--inline", SHOWN, "--output", "json"], target_path=target)
        shown = [
            e.raw_event["data"] for e in invocation.stream_raw_events() if e.raw_event["info"]["name"] == "ShowNode"
        ]
    row = json.loads(shown[0]["preview"])[0]
    assert warehouse.exists()  # opened where the run said, not at the profile's constant path
    assert row["temp_directory"] == str(tmp_path / "home" / "tmp" / "duckdb") and row["max_temp"] == "3.0 GiB"
    # The first dbt command in this target directory reused the parse prepared once for the project (the spill
    # bound differs from it too), unless the override is off: the profile then holds the home's own values.
    log = "\n".join(p.read_text(encoding="utf-8") for p in target.glob("dbt.log*"))
    assert ("Unable to do partial parsing" in log) is plain
