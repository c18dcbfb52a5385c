"""`tierflow backfill`: a backfill over a few days publishes what daily runs publish, a backfill killed half-way
resumes where it stopped, and a date that cannot run stops the backfill with its exit code and how to resume.
The published history it leaves also serves `tierflow explain --as-of` for an earlier date."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import ORDER_COLUMNS, PROFILE_COLUMNS, Runner, order, profile, relaxed_policy, write_csv
from tierflow.cli import main
from tierflow.paths import REPO_ROOT

RELAXED_POLICY = relaxed_policy()

DAYS = ["2025-06-28", "2025-06-29", "2025-06-30"]
# Tiers change from day to day: c_up reaches silver on 06-29 and gold on 06-30, c_new appears on 06-30.
ORDERS = [
    order("o1", "c_up", "2025-06-28 09:00:00", "600.00"),
    order("o2", "c_up", "2025-06-29 09:00:00", "600.00"),
    order("o3", "c_up", "2025-06-30 09:00:00", "4000.00"),
    order("o4", "c_old", "2024-06-28 12:00:00", "1500.00"),  # leaves the 365-day window on 06-28
    order("o5", "c_new", "2025-06-30 20:00:00", "11000.00"),
]
PROFILES = [profile("c_up"), profile("c_old"), profile("c_new", signup_date="2025-06-30")]
# Columns that name the run differ between homes by design; everything else must be equal.
RUN_COLUMNS = {"run_id", "source_run_id", "export_id"}


def _backfill_command(home: Path, landing: Path) -> list[str]:
    """Under the same policy as the daily runs it is compared with (the gates relaxed for tiny landing zones)."""
    return [
        "backfill", "--from", DAYS[0], "--to", DAYS[-1], "--home", str(home), "--landing", str(landing),
        "--policy", str(RELAXED_POLICY),
    ]  # fmt: skip


def _backfill(home: Path, landing: Path, *flags: str) -> tuple[int, str]:
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        code = main([*_backfill_command(home, landing), *flags])
    return code, stderr.getvalue()


def _published_as_of(home: Path) -> set[str]:
    path = home / "published" / "tierflow.duckdb"
    if not path.exists():
        return set()
    with duckdb.connect(str(path), read_only=True) as con:
        return {str(r[0]) for r in con.execute("select as_of_date from publish_log").fetchall()}


def _published_content(home: Path) -> dict[str, dict[str, list[tuple]]]:
    """For every published as-of date, the rows of each table that publication wrote, without run ids."""
    content: dict[str, dict[str, list[tuple]]] = {}
    with duckdb.connect(str(home / "published" / "tierflow.duckdb"), read_only=True) as con:
        log = con.execute(
            "select cast(as_of_date as varchar), run_id from publish_log order by published_at"
        ).fetchall()
        for as_of, run_id in log:  # a later publication of a date replaces the earlier one
            tables = {}
            for parquet in sorted((home / "published" / "parquet" / "runs" / run_id).glob("*.parquet")):
                columns = [r[0] for r in con.execute(f"describe select * from read_parquet('{parquet}')").fetchall()]
                kept = ", ".join(f'"{c}"' for c in columns if c not in RUN_COLUMNS)
                tables[parquet.stem] = con.execute(
                    f"select {kept} from read_parquet('{parquet}') order by all"
                ).fetchall()
            content[as_of] = tables
    return content


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("backfill") / "landing"
    write_csv(root / "orders" / "orders.csv", ORDERS, ORDER_COLUMNS)
    write_csv(root / "profiles" / "profiles.csv", PROFILES, PROFILE_COLUMNS)
    return root


@pytest.mark.slow
def test_killed_backfill_resumes_and_equals_daily_runs(landing: Path, tmp_path: Path) -> None:
    daily = Runner(tmp_path / "daily", RELAXED_POLICY)
    for day in DAYS:
        code, summary = daily(landing, day)
        assert code == 0, summary.get("message")

    home = tmp_path / "backfilled"
    command = _backfill_command(home, landing)
    process = subprocess.Popen(
        [sys.executable, "-m", "tierflow.cli", *command],
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    seen = []
    try:
        # Kill it hard once the second date has started: no chance to tidy up.
        for line in process.stderr:
            seen.append(line)
            if line.startswith(f"[2/3] {DAYS[1]}: running"):
                break
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert any(line.startswith(f"[1/3] {DAYS[0]}: published") for line in seen), "".join(seen)
    assert _published_as_of(home) == {DAYS[0]}

    # Resumed rebuilding the carried tables (on its first date) and auditing in full: the same tables.
    code, log = _backfill(home, landing, "--full-refresh", "--full-audit")
    assert code == 0, log
    assert f"1 already published (skipped: {DAYS[0]}), 2 to run" in log
    assert f"backfill {DAYS[0]} → {DAYS[-1]} complete" in log
    assert _published_as_of(home) == set(DAYS)
    with duckdb.connect(str(home / "published" / "tierflow.duckdb"), read_only=True) as con:
        audits = con.execute("select cast(as_of_date as varchar), full_audit from publish_log").fetchall()
    assert {day: audit for day, audit in audits if day != DAYS[0]} == {DAYS[1]: True, DAYS[2]: True}
    backfilled, expected = _published_content(home), _published_content(daily.home)
    assert set(backfilled) == set(expected) == set(DAYS)
    for day in DAYS:
        assert backfilled[day] == expected[day], day
    tiers = dict(daily.published("select customer_id, tier from customer_tiers"))
    assert tiers["c_up"] == "gold" and tiers["c_new"] == "diamond"
    # explain reads an earlier date from that publication's Parquet files: c_up was silver on 06-29.
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        assert main(["explain", "c_up", "--as-of", DAYS[1], "--home", str(home)]) == 0
    assert stdout.getvalue().startswith(f"customer c_up as of {DAYS[1]}: Silver (silver)")

    code, log = _backfill(home, landing)  # everything done: nothing runs
    assert code == 0 and f"{len(DAYS)} already published" in log and "0 to run" in log


def test_backfill_stops_at_the_first_date_that_cannot_run(tmp_path: Path) -> None:
    code, log = _backfill(tmp_path / "home", tmp_path / "missing")
    assert code == 2
    assert f"[1/3] {DAYS[0]}: ERROR (exit 2)" in log and "does not exist" in log
    assert f"resume with: tierflow backfill --from {DAYS[0]} --to {DAYS[-1]}" in log
    assert "Traceback" not in log


def test_backfill_rejects_a_reversed_range(tmp_path: Path) -> None:
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        code = main(["backfill", "--from", DAYS[-1], "--to", DAYS[0], "--home", str(tmp_path)])
    assert code == 2 and "is before --from" in stderr.getvalue()
