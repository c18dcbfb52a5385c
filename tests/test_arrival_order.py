"""Files are applied in the order they arrived, and orders only move forward (issue 21): a landing zone loaded
fresh, in one run, ends where the same zone loaded day by day ended, whatever the files are called; an old
export sent again cannot undo a refund, and does not block the run."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from tests.conftest import ORDER_COLUMNS, PROFILE_COLUMNS, RELAXED_GATES, Runner, order, policy_with_gates, profile
from tests.conftest import write_csv as write_rows


def write_csv(path: Path, records: list[dict], day: int, columns: list[str] = ORDER_COLUMNS, minute: int = 0) -> Path:
    """A landing file that arrived on a day of June 2025: its modification time, which `cp -p` keeps."""
    write_rows(path, records, columns)
    moment = int(datetime(2025, 6, day, 6, minute, tzinfo=UTC).timestamp())
    os.utime(path, (moment, moment))
    return path


# --- the pipeline, day by day and fresh -----------------------------------------------------------------

ORIGINAL = [
    order("o1", "c1", "2025-06-02 10:00:00", "100.00"),
    order("o2", "c1", "2025-06-03 10:00:00", "80.00"),
    order("o3", "c2", "2025-06-04 10:00:00", "60.00"),
    order("o4", "c2", "2025-06-05 10:00:00", "40.00"),
    order("o5", "c3", "2025-06-06 10:00:00", "20.00"),
]
AS_OF = (date(2025, 6, 28), date(2025, 6, 29), date(2025, 6, 30))


def add_day(landing: Path, day: int) -> None:
    """What arrives on each as-of date. Every refund file's name sorts before the original export's."""
    if day == 28:
        write_csv(landing / "orders" / "orders_2025-06.csv", ORIGINAL, 28)
        profiles = [profile(c, region="East") for c in ("c1", "c2", "c3")]
        write_csv(landing / "profiles" / "profiles.csv", profiles, 28, PROFILE_COLUMNS)
    elif day == 29:
        late = [
            {**ORIGINAL[0], "refunded_amount": "30.00"},  # a partial refund
            {**ORIGINAL[1], "status": "refunded", "refunded_amount": "80.00"},
            {**ORIGINAL[2], "status": "cancelled"},
        ]
        write_csv(landing / "orders" / "late_refunds.csv", late, 29)
        write_csv(landing / "profiles" / "changes.csv", [profile("c1", region="North")], 29, PROFILE_COLUMNS)
    else:
        full = [{**ORIGINAL[0], "status": "refunded", "refunded_amount": "100.00"}]  # the rest of o1 refunded
        write_csv(landing / "orders" / "full_refunds.csv", full, 30)
        # The original export sent again, written with its columns in another order: other bytes, same rows.
        resent = landing / "orders" / "orders_2025-06 (resent).csv"
        write_csv(resent, ORIGINAL, 30, list(reversed(ORDER_COLUMNS)), minute=1)


def state(runner: Runner) -> dict[str, list[tuple]]:
    """What must not depend on how the zone was loaded: landing orders, their verdicts and updates, the
    order-derived columns of customer_tiers, the current profiles."""
    return {
        "landing": runner.warehouse("select order_id, status, refunded_amount from landing.orders order by order_id"),
        "quarantine": runner.warehouse(
            "select source_file, source_row, reason, current_record from landing.quarantine order by all"
        ),
        "updates": runner.warehouse(
            "select record_key, previous, current, source_file from landing.updates order by all"
        ),
        "tiers": runner.published(
            "select customer_id, spend_30d, orders_30d, spend_90d, orders_90d, spend_365d, orders_365d, "
            "lifetime_spend, lifetime_orders, first_order_date, last_order_date, points_balance, "
            "points_earned_365d from customer_tiers order by customer_id"
        ),
        "profiles": runner.warehouse(
            "select customer_id, region from staging.stg_landing__profiles order by customer_id"
        ),
    }


def test_a_zone_loaded_fresh_ends_as_it_did_day_by_day(tmp_path: Path) -> None:
    # The quarantine share gate stays on: an old export sent again loses nothing and must not block a run.
    policy = policy_with_gates(tmp_path / "policy.yml", **{**RELAXED_GATES, "max_quarantine_share": 0.05})
    landing = tmp_path / "landing"
    daily = Runner(tmp_path / "daily", policy)
    for as_of in AS_OF:
        add_day(landing, as_of.day)
        code, summary = daily(landing, as_of)
        assert code == 0 and summary["status"] == "published", summary

    # A new home (a rebuild, a move to another target) gets the whole zone at once, copied as `cp -p` does.
    copied = tmp_path / "copied"
    shutil.copytree(landing, copied)
    fresh = Runner(tmp_path / "fresh", policy)
    for as_of in AS_OF:
        code, summary = fresh(copied, as_of)
        assert code == 0 and summary["status"] == "published", summary

    expected = state(daily)
    assert expected["landing"] == [
        ("o1", "refunded", Decimal("100.00")),
        ("o2", "refunded", Decimal("80.00")),
        ("o3", "cancelled", None),
        ("o4", "completed", None),
        ("o5", "completed", None),
    ]
    resent = [r for r in expected["quarantine"] if "resent" in r[0]]
    assert [r[2] for r in resent] == ["stale_update"] * 3 + ["duplicate_order"] * 2
    assert '"status":"refunded"' in resent[0][3]  # the version the stale row would have replaced
    assert expected["profiles"][0] == ("c1", "North")
    assert state(fresh) == expected
