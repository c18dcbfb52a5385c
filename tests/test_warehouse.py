"""A run holds the working warehouse open between its steps (tierflow.warehouse.held): connections share one
open database, and `release` lets another process, or another DuckDB database's ATTACH, open the file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb

from tierflow.warehouse import attach_read_only, connect, held, release

OPEN_FOR_WRITING = "import duckdb, sys; duckdb.connect(sys.argv[1]).close()"


def opens_elsewhere(path: Path) -> bool:
    """Whether another process can open the file for writing now."""
    return subprocess.run([sys.executable, "-c", OPEN_FOR_WRITING, str(path)], capture_output=True).returncode == 0


def test_a_held_warehouse_stays_open_between_connections_until_released(tmp_path: Path) -> None:
    path = tmp_path / "home" / "warehouse" / "warehouse.duckdb"
    with held(path):
        with connect(path) as con:
            con.execute("create table t as select 1 as x")
        # Closed connection, open database: the next process that wants the file (dbt's) must wait for release.
        assert not opens_elsewhere(path)
        with connect(path, read_only=True, timezone="Asia/Shanghai") as con:
            assert con.execute("select x, current_setting('TimeZone') from t").fetchall() == [(1, "Asia/Shanghai")]
        with connect(path) as con:  # another cursor: the time zone was that connection's own
            assert con.execute("select current_setting('TimeZone')").fetchone() != ("Asia/Shanghai",)
        release(path)
        assert opens_elsewhere(path)
        # Reopened by the next connection, and released again by an ATTACH from another database.
        with connect(path) as con:
            con.execute("insert into t values (2)")
        with held(path):  # a hold inside a hold: the outer one still holds after it
            pass
        assert not opens_elsewhere(path)
        with duckdb.connect() as other:
            attach_read_only(other, path, "warehouse")
            assert other.execute("select sum(x) from warehouse.t").fetchone() == (3,)
    assert opens_elsewhere(path)  # the block's end closed it


def test_without_a_hold_every_connection_closes_the_file(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    with connect(path) as con:
        con.execute("create table t as select 1 as x")
    assert opens_elsewhere(path)
