"""Crash safety, idempotency, resource failures and secrets, on real `tierflow run` processes.

One small landing zone (200 customers, 120 days) and one baseline home are shared: the baseline publishes
as of D1, is copied (the state every crash test starts from), then publishes D2 (the content a crashed run
must recover to) and D2 again (idempotency). The baseline runs carry every secret tierflow knows
(a PostgreSQL password, a webhook token, a hash salt) so the secrets test can grep what they left behind.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import psycopg
import pytest
from psycopg import sql

from tests.crm_server import CrmServer
from tests.published_content import snapshot, staging_leftovers, warehouse_last_published
from tierflow.paths import REPO_ROOT, Home
from tierflow.publish.postgres import publish_postgres
from tierflow.publish.state import new_entry
from tierflow.run_lock import HomeLockedError, run_lock

PG_DSN = os.environ.get("TIERFLOW__TEST_PG_DSN", "postgresql://127.0.0.1:5432/test")
D1, D2 = "2026-03-30", "2026-03-31"


@dataclass
class Done:
    code: int
    stdout: str
    stderr: str
    summary: dict = field(default_factory=dict)


def tierflow(*args: str, env: dict[str, str], timeout: float = 900) -> Done:
    proc = subprocess.run(
        [sys.executable, "-m", "tierflow.cli", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    summary = json.loads(proc.stdout) if proc.stdout.strip().startswith("{") else {}
    return Done(proc.returncode, proc.stdout, proc.stderr, summary)


def run_args(landing: Path, home: Path, as_of: str) -> list[str]:
    return ["run", "--landing", str(landing), "--home", str(home), "--as-of", as_of, "--json"]


@dataclass
class Baseline:
    landing: Path
    env: dict[str, str]
    secrets: list[str]
    after_d1: Path  # a copy of the home right after D1 was published
    home: Path
    d1: dict
    d2: dict
    d2_again: dict
    outputs: list[Done]
    pg_schema: str
    exports_after_d2: list[str]


def _pg_role(name: str, password: str) -> None:
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(sql.SQL("create role {} login password {}").format(sql.Identifier(name), sql.Literal(password)))
        conn.execute(sql.SQL("grant create on database test to {}").format(sql.Identifier(name)))


def _drop_pg(role: str, schemas: list[str]) -> None:
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        for schema in schemas:
            for name in (schema, f"{schema}__staging"):
                conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(name)))
        conn.execute(sql.SQL("revoke create on database test from {}").format(sql.Identifier(role)))
        conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("crash")
    suffix = uuid.uuid4().hex[:8]
    role, password = f"tf_crash_{suffix}", f"pg-pass-{uuid.uuid4().hex}"
    token, salt = f"hook-token-{uuid.uuid4().hex}", f"salt-{uuid.uuid4().hex}"
    schema = f"tf_crash_{suffix}"
    _pg_role(role, password)
    host = PG_DSN.split("//", 1)[1]
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "TIERFLOW_PG_DSN": f"postgresql://{role}:{password}@{host}",
        "TIERFLOW_PG_SCHEMA": schema,
        "TIERFLOW_CRM_WEBHOOK_TOKEN": token,
        "TIERFLOW_HASH_SALT": salt,
    }
    env.pop("TIERFLOW__FAULT_POINT", None)
    landing = root / "landing"
    generate = ["generate", "--customers", "200", "--days", "120", "--end", D2, "--seed", "3", "--out", str(landing)]
    assert tierflow(*generate, "--dirty-rate", "0.002", env=env).code == 0
    home = root / "home"
    with CrmServer() as crm:
        env["TIERFLOW_CRM_WEBHOOK_URL"] = crm.url
        d1 = tierflow(*run_args(landing, home, D1), env=env)
        assert d1.code == 0, d1.stderr[-3000:]
        after_d1 = root / "after_d1"
        shutil.copytree(home, after_d1, symlinks=True)
        d2 = tierflow(*run_args(landing, home, D2), env=env)
        assert d2.code == 0, d2.stderr[-3000:]
        d2_snapshot = snapshot(home, (PG_DSN, schema))
        exports = sorted(p.name for p in (home / "exports" / "crm").iterdir())
        d2_again = tierflow(*run_args(landing, home, D2), env=env)
        assert d2_again.code == 0, d2_again.stderr[-3000:]
        assert all(r["auth"] == f"Bearer {token}" for r in crm.requests) and crm.requests
    env.pop("TIERFLOW_CRM_WEBHOOK_URL")
    yield Baseline(
        landing=landing,
        env=env,
        secrets=[password, token, salt],
        after_d1=after_d1,
        home=home,
        d1=snapshot(after_d1),
        d2=d2_snapshot,
        d2_again=snapshot(home, (PG_DSN, schema)),
        outputs=[d1, d2, d2_again],
        pg_schema=schema,
        exports_after_d2=exports,
    )
    _drop_pg(role, [schema, f"{schema}_k", f"{schema}_r"])


def _without_postgres(outputs: dict) -> dict:
    return {k: v for k, v in outputs.items() if k != "postgres"}


# --- the run lock -----------------------------------------------------------------------------------------

HOLD = """
import sys, time
from pathlib import Path
from tierflow.paths import Home
from tierflow.run_lock import run_lock
with run_lock(Home(Path(sys.argv[1])), "tierflow run --as-of 2026-03-31"):
    print("held", flush=True)
    time.sleep(600)
