"""Publication to a real PostgreSQL (127.0.0.1:5432): tables swap in one transaction while a BI reader
queries in a loop from another connection, a read-only role gets SELECT and nothing more, and every table
carries its run, date and policy version."""

from __future__ import annotations

import itertools
import json
import os
import threading
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.conftest import ORDER_COLUMNS, PROFILE_COLUMNS, Runner, order, profile, write_csv
from tierflow.delivery.backoff import with_backoff
from tierflow.publish.postgres import PostgresUnreachable, publish_postgres
from tierflow.publish.state import new_entry

DSN = os.environ.get("TIERFLOW__TEST_PG_DSN", "postgresql://127.0.0.1:5432/test")
DATES = ["2025-06-30", "2025-07-31", "2025-08-31"]


@pytest.fixture
def pg_names():
    suffix = uuid.uuid4().hex[:8]
    schema, role = f"tierflow_t_{suffix}", f"tierflow_reader_{suffix}"
    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute(sql.SQL("create role {} nologin").format(sql.Identifier(role)))
    yield schema, role
    with psycopg.connect(DSN, autocommit=True) as conn:
        for name in (schema, f"{schema}__staging"):
            conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(name)))
        conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))


class Reader(threading.Thread):
    """A BI tool: one statement reading both tables every few milliseconds, on its own connection (not flat
    out: that would take a core from PostgreSQL and the run under test)."""

    QUERY = (
        "select (select count(*) from {s}.customer_tiers), (select min(run_id) from {s}.customer_tiers), "
        "(select max(run_id) from {s}.customer_tiers), (select max(run_id) from {s}.crm_segments)"
    )

    def __init__(self, schema: str) -> None:
        super().__init__(daemon=True)
        self.query = self.QUERY.format(s=schema)
        self.stop = threading.Event()
        self.results: list[tuple] = []
        self.errors: list[str] = []
        self.read = threading.Condition()

    def run(self) -> None:
        with psycopg.connect(DSN, autocommit=True) as conn:
            while not self.stop.is_set():
                try:
                    result = conn.execute(self.query).fetchone()
                    with self.read:
                        self.results.append(result)
                        self.read.notify_all()
                except psycopg.Error as exc:
                    self.errors.append(str(exc))
                self.stop.wait(0.005)

    def read_once_more(self) -> None:
        """Wait until the reader has finished one more read (or failed to): it reads between two swaps however
        slow the machine."""
        with self.read:
            done = len(self.results) + 1
            assert self.read.wait_for(lambda: len(self.results) >= done or self.errors, timeout=120)


def _landing(root: Path) -> Path:
    orders = [order("o1", "c1", "2025-06-20 10:00:00", "1500.00"), order("o2", "c2", "2025-07-20 10:00:00", "6000")]
    orders += [order("o3", "c3", "2025-08-20 10:00:00", "12000.00")]
    write_csv(root / "orders" / "orders.csv", orders, ORDER_COLUMNS)
    profiles = [profile(c, email=f"{c}@example.com", phone="+86 1") for c in ("c1", "c2", "c3", "c4")]
    write_csv(root / "profiles" / "profiles.csv", profiles, PROFILE_COLUMNS)
    return root


