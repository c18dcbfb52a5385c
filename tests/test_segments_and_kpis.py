"""Lifecycle stages at their day boundaries, the published classification, tier benefits, KPIs with their
history and tier migrations over two published runs, and the HTML report, on a hand-written landing zone
run through the real job. (RFM ties, behaviour flags, age on the birthday, preferred-category ties and the
personal cadence are dbt unit tests in models/intermediate/_intermediate__unit_tests.yml, run by
test_tier_rules.py::test_dbt_unit_tests_pass_on_the_warehouse.)"""

from __future__ import annotations

import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import ORDER_COLUMNS, Runner, order, profile, write_csv

AS_OF_1, AS_OF_2 = "2025-06-30", "2025-07-31"
PROFILE_COLUMNS = ["customer_id", "signup_date", "birth_date", "gender", "occupation", "interests", "marketing_opt_in"]

# As of 2025-06-30 (local dates; the policy defaults new 30, active 90, dormant 180, churned 365 days).
LIFECYCLE = {
    "l_new": (["2025-06-01"], "new"),  # first order 29 days back
    "l_new_out": (["2025-05-31"], "active"),  # first order exactly 30 days back: no longer new
    "l_react": (["2024-10-01", "2025-06-20"], "reactivated"),  # 262 days of silence before a recent order
    "l_react_no": (["2025-01-01", "2025-06-20"], "active"),  # a gap of 170 days is no reactivation
    "l_day90": (["2025-04-01"], "active"),
    "l_day91": (["2025-03-31"], "at_risk"),
    "l_day180": (["2025-01-01"], "at_risk"),
    "l_day181": (["2024-12-31"], "dormant"),
    "l_day365": (["2024-06-30"], "dormant"),
    "l_day366": (["2024-06-29"], "churned"),
    "l_prospect": ([], "prospect"),
}
ORDERS = [
    order(f"{cid}-{i}", cid, f"{day} 10:00:00", "100.00")
    for cid, (days, _) in LIFECYCLE.items()
    for i, day in enumerate(days)
] + [
    order("m-down", "m_down", "2024-07-15 10:00:00", "1500.00"),  # silver on 06-30, out of the window by 07-31
    order("m-up", "m_up", "2025-07-10 10:00:00", "6000.00"),  # invisible on 06-30, gold on 07-31
]
PROFILES = [
    profile(cid, birth_date="1990-06-30", gender="F", occupation="Teacher", interests="Travel;Cooking")
    for cid in LIFECYCLE
] + [
    profile("m_down", birth_date="2007-06-30", gender="m", occupation="Astronaut", marketing_opt_in="true"),
    profile("m_up"),
    profile("n_late", signup_date="2025-07-15"),  # known from the second run only
]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Runner, dict, dict, dict]:
    root = tmp_path_factory.mktemp("segments")
    write_csv(root / "landing" / "orders" / "orders.csv", ORDERS, ORDER_COLUMNS)
    write_csv(root / "landing" / "profiles" / "profiles.csv", PROFILES, PROFILE_COLUMNS)
    runner = Runner(root / "home")
    # The shipped policy downgrades on 1 Jan only; these KPIs need a member to fall between the two runs.
    policy = root / "policy.yml"
    policy.write_text(runner.policy.read_text().replace("mode: periodic", "mode: immediate"))
    assert "mode: immediate" in policy.read_text()
    code_1, first = runner(root / "landing", AS_OF_1, "--policy", str(policy))
    assert code_1 == 0, first.get("message")
    # What the first run published, read before the second run replaces it.
    snapshot = {
        "stages": dict(runner.published("select customer_id, lifecycle_stage from customer_tiers")),
        "segments": {
            r[0]: r[1:]
            for r in runner.published(
                "select customer_id, rfm_segment, age_band, gender, occupation, interests, birthday_month, "
                "is_marketing_opt_in from customer_segments"
            )
        },
        "kpis": {
            r[0]: r[1:]
            for r in runner.published(
                "select tier, members, member_share, active_rate, repurchase_rate, churn_share, upgrade_rate "
                "from tier_kpis"
            )
        },
        "stage_kpis": dict(
            runner.published("select segment, members from segment_kpis where dimension = 'lifecycle_stage'")
        ),
    }
    code_2, second = runner(root / "landing", AS_OF_2, "--policy", str(policy))
    assert code_2 == 0, second.get("message")
    return runner, first, second, snapshot


def test_lifecycle_stages_at_their_day_boundaries(two_runs) -> None:
    stages = two_runs[3]["stages"]
    for cid, (_, expected) in LIFECYCLE.items():
        assert stages[cid] == expected, cid
    assert stages["m_down"] == "dormant" and stages["m_up"] == "prospect"


def test_customer_segments_classify_every_customer(two_runs) -> None:
    segments = two_runs[3]["segments"]
    assert len(segments) == len(LIFECYCLE) + 2
    assert segments["l_prospect"][0] == "no_purchase"
    assert segments["l_new"][1:] == ("35_44", "female", "teacher", "travel;cooking", 6, False)
    # born 2007-06-30: 18 on the as-of date itself; an occupation the seed does not know is `other`
    assert segments["m_down"][1:] == ("18_24", "male", "other", None, 6, True)
    assert segments["m_up"][1:4] == ("unknown", "unknown", "unknown")