"""


def test_a_second_run_is_refused_while_one_holds_the_home_and_a_killed_holder_frees_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(home)], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(HomeLockedError) as refused, run_lock(Home(home), "second"):
            pass
        message = str(refused.value)
        assert f"pid {holder.pid}" in message and "tierflow run --as-of 2026-03-31" in message and "since" in message
        # The CLI: exit 1, one line naming the holder, no traceback; nothing is written to the home.
        landing = tmp_path / "landing"
        (landing / "orders").mkdir(parents=True)
        cli = tierflow("run", "--landing", str(landing), "--home", str(home), env={**os.environ})
        assert cli.code == 1 and f"pid {holder.pid}" in cli.stderr and "Traceback" not in cli.stderr
        assert not (home / "warehouse").exists()
        sync = tierflow("sync", "--home", str(home), env={**os.environ, "TIERFLOW_CRM_WEBHOOK_URL": "http://x/"})
        assert "pid" in sync.stderr and "Traceback" not in sync.stderr
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # kill -9 released the lock: no stale lock to clean by hand.
    with run_lock(Home(home), "after the crash"):
        assert json.loads((home / "run.lock").read_text())["command"] == "after the crash"


# --- idempotency ------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_same_date_twice_publishes_identical_content_and_no_duplicates(baseline: Baseline) -> None:
    assert baseline.d2_again == baseline.d2
    assert set(baseline.d2) == {"duckdb", "parquet", "crm", "postgres"}
    assert baseline.d2 != {**baseline.d1, "postgres": baseline.d2["postgres"]}  # D2 really differs from D1
    # No second export for the date (the identical one is kept), so nothing is sent to the CRM twice.
    assert sorted(p.name for p in (baseline.home / "exports" / "crm").iterdir()) == baseline.exports_after_d2
    assert baseline.outputs[2].summary["crm"]["reused"] is True
    # No duplicate history: one KPI row per date and tier, one snapshot per date, one sync plan per export.
    home = baseline.home
    with duckdb.connect(str(home / "published" / "tierflow.duckdb"), read_only=True) as con:
        dupes = con.execute(
            "select count(*) from (select as_of_date, tier from tier_kpis group by all having count(*) > 1)"
        )
        assert dupes.fetchone()[0] == 0
        assert con.execute("select count(distinct as_of_date) from tier_kpis").fetchone()[0] == 2
    with duckdb.connect(str(home / "warehouse" / "warehouse.duckdb"), read_only=True) as con:
        snapshots = con.execute(
            "select snapshot_as_of_date, count(*), count(distinct customer_id) "
            "from published_state.crm_segment_snapshots group by 1 order by 1"
        ).fetchall()
        assert [str(d) for d, _, _ in snapshots] == [D1, D2] and all(n == unique for _, n, unique in snapshots)
        keys = [r[0] for r in con.execute("select idempotency_key from sync.sync_batches").fetchall()]
        exports = {r[0] for r in con.execute("select distinct export_id from sync.sync_batches").fetchall()}
        assert keys and len(keys) == len(set(keys)) and len(exports) <= 2  # each export planned once


# --- secrets ----------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_secrets_never_reach_a_file_of_the_home_or_the_cli_output(baseline: Baseline) -> None:
    texts = [
        (f"run {i} {stream}", getattr(done, stream))
        for i, done in enumerate(baseline.outputs)
        for stream in ("stdout", "stderr")
    ]
    for label, text in texts:
        for secret in baseline.secrets:
            assert secret not in text, f"a secret is in {label}"
    checked = 0
    for path in baseline.home.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            checked += 1
            for secret in baseline.secrets:
                assert secret.encode() not in data, f"a secret is in {path}"
    assert checked > 20  # summary.json, Dagster's event log (sqlite), dbt logs, exports, warehouse …


def test_a_postgres_error_that_echoes_the_dsn_is_redacted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = f"pw-{uuid.uuid4().hex}"
    # psycopg quotes a bad option value back ('invalid sslmode value: "..."'): here the value is the password.
    dsn = f"postgresql://someone:{secret}@127.0.0.1:5432/test?sslmode={secret}"
    monkeypatch.setenv("TIERFLOW_PG_DSN", dsn)
    entry = new_entry(run_id="r", as_of=D1, policy_version="v", row_counts={}, checksums={}, seconds=0)
    with pytest.raises(ConnectionError) as failed:
        publish_postgres(dsn, schema="tierflow", reader_role=None, files={}, entry=entry, scratch=tmp_path)
    assert "sslmode" in str(failed.value) and secret not in str(failed.value)
    assert failed.value.__cause__ is None and failed.value.__suppress_context__


# --- crashes ----------------------------------------------------------------------------------------------

# One kill per kind of state a crash can leave, in pipeline order, and one random kill.
# Left out as the same kind as a kept one (each costs a run): gate.customer_tiers (nothing published yet,
# as dbt.midway), publish.duckdb_table_written (a staged file, as parquet_file_written) and
# publish.parquet_switched (new outputs not yet recorded, as duckdb_replaced).
KILL_POINTS = [
    "ingest.orders",
    # The carried state (issue 17): while dbt updates a carried table in place, and after it committed one
    # but not the next (tierflow.faults.carried_state_fault_point).
    "updating.int_orders_converted",
    "updated.int_orders_converted",
    "updating.int_customer_days_accumulated",
    "updated.int_customer_days_accumulated",
    "updating.int_customer_order_groups_summarised",
    "updated.int_customer_order_groups_summarised",
    "updating.int_customer_orders_summarised",
    "updated.int_customer_orders_summarised",
    "dbt.midway",
    "publish.parquet_file_written",
    "publish.postgres_loaded",
    "publish.duckdb_replaced",
    "publish.recording",
    "publish.recorded",
    "export.file_written",
    "export.renamed",
]


# A dbt model finished building: the progress line a run prints on stderr for each (see orchestration/progress.py).
MODEL_BUILT = "OK created"


def _models_built(stderr: str) -> int:
    return sum(MODEL_BUILT in line for line in stderr.splitlines())


def _killed_run(baseline: Baseline, home: Path, env: dict, after_models: int | None = None) -> int:
    """A real `tierflow run` killed by its fault point, or by a SIGKILL from outside once it has reported
    `after_models` dbt models built: a stage the run has reached, whatever the machine's speed."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tierflow.cli", *run_args(baseline.landing, home, D2)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE if after_models else subprocess.DEVNULL,
        text=True,
        start_new_session=True,  # its own process group: the kill takes dbt's subprocess too
    )
    if after_models:
        built = 0
        for line in proc.stderr:
            built += MODEL_BUILT in line
            if built == after_models:
                os.killpg(proc.pid, signal.SIGKILL)
                break
        proc.stderr.close()
    return proc.wait(timeout=900)


