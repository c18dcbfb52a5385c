"""Connections to the working DuckDB warehouse.

DuckDB lets one process write a database file at a time, and dbt runs in a subprocess: every connection
opened here is short-lived and closed before the next step, so dbt never finds the file locked.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb


@contextmanager
def connect(path: Path, *, read_only: bool = False, timezone: str | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        if timezone:
            con.execute(f"set TimeZone = '{timezone}'")  # validated IANA name, see policy.Policy
        yield con
    finally:
        con.close()


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):
    """The first column of the first row; the result is fully consumed before returning."""
    row = con.execute(sql, params or []).fetchone()
    return None if row is None else row[0]


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str, catalog: str | None = None) -> bool:
    sql = "select count(*) from information_schema.tables where table_schema = ? and table_name = ?"
    params = [schema, table]
    if catalog:
        sql += " and table_catalog = ?"
        params.append(catalog)
    return bool(scalar(con, sql, params))


def column_names(con: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    """The column names of a table, view or `select …`, in order."""
    return [row[0] for row in con.execute(f"describe {relation}").fetchall()]
