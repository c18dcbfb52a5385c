"""What users are promised when things go wrong: a failing quality gate publishes nothing and leaves the
last good files byte for byte; a file missing a required column stops the run before any transformation
with a message naming the file and the column."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from tests.conftest import Runner, order, profile, write_csv
from tierflow.paths import EXPECTATIONS_DIR

AS_OF = "2025-06-30"


def _digest_tree(root: Path) -> dict[str, str]:
    """Every file's SHA-256 and every link's target under `root`."""
    return {
        str(p.relative_to(root)): f"-> {p.readlink()}" if p.is_symlink() else hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_symlink() or p.is_file()
    }


def test_failing_gate_exits_3_and_leaves_published_files_untouched(tmp_path: Path, landing, run: Runner) -> None:
    land = landing(
        [
            order("o1", "c1", "2025-06-01 10:00:00", "1200.00"),
            order("o2", "c2", "2025-06-02 10:00:00", "50.00"),
        ],
        [profile("c1"), profile("c2")],
    )
    code, first = run(land, AS_OF)
    assert code == 0, first.get("message")
    assert first["gates"]["data_docs"] is None  # gates.data_docs: on_failure, and every suite passed
    published_before = _digest_tree(run.home / "published")
    exports_before = sorted(p.name for p in (run.home / "exports" / "crm").iterdir())

    # An operator's stricter suite: this programme expects at least a million members.
    strict = tmp_path / "strict_expectations"
    shutil.copytree(EXPECTATIONS_DIR, strict)
    suite = json.loads((strict / "customer_tiers.json").read_text())
    suite["expectations"].append({"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1_000_000}})
    (strict / "customer_tiers.json").write_text(json.dumps(suite))
    # New data arrives, so the blocked run would have published something different.
    write_csv(land / "orders" / "more.csv", [order("o3", "c2", "2025-06-20 10:00:00", "9000.00")])

    code, blocked = run(land, AS_OF, "--expectations", str(strict))
    assert code == 3
    assert blocked["status"] == "blocked"
    failed = [c for c in blocked["checks"] if not c["passed"]]
    assert [(c["asset"], c["check"]) for c in failed] == [("marts/customer_tiers", "expectation_suite")]
    assert [f["expectation"] for f in failed[0]["details"]["failed"]] == ["expect_table_row_count_to_be_between"]
    # The failing suite, and only it, is in the run's Data Docs.
    docs = {p.name for p in (Path(blocked["gates"]["data_docs"]).parent / "validations").iterdir()}
    assert docs == {"customer_tiers"}
    assert "published" not in blocked or not blocked["published"]
    assert _digest_tree(run.home / "published") == published_before
    assert sorted(p.name for p in (run.home / "exports" / "crm").iterdir()) == exports_before
    # The warehouse did compute the new tier (staged), but BI still sees the old one.
    assert run.warehouse("select tier from marts.customer_tiers where customer_id = 'c2'") == [("gold",)]
    assert run.published("select tier from customer_tiers where customer_id = 'c2'") == [("bronze",)]

    # With the shipped suites the same data publishes.
    code, again = run(land, AS_OF)
    assert code == 0, again.get("message")
    assert run.published("select tier from customer_tiers where customer_id = 'c2'") == [("gold",)]


def test_file_missing_a_required_column_exits_2_naming_file_and_column(tmp_path: Path, run: Runner) -> None:
    land = tmp_path / "landing"
    write_csv(land / "orders" / "2025-06.csv", [{"order_id": "o1", "customer_id": "c1", "order_ts": "2025-06-01"}])
    write_csv(land / "profiles" / "profiles.csv", [profile("c1")])
    code, summary = run(land, AS_OF)
    assert code == 2
    assert summary["status"] == "error"
    assert "orders/2025-06.csv" in summary["message"] and "'amount'" in summary["message"]
    assert not (run.home / "published" / "tierflow.duckdb").exists()
    # Nothing was transformed: dbt never ran.
    assert run.warehouse("select count(*) from information_schema.tables where table_schema = 'marts'") == [(0,)]


def test_bad_policy_exits_2_with_the_key_path(tmp_path: Path, landing, run: Runner, capsys) -> None:
    land = landing([order("o1", "c1", "2025-06-01 10:00:00", "10")], [profile("c1")])
    policy = tmp_path / "policy.yml"
    policy.write_text(
        "version: '1'\ncurrency: CNY\ntimezone: Asia/Shanghai\ntiers:\n"
        "  - {code: bronze, name: Bronze}\n  - {code: 'gold; drop table x', name: Gold, min_spend: 10}\n"
    )
    code, summary = run(land, AS_OF, "--policy", str(policy))
    # --json readers get the refusal on stdout as an error object; people get it on stderr.
    assert code == 2 and (summary["status"], summary["exit_code"]) == ("error", 2)
    assert "tiers[1].code" in summary["message"]
    assert "tiers[1].code" in capsys.readouterr().err


def test_missing_landing_directory_exits_2(tmp_path: Path, run: Runner) -> None:
    code, summary = run(tmp_path / "nowhere", AS_OF)
    assert code == 2
    assert "does not exist" in summary["message"]
