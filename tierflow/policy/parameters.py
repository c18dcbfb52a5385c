"""The parameters of one run, written into the warehouse as data so the dbt models stay free of run-time
variables (partial parsing keeps working, and every engine reads them the same way)."""

from __future__ import annotations

import csv
import hashlib
from datetime import date
from pathlib import Path

import duckdb

from tierflow.paths import FX_RATES_SEED
from tierflow.policy.columns import insert_rows, parameters, write_keys
from tierflow.policy.schema import THRESHOLD_METRICS, Policy, Promotion, Tier
from tierflow.policy.tier_engine_parameters import write_engine_parameters

DDL = """
create schema if not exists tierflow;
create or replace table tierflow.policy_tiers (
    tier_code varchar not null,
    tier_name varchar not null,
    tier_rank integer not null,
    min_spend decimal(18, 2),
    min_orders integer,
    match_mode varchar not null,
    discount_pct decimal(5, 2) not null,
    points_multiplier decimal(6, 2) not null,
    has_free_shipping boolean not null,
    has_priority_service boolean not null,
    has_birthday_gift boolean not null,
    benefits_note varchar,
    min_points integer,
    keep_min_spend decimal(18, 2),
    keep_min_orders integer,
    keep_min_points integer
);
create or replace table tierflow.policy_promotions (
    promotion_name varchar not null,
    start_month_day integer not null,
    end_month_day integer not null
);
"""


def convertible_currencies(seed: Path = FX_RATES_SEED) -> list[str]:
    with seed.open(newline="", encoding="utf-8") as handle:
        return sorted(row["currency_code"].strip().upper() for row in csv.DictReader(handle))


def keep_thresholds(tier: Tier) -> list:
    """What keeps the tier: the keep threshold where given, else the entry threshold."""
    keep = tier.keep
    return [getattr(keep, m) if keep and getattr(keep, m) is not None else getattr(tier, m) for m in THRESHOLD_METRICS]


def policy_checksum(policy: Policy) -> str:
    """The policy's content (not its file: comments and layout do not count), so carried tables can tell
    that they were built under another policy."""
    return hashlib.sha256(policy.model_dump_json().encode()).hexdigest()


def write_run_parameters(
    con: duckdb.DuckDBPyConnection, *, run_id: str, as_of: date, policy: Policy, full_audit: bool = False
) -> None:
    keys = parameters(policy)
    con.begin()
    con.execute(DDL)
    leading = {
        "run_id": ("varchar", run_id),
        "as_of_date": ("date", as_of),
        "policy_checksum": ("varchar", policy_checksum(policy)),
        # The landing suites judge every row, not only this run's (tierflow.gates.audit).
        "is_full_audit": ("boolean", full_audit),
    }
    write_keys(con, "run_parameters", keys, leading)
    insert_rows(
        con,
        "tierflow.policy_tiers",
        [
            {
                "tier_code": tier.code,
                "tier_name": tier.name,
                "tier_rank": rank,
                "min_spend": tier.min_spend,
                "min_orders": tier.min_orders,
                "match_mode": tier.match,
                "discount_pct": tier.benefits.discount_pct,
                "points_multiplier": tier.benefits.points_multiplier,
                "has_free_shipping": tier.benefits.free_shipping,
                "has_priority_service": tier.benefits.priority_service,
                "has_birthday_gift": tier.benefits.birthday_gift,
                "benefits_note": tier.benefits.description,
                "min_points": tier.min_points,
                **{
                    f"keep_{metric}": value
                    for metric, value in zip(THRESHOLD_METRICS, keep_thresholds(tier), strict=True)
                },
            }
            for rank, tier in enumerate(policy.tiers, start=1)
        ],
    )
    insert_rows(
        con,
        "tierflow.policy_promotions",
        [
            {
                "promotion_name": p.name,
                "start_month_day": Promotion.month_day(p.start),
                "end_month_day": Promotion.month_day(p.end),
            }
            for p in policy.behaviour.promotions
        ],
    )
    write_engine_parameters(con, policy, keys)
    con.commit()
