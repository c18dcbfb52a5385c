"""Whether a run has anything new to do.

A run's result depends only on its inputs: the files in the landing zone, the overrides file, the policy,
the expectation suites, tierflow's own code (Python, dbt models, macros, seeds), the libraries it runs on,
its settings and `TIERFLOW_*` environment, and the as-of date. When a run has published and its CRM sync (if
one is configured) is complete, the runner records a fingerprint of those inputs in the home. A later run
with the same fingerprint would ingest nothing, build the same tables and publish them again, so it
recomputes nothing and says which run it matched; `tierflow run --force` recomputes anyway.

A run that was stopped after its quality gates passed (killed, or failed while publishing) leaves its audited
build in the warehouse. When its publish step starts, it records the build's run and the same fingerprint
(`audited_build.json`). A later run with that fingerprint, while the warehouse still holds that build,
resumes at publication: it publishes the audited build without ingesting, building or judging it again.

The record is trusted only as long as nothing could have changed the published state since:
- it is removed before any run starts and before the publish step writes anything, so a run that fails, is
  blocked or is killed (from the CLI or from Dagster) leaves no record behind;
- the warehouse's last publication must be the recorded run, and the published files must still exist.

Files in the landing zone are compared by name, size and modification time, as ingest does for files it
has seen; everything else by content.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import date
from importlib import metadata
from pathlib import Path

import duckdb

from tierflow.ingest.files import sha256_of
from tierflow.ingest.overrides import OverridesError, resolve_location
from tierflow.paths import REPO_ROOT, Home
from tierflow.policy.schema import load_policy
from tierflow.publish.state import publish_log_rows
from tierflow.settings import INTERNAL_PREFIX, Settings
from tierflow.warehouse import connect, scalar, table_exists

RECORD_NAME = "last_complete_run.json"
AUDITED_NAME = "audited_build.json"
# The run tag through which the CLI hands a run its inputs' fingerprint (the publish step records it).
FINGERPRINT_TAG = "tierflow/input_fingerprint"
# tierflow's code and project files: a change to any of them may change what a run computes.
CODE_DIRS = ("tierflow", "orchestration", "models", "dbt_project", "expectations")
CODE_SUFFIXES = {".py", ".sql", ".yml", ".yaml", ".csv", ".json", ".properties"}
SKIPPED_DIRS = {"target", "logs", "dbt_packages", "__pycache__"}
LIBRARIES = ("duckdb", "dbt-core", "dbt-duckdb", "dbt-postgres", "dbt-spark", "dagster", "great_expectations")


@dataclass(frozen=True)
class Reusable:
    """The last complete run, whose publication stands for a run with the same inputs."""

    run_id: str
    summary: dict


@dataclass(frozen=True)
class Resumable:
    """An audited build, not yet (or not completely) published, that a run with the same inputs publishes."""

    build_run: str


def record_path(layout: Home) -> Path:
    return layout.runs / RECORD_NAME


def audited_path(layout: Home) -> Path:
    return layout.runs / AUDITED_NAME


def forget(layout: Home) -> None:
    """Before anything a run does can change the published state or the warehouse: until it completes,
    nothing is reusable, and until its gates pass, nothing is resumable."""
    record_path(layout).unlink(missing_ok=True)
    audited_path(layout).unlink(missing_ok=True)


def _code_files() -> list[Path]:
    found = []
    for name in CODE_DIRS:
        for path in (REPO_ROOT / name).rglob("*"):
            parts = set(path.relative_to(REPO_ROOT).parts)
            if path.suffix in CODE_SUFFIXES and path.is_file() and not parts & SKIPPED_DIRS:
                found.append(path)
    return sorted(found)


def _library_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def fingerprint(settings: Settings, as_of: date) -> str:
    """A digest of everything a run's result depends on (see the module docstring)."""
    landing = settings.landing_dir
    listing = sorted(
        (p.relative_to(landing).as_posix(), stat.st_size, stat.st_mtime_ns)
        for p in landing.rglob("*")
        if p.is_file() and (stat := p.stat())
    )
    policy = load_policy(settings.policy)
    overrides = resolve_location(settings.overrides or policy.overrides, landing, settings.home)
    expectations = sorted(p for p in settings.expectations.rglob("*") if p.is_file())
    facts = {
        "as_of": as_of.isoformat(),
        "landing": listing,
        "overrides": sha256_of(overrides) if overrides else None,
        "policy": sha256_of(settings.policy),
        "expectations": {p.relative_to(settings.expectations).as_posix(): sha256_of(p) for p in expectations},
        "code": {p.relative_to(REPO_ROOT).as_posix(): sha256_of(p) for p in _code_files()},
        "libraries": _library_versions(),
        "settings": settings.model_dump(mode="json"),
        # Secrets and switches live here too (a DSN, a webhook URL): a digest, never written out.
        # Internal switches (TIERFLOW__*: fault points, adapters, a fixed spill bound) cannot change the result.
        "environment": sorted(
            (k, v) for k, v in os.environ.items() if k.startswith("TIERFLOW_") and not k.startswith(INTERNAL_PREFIX)
        ),
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True, default=str).encode()).hexdigest()


