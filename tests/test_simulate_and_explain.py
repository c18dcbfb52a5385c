"""`tierflow simulate` and `tierflow explain` on a hand-written landing zone run through the real job: the
migration matrix and the movers under a candidate policy, nothing live touched, the HTML page drawn by real
Chromium, and the published explanation of known customers as text and JSON."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
from pathlib import Path

import pytest

from tests import test_segments_and_kpis as report_tests
from tests.conftest import ORDER_COLUMNS, PROFILE_COLUMNS, Runner, order, profile, write_csv
from tierflow.cli import main

chromium = report_tests.chromium  # the session fixture that installs Chromium when missing

AS_OF = "2025-06-30"
# Net spend over the 365-day window as of AS_OF; the shipped policy: silver 1000, gold 5000, diamond 10000.
SPEND = {"c_silver": "1500.00", "c_gold": "6000.00", "c_silver_high": "4500.00", "c_diamond": "12000.00"}
ORDERS = [order(f"o-{cid}", cid, "2025-06-01 10:00:00", amount) for cid, amount in SPEND.items()] + [
    order("o-late", "c_silver", "2025-07-02 10:00:00", "9000.00"),  # after the simulated date (07-01): invisible
]
PROFILES = [profile(cid) for cid in [*SPEND, "c_none"]]
# The candidate: silver 2000 (c_silver falls to bronze), gold 4000 (c_silver_high rises), diamond 6000 (c_gold).
# Its notices (the shipped policy has none): c_silver_high is 1500 short of diamond (within 25% of 6000);
# c_silver keeps silver only with 2000 by 1 Jan and has 1500 (a downgrade warning within a year); points
# never expire under it.
CANDIDATE = """
version: "2026.2-candidate"
currency: CNY
timezone: Asia/Shanghai
notices:
  approaching_upgrade: {within_share: 0.25}
  downgrade_warning: {days_before_evaluation: 366}
  points_expiring: {days_before: 30}
tiers:
  - {code: bronze, name: Bronze}
  - {code: silver, name: Silver, min_spend: 2000}
  - {code: gold, name: Gold, min_spend: 4000}
  - {code: diamond, name: Diamond, min_spend: 6000}
"""


def _cli(*args: str) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(list(args))
    return code, stdout.getvalue(), stderr.getvalue()


def _fingerprint(root: Path) -> dict[str, str]:
    """SHA-256 of every file under `root` (the warehouse, the published files)."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Runner, Path]:
    root = tmp_path_factory.mktemp("whatif")
    write_csv(root / "landing" / "orders" / "orders.csv", ORDERS, ORDER_COLUMNS)
    write_csv(root / "landing" / "profiles" / "profiles.csv", PROFILES, PROFILE_COLUMNS)
    runner = Runner(root / "home")
    code, summary = runner(root / "landing", AS_OF)
    assert code == 0, summary.get("message")
    (root / "candidate.yml").write_text(CANDIDATE, encoding="utf-8")
    return runner, root


@pytest.fixture(scope="module")
def simulation(published: tuple[Runner, Path]) -> tuple[dict, dict, dict, Path]:
    runner, root = published
    live = {
        "warehouse": _fingerprint(runner.home / "warehouse"),
        "published": _fingerprint(runner.home / "published"),
        "exports": _fingerprint(runner.home / "exports"),
    }
    out = root / "simulation"
    code, stdout, stderr = _cli(
        "simulate", "--policy", str(root / "candidate.yml"), "--home", str(runner.home), "--out", str(out), "--json"
    )
    assert code == 0, stderr
    after = {
        "warehouse": _fingerprint(runner.home / "warehouse"),
        "published": _fingerprint(runner.home / "published"),
        "exports": _fingerprint(runner.home / "exports"),
    }
    return json.loads(stdout), live, after, out


@pytest.mark.slow
def test_simulation_counts_every_member_and_the_moves(simulation) -> None:
    result = simulation[0]
    assert result["as_of"] == "2025-07-01"  # the next run after the publication as of AS_OF
    assert result["current"]["policy_version"] == "2026.1"
    assert result["current"]["source"] == f"the next run under the current policy, after the publication of {AS_OF}"
    matrix = result["matrix"]
    assert matrix["columns"] == ["bronze", "silver", "gold", "diamond"]
    assert matrix["rows"] == ["bronze", "silver", "gold", "diamond"]
    grid = zip(matrix["rows"], matrix["counts"], strict=True)
    cells = {(r, c): n for r, row in grid for c, n in zip(matrix["columns"], row, strict=True)}
    assert sum(cells.values()) == result["customers"] == 5
    # Under the engine a new policy upgrades at once and, with on_policy_change: next_evaluation (the
    # default), downgrades at the next evaluation: c_silver keeps silver for now, bronze once re-qualified.
    expected = {("bronze", "bronze"): 1, ("silver", "silver"): 1, ("silver", "gold"): 1}
    expected |= {("gold", "diamond"): 1, ("diamond", "diamond"): 1}
    assert {k: v for k, v in cells.items() if v} == expected
    assert (result["moved"], result["upgraded"], result["downgraded"]) == (2, 2, 0)
    assert result["moved_share"] == 0.4
    requalified = result["requalified_matrix"]
    assert requalified["counts"][1] == [1, 0, 1, 0]  # from silver: c_silver to bronze, c_silver_high to gold
    assert result["requalified_moved"] == 3
    tiers = {t["tier"]: t for t in result["tiers"]}
    assert [tiers[c]["current_members"] for c in matrix["columns"]] == [1, 2, 1, 1]
    assert [tiers[c]["candidate_members"] for c in matrix["columns"]] == [1, 1, 1, 2]
    assert [tiers[c]["requalified_members"] for c in matrix["columns"]] == [2, 0, 1, 2]
    assert tiers["diamond"]["current_avg_spend_365d"] == 12000.0
    assert tiers["diamond"]["candidate_avg_spend_365d"] == 9000.0
    assert tiers["silver"]["current_avg_spend_365d"] == 3000.0
    assert tiers["silver"]["candidate_avg_spend_365d"] == 1500.0
    assert "candidate tier" in result["definition"]
    assert result["notices"] == {
        "approaching_upgrade": {"current": 0, "candidate": 1},
        "downgrade_warning": {"current": 0, "candidate": 1},
        "points_expiring": {"current": 0, "candidate": 0},
    }


