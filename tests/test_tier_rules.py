"""Tier rules end to end on a hand-written landing zone: window edges, local midnight in the policy time
zone, refunds, cancellations and currency conversion, computed by the real job (ingest, dbt, gates,
publish) and read back from the published DuckDB file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import ORDER_COLUMNS, PROFILE_COLUMNS, Runner, order, profile, write_csv
from tierflow.paths import DBT_PROJECT_DIR

AS_OF = "2025-06-30"  # policy time zone Asia/Shanghai (UTC+8); 365 days back is 2024-06-30

ORDERS = [
    # exactly 365 days back (local date 2024-06-30): outside the 365-day window
    order("o-edge-out", "edge_out", "2024-06-30 12:00:00", "1000.00"),
    # 364 days back: inside
    order("o-edge-in", "edge_in", "2024-07-01 12:00:00", "1000.00"),
    # 2024-06-30 16:30 UTC is 2024-07-01 00:30 in Shanghai: inside, although its UTC date is outside
    order("o-utc", "utc_early", "2024-06-30T16:30:00Z", "1000.00"),
    # 2024-07-01 00:30 in Tokyo is 2024-06-30 23:30 in Shanghai: outside
    order("o-tokyo", "offset_edge", "2024-07-01T00:30:00+09:00", "1000.00"),
    # the last second of the as-of day counts; the first second of the next day is invisible
    order("o-late", "midnight_late", "2025-06-30 23:59:59", "5000.00"),
    order("o-next", "midnight_next", "2025-06-30T16:00:00Z", "5000.00"),
    # partial refund: 12000 - 2500 = 9500 net, gold not diamond
    order(
        "o-partial",
        "refund_partial",
        "2025-03-01 10:00:00",
        "12000.00",
        status="completed",
        refunded_amount="2500.00",
    ),
    # a cancelled order is worth nothing and is not an order
    order("o-cancel", "cancelled", "2025-03-01 10:00:00", "20000.00", status="cancelled"),
    order("o-small", "cancelled", "2025-03-02 10:00:00", "100.00"),
    # a fully refunded order is worth nothing and is not an order
    order(
        "o-refunded",
        "refunded_full",
        "2025-03-01 10:00:00",
        "20000.00",
        status="refunded",
        refunded_amount="20000.00",
    ),
    # a free order (amount 0, never refunded: a 100% voucher) is an order worth nothing
    order("o-free", "free_order", "2025-06-10 10:00:00", "0.00"),
    # 1500 USD at 7.2 CNY per USD = 10800 CNY: diamond
    order("o-usd", "usd", "2025-03-01 10:00:00", "1500.00", currency="USD"),
    # 30- and 90-day edges: 2025-05-31 and 2025-04-01 are out, 2025-06-01 and 2025-04-02 are in
    order("o-w1", "windows", "2025-04-01 09:00:00", "1.00"),
    order("o-w2", "windows", "2025-04-02 09:00:00", "10.00"),
    order("o-w3", "windows", "2025-05-31 09:00:00", "100.00"),
    order("o-w4", "windows", "2025-06-01 09:00:00", "1000.00"),
    # the whole-threshold boundary: exactly 5000 is gold
    order("o-exact", "exact_gold", "2025-06-30 08:00:00", "5000.00"),
]
PROFILES = [
    profile(c)
    for c in (
        "edge_out",
        "edge_in",
        "utc_early",
        "offset_edge",
        "midnight_late",
        "refund_partial",
        "cancelled",
        "refunded_full",
        "free_order",
        "usd",
        "windows",
        "exact_gold",
        "prospect_only",
    )
]


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> tuple[Runner, int, dict]:
    root = tmp_path_factory.mktemp("tier_rules")
    write_csv(root / "landing" / "orders" / "orders.csv", ORDERS, ORDER_COLUMNS)
    write_csv(root / "landing" / "profiles" / "profiles.csv", PROFILES, PROFILE_COLUMNS)
    runner = Runner(root / "home")
    code, summary = runner(root / "landing", AS_OF)
    return runner, code, summary


def test_run_publishes(scenario) -> None:
    _, code, summary = scenario
    assert code == 0, summary.get("message")
    assert summary["status"] == "published"
    assert summary["inputs"]["orders"]["rows_read"] == len(ORDERS)
    assert summary["inputs"]["orders"]["rows_quarantined"] == 0


def test_365_day_window_edges_in_policy_time_zone(scenario) -> None:
    tiers = scenario[0].tiers()
    assert tiers["edge_out"][0] == "bronze" and tiers["edge_out"][5] == 0  # spend_365d
    assert tiers["edge_out"][7] == Decimal("1000.00")  # still in lifetime spend
    assert tiers["edge_in"][0] == "silver" and tiers["edge_in"][5] == Decimal("1000.00")
    assert tiers["utc_early"][0] == "silver"
    assert tiers["offset_edge"][0] == "bronze"


def test_local_midnight_on_the_as_of_date(scenario) -> None:
    runner = scenario[0]
    tiers = runner.tiers()
    assert tiers["midnight_late"][0] == "gold"
    assert tiers["midnight_late"][1] == Decimal("5000.00")  # spend_30d
    # the order after local midnight is invisible, and without a profile the customer is not known yet
    assert "midnight_next" not in tiers


def test_30_and_90_day_windows(scenario) -> None:
    spend_30d, orders_30d, spend_90d, orders_90d, spend_365d, orders_365d = scenario[0].tiers()["windows"][1:7]
    assert (spend_30d, orders_30d) == (Decimal("1000.00"), 1)
    assert (spend_90d, orders_90d) == (Decimal("1110.00"), 3)
    assert (spend_365d, orders_365d) == (Decimal("1111.00"), 4)


def test_refunds_cancellations_and_currency(scenario) -> None:
    tiers = scenario[0].tiers()
    assert tiers["refund_partial"][0] == "gold" and tiers["refund_partial"][5] == Decimal("9500.00")
    assert tiers["cancelled"][0] == "bronze"
    assert tiers["cancelled"][5:7] == (Decimal("100.00"), 1)
    assert tiers["refunded_full"][0] == "bronze"
    assert tiers["refunded_full"][5:9] == (Decimal("0.00"), 0, Decimal("0.00"), 0)
    assert tiers["free_order"][0] == "bronze"
    assert tiers["free_order"][1:9] == (Decimal("0.00"), 1, Decimal("0.00"), 1, Decimal("0.00"), 1, Decimal("0.00"), 1)
    assert tiers["usd"][0] == "diamond" and tiers["usd"][5] == Decimal("10800.00")
    assert tiers["exact_gold"][0] == "gold"


def test_every_known_customer_once_with_next_tier_and_lifecycle(scenario) -> None:
    runner = scenario[0]
    rows = runner.published(
        "select customer_id, tier_rank, next_tier, spend_to_next_tier, lifecycle_stage, has_profile, "
        "run_id, as_of_date from customer_tiers order by customer_id"
    )
    assert [r[0] for r in rows] == sorted(p["customer_id"] for p in PROFILES)
    by_id = {r[0]: r for r in rows}
    assert by_id["usd"][2:4] == (None, None)  # top tier
    assert by_id["edge_in"][2:4] == ("gold", Decimal("4000.00"))
    assert by_id["prospect_only"][4] == "prospect"
    assert by_id["edge_out"][4] == "dormant"  # last order exactly 365 days back: dormant is 181-365
    assert by_id["midnight_late"][4] == "new"  # first order on the as-of date
    assert by_id["free_order"][4] == "new"  # its only order is free, and it counts
    assert len({r[6] for r in rows}) == 1 and str(rows[0][7]) == AS_OF


def test_crm_export_has_manifest_and_no_raw_pii(scenario) -> None:
    runner, _, summary = scenario
    export = Path(summary["published"]["crm_export"])
    manifest = (export / "manifest.json").read_text()
    import hashlib
    import json

    parsed = json.loads(manifest)
    assert parsed["row_count"] == len(PROFILES)
    for name, meta in parsed["files"].items():
        assert hashlib.sha256((export / name).read_bytes()).hexdigest() == meta["sha256"]
    header = (export / "segments.csv").read_text().splitlines()[0].split(",")
    assert "email" not in header and "phone" not in header and "tier" in header
    assert (runner.home / "exports" / "crm" / "LATEST").read_text().strip() == export.name


def test_dbt_unit_tests_pass_on_the_warehouse(scenario) -> None:
    """The SQL logic's own unit tests (dbt `unit_tests:`), against the warehouse the run built."""
    runner = scenario[0]
    env = {**os.environ, "TIERFLOW__WAREHOUSE": str(runner.home / "warehouse" / "warehouse.duckdb")}
    dbt = Path(sys.executable).parent / "dbt"
    done = subprocess.run(
        [
            str(dbt),
            "test",
            "--select",
            "test_type:unit",
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(runner.home / "dbt" / "unit-target"),
        ],
        cwd=DBT_PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    # Every unit test dbt parsed ran and passed.
    target = runner.home / "dbt" / "unit-target"
    declared = set(json.loads((target / "manifest.json").read_text())["unit_tests"])
    results = json.loads((target / "run_results.json").read_text())["results"]
    passed = {r["unique_id"] for r in results if r["unique_id"].startswith("unit_test.") and r["status"] == "pass"}
    assert len(declared) >= 11 and passed == declared


def test_every_model_and_column_is_documented(scenario) -> None:
    """Each column a model really has (read from the warehouse) is described in the model's yml."""
    runner = scenario[0]
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    models = [n for n in manifest["nodes"].values() if n["resource_type"] in ("model", "seed")]
    assert len(models) >= 10
    for node in models:
        assert node["description"].strip(), f"{node['name']} has no description"
        actual = {
            r[0]
            for r in runner.warehouse(
                f"select column_name from information_schema.columns "
                f"where table_schema = '{node['schema']}' and table_name = '{node['name']}'"
            )
        }
        assert actual, f"{node['name']} was not built"
        documented = {name for name, col in node["columns"].items() if col["description"].strip()}
        assert actual <= documented, f"{node['name']}: undocumented columns {sorted(actual - documented)}"
