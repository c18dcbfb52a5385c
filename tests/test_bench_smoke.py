"""The benchmark harness at a smoke size, so it cannot rot: one real `python -m bench` (generate, both
references, three real tierflow runs) and checks on the table it writes. No timed assertions: only that
every row is there, every figure is sensible and the figures agree with each other."""

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.__main__ import parse_size
from bench.harness import LARGE_CUSTOMERS, REFERENCES, RUNS, _run_summary, measured_at, run_command
from bench.knobs import memory_knobs
from bench.landing import END, Zone
from bench.measure import Measurement, free_bytes, measure, stop_tree
from bench.report import render, size_label
from bench.stages import STOPPED_DURING, finished_dbt_models, latest_run_id
from orchestration.defs.dbt.project import published_models
from tierflow.gates.suites import BATCH_ROWS
from tierflow.paths import Home

REPO = Path(__file__).resolve().parent.parent
CUSTOMERS = 500
# How the breakdown rows of BENCHMARKS.md begin.
STAGES = ("start-up", "ingest orders", "dbt build: dbt's own", "gates: Great Expectations", "publish", "exports")


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, Path, dict]:
    work = tmp_path_factory.mktemp("bench")
    out = work / "BENCHMARKS.md"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "bench", "--sizes", str(CUSTOMERS), "--formats", "parquet", "--work", str(work)]
    proc = subprocess.run([*cmd, "--out", str(out)], cwd=REPO, env=env, capture_output=True, text=True)
    (case_file,) = (work / "cases").glob("parquet_500c_*.json")
    return proc, out, json.loads(case_file.read_text())


@pytest.mark.slow
def test_harness_succeeds_and_writes_every_row(bench_run) -> None:
    proc, out, _ = bench_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = out.read_text()
    assert "python -m bench --sizes 500 --formats parquet" in text
    assert f"## {size_label(CUSTOMERS)} customers, parquet" in text
    labels = ["`tierflow generate`"] + [label for _, label in REFERENCES] + [f"tierflow: {lab}" for _, lab in RUNS]
    for label in labels:
        (row,) = [line for line in text.splitlines() if line.startswith(f"| {label} |")]
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert float(cells[1]) > 0 and float(cells[2]) > 0, row  # seconds and GB
        assert cells[3].endswith("×") and cells[4].endswith("×"), row  # ratios to both references
    for target in (
        "≤ 10× the single-query floor",
        "faster than naive pandas",
        "daily run (+1 day) ≤ 4× the floor",
        "fixed cost of the daily run",
        "nothing new < 10 s",
        "peak memory ≤ 3 GB",
        "generate` 1 M",
        "10 M customers",
        "gates need no whole table in pandas",
    ):
        assert any(target in line and line.startswith("|") for line in text.splitlines()), target
    for stage in STAGES:
        assert f"| {stage}" in text, stage
    # PostgreSQL publication of the daily run's tables, measured on its own (bench/pg_publish.py).
    (row,) = [line for line in text.splitlines() if line.startswith("| publish the daily run's tables to PostgreSQL |")]
    cells = [c.strip() for c in row.strip("|").split("|")]
    tables = f"{len(published_models())} tables"
    assert float(cells[1]) > 0 and tables in cells[5] and " rows, loaded and swapped" in cells[5], row
    assert "| memory_limit |" in text and "| preserve_insertion_order |" in text


@pytest.mark.slow
def test_references_agree_with_each_other_and_with_tierflow(bench_run) -> None:
    _, _, case = bench_run
    pandas, duckdb = case["references"]["pandas"], case["references"]["duckdb"]
    assert pandas["rows"] == duckdb["rows"] > CUSTOMERS / 2
    assert pandas["tier_counts"] == duckdb["tier_counts"]
    assert pandas["spend_365d"] == pytest.approx(duckdb["spend_365d"], abs=0.01 * pandas["rows"])
    assert case["published_spend_365d"] == pytest.approx(duckdb["spend_365d"], abs=0.01 * pandas["rows"])


@pytest.mark.slow
def test_runs_are_full_then_incremental_then_idle(bench_run) -> None:
    _, _, case = bench_run
    runs, measured = case["runs"], case["measurements"]
    assert [runs[k]["status"] for k, _ in RUNS] == ["published", "published", "unchanged"]
    assert runs["full"]["inputs"]["orders"]["files_loaded"] == 24  # one per month of two years
    assert runs["incremental"]["inputs"]["orders"]["files_loaded"] == 1  # only the new day
    # Nothing new: nothing ingested or built; the incremental run's publication stands.
    assert runs["rerun"]["reused_run"] == runs["incremental"]["run_id"] and not runs["rerun"]["inputs"]
    assert measured["rerun"]["exit_code"] == 0
    for key in ("full", "incremental"):
        stages = runs[key]["breakdown"]["stages"]
        # The stages partition the run: start-up, steps, between steps and shut-down add up to the wall time.
        assert sum(s for _, s in stages) == pytest.approx(measured[key]["seconds"], rel=0.02)
        assert all(s >= 0 for _, s in stages)
        assert measured[key]["peak_rss_bytes"] > 50e6  # dbt and Dagster alone are more than this
        # Publication and the CRM export are broken down by target, from the seconds their steps report.
        named = {stage for stage, _ in stages}
        assert {"publish: Parquet files (written, checksummed)", "publish: DuckDB file"} <= named, named
        assert {"exports: CRM full snapshot", "exports: CRM delta"} <= named, named
        assert "publish (BI targets)" not in named  # split into its parts, the rest as "…: other"
    assert runs["full"]["breakdown"]["models"], "dbt per-model timings"
    # Read back from the full run's gate report: Great Expectations sees a whole table or a bounded sample of it
    # (the event table passes the bound even at this size, depending on the as-of date).
    suites = runs["full"]["suites"]
    assert 0 < suites["largest_batch_rows"] == min(suites["largest_table_rows"], BATCH_ROWS)