def _check_invariants(baseline: Baseline, home: Path, pg: tuple[str, str]) -> None:
    outputs = snapshot(home, pg)
    for target, content in outputs.items():
        old = baseline.d1.get(target)
        assert content in (old, baseline.d2[target]), f"{target} is neither the old nor the new version"
    committed = warehouse_last_published(home)
    assert committed is not None and committed[1] in (D1, D2)


@pytest.mark.slow
def test_a_run_killed_at_any_stage_leaves_old_or_new_and_the_next_run_recovers(baseline: Baseline) -> None:
    home = baseline.after_d1.parent / "killed"
    shutil.copytree(baseline.after_d1, home, symlinks=True)
    schema = f"{baseline.pg_schema}_k"
    env = {**baseline.env, "TIERFLOW_PG_SCHEMA": schema}
    pg = (PG_DSN, schema)
    rng = random.Random(6)
    plan: list[tuple[str, int | None]] = [(point, None) for point in KILL_POINTS]
    # A SIGKILL from outside as well, in the middle of dbt: after a random number of its models were built
    # (fewer than all, so the run still has models, gates and publication ahead), which also takes dbt's process.
    models = _models_built(baseline.outputs[1].stderr)
    assert models > 2, "the D2 run reported no dbt progress to kill at"
    plan.insert(2, ("random", rng.randint(1, models - 1)))
    for point, after_models in plan:
        code = _killed_run(baseline, home, {**env, "TIERFLOW__FAULT_POINT": point}, after_models)
        assert code == -signal.SIGKILL, f"{point} ({after_models or 0} models built): not killed (exit {code})"
        _check_invariants(baseline, home, pg)
    recovered = tierflow(*run_args(baseline.landing, home, D2), env=env)
    assert recovered.code == 0, recovered.stderr[-3000:]
    # The last kills came after the gates had passed: the runs since published that audited build again,
    # without rebuilding it (tierflow.unchanged), and recovered to what an uninterrupted run publishes.
    assert recovered.summary["resumed_run"], recovered.summary.get("message")
    assert snapshot(home, pg) == baseline.d2
    assert staging_leftovers(home) == []
    assert not list((home / "tmp").iterdir()) or all(p.name == "duckdb" for p in (home / "tmp").iterdir())
    # Exactly one export for D2, however many attempts crashed around it.
    d2_exports = [p for p in (home / "exports" / "crm").iterdir() if p.name.startswith(D2)]
    assert len(d2_exports) == 1


