"""One benchmark case (a size and a format): the references and the three tierflow runs, each in a fresh
process, with the stage breakdown of every run and a cross-check of the published spend against the
references."""

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.landing import END, Zone
from bench.measure import MIN_FREE_DISK_BYTES, Measurement, free_bytes, measure, python_cmd
from bench.stages import breakdown, latest_run_id
from tierflow.paths import Home

# The rows of a case's table, in order: (key, label).
RUNS = (
    ("full", "full first run"),
    ("incremental", "daily incremental run (+1 day of orders)"),
    ("rerun", "re-run, nothing new"),
)
REFERENCES = (("duckdb", "single DuckDB query (floor)"), ("pandas", "naive pandas"))
# Measured after the daily run: its published tables loaded and swapped into PostgreSQL (bench/pg_publish.py).
PG_PUBLISH = "postgres_publish"
# From this size on (the opt-in 10 M case) the floor, the full run and the daily run are measured: the targets
# there are a full run within 24 GB and the spill bound, and a daily run within 1.5x the floor. The pandas
# baseline would need about 85 GB (8.5 GB at 1 M) and be killed for memory; the idle re-run has its target at 1 M.
LARGE_CUSTOMERS = 10_000_000
# What the 10 M case runs with on this 24 GB machine: the 1500MB default keeps a 1 M run under its 3 GB target,
# and at 10 M made int_customers_aggregated spill past the 31 GB bound (measured 2026-12-06).
LARGE_MEMORY_LIMIT = "14GB"


def measured_at(customers: int) -> tuple[tuple, tuple]:
    """(references, runs) measured for a case of this many customers."""
    if customers >= LARGE_CUSTOMERS:
        return REFERENCES[:1], RUNS[:2]
    return REFERENCES, RUNS


@dataclass
class CaseResult:
    customers: int
    fmt: str
    zone: dict  # the landing marker: generate measurement, size
    measurements: dict[str, dict] = field(default_factory=dict)  # key -> seconds, peak_rss_bytes, exit_code
    references: dict[str, dict] = field(default_factory=dict)  # key -> rows, spend_365d, tier_counts
    runs: dict[str, dict] = field(default_factory=dict)  # key -> summary essentials and the breakdown
    published_spend_365d: float | None = None
    memory_limit: str | None = None  # TIERFLOW_DUCKDB_MEMORY_LIMIT of the case's runs, when not the default

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def _record(m: Measurement) -> dict:
    record = {"seconds": round(m.seconds, 3), "peak_rss_bytes": m.peak_rss_bytes, "exit_code": m.exit_code}
    return {**record, "stopped": m.stopped} if m.stopped else record


def _published_spend(home: Path) -> float | None:
    import duckdb

    path = home / "published" / "parquet" / "latest" / "customer_tiers.parquet"
    if not path.exists():
        return None
    with duckdb.connect() as con:
        row = con.execute("select sum(spend_365d)::double from read_parquet(?)", [str(path)]).fetchone()
    return round(row[0] or 0.0, 2)


def run_command(landing: Path, home: Path, as_of: str) -> list[str]:
    """The measured `tierflow run`, with its JSON summary on stdout."""
    return python_cmd(
        "-m", "tierflow.cli", "run", "--landing", str(landing), "--home", str(home), "--as-of", as_of, "--json"
    )


