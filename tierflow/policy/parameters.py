"""The parameters of one run, written into the warehouse as data so the dbt models stay free of run-time
variables (partial parsing keeps working, and every engine reads them the same way)."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import duckdb

from tierflow.paths import FX_RATES_SEED
from tierflow.policy.schema import THRESHOLD_METRICS, Policy, Promotion, Tier
from tierflow.policy.tier_engine_parameters import write_engine_parameters

DDL = """
create schema if not exists tierflow;
create or replace table tierflow.run_parameters (
    run_id varchar not null,
    as_of_date date not null,
    policy_version varchar not null,
    policy_currency varchar not null,
    policy_timezone varchar not null,
    qualification_window_days integer not null,
    active_days integer not null,
    new_days integer not null,
    dormant_days integer not null,
    churned_days integer not null,
    lifecycle_cadence varchar not null,
    rfm_window_days integer,
    discount_seeker_share decimal(5, 4) not null,
    big_ticket_percentile decimal(5, 4) not null,
    frequent_small_percentile decimal(5, 4) not null,
    omnichannel_min_channels integer not null,
    refund_prone_share decimal(5, 4) not null
);
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


def write_run_parameters(con: duckdb.DuckDBPyConnection, *, run_id: str, as_of: date, policy: Policy) -> None:
    behaviour = policy.behaviour
    con.begin()
    con.execute(DDL)
    con.execute(
        "insert into tierflow.run_parameters values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            run_id,
            as_of,
            policy.version,
            policy.currency,
            policy.timezone,
            policy.qualification.window_days,
            policy.lifecycle.active_days,
            policy.lifecycle.new_days,
            policy.lifecycle.dormant_days,
            policy.lifecycle.churned_days,
            policy.lifecycle.cadence,
            policy.rfm.window_days,
            behaviour.discount_seeker_share,
            behaviour.big_ticket_percentile,
            behaviour.frequent_small_percentile,
            behaviour.omnichannel_min_channels,
            behaviour.refund_prone_share,
        ],
    )
    con.executemany(
        "insert into tierflow.policy_tiers values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [
                tier.code,
                tier.name,
                rank,
                tier.min_spend,
                tier.min_orders,
                tier.match,
                tier.benefits.discount_pct,
                tier.benefits.points_multiplier,
                tier.benefits.free_shipping,
                tier.benefits.priority_service,
                tier.benefits.birthday_gift,
                tier.benefits.description,
                tier.min_points,
                *keep_thresholds(tier),
            ]
            for rank, tier in enumerate(policy.tiers, start=1)
        ],
    )
    if behaviour.promotions:
        con.executemany(
            "insert into tierflow.policy_promotions values (?, ?, ?)",
            [[p.name, Promotion.month_day(p.start), Promotion.month_day(p.end)] for p in behaviour.promotions],
        )
    write_engine_parameters(con, policy)
    con.commit()
