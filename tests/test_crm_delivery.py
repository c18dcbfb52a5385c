"""CRM delivery on real runs: the delta against the previous published as-of date, e-mail hashes only with
opt-in, exports never duplicated, and a webhook sync against a real HTTP server on 127.0.0.1 that fails,
throttles, drops connections and gets its client killed, yet receives every change exactly once."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import ORDER_COLUMNS, Runner, order, profile, write_csv
from tests.crm_server import CrmServer
from tierflow.cli import main
from tierflow.delivery.crm_export import VOLATILE_FIELDS
from tierflow.paths import REPO_ROOT

D1, D2 = "2025-06-30", "2025-07-31"
PROFILE_COLUMNS = ["customer_id", "signup_date", "region", "marketing_opt_in", "email", "phone"]


def _landing(root: Path, customers: int = 4) -> Path:
    """Customers who first bought in January and again in late May, so they are active on both dates."""
    orders, profiles = [], []
    for i in range(1, customers + 1):
        cid = f"c{i}"
        orders += [
            order(f"{cid}-jan", cid, "2025-01-10 10:00:00", "10.00"),
            order(f"{cid}-may", cid, "2025-05-20 10:00:00", str(100 * i) + ".00"),
        ]
        profiles.append(
            profile(
                cid,
                marketing_opt_in="true" if i % 2 else "false",
                email=f"  User{i}@Example.COM " if i != 4 else "",
                phone=f"+86 138 0000 000{i}",
            )
        )
    write_csv(root / "orders" / "orders.csv", orders, ORDER_COLUMNS)
    write_csv(root / "profiles" / "profiles.csv", profiles, PROFILE_COLUMNS)
    return root


def _second_day(root: Path) -> None:
    """By D2, c2 has bought enough for silver and c9 has signed up."""
    write_csv(root / "orders" / "july.csv", [order("c2-jul", "c2", "2025-07-10 10:00:00", "2000.00")], ORDER_COLUMNS)
    write_csv(root / "profiles" / "july.csv", [profile("c9", "2025-07-05")], PROFILE_COLUMNS)


def _rows(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


@pytest.fixture(scope="module")
def two_days(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("crm")
    os.environ["TIERFLOW_HASH_SALT"] = "pepper"
    try:
        landing = _landing(root / "landing")
        runner = Runner(root / "home")
        code1, first = runner(landing, D1)
        _second_day(landing)
        code2, second = runner(landing, D2)
        # Recomputed (--force: with nothing new the run would do nothing), so the export step meets its
        # own earlier export of the date.
        code3, again = runner(landing, D2, "--force")
    finally:
        del os.environ["TIERFLOW_HASH_SALT"]
    assert (code1, code2, code3) == (0, 0, 0), [first.get("message"), second.get("message"), again.get("message")]
    return runner, first, second, again


def test_first_export_adds_every_known_customer(two_days) -> None:
    _, first, _, _ = two_days
    export = Path(first["published"]["crm_export"])
    delta = _rows(export / "delta.csv")
    assert [r["customer_id"] for r in delta] == ["c1", "c2", "c3", "c4"]
    assert {r["change_type"] for r in delta} == {"added"}
    assert all(r["idempotency_key"] == f"{first['run_id']}:{r['customer_id']}" for r in delta)
    assert first["crm"]["delta_counts"] == {"added": 4, "changed": 0, "removed": 0}


def test_delta_holds_exactly_the_customers_whose_segment_fields_changed(two_days) -> None:
    _, first, second, _ = two_days
    before = {r["customer_id"]: r for r in _rows(Path(first["published"]["crm_export"]) / "segments.csv")}
    export = Path(second["published"]["crm_export"])
    after = {r["customer_id"]: r for r in _rows(export / "segments.csv")}
    delta = {r["customer_id"]: r for r in _rows(export / "delta.csv")}
    manifest = json.loads((export / "manifest.json").read_text())
    assert manifest["base_as_of_date"] == D1 and manifest["as_of_date"] == D2

    compared = [c for c in after["c1"] if c not in VOLATILE_FIELDS and c != "customer_id"]
    expected = {cid for cid in after if cid not in before or any(after[cid][c] != before[cid][c] for c in compared)}
    assert set(delta) == expected
    assert delta["c2"]["change_type"] == "changed"
    assert (delta["c2"]["old_tier"], delta["c2"]["new_tier"]) == ("bronze", "silver")
    assert delta["c9"]["change_type"] == "added" and delta["c9"]["old_tier"] == ""
    assert all(r["effective_date"] == D2 for r in delta.values())
    counts = manifest["delta_counts"]
    assert sum(counts.values()) == len(delta) and counts["added"] == 1
    for name, meta in manifest["files"].items():
        assert hashlib.sha256((export / name).read_bytes()).hexdigest() == meta["sha256"]
    assert list(delta) == sorted(delta)  # ordered by customer id


def test_email_hash_only_with_opt_in_and_no_raw_pii(two_days) -> None:
    _, _, second, _ = two_days
    export = Path(second["published"]["crm_export"])
    segments = {r["customer_id"]: r for r in _rows(export / "segments.csv")}
    assert segments["c1"]["email_sha256"] == hashlib.sha256(b"pepperuser1@example.com").hexdigest()
    assert segments["c2"]["email_sha256"] == ""  # no marketing opt-in
    assert segments["c3"]["email_sha256"] == hashlib.sha256(b"pepperuser3@example.com").hexdigest()
    for name in ("segments.csv", "delta.csv"):
        text = (export / name).read_text()
        assert "@" not in text and "138 0000" not in text and "phone" not in text.splitlines()[0]


def test_rerunning_a_date_reuses_the_same_export(two_days) -> None:
    runner, _, second, again = two_days
    assert again["crm"]["reused"] is True
    assert again["published"]["crm_export"] == second["published"]["crm_export"]
    exports = sorted(p.name for p in (runner.home / "exports" / "crm").iterdir() if p.is_dir())
    assert len(exports) == 2  # one per as-of date, never duplicated


def test_a_customer_gone_upstream_is_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERFLOW_BI_TARGETS", "parquet")  # BI targets are configurable: Parquet only here
    landing = _landing(tmp_path / "landing", customers=2)
    runner = Runner(tmp_path / "home")
    code, first = runner(landing, D1)
    assert code == 0
    assert "duckdb" not in first["published"] and {"parquet", "crm_export"} <= set(first["published"])
    assert not runner.published_duckdb.exists()
    assert (runner.home / "published" / "parquet" / "latest" / "customer_tiers.parquet").exists()
    # Upstream erasure (not yet an input of tierflow): a customer published on D1 is no longer known on D2.
    with duckdb.connect(str(runner.home / "warehouse" / "warehouse.duckdb")) as con:
        con.execute(
            "insert into published_state.crm_segment_snapshots by name "
            "select snapshot_as_of_date, * exclude (snapshot_as_of_date) replace ('gone' as customer_id) "
            "from published_state.crm_segment_snapshots where customer_id = 'c1'"
        )
    code, summary = runner(landing, D2)
    assert code == 0
    delta = {r["customer_id"]: r for r in _rows(Path(summary["published"]["crm_export"]) / "delta.csv")}
    assert delta["gone"]["change_type"] == "removed"
    assert delta["gone"]["old_tier"] and delta["gone"]["new_tier"] == ""


def _webhook_env(monkeypatch: pytest.MonkeyPatch, url: str, **settings: str) -> None:
    monkeypatch.setenv("TIERFLOW_CRM_WEBHOOK_URL", url)
    monkeypatch.setenv("TIERFLOW_CRM_WEBHOOK_TOKEN", "s3cret-token")
    monkeypatch.setenv("TIERFLOW_CRM_BATCH_SIZE", "3")
    monkeypatch.setenv("TIERFLOW_CRM_RATE_LIMIT", "50")
    for name, value in settings.items():
        monkeypatch.setenv(f"TIERFLOW_{name.upper()}", value)


def _sync_batches(runner: Runner) -> list[tuple]:
    return runner.warehouse("select batch_no, status, attempts, http_codes from sync.sync_batches order by batch_no")


def test_sync_retries_errors_throttling_and_drops_and_delivers_each_change_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = {1: ("status", 500), 2: ("retry_after", 1), 3: ("drop",), 4: ("status", 503)}
    with CrmServer(lambda n, body: script.get(n, ("ok",))) as server:
        _webhook_env(monkeypatch, server.url)
        runner = Runner(tmp_path / "home")
        code, summary = runner(_landing(tmp_path / "landing", customers=10), D1)
    assert code == 0, summary.get("message")
    assert summary["crm"]["sync"]["status"] == "complete"
    assert "s3cret-token" not in json.dumps(summary)
    applied = server.applied_changes()
    assert sorted(applied, key=lambda c: int(c[1:])) == [f"c{i}" for i in range(1, 11)]
    assert all(len(keys) == 1 for keys in applied.values())
    assert {r["auth"] for r in server.requests} == {"Bearer s3cret-token"}
    # the first batch was tried five times, always under the same key
    assert {r["key"] for r in server.requests[:5]} == {f"{summary['run_id']}:1"}
    assert _sync_batches(runner)[0][1:] == ("sent", 5, "[500, 429, null, 503, 200]")


def test_a_batch_that_keeps_failing_is_recorded_and_resent_first_by_tierflow_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    healthy = {"yes": False}

    def script(n: int, body: dict) -> tuple:
        return ("ok",) if healthy["yes"] or body["batch"] != 2 else ("status", 503)

    with CrmServer(script) as server:
        _webhook_env(monkeypatch, server.url, crm_max_attempts="3")
        runner = Runner(tmp_path / "home")
        code, summary = runner(_landing(tmp_path / "landing", customers=10), D1)
        assert code == 0  # published; the sync is reported incomplete, not lost
        sync = summary["crm"]["sync"]
        assert (sync["status"], sync["batches_sent"], sync["batches_failed"], sync["batches_pending"]) == (
            "incomplete",
            1,
            1,
            2,
        )
        assert [b[:3] for b in _sync_batches(runner)] == [
            (1, "sent", 1),
            (2, "failed", 3),
            (3, "pending", 0),
            (4, "pending", 0),
        ]
        assert {r["body"]["batch"] for r in server.requests} == {1, 2}  # nothing after the failed batch

        healthy["yes"] = True
        assert main(["sync", "--home", str(runner.home)]) == 0
    assert [r["body"]["batch"] for r in server.requests[-3:]] == [2, 3, 4]  # the failed batch first, in order
    applied = server.applied_changes()
    assert len(applied) == 10 and all(len(keys) == 1 for keys in applied.values())
    assert [b[1] for b in _sync_batches(runner)] == ["sent"] * 4


def test_a_sync_killed_midway_resumes_without_losing_or_duplicating(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = Runner(tmp_path / "home")
    assert runner(_landing(tmp_path / "landing", customers=12), D1)[0] == 0  # exported, no webhook yet
    # The CRM holds the third batch unanswered: the sync is killed exactly there, two batches accepted.
    with CrmServer(hold=3) as server:
        _webhook_env(monkeypatch, server.url)
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        child = subprocess.Popen(
            [sys.executable, "-m", "tierflow.cli", "sync", "--home", str(runner.home)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert server.holding.wait(timeout=300), "the sync never sent its third batch"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        server.released.set()  # the held batch is dropped unanswered
        assert len(server.accepted) == 2
        assert main(["sync", "--home", str(runner.home)]) == 0
    applied = server.applied_changes()
    assert sorted(applied, key=lambda c: int(c[1:])) == [f"c{i}" for i in range(1, 13)]
    assert all(len(keys) == 1 for keys in applied.values())