def _tierflow_run(landing: Path, home: Path, as_of: str, memory_limit: str | None) -> tuple[Measurement, float, float]:
    launched = time.time()
    m = measure(
        run_command(landing, home, as_of),
        extra_env={"TIERFLOW_DUCKDB_MEMORY_LIMIT": memory_limit} if memory_limit else None,
        disk=home.parent,
        # On a machine that starts with little room, a small case must not be stopped for what it never uses.
        min_free_bytes=min(MIN_FREE_DISK_BYTES, free_bytes(home.parent) // 2),
    )
    return m, launched, time.time()


def _run_summary(m: Measurement, home: Path, launched: float, finished: float) -> dict:
    if m.stopped:
        out = {"status": "stopped", "message": m.stopped}
        run_id = latest_run_id(Home(home).dagster_home)
        if run_id:  # what it got through, read before the harness removes its home
            out["breakdown"] = breakdown(home, run_id, launched, finished, stopped=True).as_dict()
        return out
    try:
        summary = json.loads(m.stdout)
    except json.JSONDecodeError:
        return {"status": "error", "message": m.stderr_tail}
    out = {
        "status": summary["status"],
        "run_id": summary["run_id"],
        "reused_run": summary.get("reused_run"),
        "message": summary.get("message"),
        "checks": len(summary["checks"]),
        "failed_checks": sum(not c["passed"] for c in summary["checks"]),
        "inputs": {
            name: {k: v[k] for k in ("files_loaded", "files_skipped", "rows_read", "rows_quarantined")}
            for name, v in summary["inputs"].items()
        },
        "customers": summary["customers"],
    }
    if summary["run_id"]:
        out["breakdown"] = breakdown(home, summary["run_id"], launched, finished).as_dict()
        out["suites"] = _suite_sizes(Path(summary["gates"]["report"])) if summary.get("gates") else None
    return out


def _suite_sizes(report: Path) -> dict | None:
    """The largest table the expectation suites judged (in SQL) and the largest frame Great Expectations saw."""
    try:
        suites = json.loads(report.read_text())["suites"]
    except (OSError, ValueError, KeyError):
        return None
    return {
        "largest_table_rows": max((s["rows"] for s in suites), default=0),
        "largest_batch_rows": max((s.get("batch_rows", 0) for s in suites), default=0),
    }


def measure_references(zone: Zone, result: CaseResult, case_dir: Path, say) -> None:
    """The references on the zone as of its end date, each in a fresh process, into `result`."""
    case_dir.mkdir(parents=True, exist_ok=True)
    for key, label in measured_at(zone.customers)[0]:
        say(f"{zone.key}: {label} …")
        m = measure(
            python_cmd(
                "-m",
                "bench.references",
                key,
                "--landing",
                str(zone.landing),
                "--as-of",
                END.isoformat(),
                "--out",
                str(case_dir / f"{key}.parquet"),
            )
        )
        result.measurements[key] = _record(m)
        result.references[key] = json.loads(m.stdout) if m.exit_code == 0 else {"error": m.stderr_tail}
        say(f"  {m.seconds:.1f} s, {m.peak_rss_gb:.2f} GB")


def run_case(zone: Zone, work: Path, say) -> CaseResult:
    result = CaseResult(customers=zone.customers, fmt=zone.fmt, zone=zone.ensure(say))
    result.memory_limit = LARGE_MEMORY_LIMIT if zone.customers >= LARGE_CUSTOMERS else None
    result.measurements["generate"] = result.zone["generate"]
    case_dir = work / "runs" / zone.key
    shutil.rmtree(case_dir, ignore_errors=True)
    case_dir.mkdir(parents=True)

    measure_references(zone, result, case_dir, say)

    home, landing = case_dir / "home", case_dir / "landing"
    zone.link_into(landing, with_next_day=False)
    for key, label in measured_at(zone.customers)[1]:
        if key == "incremental":
            zone.link_into(landing, with_next_day=True)
        as_of = END.isoformat() if key == "full" else zone.next_as_of.isoformat()
        say(f"{zone.key}: {label} …")
        m, launched, finished = _tierflow_run(landing, home, as_of, result.memory_limit)
        result.measurements[key] = _record(m)
        result.runs[key] = _run_summary(m, home, launched, finished)
        say(f"  {result.runs[key]['status']} in {m.seconds:.1f} s, {m.peak_rss_gb:.2f} GB")
        if m.stopped:
            # Its warehouse and spill are what filled the disk; nothing later can run on it.
            shutil.rmtree(home, ignore_errors=True)
            say(f"  {m.stopped}; its home is removed and the case's later runs are left out")
            break
        if key == "full":
            result.published_spend_365d = _published_spend(home)
    if result.runs.get("incremental", {}).get("status") == "published":
        measure_postgres_publication(home, result, say)
    return result


def measure_postgres_publication(home: Path, result: CaseResult, say) -> None:
    """Publishing the daily run's tables to PostgreSQL, in a fresh process (bench/pg_publish.py)."""
    say(f"{result.customers:,} customers: publication of the daily run's tables to PostgreSQL …")
    m = measure(python_cmd("-m", "bench.pg_publish", str(home)))
    result.measurements[PG_PUBLISH] = _record(m)
    result.references[PG_PUBLISH] = json.loads(m.stdout) if m.exit_code == 0 else {"error": m.stderr_tail}
    say(f"  {m.seconds:.1f} s, {m.peak_rss_gb:.2f} GB" if m.exit_code == 0 else f"  failed: {m.stderr_tail}")
