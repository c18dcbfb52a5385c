"""The tier engine's policy keys, written into the warehouse as data next to `tierflow.run_parameters`
(values bound as parameters, never formatted into SQL)."""

from __future__ import annotations

import duckdb

from tierflow.policy.schema import Policy

DDL = """
create or replace table tierflow.policy_engine (
    qualification_period varchar not null,
    pending_days integer not null,
    downgrade_mode varchar not null,
    downgrade_every_months integer not null,
    downgrade_anchor varchar not null,
    downgrade_max_drop integer,
    downgrade_min_stay_days integer not null,
    downgrade_inactive_days integer,
    on_policy_change varchar not null,
    points_per_unit decimal(10, 4) not null,
    points_expire_days integer,
    notice_upgrade_within_spend decimal(18, 2),
    notice_upgrade_within_share decimal(5, 4),
    notice_downgrade_days_before integer,
    notice_points_days_before integer,
    notice_points_min_points integer
);
create or replace table tierflow.policy_point_multipliers (
    multiplier_name varchar not null,
    start_date date not null,
    end_date date not null,
    product_category varchar,
    factor decimal(12, 4) not null
);
create or replace table tierflow.policy_point_events (
    event_type varchar not null,
    points integer not null
);
"""


def write_engine_parameters(con: duckdb.DuckDBPyConnection, policy: Policy) -> None:
    """Runs inside the caller's transaction."""
    downgrade, points, notices = policy.downgrade, policy.points, policy.notices
    # A notice type left out of the policy is off: its columns are null.
    upgrade, warning, expiring = notices.approaching_upgrade, notices.downgrade_warning, notices.points_expiring
    con.execute(DDL)
    con.execute(
        "insert into tierflow.policy_engine values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            policy.qualification.period,
            policy.qualification.pending_days,
            downgrade.mode,
            downgrade.every_months,
            downgrade.anchor,
            downgrade.max_drop,
            downgrade.min_stay_days,
            downgrade.inactive_days,
            policy.on_policy_change,
            points.per_unit,
            points.expire_days,
            upgrade and upgrade.within_spend,
            upgrade and upgrade.within_share,
            warning and warning.days_before_evaluation,
            expiring and expiring.days_before,
            expiring and expiring.min_points,
        ],
    )
    multipliers = [
        [m.name, m.start_date, m.end_date, category, m.factor]
        for m in points.multipliers
        for category in (m.categories or [None])
    ]
    if multipliers:
        con.executemany("insert into tierflow.policy_point_multipliers values (?, ?, ?, ?, ?)", multipliers)
    if points.events:
        con.executemany("insert into tierflow.policy_point_events values (?, ?)", list(points.events.items()))
