"""What users are promised when things go wrong: a failing quality gate publishes nothing and leaves the
last good files byte for byte; a file missing a required column stops the run before any transformation
with a message naming the file and the column; a broken key or value fails its dbt test, which returns the
offending rows."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import date
from pathlib import Path

from orchestration.defs.dbt.assets import warehouse_environment
from orchestration.defs.dbt.project import dbt_cli, dbt_project
from tests.conftest import Runner, order, profile, write_csv
from tierflow.paths import EXPECTATIONS_DIR
from tierflow.policy.parameters import write_run_parameters
from tierflow.policy.schema import DEFAULT_POLICY_PATH, load_policy
from tierflow.warehouse import connect

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


def test_broken_keys_and_values_fail_their_dbt_tests_with_the_offending_rows(tmp_path: Path) -> None:
    """The project's own generic dbt tests (dbt_project/macros): primary_key fails on a null key, on a key
    two rows share and on a null in one of its `not_null` columns, accepted_values_by_column on a value
    outside its list (a null passes, as with dbt's accepted_values), and each returns what it found. Real dbt
    on a warehouse holding only the run parameters (the policy tables), so no pipeline run is needed."""
    warehouse = tmp_path / "warehouse.duckdb"
    with connect(warehouse) as con:
        write_run_parameters(con, run_id="broken", as_of=date(2025, 6, 30), policy=load_policy(DEFAULT_POLICY_PATH))
        # Tiers bronze 1, silver 2, gold 3, diamond 4: bronze loses its code, gold its discount (a column the
        # tier_code key's test lists as required) and takes silver's rank.
        con.execute("alter table tierflow.policy_tiers alter column tier_code drop not null")
        con.execute("alter table tierflow.policy_tiers alter column discount_pct drop not null")
        con.execute("update tierflow.policy_tiers set tier_code = null where tier_rank = 1")
        con.execute("update tierflow.policy_tiers set discount_pct = null where tier_code = 'gold'")
        con.execute("update tierflow.policy_tiers set tier_rank = 2 where tier_rank = 3")
        con.execute("update tierflow.policy_engine set downgrade_mode = 'sometimes', downgrade_anchor = null")
    selection = ["--select", "stg_tierflow__policy_tiers stg_tierflow__policy_engine"]
    # Cautious: not the singular test that also reads customer_tiers, which is not built here.
    options = ["--indirect-selection", "cautious", "--store-failures", "--quiet"]
    with warehouse_environment(warehouse):
        dbt_cli(dbt_project()).cli(
            ["build", *selection, *options], target_path=tmp_path / "target", raise_on_error=False
        ).wait()
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    failed = {r["unique_id"].split(".")[2]: r["relation_name"] for r in results if r["status"] == "fail"}
    with connect(warehouse, read_only=True) as con:
        found = {
            name: sorted(con.execute(f"select * from {relation}").fetchall(), key=repr)
            for name, relation in failed.items()
        }
    tier_code_key = next(name for name in found if name.startswith("primary_key_stg_tierflow__policy_tiers_tier_code"))
    assert found == {
        # The null key (its code, its rows), then one row of null counts: tier_name, discount_pct,
        # points_multiplier and the three benefit flags (the test's `not_null`).
        tier_code_key: [(None, 1, None, None, None, None, None, None), (None, None, 0, 1, 0, 0, 0, 0)],
        "primary_key_stg_tierflow__policy_tiers_tier_rank": [(2, 2)],
        next(name for name in found if name.startswith("accepted_values_by_column_stg_tierflow__policy_engine")): [
            ("downgrade_mode", "sometimes", 1)
        ],
    }
    # Everything else, the match_mode and not-null tests of the same tables included, passed.
    assert {r["status"] for r in results if r["unique_id"].split(".")[2] not in failed} == {"success", "pass"}
