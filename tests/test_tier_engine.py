"""The stateful tier engine, scenario by scenario: each group is a small hand-written landing zone (one
customer per scenario) under one policy, run as of a first date and then as of a much later one, so the
second run steps through every day in between (gap tolerance); the expected timeline of every customer is
written out below and read back from the published `tier_changes`. Group B goes through `tierflow run`
(the real pipeline with its gates); the others use the faster engine harness (the same dbt models)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.conftest import RELAXED_GATES, Runner
from tests.engine_harness import Engine, write_landing

pytestmark = pytest.mark.slow

TIERS = """
tiers:
  - {code: bronze, name: Bronze}
  - {code: silver, name: Silver, min_spend: 1000, keep: {min_spend: 800}}
  - {code: gold, name: Gold, min_spend: 5000, keep: {min_spend: 4000}}
  - {code: diamond, name: Diamond, min_spend: 10000, keep: {min_spend: 8000}}
"""


def policy(version: str, engine_keys: str, tiers: str = TIERS) -> str:
    # The gates judge stale, tiny landing zones harshly; these scenarios test the engine, not the gates.
    gates = "gates: " + yaml.safe_dump(RELAXED_GATES, default_flow_style=True)
    return f"version: {version}\ncurrency: CNY\ntimezone: UTC\n{engine_keys}\n{tiers}\n{gates}"


def order(order_id: str, customer: str, day: str, amount: str, **extra: str) -> dict:
    return {"order_id": order_id, "customer_id": customer, "order_ts": f"{day} 12:00:00", "amount": amount, **extra}


def orders_of(customer: str, *spends: tuple[str, str]) -> list[dict]:
    return [order(f"{customer}-{i}", customer, day, amount) for i, (day, amount) in enumerate(spends)]


# --- Group A: periodic downgrades on 1 Jan every 12 months, soft landing (max_drop 1), inactivity ---------

POLICY_A = policy(
    "a1",
    "downgrade: {mode: periodic, every_months: 12, anchor: calendar, max_drop: 1, inactive_days: 365}",
)
# Version a2 raises Silver to 2000 (to keep too) and re-evaluates at once.
POLICY_A2 = policy(
    "a2",
    "downgrade: {mode: periodic, every_months: 12, anchor: calendar, max_drop: 1, inactive_days: 365}\n"
    "on_policy_change: immediate",
    TIERS.replace("min_spend: 1000, keep: {min_spend: 800}", "min_spend: 2000"),
)
ORDERS_A = [
    # keeps Gold at both evaluations with spend between the keep (4000) and entry (5000) thresholds
    *orders_of("keep", ("2024-06-01", "5000"), ("2025-03-01", "4200"), ("2026-03-01", "4100")),
    # entered Gold, then spends only Silver's worth a year: Silver at the next 1 Jan
    *orders_of("enter_not_keep", ("2024-06-01", "5000"), ("2025-03-01", "3000"), ("2026-03-01", "3000")),
    # Diamond with almost no spend afterwards lands softly: one tier per evaluation
    *orders_of("soft", ("2024-06-01", "12000"), ("2025-02-01", "100"), ("2026-02-01", "100")),
    # no spend for a year: the lowest tier at the next evaluation, whatever max_drop says
    *orders_of("inactive", ("2024-06-01", "6000")),
    # upgrades the day the order counts, keeps Silver with 900 (keep 800)
    *orders_of("upgrade", ("2025-05-10", "1200"), ("2026-05-10", "900")),
]


@pytest.fixture(scope="module")
def group_a(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    root = tmp_path_factory.mktemp("group_a")
    landing = write_landing(root / "landing", ORDERS_A, ["keep", "enter_not_keep", "soft", "inactive", "upgrade"])
    engine = Engine(root / "home")
    engine(landing, "2024-12-15", POLICY_A)
    engine(landing, "2027-01-15", POLICY_A)
    engine.after_a1 = engine.timeline()  # type: ignore[attr-defined]
    engine(landing, "2027-01-20", POLICY_A2)
    return engine


def test_periodic_downgrades_keep_soft_landing_and_inactivity(group_a: Engine) -> None:
    timeline = group_a.after_a1  # type: ignore[attr-defined]
    assert timeline["keep"] == [("2024-12-15", "initial", "gold", "qualified")]
    assert timeline["enter_not_keep"] == [
        ("2024-12-15", "initial", "gold", "qualified"),
        ("2026-01-01", "downgrade", "silver", "evaluation"),
    ]
    assert timeline["soft"] == [
        ("2024-12-15", "initial", "diamond", "qualified"),
        ("2026-01-01", "downgrade", "gold", "evaluation"),
        ("2027-01-01", "downgrade", "silver", "evaluation"),
    ]
    assert timeline["inactive"] == [
        ("2024-12-15", "initial", "gold", "qualified"),
        ("2026-01-01", "downgrade", "bronze", "inactivity"),
    ]
    assert timeline["upgrade"] == [
        ("2024-12-15", "initial", "bronze", "qualified"),
        ("2025-05-10", "upgrade", "silver", "qualified"),
    ]


def test_a_new_policy_version_re_evaluates_at_once(group_a: Engine) -> None:
    timeline = group_a.timeline()
    # Silver now needs 2000 to keep: the first day under a2 re-evaluates (max_drop still 1).
    assert timeline["upgrade"][-1] == ("2027-01-16", "downgrade", "bronze", "policy_change")
    assert timeline["soft"][-1] == ("2027-01-16", "downgrade", "bronze", "policy_change")
    # 3000 over the window still keeps Silver; Gold's thresholds did not change.
    assert timeline["enter_not_keep"][-1][0] == "2026-01-01"
    assert timeline["keep"] == [("2024-12-15", "initial", "gold", "qualified")]
    state = group_a.state()
    assert state["keep"] == ("gold", "gold", "2024-12-15", "2028-01-01")
    versions = group_a.query("select distinct policy_version from published_state.tier_changes order by 1")
    assert versions == [("a1",), ("a2",)]


def test_history_is_scd2_over_the_changes(group_a: Engine) -> None:
    history = group_a.query(
        "select tier, cast(valid_from as varchar), cast(valid_to as varchar), reason, is_current "
        "from published_state.tier_history where customer_id = 'soft' order by valid_from"
    )
    assert history == [
        ("diamond", "2024-12-15", "2026-01-01", "qualified", False),
        ("gold", "2026-01-01", "2027-01-01", "evaluation", False),
        ("silver", "2027-01-01", "2027-01-16", "evaluation", False),
        ("bronze", "2027-01-16", None, "policy_change", True),
    ]


def test_re_running_a_date_adds_no_change(group_a: Engine, tmp_path: Path) -> None:
    before = group_a.query("select count(*) from published_state.tier_changes")
    landing = write_landing(tmp_path / "same", ORDERS_A, ["keep", "enter_not_keep", "soft", "inactive", "upgrade"])
    group_a(landing, "2027-01-20", POLICY_A2)
    assert group_a.query("select count(*) from published_state.tier_changes") == before


# --- Group B (real pipeline): immediate downgrades, pending days, refunds, points -------------------------

POLICY_B = policy(
    "b1",
    """
