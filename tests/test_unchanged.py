"""A re-run with nothing new recomputes nothing and says which run's publication stands
(tierflow.unchanged); a change to anything a run depends on, a missing published file, a failed run in
between or --force makes the next run do everything again; a run stopped after its gates passed is resumed
at publication. Each full run here costs 20 to 40 s, so the
cases that need no full run after them ask `reusable` directly, with the fingerprint the CLI takes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.conftest import Runner, relaxed_policy
from tierflow.generate import generate_landing
from tierflow.settings import Settings
from tierflow.unchanged import audited_path, fingerprint, input_fingerprint, record_path, resumable, reusable

AS_OF = date(2026, 6, 30)


def _run_dirs(home: Path) -> set[str]:
    return {p.name for p in (home / "runs").iterdir() if p.is_dir()}


@pytest.mark.slow
def test_rerun_with_nothing_new_reuses_the_publication_until_something_changes(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    generate_landing(landing, customers=150, days=400, seed=5, end=AS_OF)
    run = Runner(tmp_path / "home")

    code, first = run(landing, AS_OF)
    assert code == 0 and first["status"] == "published", first.get("message")
    published_at = run.published_duckdb.stat().st_mtime_ns
    runs_before = _run_dirs(run.home)

    code, again = run(landing, AS_OF)
    assert code == 0 and again["status"] == "unchanged", again.get("message")
    assert again["reused_run"] == first["run_id"] and again["run_id"] is None
    assert f"nothing new since run {first['run_id']}" in again["message"]
    assert again["tier_counts"] == first["tier_counts"] and again["published"] == first["published"]
    assert again["checks"] == [] and again["inputs"] == {}  # nothing was ingested, built or checked
    assert run.published_duckdb.stat().st_mtime_ns == published_at
    assert _run_dirs(run.home) == runs_before, "no Dagster run was started"

    code, forced = run(landing, AS_OF, "--force")
    assert code == 0 and forced["status"] == "published" and forced["run_id"] != first["run_id"]
    assert run.published_duckdb.stat().st_mtime_ns != published_at
    assert run(landing, AS_OF)[1]["reused_run"] == forced["run_id"], "the forced run's publication stands now"

    # A run stopped after its gates passed (killed as its publish step starts) leaves its audited build; the next
    # run with the same inputs publishes that build, without ingesting, building or judging it again.
    killed = subprocess.run(
        [sys.executable, "-m", "tierflow.cli", *run.arguments(landing, AS_OF, "--force")],
        env={**os.environ, "TIERFLOW__FAULT_POINT": "publish.parquet_staged"},
        capture_output=True,
        start_new_session=True,  # the kill takes its own process group only
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    settings = Settings.from_env(home=run.home, landing=landing, policy=run.policy)
    digest = input_fingerprint(settings, AS_OF)
    build = resumable(settings.layout, digest)
    assert build is not None and build.build_run not in (first["run_id"], forced["run_id"])
    assert resumable(settings.layout, input_fingerprint(settings, date(2026, 7, 1))) is None, "other inputs"
    code, resumed = run(landing, AS_OF)
    assert code == 0 and resumed["status"] == "published", resumed.get("message")
    assert resumed["resumed_run"] == build.build_run and resumed["run_id"] != build.build_run
    assert f"resumed run {build.build_run} at publication" in resumed["message"]
    # What the stopped run built and judged, published as it was: no model was rebuilt by the resumed run.
    assert resumed["checks"] and all(c["passed"] for c in resumed["checks"]) and resumed["inputs"]
    assert resumed["tier_counts"] == forced["tier_counts"]
    with duckdb.connect(str(run.published_duckdb), read_only=True) as con:
        assert con.execute("select distinct run_id from customer_tiers").fetchall() == [(build.build_run,)]
    assert not (run.home / "runs" / resumed["run_id"] / "gate_report.json").exists(), "no gate ran again"
    assert resumable(settings.layout, digest) is None, "published: nothing left to resume"
    assert run(landing, AS_OF)[1]["reused_run"] == build.build_run, "and its publication stands"

    # The record stands only while its publication does: with a published file gone, nothing is reusable.
    assert reusable(settings.layout, digest) is not None, "the CLI and this test take the same fingerprint"
    hidden = run.published_duckdb.rename(run.published_duckdb.with_name("hidden.duckdb"))
    assert reusable(settings.layout, digest) is None
    hidden.rename(run.published_duckdb)

    # A run that fails removes the record first, so nothing is reused after it, though the inputs are back.
    stray = landing / "orders" / "stray.csv"
    stray.write_text("order_id,amount\n1,2\n")
    code, failed = run(landing, AS_OF)
    assert code == 2 and failed["status"] == "error"
    stray.unlink()
    assert not record_path(settings.layout).exists() and not audited_path(settings.layout).exists()
    assert reusable(settings.layout, input_fingerprint(settings, AS_OF)) is None


def test_fingerprint_follows_every_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    landing = tmp_path / "landing"
    (landing / "orders").mkdir(parents=True)
    (landing / "orders" / "a.csv").write_text("order_id\n1\n")
    policy = tmp_path / "policy.yml"
    policy.write_bytes(relaxed_policy().read_bytes())
    expectations = tmp_path / "expectations"
    expectations.mkdir()
    (expectations / "suite.json").write_text("{}")
    settings = Settings(home=tmp_path / "home", landing=landing, policy=policy, expectations=expectations)
    base = fingerprint(settings, AS_OF)
    assert fingerprint(settings, AS_OF) == base, "the same inputs give the same fingerprint"

    changes = {
        "as-of date": lambda: fingerprint(settings, date(2026, 7, 1)),
        "new landing file": lambda: (landing / "orders" / "b.csv").write_text("order_id\n2\n"),
        # Same content, touched: files are compared by name, size and modification time, as ingest does.
        "modification time": lambda: os.utime(landing / "orders" / "a.csv", ns=(0, 1_000_000_000)),
        "policy": lambda: policy.write_text(policy.read_text() + "\n# edited\n"),
        "expectations": lambda: (expectations / "suite.json").write_text('{"x": 1}'),
        "TIERFLOW_ environment": lambda: monkeypatch.setenv("TIERFLOW_CRM_WEBHOOK_URL", "http://127.0.0.1:9/"),
        "settings": lambda: fingerprint(settings.model_copy(update={"bi_targets": "parquet"}), AS_OF),
    }
    seen = {base}
    for what, change in changes.items():
        result = change()
        digest = result if isinstance(result, str) else fingerprint(settings, AS_OF)
        assert digest not in seen, f"{what} did not change the fingerprint"
        seen.add(digest)
    # Internal switches (a fault point, the adapters) cannot change what a run publishes: a run killed at a fault
    # point is resumed by the same run without it.
    current = fingerprint(settings, AS_OF)
    monkeypatch.setenv("TIERFLOW__FAULT_POINT", "publish.start")
    assert fingerprint(settings, AS_OF) == current


def test_the_code_fingerprint_covers_the_product_package_and_the_code_location() -> None:
    # A change to the product's own code must make an earlier publication unusable, like a model change does.
    from tierflow.paths import REPO_ROOT
    from tierflow.unchanged import _code_files

    tops = {path.relative_to(REPO_ROOT).parts[0] for path in _code_files()}
    assert {"tierflow", "orchestration", "models", "dbt_project", "expectations"} <= tops