def test_tier_kpis_of_the_first_run(two_runs) -> None:
    kpis = two_runs[3]["kpis"]
    assert set(kpis) == {"bronze", "silver", "gold", "diamond"}
    # 13 known customers: 12 bronze, m_down silver. Bronze: active l_new, l_new_out, l_react, l_react_no,
    # l_day90 (5/12); 2+ orders in 365 days l_react, l_react_no (2/12); churned l_day366 (1/12).
    assert kpis["bronze"] == (12, Decimal("0.9231"), Decimal("0.4167"), Decimal("0.1667"), Decimal("0.0833"), None)
    assert kpis["silver"][:2] == (1, Decimal("0.0769")) and kpis["gold"][0] == 0
    assert two_runs[3]["stage_kpis"] == {
        "prospect": 2,
        "new": 1,
        "reactivated": 1,
        "active": 3,
        "at_risk": 2,
        "dormant": 3,
        "churned": 1,
    }


def test_migrations_and_kpi_history_after_the_second_run(two_runs) -> None:
    runner, first, second, _ = two_runs
    moves = {
        (r[0], r[1]): r[2]
        for r in runner.published("select from_tier, to_tier, customers from tier_migrations where customers > 0")
    }
    assert moves == {("bronze", "bronze"): 11, ("silver", "bronze"): 1, ("bronze", "gold"): 1, (None, "bronze"): 1}
    assert runner.published("select count(*), count(distinct previous_as_of_date) from tier_migrations") == [
        (16 + 1, 1)
    ]
    history = runner.published(
        "select cast(as_of_date as varchar), tier, members, upgrade_rate, downgrade_rate, source_run_id, run_id "
        "from tier_kpis order by as_of_date, tier_rank"
    )
    assert [(r[0], r[1], r[2]) for r in history] == [
        (AS_OF_1, "bronze", 12),
        (AS_OF_1, "silver", 1),
        (AS_OF_1, "gold", 0),
        (AS_OF_1, "diamond", 0),
        (AS_OF_2, "bronze", 13),
        (AS_OF_2, "silver", 0),
        (AS_OF_2, "gold", 1),
        (AS_OF_2, "diamond", 0),
    ]
    assert {r[5] for r in history[:4]} == {first["run_id"]} and {r[5] for r in history[4:]} == {second["run_id"]}
    assert {r[6] for r in history} == {second["run_id"]}
    # bronze now: 12 of its 13 members were known before, m_down fell into it; gold: m_up rose into it
    assert history[4][3:5] == (Decimal("0.0000"), Decimal("0.0833"))
    assert history[6][3:5] == (Decimal("1.0000"), Decimal("0.0000"))
    stages = runner.published("select count(distinct as_of_date) from segment_kpis")
    assert stages == [(2,)]


def test_tier_benefits_reach_the_crm_export(two_runs) -> None:
    runner = two_runs[0]
    benefits = runner.published(
        "select tier, discount_pct, points_multiplier, has_free_shipping, has_priority_service, has_birthday_gift "
        "from tier_benefits order by tier_rank"
    )
    assert benefits == [
        ("bronze", Decimal("0.00"), Decimal("1.00"), False, False, False),
        ("silver", Decimal("3.00"), Decimal("1.20"), False, False, True),
        ("gold", Decimal("5.00"), Decimal("1.50"), True, False, True),
        ("diamond", Decimal("8.00"), Decimal("2.00"), True, True, True),
    ]
    crm = runner.published("select tier, discount_pct, rfm_segment from crm_segments where customer_id = 'm_up'")
    assert crm == [("gold", Decimal("5.00"), "new_customers")]


def test_each_published_run_writes_its_report(two_runs) -> None:
    runner, first, second, _ = two_runs
    reports = runner.home / "reports"
    for summary in (first, second):
        path = reports / f"{summary['as_of']}_{summary['run_id']}.html"
        html = path.read_text(encoding="utf-8")
        assert html.count("<svg") == 5 and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
        assert "<script" not in html and "Top movers" in html
        # Figures are labelled in words; the data-quality figure sits in its own section, after the KPIs.
        assert "Recently active" in html and "recently_active_share" not in html and "unmapped_" not in html
        assert html.index("Data quality") > html.index("Top movers") > html.index("Recently active")
        assert html.index("occupation maps to no category") > html.index("Data quality")
    latest = (reports / "latest.html").read_text(encoding="utf-8")
    assert f"as of {AS_OF_2}" in latest and "m_up" in latest and "m_down" in latest  # the top movers


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's chromium, installed here when missing (the test image starts without it)."""
    if not CHROMIUM.exists():
        apt = shutil.which("apt-get")
        assert apt, "chromium is missing and apt-get is not available to install it"
        env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        subprocess.run([apt, "update", "-qq"], check=True, capture_output=True, timeout=600, env=env)
        # Without the recommended packages: they pulled in udev and a systemd upgrade whose scripts fail in a
        # container, and apt then exited 100 although chromium itself was installed.
        installed = subprocess.run(
            [apt, "install", "-y", "-qq", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=300", "chromium"],
            capture_output=True,
            text=True,
            timeout=1200,
            env=env,
        )
        assert CHROMIUM.exists(), f"apt-get install chromium exited {installed.returncode}: {installed.stderr[-2000:]}"
    return CHROMIUM


def screenshot_report(chromium: Path, report: Path, screenshot: Path) -> list[str]:
    """Open the report in headless Chromium, save a full-page screenshot, return the console errors."""
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(report.resolve().as_uri(), wait_until="load")
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return errors


@pytest.mark.slow
def test_report_renders_in_headless_chromium(two_runs, chromium: Path, tmp_path: Path) -> None:
    from PIL import Image

    runner = two_runs[0]
    screenshot = tmp_path / "report.png"
    errors = screenshot_report(chromium, runner.home / "reports" / "latest.html", screenshot)
    assert errors == []
    with Image.open(screenshot) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
        assert image.height > 900
    assert colours is not None and len(colours) > 50  # charts drew: far more than a blank page's few colours