# --- memory and disk --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_duckdb_out_of_memory_fails_clearly_and_publishes_nothing(baseline: Baseline) -> None:
    home = baseline.after_d1.parent / "oom"
    shutil.copytree(baseline.after_d1, home, symlinks=True)
    env = {**baseline.env, "TIERFLOW_DUCKDB_MEMORY_LIMIT": "1MB"}
    env.pop("TIERFLOW_PG_DSN")
    before = snapshot(home)
    failed = tierflow(*run_args(baseline.landing, home, D2), env=env)
    assert failed.code == 1, failed.stderr[-2000:]
    assert failed.summary["status"] == "error"
    assert (
        failed.summary["message"].startswith("out of memory")
        and "TIERFLOW_DUCKDB_MEMORY_LIMIT=1MB" in (failed.summary["message"])
    )
    assert "Traceback" not in failed.stderr
    assert snapshot(home) == before == _without_postgres(baseline.d1)


def _mount_tmpfs(where: Path, size: str) -> bool:
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True)
    return done.returncode == 0


@pytest.mark.slow
def test_no_space_left_fails_clearly_and_leaves_the_published_outputs_intact(baseline: Baseline) -> None:
    mount = baseline.after_d1.parent / "small_disk"
    if not _mount_tmpfs(mount, "96m"):
        pytest.skip("cannot mount a small tmpfs here (needs root); ENOSPC stays untested on this machine")
    try:
        home = mount / "home"
        shutil.copytree(baseline.after_d1, home, symlinks=True)
        # Fill the disk up to the last 2 MB: enough to start, not enough to rebuild the warehouse.
        free = shutil.disk_usage(mount).free
        with (mount / "filler").open("wb") as handle:
            handle.truncate(0)
            os.posix_fallocate(handle.fileno(), 0, free - 2 * 1024 * 1024)
        env = {**baseline.env}
        env.pop("TIERFLOW_PG_DSN")
        before = snapshot(home)
        failed = tierflow(*run_args(baseline.landing, home, D2), env=env)
        assert failed.code == 1, failed.stderr[-2000:]
        message = failed.summary.get("message") or failed.stderr
        assert "no space left" in message, message[-2000:]
        assert "Traceback" not in failed.stderr
        assert snapshot(home) == before == _without_postgres(baseline.d1)
        # With space again, the next run completes and publishes what an uninterrupted run does.
        (mount / "filler").unlink()
        recovered = tierflow(*run_args(baseline.landing, home, D2), env=env)
        assert recovered.code == 0, recovered.stderr[-3000:]
        assert snapshot(home) == _without_postgres(baseline.d2)
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
