"""The `notices:` policy section: off unless a type is given, the shipped example valid, and every invalid
section exits 2 from the command line naming the key (no traceback)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tierflow.cli import main
from tierflow.policy.parameters import write_run_parameters
from tierflow.policy.schema import DEFAULT_POLICY_PATH, parse_policy
from tierflow.warehouse import connect

HEAD = "version: x\ncurrency: CNY\ntimezone: UTC\n"
TIERS = "tiers:\n  - {code: bronze, name: Bronze}\n  - {code: silver, name: Silver, min_spend: 1000}\n"
NOTICE_COLUMNS = (
    "notice_upgrade_within_spend, notice_upgrade_within_share, notice_downgrade_days_before, "
    "notice_points_days_before, notice_points_min_points"
)


def _shipped_example() -> str:
    """The commented `notices:` example at the end of the shipped policy, uncommented."""
    text = DEFAULT_POLICY_PATH.read_text(encoding="utf-8")
    block = text[text.index("# notices:") :]
    return "\n".join(re.sub(r"^# ?", "", line) for line in block.splitlines()) + "\n"


def _engine_row(policy_text: str, tmp_path: Path) -> tuple:
    with connect(tmp_path / "warehouse.duckdb") as con:
        write_run_parameters(con, run_id="r", as_of=date(2025, 1, 1), policy=parse_policy(policy_text))
        return con.execute(f"select {NOTICE_COLUMNS} from tierflow.policy_engine").fetchall()[0]


def test_notices_are_off_unless_given(tmp_path: Path) -> None:
    notices = parse_policy(HEAD + TIERS).notices
    assert (notices.approaching_upgrade, notices.downgrade_warning, notices.points_expiring) == (None, None, None)
    assert _engine_row(HEAD + TIERS, tmp_path) == (None, None, None, None, None)


def test_the_shipped_example_switches_every_type_on(tmp_path: Path) -> None:
    example = _shipped_example()
    notices = parse_policy(HEAD + TIERS + example).notices
    assert notices.approaching_upgrade.within_spend == 200
    assert (notices.downgrade_warning.days_before_evaluation, notices.points_expiring.days_before) == (30, 30)
    assert _engine_row(HEAD + TIERS + example, tmp_path) == (Decimal("200.00"), None, 30, 30, 1)
    # Defaults of a type given without its keys.
    text = (
        HEAD + TIERS + "notices: {approaching_upgrade: {within_share: 0.1}, downgrade_warning: {}, points_expiring: {}}"
    )
    assert _engine_row(text, tmp_path) == (None, Decimal("0.1000"), 30, 30, 1)


@pytest.mark.parametrize(
    ("notices", "message"),
    [
        (
            "{approaching_upgrade: {within_spend: 200, within_share: 0.1}}",
            "notices.approaching_upgrade.within_spend: give either within_spend or within_share, not both",
        ),
        ("{approaching_upgrade: {}}", "notices.approaching_upgrade.within_spend: give either within_spend or"),
        ("{approaching_upgrade: {within_spend: 0}}", "notices.approaching_upgrade.within_spend"),
        ("{approaching_upgrade: {within_share: 1.5}}", "notices.approaching_upgrade.within_share"),
        ("{downgrade_warning: {days_before_evaluation: 0}}", "notices.downgrade_warning.days_before_evaluation"),
        ("{points_expiring: {days_before: 30, min_points: 0}}", "notices.points_expiring.min_points"),
        ("{points_expiring: {days: 30}}", "notices.points_expiring.days: unknown key"),
        ("{birthday: {days_before: 7}}", "notices.birthday: unknown key"),
    ],
)
def test_invalid_notices_exit_2_naming_the_key(notices: str, message: str, tmp_path: Path, capsys) -> None:
    path = tmp_path / "policy.yml"
    path.write_text(f"{HEAD}{TIERS}notices: {notices}\n")
    assert main(["check-policy", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert "Traceback" not in err
