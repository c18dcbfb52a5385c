"""The tier engine's policy keys, written into the warehouse as data next to `tierflow.run_parameters`
(values bound as parameters, never formatted into SQL)."""

from __future__ import annotations

import duckdb

from tierflow.policy.columns import Parameter, insert_rows, write_keys
from tierflow.policy.schema import Policy

DDL = """
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


def write_engine_parameters(con: duckdb.DuckDBPyConnection, policy: Policy, keys: list[Parameter]) -> None:
    """Runs inside the caller's transaction; `keys` are the policy's declared keys (columns.parameters)."""
    points = policy.points
    con.execute(DDL)
    write_keys(con, "policy_engine", keys)
    insert_rows(
        con,
        "tierflow.policy_point_multipliers",
        [
            {
                "multiplier_name": m.name,
                "start_date": m.start_date,
                "end_date": m.end_date,
                "product_category": category,
                "factor": m.factor,
            }
            for m in points.multipliers
            for category in (m.categories or [None])
        ],
    )
    insert_rows(
        con,
        "tierflow.policy_point_events",
        [{"event_type": event, "points": value} for event, value in points.events.items()],
    )
