"""Publication to PostgreSQL for BI tools (Metabase, Superset, Power BI, Tableau).

Tables are loaded into a staging schema first, then moved into the published schema in one transaction
that takes every published table's lock up front. A BI query sees the old tables or the new ones, never a
mix and never an error: a query that started before the swap keeps its tables until it ends (the swap
waits), a query that arrives during the swap waits for it and then resolves the names to the new tables.
The swap waits at most `LOCK_TIMEOUT` for the locks and otherwise steps back and retries, so it can never
deadlock a reader that is joining the tables in another order.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import psycopg
from psycopg import sql

from tierflow.faults import fault_point
from tierflow.ingest.files import quote_literal
from tierflow.publish.state import PublishEntry
from tierflow.secrets import redact
from tierflow.sql_safety import checked_identifier

LOCK_TIMEOUT = "250ms"
SWAP_ATTEMPTS = 40

_SIMPLE_TYPES = {
    "VARCHAR": "text",
    "DATE": "date",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "SMALLINT": "smallint",
    "BOOLEAN": "boolean",
    "DOUBLE": "double precision",
    "FLOAT": "real",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
}
PUBLISH_LOG_COLUMNS = (
    ("run_id", "text"),
    ("as_of_date", "date"),
    ("policy_version", "text"),
    ("published_at", "timestamp"),
    ("tables", "text"),
    ("row_counts", "text"),
    ("checksums", "text"),
    ("seconds", "double precision"),
    ("overrides", "text"),
    ("full_audit", "boolean"),
)


class PostgresUnreachable(ConnectionError):
    """No connection to the publication database: worth retrying later (see tierflow.delivery.backoff)."""


def pg_type(duckdb_type: str) -> str:
    decimal = re.fullmatch(r"DECIMAL\((\d+),(\d+)\)", duckdb_type)
    if decimal:
        return f"numeric({decimal.group(1)},{decimal.group(2)})"
    if duckdb_type not in _SIMPLE_TYPES:
        raise ValueError(f"no PostgreSQL type for DuckDB type {duckdb_type}")
    return _SIMPLE_TYPES[duckdb_type]


def _columns(path: Path) -> list[tuple[str, str]]:
    with duckdb.connect() as con:
        rows = con.execute("describe select * from read_parquet(?)", [str(path)]).fetchall()
    return [(name, pg_type(kind)) for name, kind, *_ in rows]


def _load_table(cur: psycopg.Cursor, schema: str, table: str, parquet: Path, scratch: Path) -> None:
    columns = _columns(parquet)
    cur.execute(
        sql.SQL("create table {}.{} ({})").format(
            sql.Identifier(schema),
            sql.Identifier(table),
            sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(t)) for n, t in columns),
        )
    )
    csv_path = scratch / f"{table}.csv"
    with duckdb.connect() as con:
        # CSV keeps NULL (empty) apart from '' (quoted), which is what COPY ... (format csv) expects.
        con.execute(
            f"copy (select * from read_parquet({quote_literal(str(parquet))})) to {quote_literal(str(csv_path))} "
            "(format csv, header false)"
        )
    copy = sql.SQL("copy {}.{} from stdin (format csv)").format(sql.Identifier(schema), sql.Identifier(table))
    with cur.copy(copy) as writer, csv_path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            writer.write(block)
    csv_path.unlink()


def _swap(
    conn: psycopg.Connection, schema: str, staging: str, tables: list[str], entry: PublishEntry, reader_role: str | None
) -> None:
    published = sql.Identifier(schema)
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(sql.SQL("set local lock_timeout = {}").format(sql.Literal(LOCK_TIMEOUT)))
        cur.execute(sql.SQL("create schema if not exists {}").format(published))
        cur.execute(
            "select table_name from information_schema.tables where table_schema = %s and table_name = any(%s)",
            [schema, tables],
        )
        existing = sorted(row[0] for row in cur.fetchall())
        if existing:
            cur.execute(
                sql.SQL("lock table {} in access exclusive mode").format(
                    sql.SQL(", ").join(sql.SQL("{}.{}").format(published, sql.Identifier(t)) for t in existing)
                )
            )
        for table in tables:
            cur.execute(sql.SQL("drop table if exists {}.{}").format(published, sql.Identifier(table)))
            cur.execute(
                sql.SQL("alter table {}.{} set schema {}").format(
                    sql.Identifier(staging), sql.Identifier(table), published
                )
            )
        cur.execute(
            sql.SQL("create table if not exists {}.publish_log ({})").format(
                published,
                sql.SQL(", ").join(
                    sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(t)) for n, t in PUBLISH_LOG_COLUMNS
                ),
            )
        )
        # Logs from before breaker overrides or full audits lack the last columns.
        cur.execute(sql.SQL("alter table {}.publish_log add column if not exists overrides text").format(published))
        cur.execute(sql.SQL("alter table {}.publish_log add column if not exists full_audit boolean").format(published))
        cur.execute(
            sql.SQL("insert into {}.publish_log values ({})").format(
                published, sql.SQL(", ").join([sql.Placeholder()] * len(PUBLISH_LOG_COLUMNS))
            ),
            entry.row(),
        )
        if reader_role:
            role = sql.Identifier(reader_role)
            cur.execute(sql.SQL("grant usage on schema {} to {}").format(published, role))
            cur.execute(sql.SQL("grant select on all tables in schema {} to {}").format(published, role))
        cur.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(staging)))


def publish_postgres(
    dsn: str,
    *,
    schema: str,
    reader_role: str | None,
    files: dict[str, Path],
    entry: PublishEntry,
    scratch: Path,
    log: Callable[[str], None] = lambda _: None,
) -> str:
    """Load the run's tables and swap them into `schema`; returns where BI finds them."""
    staging = checked_identifier(f"{checked_identifier(schema, 'TIERFLOW_PG_SCHEMA')}__staging", "staging schema")
    if reader_role:
        checked_identifier(reader_role, "TIERFLOW_PG_READER_ROLE")
    tables = sorted(checked_identifier(t, "published table") for t in files)
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        conn = psycopg.connect(dsn, connect_timeout=10)
    except psycopg.Error as exc:
        # psycopg can echo the connection string (e.g. "invalid dsn: ... in <dsn>"): never pass it on as is.
        raise PostgresUnreachable(f"cannot connect to PostgreSQL (TIERFLOW_PG_DSN): {_first_line(exc)}") from None
    try:
        return _publish(conn, schema, staging, tables, files, entry, reader_role, scratch, log)
    except psycopg.Error as exc:
        raise ConnectionError(f"PostgreSQL publication failed, nothing was switched: {_first_line(exc)}") from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)  # the CSV copies were only the way in


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return redact(text.splitlines()[0] if text else type(exc).__name__)


