"""Failures of the machine rather than of the data: DuckDB out of memory, the disk full. They fail the run
(exit 1) with a message that says what to do; the published outputs are untouched because nothing is made
visible before every step has succeeded (see tierflow.recovery)."""

from __future__ import annotations

import errno
import json
import re
import shutil
from pathlib import Path

from tierflow.secrets import redact
from tierflow.warehouse import MAX_SPILL_ENV, MEMORY_LIMIT_ENV, memory_limit

_OUT_OF_MEMORY = re.compile(r"out of memory|could not allocate|failed to allocate|MemoryError", re.IGNORECASE)
_NO_SPACE = re.compile(
    r"no space left on device|disk quota exceeded|ENOSPC|errno 28|not enough space|database or disk is full",
    re.IGNORECASE,
)

# DuckDB's error when a spill would pass max_temp_directory_size (TIERFLOW_MAX_SPILL_GB); it also says
# "Out of Memory Error", so it is recognised first.
_SPILL_BOUND = re.compile(r"failed to offload data block|max_temp_directory_size", re.IGNORECASE)
# "<step>: <error>" lines: a Dagster step key (ingest, publish, …) or a dbt node id from run_results.json.
_STEP_LINE = re.compile(r"^\s*([A-Za-z_][\w.\[\]-]*): ")

_INTACT = "Every published output is intact (the previous version, or this run's complete one where it had switched)."


def dbt_errors(dbt_target: Path) -> list[str]:
    """The messages of the dbt nodes that failed in the last dbt invocation (the step failure only says
    "dbt failed"; the reason, e.g. DuckDB out of memory, is in run_results.json)."""
    try:
        results = json.loads((dbt_target / "run_results.json").read_text(encoding="utf-8"))["results"]
    except (OSError, ValueError, KeyError):
        return []
    return [
        f"{r.get('unique_id')}: {(r.get('message') or '').strip()}"
        for r in results
        if r.get("status") in {"error", "runtime error"}
    ]


def spill_step(message: str) -> str | None:
    """The step whose DuckDB statement passed the spill bound: the dbt model when dbt's failure is listed,
    else the Dagster step (ingest or publish stage)."""
    steps, step = [], None
    for line in message.splitlines():
        found = _STEP_LINE.match(line)
        step = found.group(1) if found else step
        if _SPILL_BOUND.search(line) and step:
            steps.append(step)
    dbt_nodes = [s for s in steps if s.split(".")[0] in {"model", "snapshot", "seed", "test"}]
    return (dbt_nodes or steps or [None])[0]


def explain(message: str, home: str, spill_gb: float | None = None) -> str | None:
    """An operator's message for a resource failure found in `message`, or None when it is something else."""
    if _SPILL_BOUND.search(message):
        step = spill_step(message) or "an unnamed step"
        bound = f"{MAX_SPILL_ENV}={spill_gb:g}" if spill_gb is not None else MAX_SPILL_ENV
        return (
            f"spill bound exceeded in {step}: DuckDB would spill more than {bound} GB into {home}/tmp; "
            f"raise {MAX_SPILL_ENV}, or {MEMORY_LIMIT_ENV} (now {memory_limit()}: with more memory DuckDB spills "
            "less), or free disk and run again. "
            f"{_INTACT} ({message.strip()[:300]})"
        )
    if _OUT_OF_MEMORY.search(message):
        return (
            f"out of memory: DuckDB could not stay within its memory limit ({MEMORY_LIMIT_ENV}={memory_limit()}); "
            f"raise {MEMORY_LIMIT_ENV} or free memory and run again. {_INTACT} ({message.strip()[:300]})"
        )
    if _NO_SPACE.search(message) or f"[Errno {errno.ENOSPC}]" in message:
        return (
            f"no space left on the disk of {home}: free space (DuckDB spills to {home}/tmp) and run again. "
            f"{_INTACT} ({message.strip()[:300]})"
        )
    return None


def disk_nearly_full(home: Path) -> bool:
    """SQLite (Dagster's storage) reports a full disk as a mere "disk I/O error": look at the disk itself."""
    try:
        usage = shutil.disk_usage(home if home.exists() else home.parent)
    except OSError:
        return False
    return usage.free < max(64 * 1024 * 1024, usage.total // 100)


def describe_failure(exc: BaseException, home: Path) -> str:
    """One line for an exception nobody expected (e.g. Dagster's own storage on a full disk)."""
    text = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    if "disk I/O error" in text and disk_nearly_full(home):
        text = f"no space left on device ({text})"
    return redact(explain(text, str(home)) or f"failed unexpectedly: {text}")
