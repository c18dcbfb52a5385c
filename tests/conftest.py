"""Shared fixtures: real landing zones on disk, real tierflow runs through the CLI entry point."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.cli import main
from orchestration.defs.dbt.project import prepare_manifest


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


class Runner:
    """Runs `tierflow run --json` in-process and keeps the parsed summary."""

    def __init__(self, home: Path) -> None:
        self.home = home

    def __call__(self, landing: Path, as_of: date | str, *extra: str) -> tuple[int, dict]:
        stdout = io.StringIO()
        args = [
            "run",
            "--landing",
            str(landing),
            "--as-of",
            str(as_of),
            "--home",
            str(self.home),
            "--json",
            *extra,
        ]
        with contextlib.redirect_stdout(stdout):
            code = main(args)
        text = stdout.getvalue()
        return code, (json.loads(text) if text.strip() else {})

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
