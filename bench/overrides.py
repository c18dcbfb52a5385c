"""What each private-API speed-up (orchestration/adapters) saves per run: `python -m bench --case overrides`.

The same small landing zone is run with `--force` (everything recomputed) under four switches of the internal
`TIERFLOW__PLAIN_ADAPTERS`: every override, and each one alone switched off. The configurations take
turns run after run, so a busy moment of a shared machine falls on all of them alike. An override saves the
median, over the rounds, of (the run without it) minus (the run with every override) of the same round: paired within a
round, the figure follows the override rather than a machine whose load changes between rounds.
"""

from __future__ import annotations

import os
import shutil
import statistics
from collections.abc import Callable
from pathlib import Path

from bench.harness import run_command
from bench.landing import END, Zone
from bench.measure import measure
from orchestration.adapters import PINNED

# configuration label -> TIERFLOW__PLAIN_ADAPTERS
CONFIGS = {
    "every override": "",
    "without the dagster-dbt override": "dagster-dbt",
    "without the dagster event log override": "dagster",
    "without the dbt-duckdb connect override": "dbt-duckdb",
}
# library -> the configuration that runs without its override
WITHOUT = {
    "dagster-dbt": "without the dagster-dbt override",
    "dagster": "without the dagster event log override",
    "dbt-duckdb": "without the dbt-duckdb connect override",
}
OVERRIDES_FILE = "overrides.json"


def measure_overrides(work: Path, say: Callable[[str], None], *, customers: int, repetitions: int) -> dict:
    zone = Zone(customers, "parquet", 0.0, work)
    zone.ensure(say)
    seconds: dict[str, list[float]] = {label: [] for label in CONFIGS}
    homes = {label: work / "overrides" / f"home_{i}" for i, label in enumerate(CONFIGS)}
    for home in homes.values():
        shutil.rmtree(home, ignore_errors=True)
    # Round 0 builds each home (first ingest, first dbt parse of its target) and is not counted.
    for round_ in range(repetitions + 1):
        for label, plain in CONFIGS.items():
            cmd = [*run_command(zone.landing, homes[label], END.isoformat()), "--force"]
            # Each run starts from the project's saved dbt parse, as a home's first run does and a daily run whose
            # spill bound changed (the disk filled or freed a GB): what the dbt-duckdb override is for.
            (homes[label] / "dbt" / "target" / "partial_parse.msgpack").unlink(missing_ok=True)
            m = measure(cmd, extra_env={"TIERFLOW__PLAIN_ADAPTERS": plain})
            if m.exit_code:
                raise RuntimeError(f"{label}: tierflow run failed (exit {m.exit_code}): {m.stderr_tail}")
            if round_:
                seconds[label].append(round(m.seconds, 3))
            say(f"overrides round {round_}/{repetitions}, {label}: {m.seconds:.1f} s")
    medians = {label: statistics.median(values) for label, values in seconds.items()}
    return {
        "load_average": [round(value, 1) for value in os.getloadavg()],
        "customers": customers,
        "repetitions": repetitions,
        "pinned": {library: str(spec) for library, spec in PINNED.items()},
        "seconds": seconds,
        "medians": medians,
        "saves": savings(seconds),
    }


def savings(seconds: dict[str, list[float]]) -> dict[str, float]:
    """library -> median over the rounds of (without its override - with every override), in seconds."""
    both = seconds["every override"]
    return {
        library: round(statistics.median(w - b for w, b in zip(seconds[label], both, strict=True)), 3)
        for library, label in WITHOUT.items()
    }