def _write(path: Path, record: dict) -> None:
    staged = path.with_name(f".{path.name}.staged")
    staged.write_text(json.dumps(record, default=str))
    os.replace(staged, path)


def _read(path: Path) -> dict:
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def remember(layout: Home, run_id: str, digest: str, summary: dict) -> None:
    """After a run has completed: its inputs' digest and its summary, replaced atomically. Its build is
    published, so nothing is left to resume."""
    _write(record_path(layout), {"run_id": run_id, "fingerprint": digest, "summary": summary})
    audited_path(layout).unlink(missing_ok=True)


def remember_audited(layout: Home, build_run: str, digest: str) -> None:
    """As the publish step starts (every gate has passed): the warehouse holds `build_run`'s audited build."""
    _write(audited_path(layout), {"build_run": build_run, "fingerprint": digest})


def _last_published_run(warehouse: Path) -> str | None:
    if not warehouse.exists():
        return None
    with connect(warehouse, read_only=True) as con:
        rows = publish_log_rows(con)
    return rows[-1][0] if rows else None  # oldest first; run_id leads every row


def input_fingerprint(settings: Settings, as_of: date) -> str | None:
    """This run's fingerprint, or None when it cannot be taken (a missing or refused file): the run then
    does everything and reports the problem itself."""
    try:
        return fingerprint(settings, as_of)
    except (OSError, OverridesError, ValueError):
        return None


def reusable(layout: Home, digest: str | None) -> Reusable | None:
    """The recorded run, if its inputs had this fingerprint and its publication still stands."""
    if digest is None:
        return None
    record = _read(record_path(layout))
    summary = record.get("summary") or {}
    published = [Path(p) for p in (summary.get("published") or {}).values()]
    if record.get("fingerprint") != digest or not published or not all(p.exists() for p in published):
        return None
    try:
        last = _last_published_run(layout.warehouse)
    except duckdb.Error:  # the warehouse is busy or damaged: the run itself will say so
        return None
    return Reusable(run_id=record["run_id"], summary=summary) if last == record.get("run_id") else None


def _built_run(warehouse: Path) -> str | None:
    """The run whose build the warehouse holds (every model stamps its rows with it)."""
    if not warehouse.exists():
        return None
    with connect(warehouse, read_only=True) as con:
        if not table_exists(con, "tierflow", "run_parameters"):
            return None
        return scalar(con, "select max(run_id) from tierflow.run_parameters")


def resumable(layout: Home, digest: str | None) -> Resumable | None:
    """The audited build a run with this fingerprint publishes instead of building it again: recorded with the
    same fingerprint, and still the build the warehouse holds."""
    record = _read(audited_path(layout))
    if digest is None or record.get("fingerprint") != digest or not record.get("build_run"):
        return None
    try:
        built = _built_run(layout.warehouse)
    except duckdb.Error:  # the warehouse is busy or damaged: the run itself will say so
        return None
    return Resumable(build_run=record["build_run"]) if built == record["build_run"] else None