def _publish(
    conn: psycopg.Connection,
    schema: str,
    staging: str,
    tables: list[str],
    files: dict[str, Path],
    entry: PublishEntry,
    reader_role: str | None,
    scratch: Path,
    log: Callable[[str], None],
) -> str:
    with conn:
        started = time.perf_counter()
        with conn.transaction(), conn.cursor() as cur:
            cur.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(staging)))
            cur.execute(sql.SQL("create schema {}").format(sql.Identifier(staging)))
            for table in tables:
                _load_table(cur, staging, table, files[table], scratch)
        log(f"loaded {', '.join(tables)} into PostgreSQL schema {staging} in {time.perf_counter() - started:.1f} s")
        fault_point("publish.postgres_loaded")
        for attempt in range(1, SWAP_ATTEMPTS + 1):
            try:
                _swap(conn, schema, staging, tables, entry, reader_role)
                break
            except psycopg.errors.LockNotAvailable:
                if attempt == SWAP_ATTEMPTS:
                    raise
                time.sleep(min(0.05 * attempt, 1.0))  # readers hold the tables: let them finish
        log(f"swapped into PostgreSQL schema {schema} (attempt {attempt})")
        info = conn.info  # host, port and database only: never the credentials
        return f"postgresql://{info.host}:{info.port}/{info.dbname} schema {schema}"
