"""dbt-postgres: the models run in a PostgreSQL database (`TIERFLOW_TARGET_PG_DSN`, else `TIERFLOW_PG_DSN`).

Inputs travel as CSV through COPY (the fastest path psycopg offers, and DuckDB writes the CSV in parallel);
outputs come back the same way. Both directions are streamed in chunks, never held in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from tierflow.secrets import redact, target_pg_dsn
from tierflow.settings import internal_variable
from tierflow.targets.base import Relation, Target, TargetError, load_into_warehouse
from tierflow.warehouse import connect

CHUNK = 1 << 20
# The advisory lock key of a tierflow run in the target database: "tierflow" in ASCII, as a bigint.
ENGINE_LOCK_KEY = int.from_bytes(b"tierflow", "big")
LOCK_APPLICATION = "tierflow run lock"


def _lock_holder(pg: psycopg.Connection) -> str:
    """Who holds the run lock, from the holder's session (its application_name names the run)."""
    row = pg.execute(
        """
        select activity.application_name, activity.client_addr, activity.backend_start
        from pg_locks as locks
        inner join pg_stat_activity as activity on activity.pid = locks.pid
        where locks.locktype = 'advisory' and locks.granted
            and ((locks.classid::bigint << 32) | locks.objid::bigint) = %s
        """,
        [ENGINE_LOCK_KEY],
    ).fetchone()
    if row is None:
        return "a run that has just finished"
    name, address, since = row
    run = name.removeprefix(LOCK_APPLICATION + ": ") or "another session"
    return f"{run} from {address or 'a local socket'}, since {since:%Y-%m-%d %H:%M:%S %Z}"


def pg_type(duckdb_type: str) -> str:
    """The PostgreSQL column type for a DuckDB one (only the types the warehouse uses)."""
    if duckdb_type.startswith("DECIMAL"):
        return duckdb_type.replace("DECIMAL", "numeric")
    simple = {
        "VARCHAR": "text",
        "INTEGER": "integer",
        "BIGINT": "bigint",
        "HUGEINT": "numeric(38, 0)",
        "SMALLINT": "smallint",
        "DOUBLE": "double precision",
        "FLOAT": "real",
        "BOOLEAN": "boolean",
        "DATE": "date",
        "TIMESTAMP": "timestamp",
        "TIMESTAMP WITH TIME ZONE": "timestamptz",
    }
    if duckdb_type not in simple:
        raise TargetError(f"no PostgreSQL type for DuckDB type {duckdb_type} (tierflow does not use it yet)")
    return simple[duckdb_type]


def duckdb_type(pg_data_type: str, precision: int | None, scale: int | None) -> str:
    """The DuckDB column type for a PostgreSQL one, as information_schema spells it."""
    if pg_data_type == "numeric":
        return f"DECIMAL({precision}, {scale})" if precision else "DOUBLE"
    simple = {
        "text": "VARCHAR",
        "character varying": "VARCHAR",
        "character": "VARCHAR",
        "integer": "INTEGER",
        "bigint": "BIGINT",
        "smallint": "SMALLINT",
        "double precision": "DOUBLE",
        "real": "FLOAT",
        "boolean": "BOOLEAN",
        "date": "DATE",
        "timestamp without time zone": "TIMESTAMP",
        "timestamp with time zone": "TIMESTAMP WITH TIME ZONE",
    }
    return simple.get(pg_data_type, "VARCHAR")


