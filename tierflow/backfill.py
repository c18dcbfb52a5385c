"""`tierflow backfill --from C --to D`: the tier job for every date from C to D, oldest first, resumable.

A date counts as done once a run for it has published (a row in `published_state.publish_log`), so running
the same command again after an interruption or a failure skips those dates and carries on with the first
date not yet published. The backfill stops at the first date that does not publish, with that run's exit
code, so later dates are never computed on top of a missing one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, timedelta

import duckdb

from orchestration.runner import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_PUBLISHED, run_pipeline
from tierflow.publish.state import publish_log_rows
from tierflow.settings import Settings
from tierflow.warehouse import connect

MAX_DAYS = 3660


def published_dates(settings: Settings) -> set[str]:
    """As-of dates that some run has published (read from the warehouse; empty before the first run)."""
    warehouse = settings.layout.warehouse
    if not warehouse.exists():
        return set()
    with connect(warehouse, read_only=True) as con:
        return {str(row[1]) for row in publish_log_rows(con)}


def dates_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def backfill(
    settings: Settings,
    start: date,
    end: date,
    *,
    log: Callable[[str], None],
    verbose: bool = False,
    full_refresh: bool = False,
    full_audit: bool = False,
) -> int:
    """Run every date not yet published, in order; the exit code of the first one that fails, else 0.
    `full_refresh` rebuilds the carried tables on the first date run (the others carry them on from there);
    `full_audit` makes every run a full audit."""
    if end < start:
        log(f"tierflow: --to {end} is before --from {start}")
        return EXIT_BAD_INPUT
    days = dates_between(start, end)
    if len(days) > MAX_DAYS:
        log(f"tierflow: {len(days)} days is more than a backfill handles at once ({MAX_DAYS}); split the range")
        return EXIT_BAD_INPUT
    try:
        done = published_dates(settings)
    except duckdb.IOException:
        log(f"tierflow: the warehouse {settings.layout.warehouse} is being written by another run; try again later")
        return EXIT_FAILED
    resume = f"tierflow backfill --from {start} --to {end}"
    skipped = [d for d in days if d.isoformat() in done]
    todo = [d for d in days if d.isoformat() not in done]
    log(
        f"backfill {start} → {end}: {len(days)} date(s), {len(skipped)} already published"
        + (f" (skipped: {', '.join(d.isoformat() for d in skipped)})" if skipped else "")
        + f", {len(todo)} to run"
    )
    started = time.perf_counter()
    for i, day in enumerate(todo, start=1):
        log(f"[{i}/{len(todo)}] {day}: running …")
        try:
            summary = run_pipeline(
                settings, day, verbose=verbose, full_refresh=full_refresh and i == 1, full_audit=full_audit
            )
        except KeyboardInterrupt:
            log(f"[{i}/{len(todo)}] {day}: interrupted. Resume with: {resume}")
            return EXIT_FAILED
        if summary.exit_code != EXIT_PUBLISHED:
            log(f"[{i}/{len(todo)}] {day}: {summary.status.upper()} (exit {summary.exit_code}): {summary.message}")
            if summary.summary_path:
                log(f"  summary {summary.summary_path}")
            log(
                f"backfill stopped at {day}; {i - 1} date(s) published in this invocation. Fix the cause, then "
                f"resume with: {resume}"
            )
            return summary.exit_code
        elapsed = time.perf_counter() - started
        log(
            f"[{i}/{len(todo)}] {day}: {summary.status} (run {summary.run_id or summary.reused_run}, "
            f"{summary.seconds:.1f} s; "
            f"about {elapsed / i * (len(todo) - i):.0f} s left)"
        )
    log(f"backfill {start} → {end} complete: {len(todo)} run, {len(skipped)} skipped")
    return EXIT_PUBLISHED
