"""Quality gates under the shipped thresholds, on one home through a sequence of runs that each change one
thing: the circuit breakers fire against the last *published* run, `--allow … --reason …` lets exactly one
run through and is recorded in the publish log, a PSI between warn_psi and max_psi only warns; and on a
second home, a stale and partly broken landing zone is blocked by freshness and the quarantine share.
Every run writes its gate report (JSON and Great Expectations Data Docs) under runs/<run_id>/."""

from __future__ import annotations

import csv
import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
import yaml

from tests.conftest import Runner, order, policy_with_gates, write_csv
from tierflow.cli import main
from tierflow.gates.measures import reconciliation, utc_span
from tierflow.generate import generate_landing
from tierflow.policy.gates import BREAKERS
from tierflow.policy.schema import DEFAULT_POLICY_PATH

AS_OF = date(2025, 6, 30)
BACK = AS_OF - timedelta(days=150)  # a back-dated run: recent sign-ups are invisible
NEXT_DAY = AS_OF + timedelta(days=1)
FORWARD = ("tier_change_share", "tier_psi", "downgrade_share")  # what a mass downgrade trips
pytestmark = pytest.mark.slow


def _customers(landing: Path) -> list[str]:
    with next((landing / "profiles").glob("*.csv")).open(newline="", encoding="utf-8") as handle:
        return sorted(row["customer_id"] for row in csv.DictReader(handle))


def _gates(summary: dict) -> dict[str, dict]:
    report = json.loads(Path(summary["gates"]["report"]).read_text(encoding="utf-8"))
    return {g["name"]: g for g in report["gates"]}


def _stricter_policy(path: Path, **gates: object) -> Path:
    """A new policy version with every threshold tripled that re-evaluates everyone at once."""
    policy = yaml.safe_load(policy_with_gates(path, **gates).read_text(encoding="utf-8"))
    policy.update(version="2026.2-strict", on_policy_change="immediate")
    for tier in policy["tiers"]:
        for table in (tier, tier.get("keep", {})):
            if "min_spend" in table:
                table["min_spend"] *= 3
    path.write_text(yaml.safe_dump(policy), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, dict]]:
    """Seven runs on one home under the shipped gates."""
    root = tmp_path_factory.mktemp("gates")
    landing = root / "landing"
    generate_landing(landing, customers=300, days=730, seed=5, end=AS_OF, dirty_rate=0.0)
    runner = Runner(root / "home", DEFAULT_POLICY_PATH)
    runs = {"first": runner(landing, AS_OF)}
    # A campaign upgrades 40% of the members on the as-of date: tier change share and PSI fire.
    boosted = _customers(landing)[:120]
    write_csv(landing / "orders" / "boost.csv", [order(f"B{c}", c, f"{AS_OF} 12:00:00", "20000.00") for c in boosted])
    runs["boosted"] = runner(landing, AS_OF)
    runs["boost_allowed"] = runner(
        landing, AS_OF, "--allow", "tier_change_share", "--allow", "tier_psi", "--reason", "618 campaign, checked"
    )
    # A back-dated run keeps the published tiers (state never steps backwards), but the customers who
    # signed up since are invisible: the customer count drops.
    runs["back_dated"] = runner(landing, BACK)
    # The next day under a stricter policy that re-evaluates at once: a third of the members fall.
    strict = _stricter_policy(root / "strict.yml")
    runs["stricter"] = runner(landing, NEXT_DAY, "--policy", str(strict))
    runs["stricter_allowed"] = runner(
        landing, NEXT_DAY, "--policy", str(strict), *(a for name in FORWARD for a in ("--allow", name)),
        "--reason", "new programme rules, announced",
    )  # fmt: skip
    # The day after, six more members reach Diamond: a small shift, only a warning under warn_psi 0.
    day_after = NEXT_DAY + timedelta(days=1)
    risers = _customers(landing)[120:126]
    write_csv(
        landing / "orders" / "risers.csv", [order(f"R{c}", c, f"{day_after} 12:00:00", "90000.00") for c in risers]
    )
    warn_everything = _stricter_policy(root / "warn.yml", warn_psi=0.0)
    runs["day_after"] = runner(landing, day_after, "--policy", str(warn_everything))
    runs["_runner"] = runner  # type: ignore[assignment]
    return runs


def test_first_run_publishes_and_writes_a_passing_report(history) -> None:
    code, summary = history["first"]
    assert code == 0, summary.get("message")
    gates = _gates(summary)
    assert summary["gates"]["status"] == "passed" and summary["gates"]["blocked_by"] == []
    for name in BREAKERS:
        assert gates[name]["status"] == "passed" and "first run" in gates[name]["message"]
    assert gates["order_staleness_days"]["figure"] == 0
    assert gates["quarantine_share"]["figure"] == 0
    assert {g["name"]: g["status"] for g in gates.values() if g["group"] == "reconciliation"} == {
        "orders_accepted_equal_staged": "passed",
        "spend_365d_equals_raw": "passed",
    }
    # The report sits in the run's directory next to summary.json, and the Data Docs cover every suite.
    report = Path(summary["gates"]["report"])
    assert report.parent.name == summary["run_id"] and (report.parent / "summary.json").exists()
    docs = Path(summary["gates"]["data_docs"]).read_text(encoding="utf-8")
    for suite in ("landing__orders", "landing__profiles", "customer_tiers", "crm_segments"):
        assert suite in docs
    suites = {s["suite"]: s for s in json.loads(report.read_text())["suites"]}
    assert suites["landing__orders"]["success"] and suites["landing__orders"]["rows"] > 1000


