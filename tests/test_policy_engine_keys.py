"""The tier engine's policy keys: defaults keep the documented behaviour, and every invalid policy exits 2
from the command line with the key path and the rule named (no traceback)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tierflow.cli import main
from tierflow.policy.schema import load_policy, parse_policy

HEAD = "version: x\ncurrency: CNY\ntimezone: UTC\n"
TIERS = "tiers:\n  - {code: bronze, name: Bronze}\n  - {code: silver, name: Silver, min_spend: 1000}\n"


def test_engine_defaults() -> None:
    policy = parse_policy(HEAD + TIERS)
    q, d = policy.qualification, policy.downgrade
    assert (q.period, q.window_days, q.pending_days) == ("rolling", 365, 0)
    assert (d.mode, d.every_months, d.anchor, d.max_drop, d.min_stay_days, d.inactive_days) == (
        "periodic",
        12,
        "calendar",
        None,
        0,
        None,
    )
    assert policy.on_policy_change == "next_evaluation" and policy.points.per_unit == 1
    assert policy.points.expire_days is None and policy.overrides is None
    shipped = load_policy()
    assert shipped.downgrade.inactive_days == 365 and shipped.tiers[1].keep.min_spend == 800


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        (
            HEAD + TIERS.replace("1000", "1000}\n  - {code: gold, name: Gold, min_spend: 500"),
            "tiers[2].min_spend: 500 is below tiers[1].min_spend",
        ),
        (
            HEAD + TIERS.replace("min_spend: 1000", "min_spend: 1000, keep: {min_spend: 1200}"),
            "tiers[1].keep.min_spend: 1200 is above min_spend",
        ),
        (
            HEAD + TIERS.replace("min_spend: 1000", "min_spend: 1000, keep: {min_orders: 2}"),
            "tiers[1].keep.min_orders: the tier has no min_orders",
        ),
        (HEAD + TIERS.replace("silver, name", "'gold; drop table x', name"), "tiers[1].code"),
        (HEAD + TIERS + "downgrade: {mode: sometimes}", "downgrade.mode"),
        (HEAD + TIERS + "downgrade: {every_months: 5}", "downgrade.every_months: with anchor calendar"),
        (HEAD + TIERS + "downgrade: {max_drop: -1}", "downgrade.max_drop"),
        (HEAD + TIERS + "downgrade: {inactive_days: 30, bogus: 1}", "downgrade.bogus: unknown key"),
        (HEAD + TIERS + "qualification: {pending_days: -3}", "qualification.pending_days"),
        (HEAD + TIERS + "qualification: {period: fiscal_year}", "qualification.period"),
        (HEAD + TIERS.replace("1000", "-5"), "tiers[1].min_spend"),
        (HEAD + TIERS + "points: {per_unit: -1}", "points.per_unit"),
        (HEAD + TIERS + "points: {events: {'sign in; drop': 5}}", "points: events.sign in; drop: event types are"),
        (HEAD + TIERS + "points: {events: {review: -5}}", "events.review: points must not be negative"),
        (
            HEAD
            + TIERS
            + "points: {multipliers: [{name: m, start_date: 2025-02-01, end_date: 2025-01-01, factor: 2}]}",
            "end_date 2025-01-01 is before 2025-02-01",
        ),
        (HEAD + TIERS + "on_policy_change: later", "on_policy_change"),
        (HEAD.replace("UTC", "Mars/Olympus") + TIERS, "timezone: unknown time zone"),
    ],
)
def test_invalid_engine_policies_exit_2_naming_the_key(policy: str, message: str, tmp_path: Path, capsys) -> None:
    path = tmp_path / "policy.yml"
    path.write_text(policy)
    assert main(["check-policy", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert "Traceback" not in err
