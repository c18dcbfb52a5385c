"""Tier notices, scenario by scenario, through `tierflow run` (the real pipeline, its gates and CRM export)
with a real CRM webhook on 127.0.0.1. One landing zone, one customer per scenario, four nightly runs; the
notices in force after each run, and what each night's export raises and withdraws, are written out below
by hand.

Policy: Silver 1000 (keep 800), Gold 5000 (keep 4000), Diamond 10000 (keep 8000) over a rolling 365 days;
periodic downgrades on 1 Jan; 1 point per unit spent, expiring after 365 days. Notices: approaching_upgrade
within 200, downgrade_warning 30 days before the evaluation, points_expiring within 30 days from 50 points.

nearly   2025-06-01 850, 2025-11-28 200
         D1 2025-11-25  Bronze on 850: 150 short of Silver      -> approaching_upgrade silver, 150 (raised)
         D2 2025-12-02  1050: Silver since 11-28, Gold 3950 off -> withdrawn
keeper   2024-12-20 5000, 2025-03-01 1000, 2025-12-05 3000
         D1 2025-11-25  Gold on 6000; keeps on 1000 since 1 Jan 2025 (gap 3000), but 1 Jan 2026 is 37 days
                        away: no warning. The 5000 points of 2024-12-20 expire 2025-12-20 (in 25 days)
                        -> points_expiring 5000 due 2025-12-20 (raised)
         D2 2025-12-02  30 days before 1 Jan 2026, gap 3000, would keep Silver (1000 >= 800)
                        -> downgrade_warning silver, 3000, due 2026-01-01 (raised); points notice unchanged
         D3 2025-12-10  bought 3000 on 12-05: 4000 since 1 Jan keeps Gold -> downgrade_warning withdrawn
         D4 2025-12-21  the 5000 points expired on 12-20 -> points_expiring withdrawn
expiring 2024-12-28 300, 2025-01-05 30 (opted in to marketing)
         D1             300 points expire 2025-12-28, 33 days away: none
         D2             due within 30 days -> points_expiring 300 due 2025-12-28 (raised)
         D3             the 30 points of 01-05 expire within 30 days too: 330, the same notice (same key)
         D4             still in force: 330 due 2025-12-28
few      2024-12-28 30: 30 points expire 2025-12-28, below min_points 50 -> never a notice
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.conftest import ORDER_COLUMNS, PROFILE_COLUMNS, RELAXED_GATES, Runner, order, profile, write_csv
from tests.crm_server import CrmServer
from tierflow.cli import main

pytestmark = pytest.mark.slow

NIGHTS = ("2025-11-25", "2025-12-02", "2025-12-10", "2025-12-21")
POLICY = {
    "version": "n1",
    "currency": "CNY",
    "timezone": "UTC",
    "downgrade": {"mode": "periodic", "every_months": 12, "anchor": "calendar"},
    "points": {"per_unit": 1, "expire_days": 365, "events": {}},
    "notices": {
        "approaching_upgrade": {"within_spend": 200},
        "downgrade_warning": {"days_before_evaluation": 30},
        "points_expiring": {"days_before": 30, "min_points": 50},
    },
    "tiers": [
        {"code": "bronze", "name": "Bronze"},
        {"code": "silver", "name": "Silver", "min_spend": 1000, "keep": {"min_spend": 800}},
        {"code": "gold", "name": "Gold", "min_spend": 5000, "keep": {"min_spend": 4000}},
        {"code": "diamond", "name": "Diamond", "min_spend": 10000, "keep": {"min_spend": 8000}},
    ],
    "gates": RELAXED_GATES,
}
ORDERS = [
    order("n-1", "nearly", "2025-06-01 12:00:00", "850"),
    order("n-2", "nearly", "2025-11-28 12:00:00", "200"),
    order("k-1", "keeper", "2024-12-20 12:00:00", "5000"),
    order("k-2", "keeper", "2025-03-01 12:00:00", "1000"),
    order("k-3", "keeper", "2025-12-05 12:00:00", "3000"),
    order("e-1", "expiring", "2024-12-28 12:00:00", "300"),
    order("e-2", "expiring", "2025-01-05 12:00:00", "30"),
    order("f-1", "few", "2024-12-28 12:00:00", "30"),
]
UPGRADE, WARNING, EXPIRING = "approaching_upgrade", "downgrade_warning", "points_expiring"
# After each night: (customer, type, due date, amount needed, points, tier, target tier) in force.
IN_FORCE = {
    "2025-11-25": {
        ("nearly", UPGRADE, None, "150.00", None, "bronze", "silver"),
        ("keeper", EXPIRING, "2025-12-20", None, 5000, "gold", None),
    },
    "2025-12-02": {
        ("keeper", WARNING, "2026-01-01", "3000.00", None, "gold", "silver"),
        ("keeper", EXPIRING, "2025-12-20", None, 5000, "gold", None),
        ("expiring", EXPIRING, "2025-12-28", None, 300, "bronze", None),
    },
    "2025-12-10": {
        ("keeper", EXPIRING, "2025-12-20", None, 5000, "gold", None),
        ("expiring", EXPIRING, "2025-12-28", None, 330, "bronze", None),
    },
    "2025-12-21": {
        ("expiring", EXPIRING, "2025-12-28", None, 330, "bronze", None),
    },
}
# Each night's notices.csv: (status, notice_key).
EXPORTED = {
    "2025-11-25": {
        ("raised", "nearly:approaching_upgrade:silver:-"),
        ("raised", "keeper:points_expiring:-:2025-12-20"),
    },
    "2025-12-02": {
        ("withdrawn", "nearly:approaching_upgrade:silver:-"),
        ("raised", "keeper:downgrade_warning:silver:2026-01-01"),
        ("raised", "expiring:points_expiring:-:2025-12-28"),
    },
    "2025-12-10": {("withdrawn", "keeper:downgrade_warning:silver:2026-01-01")},
    "2025-12-21": {("withdrawn", "keeper:points_expiring:-:2025-12-20")},
}


def _csv_rows(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Run every night with the webhook on; the first notice batch is refused once (503) and retried."""
    root = tmp_path_factory.mktemp("notices")
    landing = root / "landing"
    write_csv(landing / "orders" / "orders.csv", ORDERS, ORDER_COLUMNS)
    profiles = [
        profile(c, "2024-01-01", marketing_opt_in="true" if c == "expiring" else "false")
        for c in ("nearly", "keeper", "expiring", "few")
    ]
    write_csv(landing / "profiles" / "profiles.csv", profiles, PROFILE_COLUMNS)
    policy = root / "policy.yml"
    policy.write_text(yaml.safe_dump(POLICY), encoding="utf-8")
    refused: list[str] = []

    def script(n: int, body: dict) -> tuple:
        if body["record_type"] == "tier_notice" and not refused:
            refused.append(body["idempotency_key"])
            return ("status", 503)
        return ("ok",)

    runner = Runner(root / "home", policy)
    results: dict = {"runner": runner, "refused": refused, "notices": {}, "exports": {}, "kpis": {}}
    with CrmServer(script) as server, pytest.MonkeyPatch.context() as patch:
        patch.setenv("TIERFLOW_CRM_WEBHOOK_URL", server.url)
        patch.setenv("TIERFLOW_CRM_RATE_LIMIT", "50")
        for night in NIGHTS:
            code, summary = runner(landing, night)
            assert code == 0, summary.get("message")
            assert summary["crm"]["sync"]["status"] == "complete"
            results["notices"][night] = runner.published(
                "select customer_id, notice_type, cast(due_date as varchar), cast(amount_needed as varchar), "
                "points, tier, target_tier, notice_key, is_marketing_opt_in, cast(as_of_date as varchar) "
                "from tier_notices"
            )
            results["kpis"][night] = runner.published(
                "select tier, notices_approaching_upgrade, notices_downgrade_warning, notices_points_expiring "
                f"from tier_kpis where as_of_date = '{night}' order by tier_rank"
            )
            results["exports"][night] = (Path(summary["published"]["crm_export"]), summary["crm"])
        results["server"] = server
        yield results