def test_sizes_parse() -> None:
    assert [parse_size(s) for s in ("500", "100k", "1m", "10M")] == [500, 100_000, 1_000_000, 10_000_000]
    with pytest.raises(argparse.ArgumentTypeError, match="size must be like"):
        parse_size("1.5m")


@pytest.mark.slow
def test_the_10m_case_is_reported_from_its_floor_full_and_daily_runs(bench_run) -> None:
    # The smoke case, as the 10 M case records it (the harness measures only these at that size).
    _, _, case = bench_run
    references, runs = measured_at(LARGE_CUSTOMERS)
    assert [k for k, _ in references] == ["duckdb"] and [k for k, _ in runs] == ["full", "incremental"]
    kept = {k for k, _ in (*references, *runs)} | {"generate"}
    large = {
        **case,
        "customers": LARGE_CUSTOMERS,
        "measurements": {k: v for k, v in case["measurements"].items() if k in kept},
        "runs": {k: v for k, v in case["runs"].items() if k in kept},
    }
    text = render([case, large], command="python -m bench", note=None, knobs=memory_knobs())
    (row,) = [line for line in text.splitlines() if line.startswith("| 10 M customers complete within 24 GB |")]
    assert "full run " in row and "× floor" in row and row.endswith("| **met** |"), row
    (row,) = [
        line for line in text.splitlines() if line.startswith("| 10 M daily run (+1 day) ≤ 1.5× the 10 M floor |")
    ]
    assert "× floor" in row and row.endswith(("| **met** |", "| **not met** |")), row
    # The 1 M targets are still judged on the smaller case (not the 10 M one), here shown as indicative.
    assert f"largest complete Parquet case this time was {size_label(CUSTOMERS)}" in text
    assert "## 10 M customers, parquet" in text
    assert text.count("not measured at this size") == 2  # pandas and the idle re-run at 10 M


@pytest.mark.slow
def test_runs_that_miss_their_target_are_broken_down_under_the_targets(bench_run) -> None:
    # The smoke case judged as if it were the 1 M case: at 500 customers the fixed costs miss both time targets.
    _, _, case = bench_run
    text = render([{**case, "customers": 1_000_000}], command="python -m bench", note=None, knobs=memory_knobs())
    targets = text.split("## Targets")[1].split("## 1 M customers")[0]
    for label in ("full first run", "daily incremental run (+1 day of orders)"):
        (line,) = [row for row in targets.splitlines() if row.startswith(f"- **{label}**: ")]
        assert "s allowed; largest stages " in line and "slowest dbt models `" in line and "dbt tests" in line, line
    assert "re-run" not in targets.split("Where the runs")[1]


def _tree_script(pid_file: Path) -> str:
    """Python code for a parent that starts a child which would outlive it, writes the child's pid, and waits.
    The child sleeps far longer than _gone_within waits for it: gone means stopped, whatever the speed."""
    return (
        "import subprocess, sys, time;"
        "c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(900)']);"
        f"open({str(pid_file)!r}, 'w').write(str(c.pid));"
        "time.sleep(120)"
    )


