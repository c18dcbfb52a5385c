"""Connections to the working DuckDB warehouse.

DuckDB lets one process write a database file at a time, and dbt runs in a subprocess: every connection
opened here is short-lived and closed before the next step, so dbt never finds the file locked.

Opening the file costs ~50 ms (DuckDB reads its whole catalog), and a run's steps connect some fifty times.
While a run holds the warehouse (`held`), the file stays open in this process and `connect` hands out cursors
on it, which cost nothing; `release` closes it before anything else opens the file (dbt's process, an ATTACH
from another DuckDB database: `attach_read_only`), and the next `connect` opens it again.
"""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from tierflow.settings import Settings, internal_value, internal_variable, variable
from tierflow.sql_safety import literal

MEMORY_LIMIT_ENV = variable("duckdb_memory_limit")
MAX_SPILL_ENV = variable("max_spill_gb")
# The default spill bound is the smaller of this and half the free disk of the spill directory.
DEFAULT_MAX_SPILL_GB = 40.0


def memory_limit() -> str:
    """TIERFLOW_DUCKDB_MEMORY_LIMIT (e.g. 2GB, 500MB, 60%): every DuckDB connection of a run stays under it and
    spills to the home's temp directory beyond it."""
    return Settings.from_env().duckdb_memory_limit.strip()


def temp_directory(home_root: Path) -> Path:
    """Where DuckDB spills: inside the home (never the current directory), cleaned by the next run."""
    return home_root / "tmp" / "duckdb"


def free_disk_gb(directory: Path) -> float:
    """Free space on the disk of `directory` (or of its nearest existing parent), in GB."""
    while not directory.exists() and directory != directory.parent:
        directory = directory.parent
    return shutil.disk_usage(directory).free / 1024**3


def max_spill_gb(home_root: Path) -> float:
    """The spill bound in GB: the one the running run fixed when it started, else TIERFLOW_MAX_SPILL_GB, else
    min(40, half the free disk of the spill directory)."""
    fixed = internal_value("MAX_SPILL_GB")
    if fixed:
        return float(fixed)
    configured = Settings.from_env().max_spill_gb
    if configured is not None:
        return configured
    return _stable(min(DEFAULT_MAX_SPILL_GB, free_disk_gb(temp_directory(home_root)) / 2))


def _stable(gb: float) -> float:
    """Half the free disk, rounded down to a whole GB (to 1/64 GB below one): the bound reaches dbt-duckdb's
    profile, and dbt re-parses the whole project (seconds) whenever a profile value differs from the last run's,
    so a bound that followed every megabyte of free disk would defeat partial parsing on every run."""
    step = 1.0 if gb >= 1 else 1 / 64
    rounded = math.floor(gb / step) * step
    return rounded if rounded > 0 else gb


def spill_bound_environment(home_root: Path) -> dict[str, str]:
    """Fixes the default bound for a whole run: computed per connection it would shrink as the run spills."""
    return {internal_variable("MAX_SPILL_GB"): repr(max_spill_gb(home_root))}


def duckdb_size(gb: float) -> str:
    """A size DuckDB parses; whole MiB, at least one."""
    return f"{max(1, int(gb * 1024))}MiB"


def duckdb_threads() -> str:
    return str(os.cpu_count() or 1)


def duckdb_config(home_root: Path) -> dict[str, str]:
    return {
        "memory_limit": memory_limit(),
        "temp_directory": str(temp_directory(home_root)),
        # Beyond it DuckDB raises instead of filling the disk; tierflow.resource_errors names the step.
        "max_temp_directory_size": duckdb_size(max_spill_gb(home_root)),
        # Insertion order is never relied on; dropping it lets DuckDB stream and spill large sorts.
        "preserve_insertion_order": "false",
        "threads": duckdb_threads(),
        **storage_test_config(),
    }


def storage_test_config() -> dict[str, str]:
    """A test's storage layout kept through the run's checkpoints (TIERFLOW__DUCKDB_MAX_VACUUM_TASKS)."""
    tasks = internal_value("DUCKDB_MAX_VACUUM_TASKS")
    return {"max_vacuum_tasks": tasks} if tasks else {}


def home_of(warehouse: Path) -> Path:
    """<home>/warehouse/warehouse.duckdb -> <home>."""
    return warehouse.parent.parent


def connect_scratch(home_root: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB for copies and exports, under the same memory limit and temp directory."""
    return duckdb.connect(config=duckdb_config(home_root))


_held: dict[Path, duckdb.DuckDBPyConnection | None] = {}  # a held warehouse, and its open database if any


@contextmanager
def held(path: Path) -> Iterator[None]:
    """Keeps the warehouse at `path` open between connections until the block ends (see the module's doc). A
    block inside another for the same path changes nothing: the outer one releases it."""
    if path in _held:
        yield
        return
    _held[path] = None
    try:
        yield
    finally:
        release(path)
        _held.pop(path, None)


def release(path: Path) -> None:
    """Closes a held warehouse's open database, so that another process or database instance can open it."""
    database = _held.get(path)
    if database is not None:
        _held[path] = None
        database.close()


def attach_read_only(con: duckdb.DuckDBPyConnection, path: Path, name: str) -> None:
    """Attaches the warehouse at `path` to another DuckDB database, read-only, as `name`."""
    release(path)
    con.execute(f"attach {literal(str(path))} as {name} (read_only)")


def _open(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    if path not in _held or (read_only and not path.exists()):
        return duckdb.connect(str(path), read_only=read_only, config=duckdb_config(home_of(path)))
    # Held: one read-write database for the run (read-only requests get cursors on it too).
    database = _held[path]
    if database is None:
        database = _held[path] = duckdb.connect(str(path), config=duckdb_config(home_of(path)))
    return database.cursor()


@contextmanager
def connect(path: Path, *, read_only: bool = False, timezone: str | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = _open(path, read_only)
    try:
        if timezone:
            # A session setting: other cursors on a held warehouse keep theirs.
            con.execute(f"set TimeZone = {literal(timezone)}")  # a validated IANA name, quoted anyway
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