def test_postgres_swap_is_atomic_for_readers_and_grants_only_select(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_names
) -> None:
    schema, role = pg_names
    monkeypatch.setenv("TIERFLOW_PG_DSN", DSN)
    monkeypatch.setenv("TIERFLOW_PG_SCHEMA", schema)
    monkeypatch.setenv("TIERFLOW_PG_READER_ROLE", role)
    runner, landing = Runner(tmp_path / "home"), _landing(tmp_path / "landing")

    code, first = runner(landing, DATES[0])
    assert code == 0, first.get("message")
    assert first["published"]["postgres"].endswith(f"schema {schema}")
    reader = Reader(schema)
    reader.start()
    summaries = [first]
    try:
        for as_of in DATES[1:]:
            code, summary = runner(landing, as_of)
            assert code == 0, summary.get("message")
            summaries.append(summary)
        # Then many quick swaps between two real runs' files, so readers meet the swap often.
        runs = [runner.home / "published" / "parquet" / "runs" / s["run_id"] for s in summaries[-2:]]
        for i in range(30):
            files = {p.stem: p for p in runs[i % 2].glob("*.parquet")}
            entry = new_entry(
                run_id=runs[i % 2].name,
                as_of="2025-08-31",
                policy_version="test",
                row_counts={},
                checksums={},
                seconds=0.0,
            )
            publish_postgres(DSN, schema=schema, reader_role=role, files=files, entry=entry, scratch=tmp_path / "s")
            reader.read_once_more()
    finally:
        reader.stop.set()
        reader.join(timeout=30)

    assert reader.errors == []
    run_ids = {s["run_id"] for s in summaries}
    for count, lowest, highest, segments_run in reader.results:
        assert lowest == highest == segments_run  # one run's tables, never a mix
        assert lowest in run_ids and count == 4
    seen = [r[1] for r in reader.results]
    # It really read across the swaps: after each of the 30, at least one read saw the run just swapped in.
    assert sum(a != b for a, b in itertools.pairwise(seen)) >= 29

    with psycopg.connect(DSN, autocommit=True) as conn:
        tables = {
            r[0]
            for r in conn.execute("select table_name from information_schema.tables where table_schema = %s", [schema])
        }
        assert {"customer_tiers", "crm_segments", "publish_log"} <= tables
        assert conn.execute(
            "select count(*) from information_schema.schemata where schema_name = %s", [f"{schema}__staging"]
        ).fetchone() == (0,)
        log = conn.execute(
            sql.SQL("select run_id, as_of_date from {}.publish_log order by published_at").format(
                sql.Identifier(schema)
            )
        ).fetchall()
        assert [r[0] for r in log[:3]] == [s["run_id"] for s in summaries] and len(log) == 33
        for table in tables - {"publish_log"}:
            columns = {
                r[0]
                for r in conn.execute(
                    "select column_name from information_schema.columns where table_schema = %s and table_name = %s",
                    [schema, table],
                )
            }
            assert {"run_id", "as_of_date", "policy_version"} <= columns, table
            assert not {c for c in columns if "email" in c or "phone" in c}, table
        # The reader role may read, and nothing more.
        for table in tables:
            qualified = f"{schema}.{table}"
            privileges = {
                p: conn.execute("select has_table_privilege(%s, %s, %s)", [role, qualified, p]).fetchone()[0]
                for p in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")
            }
            assert privileges == {
                "SELECT": True,
                "INSERT": False,
                "UPDATE": False,
                "DELETE": False,
                "TRUNCATE": False,
            }, table
        assert conn.execute("select has_schema_privilege(%s, %s, 'CREATE')", [role, schema]).fetchone() == (False,)
        conn.execute(sql.SQL("set role {}").format(sql.Identifier(role)))
        assert conn.execute(
            sql.SQL("select count(*) from {}.customer_tiers").format(sql.Identifier(schema))
        ).fetchone() == (4,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(sql.SQL("delete from {}.customer_tiers").format(sql.Identifier(schema)))


def test_unreachable_postgres_fails_the_run_with_a_clear_message(tmp_path: Path, monkeypatch, capsys) -> None:
    password = f"pw-{uuid.uuid4().hex}"
    monkeypatch.setenv("TIERFLOW_PG_DSN", f"postgresql://someone:{password}@127.0.0.1:1/nowhere")
    # The waits themselves are test_backoff_doubles_the_wait_and_retries_only_transient_errors's subject.
    monkeypatch.setenv("TIERFLOW_RETRY_BASE_SECONDS", "0.01")
    runner = Runner(tmp_path / "home")
    code, summary = runner(_landing(tmp_path / "landing"), DATES[0])
    assert code == 1 and summary["status"] == "error"
    assert "cannot connect to PostgreSQL (TIERFLOW_PG_DSN)" in summary["message"]
    assert "(after 3 attempts)" in summary["message"]
    # The DSN's password appears nowhere: not in the summary, not in the progress on stderr.
    assert password not in json.dumps(summary) and password not in capsys.readouterr().err
    assert not (runner.home / "published" / "tierflow.duckdb").exists()  # nothing else was published


def test_backoff_doubles_the_wait_and_retries_only_transient_errors() -> None:
    waits: list[float] = []
    calls = iter([PostgresUnreachable("down"), PostgresUnreachable("down"), "published"])

    def flaky() -> str:
        outcome = next(calls)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert with_backoff(flaky, transient=PostgresUnreachable, attempts=3, base_seconds=2, sleep=waits.append) == (
        "published"
    )
    assert waits == [2, 4]
    with pytest.raises(ValueError, match=r"^bad$"):  # not transient: no retry, the message untouched
        with_backoff(lambda: (_ for _ in ()).throw(ValueError("bad")), transient=PostgresUnreachable, attempts=3,
                     base_seconds=0, sleep=waits.append)  # fmt: skip
    assert waits == [2, 4]
