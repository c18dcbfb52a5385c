"""Where a run's time goes: its Dagster event log (step start/end) and dbt's run_results.json (per model).

Start-up is the time from launching `tierflow run` to the run's start event (imports, definitions, the
instance); "between steps" is the run's span minus its steps (the in-process executor runs one step at a
time); the dbt step is split into dbt's own elapsed time and what surrounds it (subprocess, manifest load,
event streaming). A run the harness stopped has no end: its breakdown ends at the stop, the step it was in
is marked, and its dbt models are those dbt had finished (their materialisation events).
"""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tierflow.paths import Home

_RUN_START = {"RUN_START", "PIPELINE_START"}
_RUN_END = {"RUN_SUCCESS", "PIPELINE_SUCCESS", "RUN_FAILURE", "PIPELINE_FAILURE"}
_STEP_END = {"STEP_SUCCESS", "STEP_FAILURE"}
DBT_STEP = "tierflow_dbt_models"
STOPPED_DURING = " (stopped during it)"  # marks the step a stopped run was in


@dataclass
class Breakdown:
    stages: list[tuple[str, float]] = field(default_factory=list)  # in run order, seconds
    models: list[tuple[str, float]] = field(default_factory=list)  # dbt models/seeds/snapshots, slowest first
    dbt_tests: tuple[int, float] = (0, 0.0)  # count, summed seconds
    dbt_elapsed: float = 0.0

    @property
    def stopped(self) -> bool:
        """The run was stopped by the harness (a stage is marked as the one it was stopped in)."""
        return any(stage.endswith(STOPPED_DURING) for stage, _ in self.stages)

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Breakdown":
        return cls(
            stages=[tuple(s) for s in data["stages"]],
            models=[tuple(m) for m in data["models"]],
            dbt_tests=tuple(data["dbt_tests"]),
            dbt_elapsed=data["dbt_elapsed"],
        )


def stage_of(step_key: str) -> str:
    """The stage a Dagster step belongs to, in the words of issue 7."""
    if step_key.endswith(STOPPED_DURING):
        return stage_of(step_key.removesuffix(STOPPED_DURING)) + STOPPED_DURING
    if step_key.endswith("_rows_reconcile"):
        return "gates: ingest reconciliation checks"
    if step_key.startswith("landing__"):
        return f"ingest {step_key.removeprefix('landing__')}"
    if step_key.endswith("_expectation_suite"):
        return "gates: Great Expectations suites"
    return {
        DBT_STEP: "dbt build (models + dbt tests)",
        "run_parameters": "run parameters",
        "input_gates": "gates: input (quarantine share, landing suites)",
        "published_tables": "publish (BI targets)",
        "crm_segment_export": "exports: CRM",
        "tier_report": "HTML report",
        "crm_webhook_sync": "CRM webhook sync",
    }.get(step_key, step_key)


def _instance(dagster_home: Path):
    import dagster as dg

    return dg.DagsterInstance.local_temp(str(dagster_home))


def latest_run_id(dagster_home: Path) -> str | None:
    """The run launched last in this home (a stopped run never printed its id)."""
    if not dagster_home.is_dir():
        return None
    with _instance(dagster_home) as instance:
        runs = instance.get_runs(limit=1)
    return runs[0].run_id if runs else None


def step_times(
    dagster_home: Path, run_id: str, *, stopped_at: float | None = None
) -> tuple[float, float, list[tuple[str, float]]]:
    """(run start, run end, [(step key, seconds)]) from the run's event log; times are epoch seconds. With
    `stopped_at`, a run without an end ends there, and the step it was stopped in (failed, or still open and
    counted up to the stop) is marked."""
    with _instance(dagster_home) as instance:
        logs = instance.all_logs(run_id)
    run_start = run_end = None
    started: dict[str, float] = {}
    steps: list[tuple[str, float]] = []
    for entry in logs:
        event = entry.dagster_event
        if event is None:
            continue
        kind = event.event_type_value
        if kind in _RUN_START:
            run_start = entry.timestamp
        elif kind in _RUN_END:
            run_end = entry.timestamp
        elif kind == "STEP_START":
            started[entry.step_key] = entry.timestamp
        elif kind in _STEP_END and entry.step_key in started:
            # Stopped with SIGTERM, tierflow fails the step it is in and ends the run; with SIGKILL it stays open.
            key = entry.step_key + (STOPPED_DURING if stopped_at and kind == "STEP_FAILURE" else "")
            steps.append((key, entry.timestamp - started.pop(entry.step_key)))
    if run_end is None and stopped_at is not None:
        run_end = stopped_at
        steps += [(key + STOPPED_DURING, stopped_at - at) for key, at in started.items()]
    if run_start is None or run_end is None:
        raise ValueError(f"run {run_id} has no start or end event in {dagster_home}")
    return run_start, run_end, steps


