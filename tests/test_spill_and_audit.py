"""Issue 17: the spill bound (TIERFLOW_MAX_SPILL_GB) and the full-audit cadence (gates.full_audit_every_days)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from tests.conftest import ORDER_COLUMNS, RELAXED_GATES, order, policy_with_gates, profile, write_csv
from tierflow.gates.audit import is_full_audit
from tierflow.policy.schema import PolicyError, load_policy
from tierflow.resource_errors import explain
from tierflow.settings import Settings, SettingsError
from tierflow.targets.base import duckdb_environment
from tierflow.warehouse import connect, max_spill_gb

# Sorting 3 M rows of md5 text under a 20 MB memory limit must spill megabytes: with a 1 MiB bound DuckDB
# refuses, on any machine (the data and the limits are fixed, not the timing).
SPILLING_QUERY = "create table sorted as select i, md5(i::varchar) as s from range(3000000) as r(i) order by s"


def cadence(days: int, every: int, forced_on: set[int] = frozenset()) -> list[int]:
    """The days (1..days) that are full audits when every day publishes."""
    last, audits = None, []
    for day in range(1, days + 1):
        as_of = date(2026, 1, 1) + timedelta(days=day - 1)
        if is_full_audit(as_of, last, every, forced=day in forced_on):
            audits.append(day)
            last = as_of
    return audits


def test_full_audit_every_n_days_and_when_forced() -> None:
    assert cadence(9, 7) == [1, 8]  # the first run (no audit yet), then 7 days after it
    assert cadence(9, 7, forced_on={3}) == [1, 3]  # --full-audit restarts the cadence
    assert cadence(4, 1) == [1, 2, 3, 4]
    # A back-dated run, before the last audit, is not one.
    assert not is_full_audit(date(2026, 1, 2), date(2026, 1, 5), 7)


@pytest.mark.parametrize("value", [0, -3, 2.5, "weekly"])
def test_full_audit_every_days_must_be_a_positive_whole_number(tmp_path: Path, value: object) -> None:
    path = policy_with_gates(tmp_path / "policy.yml", full_audit_every_days=value)
    with pytest.raises(PolicyError, match="full_audit_every_days"):
        load_policy(path)


def judged_rows(summary: dict, suite: str) -> int:
    report = json.loads(Path(summary["gates"]["report"]).read_text(encoding="utf-8"))
    return next(s["rows"] for s in report["suites"] if s["suite"] == suite)


def test_daily_runs_judge_the_new_slice_and_full_audits_everything(landing, run, tmp_path: Path) -> None:
    zone = landing(
        [order("o1", "c1", "2026-01-01T10:00:00Z", "50.00"), order("o2", "c2", "2026-01-02T10:00:00Z", "20.00")],
        [profile("c1"), profile("c2")],
    )
    run.policy = policy_with_gates(tmp_path / "policy.yml", **RELAXED_GATES, full_audit_every_days=7)
    first_day = date(2026, 1, 3)
    flags, orders_judged = [], []
    for offset, extra in [(0, ()), (1, ()), (2, ("--full-audit",))]:
        if offset == 1:  # a day's new file: the daily run judges its one row, not the two loaded before
            write_csv(
                zone / "orders" / "orders_2.csv", [order("o3", "c1", "2026-01-03T10:00:00Z", "5.00")], ORDER_COLUMNS
            )
        code, summary = run(zone, first_day + timedelta(days=offset), *extra)
        assert code == 0, summary.get("message")
        stored = run.warehouse("select is_full_audit from staging.stg_tierflow__run_parameters")
        assert stored == [(summary["is_full_audit"],)]
        flags.append(summary["is_full_audit"])
        orders_judged.append(judged_rows(summary, "landing__orders"))
    assert flags == [True, False, True]  # the first run, then forced
    assert orders_judged == [2, 1, 3]
    assert run.published("select full_audit from publish_log order by published_at") == [(f,) for f in flags]


def test_spill_bound_is_applied_to_every_duckdb_connection(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TIERFLOW_MAX_SPILL_GB", "0.5")
    with connect(tmp_path / "warehouse" / "warehouse.duckdb") as con:
        assert con.execute("select current_setting('max_temp_directory_size')").fetchone()[0] == "512.0 MiB"
        assert con.execute("select current_setting('preserve_insertion_order')").fetchone()[0] is False
    environment = duckdb_environment(tmp_path / "warehouse.duckdb", tmp_path)
    # What dbt-duckdb opens the warehouse with (its connect plugin: orchestration/adapters/dbt_duckdb.py).
    opened = json.loads(environment["TIERFLOW__DBT_DUCKDB_CONNECT"])
    assert opened["config_options"]["max_temp_directory_size"] == "512MiB"


def test_spill_bound_defaults_to_at_most_40_gb_and_must_be_positive(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TIERFLOW_MAX_SPILL_GB", raising=False)
    assert 0 < max_spill_gb(tmp_path) <= 40
    for bad in ("0", "-1", "lots"):
        with pytest.raises(SettingsError, match="TIERFLOW_MAX_SPILL_GB"):
            Settings.from_env({"TIERFLOW_MAX_SPILL_GB": bad})


def test_a_statement_past_the_spill_bound_fails_naming_the_step_and_the_setting(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TIERFLOW_MAX_SPILL_GB", "0.001")
    monkeypatch.setenv("TIERFLOW_DUCKDB_MEMORY_LIMIT", "20MB")
    home = tmp_path / "home"
    (home / "tmp").mkdir(parents=True)  # as the run's home layout has it
    with connect(home / "warehouse" / "warehouse.duckdb") as con, pytest.raises(duckdb.Error) as raised:
        con.execute(SPILLING_QUERY)
    error = str(raised.value)
    # As the runner sees it: the Dagster step's first line, and dbt's node messages from run_results.json.
    ingest = explain(f"ingest_orders: {error.splitlines()[0]}", str(home), 0.001)
    assert ingest is not None
    assert ingest.startswith("spill bound exceeded in ingest_orders:")
    assert "TIERFLOW_MAX_SPILL_GB=0.001" in ingest and "TIERFLOW_DUCKDB_MEMORY_LIMIT (now 20MB" in ingest
    in_dbt = explain(
        f"tierflow_dbt_models: dbt build failed\nmodel.tierflow.int_orders_valued: {error}", str(home), 0.001
    )
    assert in_dbt is not None and "in model.tierflow.int_orders_valued:" in in_dbt
    assert "TIERFLOW_MAX_SPILL_GB" in in_dbt
