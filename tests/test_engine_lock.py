"""Runs that build in the same PostgreSQL database take turns through an advisory lock the server holds, so
homes on different hosts cannot interleave their dbt builds; a killed holder frees it (issue 18)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import fresh_pg_database
from tierflow.paths import Home
from tierflow.targets import target_for
from tierflow.targets.postgres import ENGINE_LOCK_KEY

WAIT = 120  # seconds: generous, only so a broken lock fails the test instead of hanging it


@pytest.fixture
def target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with fresh_pg_database("tierflow_lock") as dsn:
        monkeypatch.setenv("TIERFLOW_PG_DSN", dsn)
        monkeypatch.delenv("TIERFLOW_TARGET_PG_DSN", raising=False)
        yield target_for("postgres", Home(tmp_path / "home")), dsn


def _until(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def test_a_second_run_waits_for_the_first_and_is_told_who_holds_it(target) -> None:
    engine, _ = target
    first_in, release, second_in = threading.Event(), threading.Event(), threading.Event()
    said: list[str] = []

    def first() -> None:
        with engine.engine_lock("tierflow run --as-of 2026-12-01", lambda _: None):
            first_in.set()
            release.wait(WAIT)

    def second() -> None:
        with engine.engine_lock("tierflow run --as-of 2026-12-02", said.append):
            second_in.set()

    holder = threading.Thread(target=first)
    holder.start()
    assert first_in.wait(WAIT)
    waiter = threading.Thread(target=second)
    waiter.start()
    _until(lambda: said, "the second run to say it waits")
    assert not second_in.is_set()  # it is waiting, not running beside the first
    assert said[0].startswith("waiting for the run that holds the PostgreSQL target's lock: ")
    assert "tierflow run --as-of 2026-12-01" in said[0]
    release.set()
    assert second_in.wait(WAIT)
    holder.join(WAIT)
    waiter.join(WAIT)
    assert said[1:] == ["the PostgreSQL target's lock is ours; going on"]


def test_a_killed_holder_leaves_the_lock_free(target) -> None:
    engine, dsn = target
    holding = (
        "import psycopg, sys, time\n"
        "pg = psycopg.connect(sys.argv[1], autocommit=True)\n"
        f"pg.execute('select pg_advisory_lock({ENGINE_LOCK_KEY})')\n"
        "print('held', flush=True)\n"
        "time.sleep(600)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", holding, dsn], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "held"
        said: list[str] = []
        entered = threading.Event()

        def run() -> None:
            with engine.engine_lock("after the crash", said.append):
                entered.set()

        waiter = threading.Thread(target=run)
        waiter.start()
        _until(lambda: said, "the run to wait for the holder")
        assert not entered.is_set()
        process.kill()  # kill -9: the server ends the session, and its lock with it
        assert entered.wait(WAIT)
        waiter.join(WAIT)
    finally:
        process.kill()
        process.wait()
