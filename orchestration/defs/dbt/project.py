"""The dbt project, built once per process, and its manifest, prepared wherever the project is loaded.

`prepare_manifest` runs `dbt parse` (the dbt beside this Python) when the manifest is missing or older than
any project file (partial parsing keeps a re-parse cheap); loading the project calls it, under `dagster dev`
or not.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from orchestration import adapters
from orchestration.adapters.dagster_dbt import TierflowDbtCli
from tierflow.paths import DBT_PROJECT_DIR, REPO_ROOT
from tierflow.targets.base import dbt_profile_environment

PROJECT_SOURCES = (DBT_PROJECT_DIR, REPO_ROOT / "models")


def dbt_executable() -> str:
    """The dbt installed beside this Python, so a venv works without being activated."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


def dbt_cli(project: DbtProject, *, target: str | None = None) -> DbtCliResource:
    """The dbt resource, with tierflow's start-up savings where the installed dagster-dbt allows them."""
    resource = TierflowDbtCli if adapters.enabled("dagster-dbt") else DbtCliResource
    # The profile's default target goes without `--target`, as `prepare_manifest` parses it: dbt re-parses the
    # whole project when the target argument differs from the saved parse's.
    return resource(project_dir=project, dbt_executable=dbt_executable(), target=None if target == "duckdb" else target)


@cache
def dbt_project() -> DbtProject:
    # Parsed for DuckDB (the profile's default target); a run on another target passes `--target` to dbt.
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
    # Not `project.prepare_if_dev()`: its preparer runs the `dbt` on PATH, so `dagster dev` from an unactivated
    # venv could not load the code location. This runs the dbt beside this Python, wherever it is loaded from.
    prepare_manifest(project)
    return project


@contextmanager
def process_environment(values: Mapping[str, str]) -> Iterator[None]:
    """dbt runs in a subprocess and reads the warehouse path and engine settings from its environment
    (profiles.yml). DbtCliResource has no per-call environment; the job runs one step at a time, in-process."""
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _newest_source_mtime() -> float:
    newest = 0.0
    for root in PROJECT_SOURCES:
        for path in root.rglob("*"):
            if path.suffix in {".sql", ".yml", ".yaml", ".csv"} and "target" not in path.parts:
                newest = max(newest, path.stat().st_mtime)
    return newest


def prepare_manifest(project: DbtProject | None = None) -> Path:
    project = project or dbt_project()
    manifest = project.manifest_path
    target = Path(project.project_dir) / project.target_path
    target.mkdir(parents=True, exist_ok=True)
    # Parallel test workers (and a CLI beside `dagster dev`) must not write one target directory at once.
    with (target / ".prepare.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not manifest.exists() or manifest.stat().st_mtime < _newest_source_mtime():
            # With the profile values of every run, so that a run's dbt reuses this parse (tierflow.targets.base).
            with process_environment(dbt_profile_environment()):
                dbt_cli(project).cli(["parse", "--quiet"], target_path=project.target_path).wait()
    return manifest


@cache
def published_models() -> tuple[str, ...]:
    """Marts flagged `meta: {published: true}`: the tables gated, published to BI and exported."""
    manifest = json.loads(dbt_project().manifest_path.read_text(encoding="utf-8"))
    return tuple(
        sorted(
            node["name"]
            for node in manifest["nodes"].values()
            if node["resource_type"] == "model" and node["config"].get("meta", {}).get("published")
        )
    )
