"""Publishing for BI: a DuckDB file replaced atomically, and Parquet copies behind a `latest` link.

The new DuckDB file is written beside the old one under a temporary name, flushed to disk, then renamed
over it: a BI tool that opens the file sees the old version or the new one, never half of either, and a
reader that already has the old file open keeps reading it. Parquet files go to a directory per run and
the `latest` symbolic link is switched with one rename.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.ingest.files import quote_identifier, quote_literal
from orchestration.paths import Home


@dataclass(frozen=True)
class BiPublication:
    duckdb_path: Path
    parquet_dir: Path
    parquet_latest: Path
    row_counts: dict[str, int]


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
    home.ensure()
    staged = home.published_dir / f".tierflow.duckdb.{run_id}.staged"
    staged.unlink(missing_ok=True)
    parquet_run = home.published_parquet / "runs" / run_id
    parquet_run.mkdir(parents=True, exist_ok=True)
    row_counts: dict[str, int] = {}
    con = duckdb.connect(str(staged))
    try:
        con.execute(f"attach {quote_literal(str(home.warehouse))} as warehouse (read_only)")
        for table in tables:
            source = f"warehouse.marts.{quote_identifier(table)}"
            con.execute(f"create table {quote_identifier(table)} as select * from {source}")
            row_counts[table] = con.execute(f"select count(*) from {quote_identifier(table)}").fetchall()[0][0]
            parquet = parquet_run / f"{table}.parquet"
            con.execute(
                f"copy (select * from {quote_identifier(table)} order by 1) to {quote_literal(str(parquet))} "
                "(format parquet, compression zstd)"
            )
        con.execute(
            "create table publish_info as select ? as run_id, cast(? as date) as as_of_date, "
            "? as policy_version, cast(? as timestamp) as published_at",
            [run_id, as_of, policy_version, datetime.now(UTC).replace(tzinfo=None)],
        )
        con.execute("detach warehouse")
        con.execute("checkpoint")
    finally:
        con.close()
    replace_atomically(staged, home.published_duckdb)
    latest = home.published_parquet / "latest"
    switch_link(latest, os.path.relpath(parquet_run, latest.parent))
    return BiPublication(home.published_duckdb, parquet_run, latest, row_counts)