def test_tier_change_breaker_blocks_with_figures_and_sample_rows(history) -> None:
    code, summary = history["boosted"]
    runner: Runner = history["_runner"]
    assert code == 3 and summary["status"] == "blocked"
    assert set(summary["gates"]["blocked_by"]) == {"tier_change_share", "tier_psi"}
    gates = _gates(summary)
    change = gates["tier_change_share"]
    assert change["figure"] > change["threshold"] == 0.2
    assert change["sample"] and {"customer_id", "previous_tier", "tier"} <= set(change["sample"][0])
    assert all(row["tier"] == "diamond" for row in change["sample"])
    assert gates["tier_psi"]["figure"] > 0.25
    assert gates["downgrade_share"]["status"] == gates["customer_drop_share"]["status"] == "passed"
    # The failed Dagster check links the report; nothing was published.
    failed = [c for c in summary["checks"] if not c["passed"]]
    assert [(c["asset"], c["check"]) for c in failed] == [("marts/customer_tiers", "circuit_breakers")]
    assert failed[0]["details"]["gate_report"] == summary["gates"]["report"]
    # Not a full audit, and every suite passed: by default (gates.data_docs) no Data Docs this time.
    assert summary["is_full_audit"] is False and summary["gates"]["data_docs"] is None
    assert len(runner.published("select * from publish_log")) >= 1


def test_allow_lets_one_run_through_and_is_logged(history) -> None:
    code, summary = history["boost_allowed"]
    runner: Runner = history["_runner"]
    assert code == 0, summary.get("message")
    assert sorted(summary["gates"]["overridden"]) == ["tier_change_share", "tier_psi"]
    expected = {"tier_change_share": "618 campaign, checked", "tier_psi": "618 campaign, checked"}
    assert summary["gates"]["overrides"] == expected
    assert _gates(summary)["tier_change_share"]["status"] == "overridden"
    bi = runner.published("select run_id, overrides from publish_log order by published_at")
    state = runner.warehouse("select run_id, overrides from published_state.publish_log order by published_at")
    for log in (bi, state):
        overrides = dict(log)  # later runs of the sequence published after this one
        assert json.loads(overrides[summary["run_id"]]) == expected
        assert log[0][1] is None  # the first publication had no override


def test_customer_drop_breaker_fires_on_a_back_dated_run(history) -> None:
    code, summary = history["back_dated"]
    assert code == 3, summary.get("message")
    assert summary["gates"]["blocked_by"] == ["customer_drop_share"]
    gates = _gates(summary)
    drop = gates["customer_drop_share"]
    assert drop["figure"] > drop["threshold"] == 0.02 and drop["sample"]
    assert {"customer_id", "previous_tier"} <= set(drop["sample"][0])
    assert str(AS_OF) in drop["message"]  # compared with the allowed publication


def test_downgrade_breakers_fire_against_the_last_published_run(history) -> None:
    code, summary = history["stricter"]
    assert code == 3, summary.get("message")
    assert set(summary["gates"]["blocked_by"]) == set(FORWARD)
    gates = _gates(summary)
    assert gates["downgrade_share"]["figure"] > 0.05
    assert all(row["downgraded"] for row in gates["downgrade_share"]["sample"])
    assert gates["tier_change_share"]["figure"] > 0.2 and gates["tier_psi"]["figure"] > 0.25
    assert gates["customer_drop_share"]["status"] == "passed"
    assert str(AS_OF) in gates["tier_change_share"]["message"]  # not the blocked back-dated run


def test_override_of_the_breakers_then_the_next_run_is_judged_against_it(history) -> None:
    code, summary = history["stricter_allowed"]
    assert code == 0, summary.get("message")
    assert sorted(summary["gates"]["overridden"]) == sorted(FORWARD)
    assert set(summary["gates"]["overrides"].values()) == {"new programme rules, announced"}
    # No --allow: the day after is compared with the stricter publication, not the June one, so it passes;
    # under warn_psi 0 the small shift of the tier distribution is a warning that does not block.
    code, summary = history["day_after"]
    assert code == 0, summary.get("message")
    gates = _gates(summary)
    assert gates["tier_psi"]["status"] == "warned" and 0 < gates["tier_psi"]["figure"] < 0.25
    assert summary["gates"]["warnings"] == ["tier_psi"] and summary["gates"]["overridden"] == []
    assert str(NEXT_DAY) in gates["tier_change_share"]["message"]


