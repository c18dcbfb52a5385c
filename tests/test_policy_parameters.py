"""Every policy key the SQL reads reaches its run-parameter table under its column name, with its value."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import duckdb

from tierflow.policy.columns import parameters
from tierflow.policy.parameters import write_run_parameters
from tierflow.policy.schema import parse_policy

# Every value differs from its default, so a key written to the wrong column or not at all shows.
POLICY = """
version: p-7
currency: USD
timezone: Europe/Paris
qualification: {period: calendar_year, window_days: 200, pending_days: 3}
lifecycle: {new_days: 11, active_days: 22, dormant_days: 33, churned_days: 44, cadence: personal}
rfm: {window: 365}
behaviour:
  discount_seeker_share: 0.31
  big_ticket_percentile: 0.77
  frequent_small_percentile: 0.66
  omnichannel_min_channels: 3
  refund_prone_share: 0.12
downgrade: {mode: immediate, every_months: 6, anchor: anniversary, max_drop: 2, min_stay_days: 9, inactive_days: 99}
on_policy_change: immediate
points: {per_unit: 2.5, expire_days: 400}
tiers:
  - {code: bronze, name: Bronze}
  - {code: silver, name: Silver, min_spend: 1000, min_orders: 0}
notices:
  approaching_upgrade: {within_share: 0.15}
  downgrade_warning: {days_before_evaluation: 21}
  points_expiring: {days_before: 14, min_points: 5}
pooling: {by: household}
"""


def _written(con: duckdb.DuckDBPyConnection, table: str) -> dict:
    cursor = con.execute(f"select * from tierflow.{table}")
    names = [d[0] for d in cursor.description]
    return dict(zip(names, cursor.fetchone(), strict=True))


def test_every_policy_key_reaches_its_column() -> None:
    policy = parse_policy(POLICY)
    keys = parameters(policy)
    assert len(keys) == 32 and len({(k.table, k.column) for k in keys}) == 32
    with duckdb.connect() as con:
        write_run_parameters(con, run_id="r1", as_of=date(2025, 6, 30), policy=policy)
        written = {table: _written(con, table) for table in ("run_parameters", "policy_engine")}
    assert written["run_parameters"]["run_id"] == "r1"
    assert written["run_parameters"]["as_of_date"] == date(2025, 6, 30)
    for key in keys:
        value = written[key.table].pop(key.column)
        expected = key.value
        if isinstance(value, Decimal) and expected is not None:
            value, expected = Decimal(value).normalize(), Decimal(expected).normalize()
        assert value == expected, f"{key.key} -> {key.table}.{key.column}: {value!r} != {expected!r}"
    # The run's own columns: the policy's checksum, and whether it is a full audit (written False by default).
    assert len(written["run_parameters"].pop("policy_checksum")) == 64
    assert written["run_parameters"].pop("is_full_audit") is False
    # Nothing but the declared keys (and the run's id and date) is in the tables.
    assert written == {"run_parameters": {"run_id": "r1", "as_of_date": date(2025, 6, 30)}, "policy_engine": {}}
    by_key = {k.key: k for k in keys}
    assert by_key["rfm.window"].column == "rfm_window_days" and by_key["rfm.window"].value == 365
    assert by_key["lifecycle.new_days"].value == 11 and by_key["downgrade.max_drop"].value == 2
    assert by_key["notices.approaching_upgrade.within_spend"].value is None  # the other distance is given
    assert by_key["pooling.by"].column == "pooling_by" and by_key["pooling.by"].value == "household"


def test_a_section_left_out_writes_its_keys_as_null() -> None:
    keys = {k.key: k for k in parameters(parse_policy(POLICY.split("notices:")[0]))}
    assert keys["notices.points_expiring.min_points"].column == "notice_points_min_points"
    assert all(k.value is None for name, k in keys.items() if name.startswith("notices."))
