"""The whole job on generated demo data: every tier present, counts that reconcile from file to published
table, a second run over the same landing zone that changes nothing, and BI readers that keep reading
the published file while a run replaces it."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.conftest import Runner
from tierflow.generate import generate_landing

AS_OF = date(2026, 6, 30)
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("e2e")
    report = generate_landing(root / "landing", customers=1500, days=730, seed=11, end=AS_OF, dirty_rate=0.01)
    runner = Runner(root / "home")
    code, summary = runner(root / "landing", AS_OF)
    return root, report, runner, code, summary


def test_first_run_publishes_every_tier(demo) -> None:
    _, _, runner, code, summary = demo
    assert code == 0, summary.get("message")
    assert summary["status"] == "published" and summary["as_of"] == AS_OF.isoformat()
    assert summary["policy_version"] == "2026.1" and summary["run_id"]
    assert set(summary["tier_counts"]) == {"bronze", "silver", "gold", "diamond"}
    assert all(count > 0 for count in summary["tier_counts"].values()), summary["tier_counts"]
    assert sum(summary["tier_counts"].values()) == summary["customers"]["total"]
    assert summary["customers"]["without_profile"] > 0  # the generator leaves some buyers without a profile
    assert all(check["passed"] for check in summary["checks"]) and len(summary["checks"]) > 50
    published = runner.published("select tier, count(*) from customer_tiers group by tier")
    assert dict(published) == summary["tier_counts"]


def test_rows_reconcile_from_files_to_quarantine(demo) -> None:
    _, report, runner, _, summary = demo
    for name, counts in summary["inputs"].items():
        assert counts["rows_read"] == counts["rows_accepted"] + counts["rows_quarantined"], name
        stored = runner.warehouse(f"select count(*) from landing.{name}")[0][0]
        assert stored == counts["rows_accepted"], name
    assert summary["inputs"]["orders"]["rows_read"] == report.orders
    generated = {}
    for kind, count in report.dirty_rows.items():
        name, reason = kind.split(".")
        generated.setdefault(name, {})[reason] = count
    for name, reasons in generated.items():
        assert summary["inputs"][name]["quarantine_reasons"] == reasons, name
    quarantined = dict(runner.warehouse("select input, count(*) from landing.quarantine group by input"))
    assert quarantined == {n: c["rows_quarantined"] for n, c in summary["inputs"].items() if c["rows_quarantined"]}


def test_parquet_copy_and_crm_export_match_the_published_table(demo) -> None:
    _, _, runner, _, summary = demo
    parquet = Path(summary["published"]["parquet"]) / "customer_tiers.parquet"
    with duckdb.connect() as con:
        from_parquet = con.execute(f"select count(*), sum(spend_365d) from read_parquet('{parquet}')").fetchall()
    assert from_parquet == runner.published("select count(*), sum(spend_365d) from customer_tiers")
    # Written in key order (the same content, the same bytes): by the primary key where a mart has one.
    latest = Path(summary["published"]["parquet"])
    with duckdb.connect() as con:
        for table, key in (("customer_tiers", "customer_id"), ("tier_history", "customer_id, valid_from")):
            rows = con.execute(f"select {key} from read_parquet('{latest / (table + '.parquet')}')").fetchall()
            assert len(rows) > 1 and rows == sorted(rows), table
    export = Path(summary["published"]["crm_export"])
    manifest = json.loads((export / "manifest.json").read_text())
    assert manifest["row_count"] == summary["customers"]["total"]
    assert manifest["run_id"] == summary["run_id"] and manifest["as_of_date"] == AS_OF.isoformat()
    for name, meta in manifest["files"].items():
        assert hashlib.sha256((export / name).read_bytes()).hexdigest() == meta["sha256"]
    assert not {"email", "phone"} & set(manifest["columns"])


READER = textwrap.dedent(
    """
    import sys, time, duckdb
    path, stop = sys.argv[1], sys.argv[2]
    import os
    reads = errors = 0
    counts = set()
    while not os.path.exists(stop):
        try:
            with duckdb.connect(path, read_only=True) as con:
                counts.add(con.execute("select count(*) from customer_tiers").fetchall()[0][0])
            reads += 1
        except Exception as exc:
            errors += 1
            print(repr(exc), file=sys.stderr)
        if reads + errors == 1:
            print("reading", flush=True)  # the test starts the run only now
        time.sleep(0.02)
    print(reads, errors, sorted(counts))
    """
)


def test_rerun_on_the_same_files_changes_nothing_and_readers_never_fail(demo) -> None:
    root, _, runner, _, first = demo
    before = runner.published("select * exclude (run_id) from customer_tiers order by customer_id")
    landing_before = runner.warehouse(
        "select (select count(*) from landing.orders), (select count(*) from landing.quarantine), "
        "(select count(*) from landing.ingested_files)"
    )
    stop = root / "stop-reader"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(runner.published_duckdb), str(stop)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline().strip() == "reading"
        # --force: with nothing new the run would reuse the first one's publication (tests/test_unchanged.py);
        # here the same tables are built and published again while a reader reads.
        code, second = runner(root / "landing", AS_OF, "--force")
    finally:
        stop.touch()
        out, err = reader.communicate(timeout=60)
    assert code == 0, second.get("message")
    assert all(c["files_loaded"] == 0 and c["rows_read"] == 0 for c in second["inputs"].values())
    assert (
        runner.warehouse(
            "select (select count(*) from landing.orders), (select count(*) from landing.quarantine), "
            "(select count(*) from landing.ingested_files)"
        )
        == landing_before
    )
    assert runner.published("select * exclude (run_id) from customer_tiers order by customer_id") == before
    assert runner.published("select distinct run_id from customer_tiers") == [(second["run_id"],)]
    log = runner.published("select run_id, as_of_date, row_counts from publish_log order by published_at")
    assert [r[0] for r in log] == [first["run_id"], second["run_id"]]
    assert json.loads(log[1][2])["customer_tiers"] == first["customers"]["total"]
    assert runner.warehouse("select count(*) from published_state.publish_log") == [(2,)]
    reads, errors, counts = out.split(maxsplit=2)
    assert int(errors) == 0, err
    assert int(reads) >= 1
    assert counts.strip() == f"[{first['customers']['total']}]"
