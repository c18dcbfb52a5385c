"""Whether a run has anything new to do.

A run's result depends only on its inputs: the files in the landing zone, the overrides file, the policy,
the expectation suites, tierflow's own code (Python, dbt models, macros, seeds), the libraries it runs on,
its settings and `TIERFLOW_*` environment, and the as-of date. When a run has published and its CRM sync (if
one is configured) is complete, the runner records a fingerprint of those inputs in the home. A later run
with the same fingerprint would ingest nothing, build the same tables and publish them again, so it
recomputes nothing and says which run it matched; `tierflow run --force` recomputes anyway.

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
from tierflow.settings import Settings
from tierflow.warehouse import connect

RECORD_NAME = "last_complete_run.json"
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


def record_path(layout: Home) -> Path:
    return layout.runs / RECORD_NAME


def forget(layout: Home) -> None:
    """Before anything a run does can change the published state: until it completes, nothing is reusable."""
    record_path(layout).unlink(missing_ok=True)


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
        "environment": sorted((k, v) for k, v in os.environ.items() if k.startswith("TIERFLOW_")),
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True, default=str).encode()).hexdigest()


def remember(layout: Home, run_id: str, digest: str, summary: dict) -> None:
    """After a run has completed: its inputs' digest and its summary, replaced atomically."""
    path = record_path(layout)
    staged = path.with_name(f".{RECORD_NAME}.staged")
    staged.write_text(json.dumps({"run_id": run_id, "fingerprint": digest, "summary": summary}, default=str))
    os.replace(staged, path)


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
    try:
        record = json.loads(record_path(layout).read_text())
    except (OSError, ValueError):
        return None
    summary = record.get("summary") or {}
    published = [Path(p) for p in (summary.get("published") or {}).values()]
    if record.get("fingerprint") != digest or not published or not all(p.exists() for p in published):
        return None
    try:
        last = _last_published_run(layout.warehouse)
    except duckdb.Error:  # the warehouse is busy or damaged: the run itself will say so
        return None
    return Reusable(run_id=record["run_id"], summary=summary) if last == record.get("run_id") else None
