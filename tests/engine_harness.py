"""A fast way to drive the real tier engine in tests: the real ingest of a landing zone, the real run
parameters, `dbt build` of just the tier models on a real DuckDB file, and the real record of a
publication (so the next run starts from this one's state). No gates, no BI files: the scenario tests
about the engine's decisions use it; at least one scenario group goes through `tierflow run` instead."""

from __future__ import annotations

import csv
import os
import subprocess
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from orchestration.defs.dbt.project import dbt_executable, dbt_project
from tierflow.ingest import INPUTS, ingest_input
from tierflow.ingest.overrides import load_overrides
from tierflow.paths import DBT_PROJECT_DIR
from tierflow.policy.parameters import convertible_currencies, write_run_parameters
from tierflow.policy.schema import parse_policy
from tierflow.publish.state import new_entry, prepare_published_state, record_publication
from tierflow.warehouse import connect

ENGINE_TABLES = ["customer_tiers", "tier_changes", "tier_history"]
ORDER_FIELDS = ["order_id", "customer_id", "order_ts", "amount", "status", "refunded_amount", "category"]


def write_landing(root: Path, orders: list[dict], customers: list[str], events: list[dict] | None = None) -> Path:
    """A landing zone: orders (missing fields empty), a profile per customer signed up 2020-01-01, events."""
    files = {
        "orders/orders.csv": (ORDER_FIELDS, orders),
        "profiles/profiles.csv": (
            ["customer_id", "signup_date"],
            [{"customer_id": c, "signup_date": "2020-01-01"} for c in customers],
        ),
    }
    if events:
        files["events/events.csv"] = (["event_id", "customer_id", "event_ts", "event_type"], events)
    for name, (fields, rows) in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)
    return root


@dataclass
class Engine:
    """One warehouse; each call runs the engine as of a date under a policy and records it as published."""

    home: Path

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse.duckdb"

    def __call__(self, landing: Path, as_of: date | str, policy_text: str) -> None:
        policy = parse_policy(policy_text)
        as_of = date.fromisoformat(str(as_of))
        self.home.mkdir(parents=True, exist_ok=True)
        for spec in INPUTS.values():
            ingest_input(
                self.warehouse,
                landing,
                spec,
                timezone=policy.timezone,
                currency=policy.currency,
                currencies=convertible_currencies(),
            )
        run_id = str(uuid.uuid4())
        with connect(self.warehouse) as con:
            write_run_parameters(con, run_id=run_id, as_of=as_of, policy=policy)
            prepare_published_state(con, dbt_project().manifest_path)
            load_overrides(con, policy_location=policy.overrides, landing=landing, home=self.home)
        done = subprocess.run(
            [
                dbt_executable(),
                "build",
                "--select",
                "+customer_tiers +tier_history",
                "--resource-type",
                "model",
                "--resource-type",
                "seed",
                "--profiles-dir",
                str(DBT_PROJECT_DIR),
                "--target-path",
                str(self.home / "dbt-target"),
                "--quiet",
            ],
            cwd=DBT_PROJECT_DIR,
            env={**os.environ, "TIERFLOW__WAREHOUSE": str(self.warehouse)},
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
        entry = new_entry(
            run_id=run_id,
            as_of=as_of.isoformat(),
            policy_version=policy.version,
            row_counts={},
            checksums={},
            seconds=0.0,
        )
        record_publication(self.warehouse, ENGINE_TABLES, entry)

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(sql).fetchall()

    def timeline(self) -> dict[str, list[tuple[str, str, str, str]]]:
        """Per customer: (effective date, change type, new tier, reason), oldest first."""
        rows = self.query(
            "select customer_id, cast(effective_date as varchar), change_type, to_tier, reason "
            "from published_state.tier_changes order by customer_id, effective_date, change_type"
        )
        timelines: dict[str, list[tuple[str, str, str, str]]] = {}
        for customer, *change in rows:
            timelines.setdefault(customer, []).append(tuple(change))
        return timelines

    def state(self) -> dict[str, tuple]:
        """Per customer: (published tier, computed tier, tier_since, next_evaluation_date)."""
        rows = self.query(
            "select customer_id, tier, computed_tier, cast(tier_since as varchar), "
            "cast(next_evaluation_date as varchar) from published_state.customer_tiers"
        )
        return {r[0]: tuple(r[1:]) for r in rows}
