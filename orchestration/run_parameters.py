"""The parameters of one run, written into the warehouse as data so the dbt models stay free of run-time
variables (partial parsing keeps working, and every engine reads them the same way)."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import duckdb

from orchestration.paths import FX_RATES_SEED
from orchestration.policy import Policy

DDL = """
create schema if not exists tierflow;
create or replace table tierflow.run_parameters (
    run_id varchar not null,
    as_of_date date not null,
    policy_version varchar not null,
    policy_currency varchar not null,
    policy_timezone varchar not null,
    qualification_window_days integer not null,
    active_days integer not null
);
create or replace table tierflow.policy_tiers (
    tier_code varchar not null,
    tier_name varchar not null,
    tier_rank integer not null,
    min_spend decimal(18, 2),
    min_orders integer,
    match_mode varchar not null
);
"""


def convertible_currencies(seed: Path = FX_RATES_SEED) -> list[str]:
    with seed.open(newline="", encoding="utf-8") as handle:
        return sorted(row["currency_code"].strip().upper() for row in csv.DictReader(handle))


def write_run_parameters(con: duckdb.DuckDBPyConnection, *, run_id: str, as_of: date, policy: Policy) -> None:
    con.begin()
    con.execute(DDL)
    con.execute(
        "insert into tierflow.run_parameters values (?, ?, ?, ?, ?, ?, ?)",
        [
            run_id,
            as_of,
            policy.version,
            policy.currency,
            policy.timezone,
            policy.qualification.window_days,
            policy.lifecycle.active_days,
        ],
    )
    con.executemany(
        "insert into tierflow.policy_tiers values (?, ?, ?, ?, ?, ?)",
        [
            [tier.code, tier.name, rank, tier.min_spend, tier.min_orders, tier.match]
            for rank, tier in enumerate(policy.tiers, start=1)
        ],
    )
    con.commit()