def test_notices_in_force_each_night(nights: dict) -> None:
    for night, expected in IN_FORCE.items():
        rows = nights["notices"][night]
        assert {r[:7] for r in rows} == expected, night
        assert {r[9] for r in rows} == {night}
        for customer, kind, due, _, _, _, target, key, opt_in, _ in rows:
            assert key == f"{customer}:{kind}:{target or '-'}:{due or '-'}"
            assert opt_in == (customer == "expiring")


def test_each_export_raises_and_withdraws_against_the_night_before(nights: dict) -> None:
    for night, expected in EXPORTED.items():
        directory, crm = nights["exports"][night]
        rows = _csv_rows(directory / "notices.csv")
        assert {(r["status"], r["notice_key"]) for r in rows} == expected, night
        assert {r["effective_date"] for r in rows} == {night}
        manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
        assert {"notices.csv", "notices.parquet"} <= set(manifest["files"])
        assert manifest["files"]["notices.parquet"]["rows"] == len(expected)
        counts = {s: sum(1 for status, _ in expected if status == s) for s in ("raised", "withdrawn")}
        assert manifest["notice_counts"] == counts == crm["notice_counts"]
    # A withdrawn row carries the notice as it was raised.
    withdrawn = _csv_rows(nights["exports"]["2025-12-10"][0] / "notices.csv")[0]
    assert (withdrawn["amount_needed"], withdrawn["due_date"], withdrawn["as_of_date"]) == (
        "3000.00",
        "2026-01-01",
        "2025-12-02",
    )


