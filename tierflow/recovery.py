"""Crash safety of a tierflow home: what a run leaves behind when it is killed, and how the next run copes.

Every published output is written beside its published name and made visible with one rename, so a crash
leaves each output fully the old or fully the new version:

| output | staged as | made visible by |
| --- | --- | --- |
| BI DuckDB file | `published/.tierflow.duckdb.<run_id>.staged` | rename over `published/tierflow.duckdb` |
| Parquet | `published/parquet/runs/<run_id>/` (+ `manifest.json`) | switching the `latest` link (rename) |
| PostgreSQL | schema `<schema>__staging` | one transaction moving the tables |
| CRM export | `exports/crm/.<as_of>_<run_id>.staged/` | rename to `<as_of>_<run_id>/`, then `LATEST` |
| published_state | - | one warehouse transaction (copy + publish_log row) |
| report | `reports/.<name>.staged` | rename |

**The previous published run** is the last row of the warehouse's `published_state.publish_log`. Recording
it is the commit point and comes after every BI target has switched. A crash between a target's switch
and that record leaves the target showing a run that was never committed: the next run with the same
inputs publishes the crashed run's audited build again (tierflow.unchanged: resumed at publication), and a
run with other inputs compares with the last *committed* run; either republishes every target, whose
`publish_log` it rebuilds from the warehouse (the uncommitted entry disappears). Everything
converges on the next successful run with no manual step. The CRM export comes after the commit point: a
crash there is repaired by the next run of the same date, which finds (or rebuilds byte for byte) the same
export and points `LATEST` at it.

`clean_stale` removes what crashed runs leave behind; it runs at the start of every run, under the run lock
(so no live run owns any of it). PostgreSQL's staging schema is dropped by the next publication itself.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import dagster as dg

from tierflow.paths import Home
from tierflow.publish.state import SCHEMA
from tierflow.warehouse import connect, table_exists


def _remove(path: Path) -> bool:
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
        return True
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
        return True
    return False


def _committed_runs(home: Home) -> set[str] | None:
    """Run ids in the warehouse's publish_log; None when the warehouse cannot tell (then keep everything)."""
    if not home.warehouse.exists():
        return set()
    try:
        with connect(home.warehouse, read_only=True) as con:
            if not table_exists(con, SCHEMA, "publish_log"):
                return set()
            return {row[0] for row in con.execute(f"select run_id from {SCHEMA}.publish_log").fetchall()}
    except Exception:
        return None


def _latest_target(link: Path) -> Path | None:
    return link.resolve() if link.is_symlink() else None


def clean_stale(home: Home) -> list[str]:
    """Remove staging leftovers of crashed runs; returns what was removed (relative to the home)."""
    removed: list[Path] = []
    patterns = [
        (home.published_dir, ".tierflow.duckdb.*.staged*"),  # the file and its .wal
        (home.published_parquet, ".latest.switching"),
        (home.crm_exports, ".*.staged"),
        (home.root / "reports", ".*.staged"),
        (home.runs, "*/.*.staged"),
        (home.runs, ".*.staged"),  # the record of the last complete run (tierflow.unchanged)
    ]
    for directory, pattern in patterns:
        for path in directory.glob(pattern) if directory.is_dir() else []:
            if _remove(path):
                removed.append(path)
    if home.tmp.is_dir():
        for path in home.tmp.iterdir():
            if _remove(path):
                removed.append(path)
    runs_dir = home.published_parquet / "runs"
    committed = _committed_runs(home)
    if runs_dir.is_dir() and committed is not None:
        latest = _latest_target(home.published_parquet / "latest")
        for path in runs_dir.iterdir():
            # A run's Parquet directory survives if that run was committed or is what `latest` shows.
            if path.name not in committed and path.resolve() != latest and _remove(path):
                removed.append(path)
    return [os.path.relpath(p, home.root) for p in removed]


def fail_abandoned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark CLI runs a crash left 'started' in the home's Dagster storage as failed, so the UI tells the truth.
    Only call this under the run lock: then no CLI run of this home is alive. (Runs the Dagster daemon
    launched are left to Dagster's own run monitoring.)"""
    abandoned = instance.get_runs(
        filters=dg.RunsFilter(
            statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.CANCELING],
            tags={"tierflow/trigger": "cli"},
        )
    )
    for run in abandoned:
        instance.report_run_failed(run, message="the process running it ended without finishing (killed or crashed)")
    return [run.run_id for run in abandoned]