@pytest.mark.slow
def test_simulation_touches_nothing_live(simulation) -> None:
    _, before, after, out = simulation
    assert before["warehouse"] and before["published"]
    assert after == before
    assert sorted(p.name for p in out.iterdir()) == ["simulation.html", "simulation.json"]


@pytest.mark.slow
def test_simulation_page_renders_in_headless_chromium(simulation, chromium: Path, tmp_path: Path) -> None:
    from PIL import Image

    page = simulation[3] / "simulation.html"
    text = page.read_text(encoding="utf-8")
    assert "<script" not in text and "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    screenshot = tmp_path / "simulation.png"
    assert report_tests.screenshot_report(chromium, page, screenshot) == []
    with Image.open(screenshot) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50  # the heat maps drew


def test_simulation_of_a_published_date_exits_2(published) -> None:
    runner, root = published
    code, stdout, stderr = _cli(
        "simulate", "--policy", str(root / "candidate.yml"), "--home", str(runner.home), "--as-of", AS_OF
    )
    assert code == 2 and stdout == ""
    assert f"--as-of {AS_OF} is not after the last publication ({AS_OF})" in stderr


def test_invalid_candidate_policy_exits_2_naming_the_key(published) -> None:
    runner, root = published
    bad = root / "bad.yml"
    bad.write_text(CANDIDATE.replace("min_spend: 4000", "min_spend: 1500"), encoding="utf-8")
    code, stdout, stderr = _cli("simulate", "--policy", str(bad), "--home", str(runner.home))
    assert code == 2
    assert "tiers[2].min_spend" in stderr and "Traceback" not in stderr
    assert stdout == ""


def test_explain_text_for_a_known_customer(published) -> None:
    runner, _ = published
    code, stdout, stderr = _cli("explain", "c_silver_high", "--home", str(runner.home))
    assert code == 0, stderr
    assert f"customer c_silver_high as of {AS_OF}: Silver (silver)" in stdout
    assert "spend 4,500.00, 1 order(s), " in stdout and " point(s) over the last 365 days" in stdout
    assert "why        initial (qualified) on" in stdout
    lines = stdout.splitlines()
    held = next(line for line in lines if "silver min_spend" in line)
    assert "1,000.00" in held and "4,500.00" in held and held.endswith(" met")
    keep = next(line for line in lines if "silver keep min_spend" in line)
    assert "800.00" in keep and keep.endswith(" met")
    lift = next(line for line in lines if "gold min_spend" in line)
    assert "5,000.00" in lift and lift.endswith("not met")
    assert any(line.strip().startswith("lifts") and "500.00 more spend" in line for line in lines)


def test_explain_json_matches_the_published_table(published) -> None:
    runner, _ = published
    code, stdout, _ = _cli("explain", "c_diamond", "--home", str(runner.home), "--json")
    assert code == 0
    document = json.loads(stdout)
    assert (document["tier"], document["tier_reason"], document["qualifying_spend"]) == ("diamond", "qualified", 12000)
    assert document["next_tier"] is None and document["lift_condition"] == "top tier: nothing above it"
    held = {"scope": "held", "tier": "diamond", "metric": "min_spend", "threshold": 10000.0, "value": 12000.0}
    held["pooled"] = False  # judged on the member's own figures: the shipped policy does not pool households
    keep = {**held, "scope": "keep", "threshold": 8000.0}  # the shipped policy keeps diamond from 8000
    assert document["thresholds"] == [{**held, "met": True}, {**keep, "met": True}]
    assert document["keep_min_spend"] == 8000.0 and document["tier_since"] == AS_OF
    assert document["next_evaluation_date"] == "2026-01-01"  # periodic downgrades, every 12 months from 1 Jan
    published_rows = runner.published("select count(*), count(distinct customer_id) from tier_explanations")
    assert published_rows == [(5, 5)]


def test_explain_unknown_customer_or_date_exits_2(published) -> None:
    runner, _ = published
    code, _, stderr = _cli("explain", "nobody", "--home", str(runner.home))
    assert code == 2 and "'nobody' is not among the tiers published as of 2025-06-30" in stderr
    code, _, stderr = _cli("explain", "c_gold", "--home", str(runner.home), "--as-of", "2025-01-01")
    assert code == 2 and "nothing was published as of 2025-01-01" in stderr