def test_the_webhook_sends_each_raise_and_withdrawal_once_as_tier_notices(nights: dict) -> None:
    server: CrmServer = nights["server"]
    sent = [
        (body["as_of_date"], change["status"], change["notice_key"])
        for body in server.accepted.values()
        if body["record_type"] == "tier_notice"
        for change in body["changes"]
    ]
    expected = [(night, status, key) for night, rows in EXPORTED.items() for status, key in rows]
    assert sorted(sent) == sorted(expected)
    # The refused batch was retried under the same key, and accepted once.
    key = nights["refused"][0]
    assert [r["key"] for r in server.requests].count(key) == 2 and key in server.accepted
    kinds = {body["record_type"] for body in server.accepted.values()}
    assert kinds == {"segment_change", "tier_notice"}


def test_tier_kpis_count_the_notices_per_tier(nights: dict) -> None:
    assert nights["kpis"]["2025-12-02"] == [
        ("bronze", 0, 0, 1),
        ("silver", 0, 0, 0),
        ("gold", 0, 1, 1),
        ("diamond", 0, 0, 0),
    ]
    assert nights["kpis"]["2025-11-25"][0] == ("bronze", 1, 0, 0)


def _explain(home: Path, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["explain", *args, "--home", str(home)])
    return code, out.getvalue()


def test_explain_shows_the_notices_in_force_of_the_publication(nights: dict) -> None:
    home = nights["runner"].home
    # The newest publication (D4): only `expiring`'s points notice is in force.
    code, text = _explain(home, "expiring")
    assert code == 0
    (line,) = [row for row in text.splitlines() if row.startswith("  notices ")]
    assert line.split(None, 1)[1] == "points expiring: bronze, 330 point(s), by 2025-12-28", line
    code, text = _explain(home, "expiring", "--json")
    assert [(n["notice_type"], n["points"], n["notice_key"]) for n in json.loads(text)["notices"]] == [
        (EXPIRING, 330, "expiring:points_expiring:-:2025-12-28")
    ]
    code, text = _explain(home, "keeper")
    assert code == 0 and "notices" not in text
    # D2, from the Parquet copy that publication left: keeper's warning and points notice.
    code, text = _explain(home, "keeper", "--as-of", "2025-12-02", "--json")
    assert code == 0
    assert [
        (n["notice_type"], n["target_tier"], n["amount_needed"], n["due_date"]) for n in json.loads(text)["notices"]
    ] == [
        (WARNING, "silver", 3000.0, "2026-01-01"),
        (EXPIRING, None, None, "2025-12-20"),
    ]
