"""Shared fixtures: real landing zones on disk, real tierflow runs through the CLI entry point."""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import json
import multiprocessing
import os
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

import duckdb
import psycopg
import pytest
import yaml
from psycopg import sql

from orchestration.defs.dbt.project import prepare_manifest
from tierflow.cli import main
from tierflow.policy.schema import DEFAULT_POLICY_PATH

# The suite runs on pytest-xdist, one module per worker in this order (`--dist loadfile --no-loadscope-reorder`,
# see pyproject.toml). Modules that run the pipeline many times go first, so that no long module starts last
# while the other worker idles.
HEAVY_FIRST = (
    "test_incremental_equivalence",
    "test_crash_safety",
    "test_targets",
    "test_quality_gates",
    "test_tier_engine",
    "test_crm_delivery",
    "test_tier_notices",
    "test_bench_smoke",
    "test_tier_engine_properties",
    "test_simulate_and_explain",
    "test_segments_and_kpis",
    "test_deployment",
    "test_end_to_end",
    "test_tier_rules",
    "test_postgres_publication",
    "test_arrival_order",
    "test_incremental_facts",
    "test_backfill",
    "test_docs",
    "test_gates_and_bad_input",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(HEAVY_FIRST)}
    items.sort(key=lambda item: rank.get(item.module.__name__.rpartition(".")[2], len(rank)))  # stable


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest() -> Path:
    """dbt's manifest, prepared explicitly (prepare_if_dev does nothing outside `dagster dev`)."""
    return prepare_manifest()


def write_csv(path: Path, rows: Iterable[dict], columns: list[str] | None = None) -> Path:
    rows = list(rows)
    columns = columns or list(rows[0].keys())
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def order(order_id: str, customer_id: str, order_ts: str, amount: str, **extra: str) -> dict:
    return {"order_id": order_id, "customer_id": customer_id, "order_ts": order_ts, "amount": amount, **extra}


def profile(customer_id: str, signup_date: str = "2024-01-01", **extra: str) -> dict:
    return {"customer_id": customer_id, "signup_date": signup_date, **extra}


ORDER_COLUMNS = ["order_id", "customer_id", "order_ts", "amount", "currency", "status", "refunded_amount"]
PROFILE_COLUMNS = ["customer_id", "signup_date", "region", "marketing_opt_in", "email", "phone"]


@pytest.fixture
def landing(tmp_path: Path) -> Callable[..., Path]:
    """Write a landing zone from order and profile dicts (missing optional fields stay empty)."""

    def make(orders: list[dict], profiles: list[dict], name: str = "landing") -> Path:
        root = tmp_path / name
        write_csv(root / "orders" / "orders.csv", orders, ORDER_COLUMNS)
        write_csv(root / "profiles" / "profiles.csv", profiles, PROFILE_COLUMNS)
        return root

    return make


# Hand-written landing zones are tiny and old (weeks before the as-of date), dirty on purpose, and change
# a third of the tiers from one run to the next: tests of other behaviour switch off the gates that judge
# exactly that (tests/test_quality_gates.py covers them). The suites and reconciliation stay on; Data Docs
# are rendered for failing suites only (the default renders them on full audits, tested there too).
RELAXED_GATES = {
    "data_docs": "on_failure",
    "max_quarantine_share": None,
    "max_staleness_days": None,
    "max_tier_change_share": None,
    "max_customer_drop_share": None,
    "max_psi": None,
    "warn_psi": None,
    "max_downgrade_share": None,
}


def policy_with_gates(path: Path, **gates: object) -> Path:
    """The shipped policy with some `gates:` thresholds replaced, written to `path`."""
    policy = yaml.safe_load(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))
    policy["gates"] = {**policy.get("gates", {}), **gates}
    path.write_text(yaml.safe_dump(policy), encoding="utf-8")
    return path


@functools.cache
def relaxed_policy() -> Path:
    directory = Path(tempfile.mkdtemp(prefix="tierflow-test-policy-"))
    return policy_with_gates(directory / "relaxed_gates.yml", **RELAXED_GATES)


def _run_captured(arguments: list[str]) -> tuple[int, str]:
    """`tierflow` in this process: its exit code and what it printed."""
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        code = main(arguments)
    return code, stdout.getvalue()


def _summary(code: int, text: str) -> tuple[int, dict]:
    return code, (json.loads(text) if text.strip() else {})


@functools.cache
def _second_process() -> ProcessPoolExecutor:
    # Spawned, not forked: a fork would copy this process's open DuckDB and Dagster handles.
    return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))


class Runner:
    """Runs `tierflow run --json` in-process and keeps the parsed summary. Unless the call passes --policy, it
    runs under `policy` (default: the shipped policy with the gates relaxed, see RELAXED_GATES)."""

    def __init__(self, home: Path, policy: Path | None = None) -> None:
        self.home = home
        self.policy = policy or relaxed_policy()

    def arguments(self, landing: Path, as_of: date | str, *extra: str) -> list[str]:
        return [
            "run",
            "--landing",
            str(landing),
            "--as-of",
            str(as_of),
            "--home",
            str(self.home),
            "--json",
            *(["--policy", str(self.policy)] if "--policy" not in extra else []),
            *extra,
        ]

    def __call__(self, landing: Path, as_of: date | str, *extra: str) -> tuple[int, dict]:
        return _summary(*_run_captured(self.arguments(landing, as_of, *extra)))

    def start(self, landing: Path, as_of: date | str, *extra: str) -> Callable[[], tuple[int, dict]]:
        """The same run in a second process, started now: call the result to wait for it. Lets a test run two
        homes at once (one run is mostly one busy core). The process is kept for the next run, so its imports
        (several seconds of a small run) are paid once."""
        future = _second_process().submit(_run_captured, self.arguments(landing, as_of, *extra))
        return lambda: _summary(*future.result())

    @property
    def published_duckdb(self) -> Path:
        return self.home / "published" / "tierflow.duckdb"

    def published(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.published_duckdb), read_only=True) as con:
            return con.execute(sql).fetchall()

    def warehouse(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.home / "warehouse" / "warehouse.duckdb"), read_only=True) as con:
            return con.execute(sql).fetchall()

    def tiers(self) -> dict[str, tuple]:
        rows = self.published(
            "select customer_id, tier, spend_30d, orders_30d, spend_90d, orders_90d, spend_365d, orders_365d, "
            "lifetime_spend, lifetime_orders from customer_tiers"
        )
        return {r[0]: r[1:] for r in rows}


@pytest.fixture
def run(tmp_path: Path) -> Runner:
    return Runner(tmp_path / "home")


PG_DSN = os.environ.get("TIERFLOW__TEST_PG_DSN", "postgresql://127.0.0.1:5432/test")


@contextlib.contextmanager
def fresh_pg_database(prefix: str) -> Iterator[str]:
    """A PostgreSQL database of its own on the test server (its DSN), dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        yield psycopg.conninfo.make_conninfo(**{**psycopg.conninfo.conninfo_to_dict(PG_DSN), "dbname": name})
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