qualification: {window_days: 30, pending_days: 3}
downgrade: {mode: immediate}
overrides: overrides.csv
points:
  per_unit: 1
  multipliers: [{name: shoe_day, start_date: 2025-06-22, end_date: 2025-06-22, categories: [shoes], factor: 2}]
  events: {referral: 100}
  expire_days: 60
""",
)
ORDERS_B = [
    # counts on 2025-03-04 (3 pending days): Silver then, out of the 30-day window from 2025-04-03
    order("i-1", "immediate", "2025-03-01", "1000"),
    # refunded inside the pending window: never counts, never upgrades
    order("r-1", "refunded", "2025-03-01", "1500", status="refunded", refunded_amount="1500"),
    order("r-2", "partly_refunded", "2025-03-01", "1500", refunded_amount="600"),
    # points: 300 (out of the 60-day balance, in 365 days), 500 (expiring within 30 days), 100 shoes on the
    # double-points day (200), 50 food the same day (50), a referral (100) and a sign-in (no points)
    order("p-1", "points", "2025-03-20", "300"),
    order("p-2", "points", "2025-05-18", "500"),
    order("p-3", "points", "2025-06-22", "100", category="shoes"),
    order("p-4", "points", "2025-06-22", "50", category="food"),
]
EVENTS_B = [
    {"event_id": "e-1", "customer_id": "points", "event_ts": "2025-06-28 09:00:00", "event_type": "referral"},
    {"event_id": "e-2", "customer_id": "points", "event_ts": "2025-06-28 10:00:00", "event_type": "sign_in"},
]


@pytest.fixture(scope="module")
def group_b(tmp_path_factory: pytest.TempPathFactory) -> Runner:
    root = tmp_path_factory.mktemp("group_b")
    landing = write_landing(
        root / "landing", ORDERS_B, ["immediate", "refunded", "partly_refunded", "points"], EVENTS_B
    )
    # An override for a customer nobody knows: reported in every run summary, never applied.
    (landing / "overrides.csv").write_text(
        "customer_id,tier,reason,valid_from,valid_until,mode\nghost,silver,typo,2025-03-01,,fixed\n"
    )
    policy_file = root / "policy.yml"
    policy_file.write_text(POLICY_B)
    runner = Runner(root / "home")
    for as_of in ("2025-03-02", "2025-06-30"):
        code, summary = runner(landing, as_of, "--policy", str(policy_file))
        assert code == 0, summary
        [skipped] = summary["overrides_not_applied"]
        assert (skipped["customer_id"], skipped["tier"], skipped["issue"]) == ("ghost", "silver", "unknown_customer")
    return runner


def test_immediate_downgrade_and_pending_refunds_through_the_pipeline(group_b: Runner) -> None:
    rows = group_b.published(
        "select customer_id, cast(effective_date as varchar), change_type, to_tier, reason from tier_changes "
        "order by customer_id, effective_date"
    )
    timeline: dict[str, list[tuple]] = {}
    for customer, *change in rows:
        timeline.setdefault(customer, []).append(tuple(change))
    assert timeline["immediate"] == [
        ("2025-03-02", "initial", "bronze", "qualified"),
        ("2025-03-04", "upgrade", "silver", "qualified"),
        ("2025-04-03", "downgrade", "bronze", "evaluation"),
    ]
    assert timeline["refunded"] == [("2025-03-02", "initial", "bronze", "qualified")]
    assert timeline["partly_refunded"] == [("2025-03-02", "initial", "bronze", "qualified")]
    assert (
        group_b.published("select next_evaluation_date from customer_tiers where customer_id = 'immediate'")[0][
            0
        ].isoformat()
        == "2025-07-01"
    )


def test_points_with_a_multiplier_day_events_and_expiry(group_b: Runner) -> None:
    rows = group_b.published(
        "select points_balance, points_earned_365d, points_expiring_30d from customer_tiers "
        "where customer_id = 'points'"
    )
    # balance: earned after 2025-05-01 (60 days): 500 + 200 + 50 + 100; the 500 counted on 2025-05-21
    # expires within 30 days; over 365 days the 300 of March counts too.
    assert rows == [(850, 1150, 500)]


# --- Groups C and D: calendar (1 Jan, 1 Jul) vs anniversary anchors every 6 months; minimum stay --------

ANCHOR_KEYS = (
    "qualification: {{window_days: 3}}\n"
    "downgrade: {{mode: periodic, every_months: 6, anchor: {anchor}, min_stay_days: {stay}}}"
)
ORDERS_CD = [
    *orders_of("early", ("2025-05-20", "5000")),  # Gold from 2025-05-20; out of the 3-day window at once
    *orders_of("late", ("2025-06-20", "5000")),  # Gold from 2025-06-20, 11 days before 1 Jul
]


@pytest.fixture(scope="module")
def groups_cd(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Engine]:
    root = tmp_path_factory.mktemp("groups_cd")
    landing = write_landing(root / "landing", ORDERS_CD, ["early", "late"])
    engines = {}
    for name, anchor, stay in (("calendar", "calendar", 30), ("anniversary", "anniversary", 0)):
        engines[name] = Engine(root / name)
        for as_of in ("2025-01-01", "2026-01-01"):
            engines[name](landing, as_of, policy(name, ANCHOR_KEYS.format(anchor=anchor, stay=stay)))
    return engines


def test_calendar_anchors_and_minimum_stay(groups_cd: dict[str, Engine]) -> None:
    timeline = groups_cd["calendar"].timeline()
    assert timeline["early"] == [
        ("2025-01-01", "initial", "bronze", "qualified"),
        ("2025-05-20", "upgrade", "gold", "qualified"),
        ("2025-07-01", "downgrade", "bronze", "evaluation"),
    ]
    # 1 Jul comes 11 days after entering Gold; the 30-day minimum stay defers the evaluation to day 30.
    assert timeline["late"] == [
        ("2025-01-01", "initial", "bronze", "qualified"),
        ("2025-06-20", "upgrade", "gold", "qualified"),
        ("2025-07-20", "downgrade", "bronze", "evaluation"),
    ]


def test_anniversary_anchors(groups_cd: dict[str, Engine]) -> None:
    timeline = groups_cd["anniversary"].timeline()
    assert timeline["early"][1:] == [
        ("2025-05-20", "upgrade", "gold", "qualified"),
        ("2025-11-20", "downgrade", "bronze", "evaluation"),
    ]
    assert timeline["late"][1:] == [
        ("2025-06-20", "upgrade", "gold", "qualified"),
        ("2025-12-20", "downgrade", "bronze", "evaluation"),
    ]


# --- Qualification periods: the calendar year, and the membership year from the signup anniversary ------
# Under either, keeping looks at the year so far and at the year just completed: status earned in one year
# holds through the next (README "Tier engine"), even with immediate downgrades.

PERIOD_KEYS = "qualification: {{period: {period}}}\ndowngrade: {{mode: immediate}}"
ORDERS_PERIODS = [
    *orders_of("december", ("2024-12-20", "1000")),  # Silver on 2024-12-20, nothing after
    *orders_of("returns", ("2024-12-20", "1000"), ("2025-03-10", "1200")),  # spends again in March 2025
]
UP = ("2024-12-20", "upgrade", "silver", "qualified")


@pytest.mark.parametrize(
    ("period", "december", "returns"),
    [
        # Calendar years: 2024's spend keeps Silver through 2025; 2025 had none, so 2026 starts in Bronze.
        # March 2025 keeps the other member through 2026.
        ("calendar_year", [UP, ("2026-01-01", "downgrade", "bronze", "evaluation")], [UP]),
        # Membership years from 15 June: December 2024 and March 2025 fall in the same year (to 2025-06-14),
        # which keeps Silver until 2026-06-14 for both.
        (
            "membership_year",
            [UP, ("2026-06-15", "downgrade", "bronze", "evaluation")],
            [UP, ("2026-06-15", "downgrade", "bronze", "evaluation")],
        ),
    ],
)
def test_calendar_and_membership_year_periods(tmp_path: Path, period: str, december: list, returns: list) -> None:
    landing = write_landing(tmp_path / "landing", ORDERS_PERIODS, ["december", "returns"])
    (landing / "profiles" / "profiles.csv").write_text(
        "customer_id,signup_date\ndecember,2020-06-15\nreturns,2020-06-15\n", encoding="utf-8"
    )
    engine = Engine(tmp_path / "home")
    keys = policy(period, PERIOD_KEYS.format(period=period))
    engine(landing, "2024-12-01", keys)
    engine(landing, "2026-06-30", keys)
    timeline = engine.timeline()
    initial = ("2024-12-01", "initial", "bronze", "qualified")
    assert timeline == {"december": [initial, *december], "returns": [initial, *returns]}


# --- Gap tolerance: daily runs and one run over skipped days end in the same state -----------------------


ORDERS_GAP = [
    *orders_of("drops", ("2025-06-28", "5000")),  # Gold on the first run, out of the window by 1 Jul
    *orders_of("rises", ("2025-07-02", "1200")),  # Silver on a day the skipping runs never ran
]


def test_skipped_days_of_runs_equal_daily_runs(tmp_path: Path) -> None:
    landing = write_landing(tmp_path / "landing", ORDERS_GAP, ["drops", "rises"])
    keys = policy("gap", ANCHOR_KEYS.format(anchor="calendar", stay=0))
    daily, skipping = Engine(tmp_path / "daily"), Engine(tmp_path / "skipping")
    for engine in (daily, skipping):
        engine(landing, "2025-06-29", keys)
    for day in ("2025-06-30", "2025-07-01", "2025-07-02", "2025-07-03"):
        daily(landing, day, keys)
    skipping(landing, "2025-07-03", keys)
    assert daily.state() == skipping.state()
    assert (
        daily.timeline()
        == skipping.timeline()
        == {
            "drops": [
                ("2025-06-29", "initial", "gold", "qualified"),
                ("2025-07-01", "downgrade", "bronze", "evaluation"),
            ],
            "rises": [
                ("2025-06-29", "initial", "bronze", "qualified"),
                ("2025-07-02", "upgrade", "silver", "qualified"),
            ],
        }
    )


# --- Manual overrides: fixed and floor, starting and ending; unknown customers and tiers are not applied ---

OVERRIDES_CSV = """customer_id,tier,reason,valid_from,valid_until,mode
fixed_member,bronze,fraud review,2025-02-01,2025-02-10,fixed
floor_member,gold,complaint goodwill,2025-02-05,2025-02-20,floor
ghost,gold,typo,2025-02-01,,fixed
fixed_member,platinum,not a tier,2025-02-01,,fixed
"""


def test_overrides_start_and_end_and_unknown_ones_are_reported(tmp_path: Path) -> None:
    landing = write_landing(
        tmp_path / "landing", orders_of("fixed_member", ("2025-01-10", "6000")), ["fixed_member", "floor_member"]
    )
    (landing / "overrides.csv").write_text(OVERRIDES_CSV)
    engine = Engine(tmp_path / "home")
    keys = policy("o1", "overrides: overrides.csv")
    engine(landing, "2025-01-15", keys)
    engine(landing, "2025-03-01", keys)
    timeline = engine.timeline()
    assert timeline["fixed_member"] == [
        ("2025-01-15", "initial", "gold", "qualified"),
        ("2025-02-01", "override_start", "bronze", "override"),
        ("2025-02-11", "override_end", "gold", "override"),
    ]
    assert timeline["floor_member"] == [
        ("2025-01-15", "initial", "bronze", "qualified"),
        ("2025-02-05", "override_start", "gold", "override"),
        ("2025-02-21", "override_end", "bronze", "override"),
    ]
    assert engine.state()["fixed_member"][:2] == ("gold", "gold")
    issues = engine.query("select customer_id, tier_code, issue from intermediate.int_overrides_checked order by all")
    assert issues == [
        ("fixed_member", "bronze", None),
        ("fixed_member", "platinum", "unknown_tier"),
        ("floor_member", "gold", None),
        ("ghost", "gold", "unknown_customer"),
    ]
    # While an override applies, the published tier is the override's and the computed one goes on.
    during = Engine(tmp_path / "during")
    during(landing, "2025-02-06", keys)
    assert during.state()["fixed_member"][:2] == ("bronze", "gold")
    assert during.state()["floor_member"][:2] == ("gold", "bronze")


def test_an_overrides_path_outside_the_landing_zone_and_home_is_refused(tmp_path: Path) -> None:
    from tierflow.ingest.overrides import OverridesError, resolve_location

    (tmp_path / "landing").mkdir()
    (tmp_path / "secret.csv").write_text("x")
    for location in ("../secret.csv", str(tmp_path / "secret.csv")):
        with pytest.raises(OverridesError, match="must be inside the landing zone"):
            resolve_location(location, tmp_path / "landing", tmp_path / "home")