def _gone_within(proc_dir: Path, *, seconds: float) -> bool:
    """The process has exited (gone, or a zombie waiting for its parent) within `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if proc_dir.joinpath("stat").read_text().split()[2] == "Z":
                return True
        except FileNotFoundError:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


def test_a_run_is_stopped_with_its_children_when_the_disk_fills(tmp_path: Path) -> None:
    # A real process tree (a child that would outlive its parent) and a real statvfs: with the floor above the
    # disk's free space, the harness stops the whole tree at once and says why.
    pid_file = tmp_path / "child.pid"
    script = _tree_script(pid_file)
    free = free_bytes(tmp_path)
    m = measure([sys.executable, "-c", script], disk=tmp_path, min_free_bytes=free + 2**40)
    assert m.exit_code != 0  # the parent would have slept 120 s and exited 0
    assert m.stopped and "GiB left free on the disk of" in m.stopped
    # The child started well before the first disk check (a second in) and went with its parent.
    assert _gone_within(Path(f"/proc/{pid_file.read_text()}"), seconds=120)
    # Without a disk to watch nothing is stopped.
    assert measure([sys.executable, "-c", "pass"]).stopped is None


class _Interrupted(Exception):
    pass


def test_an_interrupted_harness_takes_the_run_tree_with_it(tmp_path: Path) -> None:
    # The run lives in its own session (so the disk guard can stop its whole group) and so misses the
    # terminal's Ctrl-C: an exception in the harness while it waits must stop the tree itself.
    pid_file = tmp_path / "child.pid"
    script = _tree_script(pid_file)

    def interrupt(*_) -> None:
        # Only once the tree is up (the child's pid written), not after a guess of how long that takes.
        if pid_file.exists() and pid_file.read_text():
            raise _Interrupted
        signal.setitimer(signal.ITIMER_REAL, 0.2)

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        with pytest.raises(_Interrupted):
            measure([sys.executable, "-c", script])
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert _gone_within(Path(f"/proc/{pid_file.read_text()}"), seconds=120)


@pytest.mark.slow
def test_a_stopped_run_is_broken_down_up_to_the_stop(bench_run, tmp_path: Path) -> None:
    # A real run on the smoke landing zone, stopped as the disk guard stops one (SIGTERM to its process group)
    # once dbt has materialised a model: the report still shows where its time went until then.
    _, out, case = bench_run
    zone = Zone(customers=CUSTOMERS, fmt="parquet", dirty_rate=0.0, root=out.parent)
    home, landing = tmp_path / "home", tmp_path / "landing"
    zone.link_into(landing, with_next_day=False)
    cmd = run_command(landing, home, END.isoformat())
    launched = time.time()
    proc = subprocess.Popen(cmd, cwd=REPO, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    layout = Home(home)
    try:
        while proc.poll() is None:
            # Once dbt's target exists the run's instance is set up: reading it cannot race its creation.
            run_id = latest_run_id(layout.dagster_home) if layout.dbt_target.exists() else None
            if run_id and finished_dbt_models(layout.dagster_home, run_id):
                break
            time.sleep(0.3)
        assert proc.poll() is None, f"the run ended before it could be stopped: {proc.stderr.read()[-2000:]}"
        stop_tree(proc)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    stopped_at = time.time()

    m = Measurement(stopped_at - launched, 1, proc.returncode, "", "", stopped="stopped by the test")
    summary = _run_summary(m, home, launched, stopped_at)
    assert summary["status"] == "stopped" and summary["message"] == "stopped by the test"
    b = summary["breakdown"]
    stages = dict(b["stages"])
    assert "ingest orders" in stages and "ingest events" in stages, stages
    (open_stage,) = [s for s in stages if s.endswith(STOPPED_DURING)]
    assert open_stage.startswith("dbt build"), stages
    assert sum(stages.values()) == pytest.approx(stopped_at - launched, rel=0.02)
    # Labelled as dbt's run_results.json labels them: "model int_orders_valued", "seed fx_rates".
    kinds = {name.split(" ")[0] for name, _ in b["models"]}
    assert b["models"] and kinds <= {"model", "seed", "snapshot"} and all(s >= 0 for _, s in b["models"]), b["models"]

    stopped_case = {
        **case,
        "measurements": {**case["measurements"], "full": m.as_dict()},
        "runs": {**case["runs"], "full": summary},
    }
    text = render([stopped_case], command="python -m bench", note=None, knobs=memory_knobs())
    assert f"| {open_stage} |" in text
    assert "the models dbt had finished when the run was stopped" in text


def test_overrides_section_states_each_saving_and_replaces_only_itself() -> None:
    from bench.report import with_overrides_section

    overrides = {
        "customers": 200,
        "repetitions": 2,
        "pinned": {"dagster-dbt": ">=0.29,<0.30", "dagster": ">=1.13,<1.14"},
        "seconds": {"every override": [20.0, 22.0], "neither (stock classes)": [31.0, 33.0]},
        "medians": {"every override": 21.0, "neither (stock classes)": 32.0},
        "saves": {"dagster-dbt": 7.5, "dagster": 3.25},
    }
    page = "# Benchmarks\n\n## Targets\n\nmet\n"
    once = with_overrides_section(page, overrides)
    assert once.startswith(page) and "| every override | 21.0 | 20.0, 22.0 |" in once
    assert "dagster_dbt.py" in once and "saves **7.5 s** per run" in once and "saves **3.2 s** per run" in once
    later = once + "\n## Later section\n\nkept\n"
    again = with_overrides_section(later, {**overrides, "saves": {"dagster-dbt": 1.0, "dagster": 2.0}})
    assert again.count("## What the private-API overrides save") == 1 and again.endswith("## Later section\n\nkept\n")
    assert "saves **1.0 s** per run" in again and "7.5" not in again


def test_an_override_saves_the_median_of_its_paired_round_differences() -> None:
    from bench.overrides import savings

    seconds = {
        "every override": [10.0, 40.0, 20.0],  # the machine got busier in round 2
        "without the dagster-dbt override": [13.0, 41.0, 22.0],
        "without the dagster event log override": [15.0, 50.0, 26.0],
        "without the dbt-duckdb connect override": [18.0, 47.0, 29.0],
    }
    assert savings(seconds) == {"dagster-dbt": 2.0, "dagster": 6.0, "dbt-duckdb": 8.0}
