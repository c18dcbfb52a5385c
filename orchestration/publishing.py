"""Publishing for BI: a DuckDB file replaced atomically, and Parquet copies behind a `latest` link.

The new DuckDB file is written beside the old one under a temporary name, flushed to disk, then renamed
over it: a BI tool that opens the file sees the old version or the new one, never half of either, and a
reader that already has the old file open keeps reading it. Parquet files go to a directory per run and
the `latest` symbolic link is switched with one rename. Every published file carries `publish_log`, the
list of all publications (run id, as-of date, tables, row counts, Parquet checksums, duration).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.ingest.files import quote_identifier, quote_literal, sha256_of
from orchestration.paths import Home
from orchestration.published_state import LOG_DDL, SCHEMA, PublishEntry, new_entry, publish_log_rows


@dataclass(frozen=True)
class BiPublication:
    duckdb_path: Path
    parquet_dir: Path
    parquet_latest: Path
    row_counts: dict[str, int]
    entry: PublishEntry


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_atomically(staged: Path, target: Path) -> None:
    """Make `staged` visible as `target` in one step (both on the same file system)."""
    _fsync(staged)
    os.replace(staged, target)
    _fsync(target.parent)


def switch_link(link: Path, target: str) -> None:
    staged = link.with_name(f".{link.name}.switching")
    staged.unlink(missing_ok=True)
    staged.symlink_to(target)
    os.replace(staged, link)
    _fsync(link.parent)


def publish_bi(home: Home, *, run_id: str, as_of: str, policy_version: str, tables: list[str]) -> BiPublication:
    started = time.perf_counter()
    home.ensure()
    staged = home.published_dir / f".tierflow.duckdb.{run_id}.staged"
    staged.unlink(missing_ok=True)
    parquet_run = home.published_parquet / "runs" / run_id
    parquet_run.mkdir(parents=True, exist_ok=True)
    row_counts: dict[str, int] = {}
    checksums: dict[str, str] = {}
    con = duckdb.connect(str(staged))
    try:
        con.execute(f"attach {quote_literal(str(home.warehouse))} as warehouse (read_only)")
        for table in tables:
            name = quote_identifier(table)
            con.execute(f"create table {name} as select * from warehouse.marts.{name}")
            row_counts[table] = con.execute(f"select count(*) from {name}").fetchall()[0][0]
            parquet = parquet_run / f"{table}.parquet"
            con.execute(
                f"copy (select * from {name} order by all) to {quote_literal(str(parquet))} "
                "(format parquet, compression zstd)"
            )
            checksums[table] = sha256_of(parquet)
        entry = new_entry(
            run_id=run_id,
            as_of=as_of,
            policy_version=policy_version,
            row_counts=row_counts,
            checksums=checksums,
            seconds=time.perf_counter() - started,
        )
        # BI sees every publication so far, this one included.
        earlier = publish_log_rows(con, catalog="warehouse")
        con.execute(LOG_DDL.replace(f"{SCHEMA}.publish_log", "publish_log"))
        con.executemany("insert into publish_log values (?, ?, ?, ?, ?, ?, ?, ?)", [*earlier, entry.row()])
        con.execute("detach warehouse")
        con.execute("checkpoint")
    finally:
        con.close()
    replace_atomically(staged, home.published_duckdb)
    latest = home.published_parquet / "latest"
    switch_link(latest, os.path.relpath(parquet_run, latest.parent))
    return BiPublication(home.published_duckdb, parquet_run, latest, row_counts, entry)