# Steps that report the seconds of their parts (their materialisation's `seconds` metadata), and the stage
# each part is shown as; what the parts leave of the step is shown as the step's "other" part.
STEP_PARTS = {
    "published_tables": {
        "parquet_files": "publish: Parquet files (written, checksummed)",
        "postgres": "publish: PostgreSQL",
        "duckdb_file": "publish: DuckDB file",
        "parquet_switch": "publish: Parquet `latest` switched",
        "recording": "publish: recorded in the publish log",
    },
    "crm_segment_export": {
        "full": "exports: CRM full snapshot",
        "delta": "exports: CRM delta",
        "notices": "exports: CRM notices",
    },
}


def step_parts(dagster_home: Path, run_id: str) -> dict[str, dict[str, float]]:
    """{step key: {part: seconds}} for the steps of STEP_PARTS that the run materialised."""
    import dagster as dg

    with _instance(dagster_home) as instance:
        records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records
    parts: dict[str, dict[str, float]] = {}
    for record in records:
        materialization = record.event_log_entry.asset_materialization
        key = materialization.asset_key.to_user_string() if materialization else None
        seconds = materialization.metadata.get("seconds") if materialization else None
        if key in STEP_PARTS and seconds is not None:
            parts[key] = {str(part): float(value) for part, value in seconds.value.items()}
    return parts


def _split(step_key: str, seconds: float, parts: dict[str, float]) -> list[tuple[str, float]]:
    """A step's stage, or its parts' stages and the rest as "<step's stage>: other"."""
    if not parts:
        return [(stage_of(step_key), seconds)]
    names = STEP_PARTS[step_key]
    split = [(names.get(part, f"{stage_of(step_key)}: {part}"), spent) for part, spent in parts.items()]
    return [*split, (f"{stage_of(step_key)}: other", max(seconds - sum(parts.values()), 0.0))]


def finished_dbt_models(dagster_home: Path, run_id: str) -> list[tuple[str, float]]:
    """The dbt models a run materialised, slowest first, from the durations dagster-dbt attaches."""
    import dagster as dg

    with _instance(dagster_home) as instance:
        records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records
    models = []
    for record in records:
        materialization = record.event_log_entry.asset_materialization
        metadata = materialization.metadata if materialization else {}
        duration, unique_id = metadata.get("Execution Duration"), metadata.get("unique_id")
        if duration is not None and unique_id is not None:
            models.append((_node_label(str(unique_id.value)), float(duration.value)))
    return sorted(models, key=lambda m: -m[1])


def _node_label(unique_id: str) -> str:
    """'model int_orders_valued' for 'model.tierflow.int_orders_valued' (a dbt node's unique id)."""
    kind, _, name = unique_id.split(".", 2)
    return f"{kind} {name.split('.')[-1]}"


def dbt_results(target_dir: Path) -> tuple[list[tuple[str, float]], tuple[int, float], float]:
    """Per-model seconds (slowest first), (tests, their summed seconds) and dbt's elapsed time."""
    path = target_dir / "run_results.json"
    if not path.exists():
        return [], (0, 0.0), 0.0
    data = json.loads(path.read_text(encoding="utf-8"))
    models: list[tuple[str, float]] = []
    tests, test_seconds = 0, 0.0
    for result in data["results"]:
        if result["unique_id"].startswith("test."):
            tests += 1
            test_seconds += result["execution_time"]
        else:
            models.append((_node_label(result["unique_id"]), result["execution_time"]))
    models.sort(key=lambda m: -m[1])
    return models, (tests, test_seconds), float(data.get("elapsed_time", 0.0))


def breakdown(home: Path, run_id: str, launched_at: float, finished_at: float, *, stopped: bool = False) -> Breakdown:
    """The stages of one `tierflow run` launched and finished (or `stopped`) at these epoch times."""
    layout = Home(home)
    run_start, run_end, steps = step_times(layout.dagster_home, run_id, stopped_at=finished_at if stopped else None)
    if stopped:
        # dbt writes run_results.json only when it ends (one there is an earlier run's).
        models, tests, elapsed = finished_dbt_models(layout.dagster_home, run_id), (0, 0.0), 0.0
    else:
        models, tests, elapsed = dbt_results(layout.dbt_target)
    out = Breakdown(models=models, dbt_tests=tests, dbt_elapsed=elapsed)
    out.stages.append(("start-up (imports, definitions, Dagster instance)", run_start - launched_at))
    parts = step_parts(layout.dagster_home, run_id)
    totals: dict[str, float] = {}
    for key, seconds in steps:
        if key == DBT_STEP and elapsed:
            split = [
                ("dbt build: dbt's own elapsed time", elapsed),
                ("dbt build: around dbt (subprocess, parse, events)", seconds - elapsed),
            ]
        else:
            split = _split(key, seconds, parts.get(key, {}))
        for stage, spent in split:
            totals[stage] = totals.get(stage, 0.0) + spent
    out.stages.extend(totals.items())
    out.stages.append(("Dagster between steps", (run_end - run_start) - sum(s for _, s in steps)))
    out.stages.append(("shut-down (summary, exit)", finished_at - run_end))
    return out