def test_reconciliation_catches_a_cent_and_a_lost_order(history, tmp_path: Path) -> None:
    """On a copy of the real warehouse: one cent more in a mart, one order lost between ingest and staging."""
    runner: Runner = history["_runner"]
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(runner.home / "warehouse" / "warehouse.duckdb", copy)
    with duckdb.connect(str(copy)) as con:
        as_of = con.execute("select as_of_date from tierflow.run_parameters").fetchone()[0]
        assert all(r.status == "passed" for r in reconciliation(con, as_of, "Asia/Shanghai"))
        con.execute(
            "update marts.customer_tiers set spend_365d = spend_365d + 0.01 "
            "where customer_id = (select min(customer_id) from marts.customer_tiers where spend_365d > 0)"
        )
        # dbt staged one order fewer than ingest accepted (the figure the run_figures mart records).
        con.execute("update marts.run_figures set staged_orders = staged_orders - 1")
        orders, spend = reconciliation(con, as_of, "Asia/Shanghai")
    assert orders.status == "failed" and orders.figure == orders.threshold - 1
    assert spend.status == "failed" and spend.figure != spend.threshold


@pytest.mark.parametrize(
    ("timezone", "first", "last"),
    [
        ("Asia/Shanghai", date(2025, 4, 1), date(2026, 3, 31)),
        ("America/New_York", date(2025, 3, 9), date(2026, 3, 8)),  # both edges on a spring-forward day
        ("Europe/London", date(2024, 10, 28), date(2025, 10, 26)),  # the last on a fall-back day
        ("America/Santiago", date(2025, 9, 7), date(2026, 9, 6)),  # midnight does not exist on these days
        ("Pacific/Kiritimati", date(2025, 1, 1), date(2025, 12, 31)),  # UTC+14
    ],
)
def test_the_reconciliation_window_in_utc_holds_exactly_the_local_dates(timezone: str, first: date, last: date) -> None:
    """The raw 365-day spend is read by UTC bounds, converting no timestamp: every UTC instant every 15 minutes
    around both edges is inside the bounds exactly when its local date (DuckDB's conversion) is in the window."""
    start, end = utc_span(first, last, timezone)
    with duckdb.connect() as con:
        wrong = con.execute(
            f"""
            select ts from (
                select unnest(generate_series(cast(? as timestamp), cast(? as timestamp), interval 15 minute)) as ts
                union all
                select unnest(generate_series(cast(? as timestamp), cast(? as timestamp), interval 15 minute))
            )
            where (ts >= ? and ts < ?)
                != (cast(timezone('{timezone}', timezone('UTC', ts)) as date) between ? and ?)
            """,
            [
                first - timedelta(days=2),
                first + timedelta(days=2),
                last - timedelta(days=2),
                last + timedelta(days=2),
                start,
                end,
                first,
                last,
            ],
        ).fetchall()
    assert not wrong, wrong[:3]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--allow", "bogus", "--reason", "x"], "valid: tier_change_share, customer_drop_share, tier_psi"),
        (["--allow", "tier_psi"], "--allow needs --reason"),
    ],
)
def test_bad_allow_exits_2(tmp_path: Path, capsys, extra: list[str], message: str) -> None:
    args = ["run", "--landing", str(tmp_path), "--as-of", "2025-06-30", "--home", str(tmp_path / "home")]
    assert main([*args, *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_broken_landing_is_blocked_before_dbt(tmp_path: Path) -> None:
    """The input gates hang on the landing assets: a bad batch stops the run before `dbt build` starts, so
    no model is built and the gates judged after dbt (here freshness, stale by 10 days) never run."""
    landing = tmp_path / "landing"
    generate_landing(landing, customers=200, days=400, seed=9, end=AS_OF - timedelta(days=10), dirty_rate=0.0)
    # A file where half of the rows are unusable: more than 5% quarantined.
    rows = [order(f"X{i}", "C0000001", "2025-06-01 10:00:00", "-5" if i % 2 else "10") for i in range(40)]
    write_csv(landing / "orders" / "broken.csv", rows)
    runner = Runner(tmp_path / "home", DEFAULT_POLICY_PATH)
    code, summary = runner(landing, AS_OF)
    assert code == 3 and summary["status"] == "blocked"
    assert summary["gates"]["blocked_by"] == ["quarantine_share"]
    gates = _gates(summary)
    assert "order_staleness_days" not in gates
    share = gates["quarantine_share"]
    assert share["figure"] == 0.5 and share["threshold"] == 0.05
    assert share["sample"][0]["source_file"].endswith("broken.csv") and share["sample"][0]["top_reasons"] == [
        "negative_amount"
    ]
    failed = {(c["asset"], c["check"]) for c in summary["checks"] if not c["passed"]}
    assert failed == {("landing/orders", "input_gates")}
    # dbt never started: no run results, no model in the warehouse.
    assert not (tmp_path / "home" / "dbt" / "target" / "run_results.json").exists()
    built = runner.warehouse(
        "select count(*) from information_schema.tables where table_schema in ('staging', 'intermediate', 'marts')"
    )
    assert built == [(0,)]
    assert not (tmp_path / "home" / "published" / "tierflow.duckdb").exists()
    assert Path(summary["gates"]["data_docs"]).exists()