class PostgresTarget(Target):
    name = "postgres"

    @property
    def dsn(self) -> str:
        dsn = target_pg_dsn()
        if not dsn:
            raise TargetError(
                "--target postgres needs TIERFLOW_PG_DSN (or TIERFLOW_TARGET_PG_DSN for a database of its own), "
                "e.g. postgresql://user@127.0.0.1:5432/tierflow",
                is_config=True,
            )
        return dsn

    def check(self) -> None:
        self._connect().close()

    @contextmanager
    def engine_lock(self, holder: str, say: Callable[[str], None]) -> Iterator[None]:
        """A session-level advisory lock in the target database: runs of any home, on any host, that build in
        that database take turns. The server drops it with the session, so a killed run never leaves it
        held; the session's application_name says who holds it to a run that waits."""
        with self._connect(application_name=f"{LOCK_APPLICATION}: {holder}"[:63]) as pg:
            pg.autocommit = True
            if not pg.execute("select pg_try_advisory_lock(%s)", [ENGINE_LOCK_KEY]).fetchone()[0]:
                say(f"waiting for the run that holds the PostgreSQL target's lock: {_lock_holder(pg)}")
                pg.execute("select pg_advisory_lock(%s)", [ENGINE_LOCK_KEY])
                say("the PostgreSQL target's lock is ours; going on")
            try:
                yield
            finally:
                pg.execute("select pg_advisory_unlock(%s)", [ENGINE_LOCK_KEY])

    def dbt_environment(self, inputs: list[Relation], outputs: list[Relation]) -> dict[str, str]:
        parts = conninfo_to_dict(self.dsn)
        return {
            **super().dbt_environment(inputs, outputs),
            internal_variable("TARGET_PG_HOST"): str(parts.get("host") or "127.0.0.1"),
            internal_variable("TARGET_PG_PORT"): str(parts.get("port") or 5432),
            internal_variable("TARGET_PG_USER"): str(parts.get("user") or "postgres"),
            internal_variable("TARGET_PG_PASSWORD"): str(parts.get("password") or ""),
            internal_variable("TARGET_PG_DBNAME"): str(parts.get("dbname") or "postgres"),
        }

    def _connect(self, **options: str) -> psycopg.Connection:
        try:
            return psycopg.connect(self.dsn, connect_timeout=10, **options)
        except psycopg.OperationalError as exc:
            # The DSN may carry a password: name the server, not the DSN.
            parts = conninfo_to_dict(self.dsn)
            where = f"{parts.get('host', 'localhost')}:{parts.get('port', 5432)}/{parts.get('dbname', '')}"
            reason = redact(str(exc).strip().splitlines()[0])
            raise TargetError(f"cannot reach the PostgreSQL target at {where}: {reason}") from None

    def push(self, inputs: list[Relation]) -> None:
        scratch = self.work_dir / "push"
        scratch.mkdir(parents=True, exist_ok=True)
        with self._connect() as pg, connect(self.layout.warehouse, read_only=True) as con:
            # One transaction: the target sees all of this run's inputs or none of them.
            for schema in sorted({r.schema for r in inputs}):
                pg.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
            for relation in inputs:
                target = sql.Identifier(relation.schema, relation.name)
                pg.execute(sql.SQL("drop table if exists {} cascade").format(target))
                columns = sql.SQL(", ").join(
                    sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(pg_type(kind)))
                    for name, kind in relation.columns
                )
                pg.execute(sql.SQL("create table {} ({})").format(target, columns))
                csv_file = scratch / f"{relation.schema}.{relation.name}.csv"
                con.execute(f"copy (select * from {relation.qualified}) to '{csv_file}' (format csv, header false)")
                self._copy_in(pg, target, csv_file)
                csv_file.unlink()

    @staticmethod
    def _copy_in(pg: psycopg.Connection, target: sql.Composable, csv_file: Path) -> None:
        with (
            pg.cursor().copy(sql.SQL("copy {} from stdin (format csv)").format(target)) as copy,
            csv_file.open("rb") as handle,
        ):
            while chunk := handle.read(CHUNK):
                copy.write(chunk)

    def pull(self, outputs: list[Relation]) -> None:
        scratch = self.work_dir / "pull"
        scratch.mkdir(parents=True, exist_ok=True)
        with self._connect() as pg:
            for relation in outputs:
                types = {
                    name: duckdb_type(kind, precision, scale)
                    for name, kind, precision, scale in pg.execute(
                        "select column_name, data_type, numeric_precision, numeric_scale "
                        "from information_schema.columns where table_schema = %s and table_name = %s "
                        "order by ordinal_position",
                        [relation.schema, relation.name],
                    ).fetchall()
                }
                if not types:
                    continue  # not built in this invocation (a subset run)
                csv_file = scratch / f"{relation.schema}.{relation.name}.csv"
                source = sql.Identifier(relation.schema, relation.name)
                with (
                    pg.cursor().copy(sql.SQL("copy (select * from {}) to stdout (format csv)").format(source)) as copy,
                    csv_file.open("wb") as handle,
                ):
                    for chunk in copy:
                        handle.write(chunk)
                columns = "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in types.items()) + "}"
                reader = (
                    f"read_csv('{csv_file}', header = false, auto_detect = false, delim = ',', quote = '\"', "
                    f"escape = '\"', columns = {columns}, nullstr = '', "
                    "allow_quoted_nulls = false)"
                )
                load_into_warehouse(self.layout.warehouse, relation, types, reader)
                csv_file.unlink()
