"""Publishing for BI: Parquet files per run, a DuckDB file replaced atomically, optionally PostgreSQL.

Every publication starts by writing each gated mart to Parquet under `published/parquet/runs/<run_id>/`
(the checksums in `publish_log` are those files' SHA-256), then makes the enabled targets visible:
- duckdb: a new `published/tierflow.duckdb` is written under a temporary name, flushed, and renamed over the
  old one: a BI tool sees the old file or the new one, never half of either, and a reader that has the old
  file open keeps reading it;
- parquet: the run's directory gets a `manifest.json` (written last: run, as-of date, SHA-256 and rows of every
  file), then the `published/parquet/latest` link is switched to it with one rename;
- postgres (when TIERFLOW_PG_DSN is set): see `tierflow.publish.postgres`.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from tierflow.faults import fault_point
from tierflow.ingest.files import sha256_of
from tierflow.paths import Home
from tierflow.publish.state import LOG_DDL, LOG_WIDTH, SCHEMA, PublishEntry, new_entry, publish_log_rows
from tierflow.sql_safety import identifier, inside, literal
from tierflow.warehouse import attach_read_only, connect_scratch, duckdb_config

PARQUET_MANIFEST = "manifest.json"


@dataclass(frozen=True)
class StagedRun:
    run_id: str
    parquet_dir: Path
    files: dict[str, Path]
    row_counts: dict[str, int]
    entry: PublishEntry


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_atomically(staged: Path, target: Path) -> None:
    """Make `staged` visible as `target` in one step (both on the same file system)."""
    fsync_path(staged)
    os.replace(staged, target)
    fsync_path(target.parent)


def switch_link(link: Path, target: str) -> None:
    staged = link.with_name(f".{link.name}.switching")
    staged.unlink(missing_ok=True)
    staged.symlink_to(target)
    os.replace(staged, link)
    fsync_path(link.parent)


def stage_parquet(
    home: Home,
    *,
    run_id: str,
    as_of: str,
    policy_version: str,
    tables: list[str],
    keys: dict[str, list[str]] | None = None,
    overrides: dict[str, str] | None = None,
    full_audit: bool = False,
) -> StagedRun:
    """Write every gated mart to Parquet, sorted so the same content gives the same bytes: by its primary key
    (`keys`, unique once the gates have passed), else by every column (slower: 2.0 s against 1.5 s for a
    1 M-row mart)."""
    started = time.perf_counter()
    parquet_dir = inside(home.published_parquet, "runs", run_id, what="Parquet run directory")
    shutil.rmtree(parquet_dir, ignore_errors=True)  # a half-written attempt of the same run id
    parquet_dir.mkdir(parents=True)
    files, row_counts, checksums = {}, {}, {}
    with connect_scratch(home.root) as con:
        attach_read_only(con, home.warehouse, "warehouse")
        for table in tables:
            path = parquet_dir / f"{table}.parquet"
            source = f"warehouse.marts.{identifier(table, 'published table')}"
            key = (keys or {}).get(table)
            order = ", ".join(identifier(c, "key column") for c in key) if key else "all"
            con.execute(
                f"copy (select * from {source} order by {order}) to {literal(str(path))} "
                "(format parquet, compression zstd)"
            )
            files[table] = path
            # From the file's footer: no second scan of the mart.
            row_counts[table] = con.execute("select count(*) from read_parquet(?)", [str(path)]).fetchall()[0][0]
            checksums[table] = sha256_of(path)
            fault_point("publish.parquet_file_written")
    entry = new_entry(
        run_id=run_id,
        as_of=as_of,
        policy_version=policy_version,
        row_counts=row_counts,
        checksums=checksums,
        seconds=time.perf_counter() - started,
        overrides=overrides,
        full_audit=full_audit,
    )
    manifest = {
        "run_id": run_id,
        "as_of_date": as_of,
        "policy_version": policy_version,
        "files": {f"{t}.parquet": {"sha256": checksums[t], "rows": row_counts[t]} for t in tables},
    }
    staged_manifest = parquet_dir / f".{PARQUET_MANIFEST}.staged"
    staged_manifest.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    replace_atomically(staged_manifest, parquet_dir / PARQUET_MANIFEST)
    return StagedRun(run_id, parquet_dir, files, row_counts, entry)


def publish_duckdb_file(home: Home, staged: StagedRun) -> Path:
    target = home.published_duckdb
    temporary = home.published_dir / f".tierflow.duckdb.{staged.run_id}.staged"
    temporary.unlink(missing_ok=True)
    temporary.with_name(temporary.name + ".wal").unlink(missing_ok=True)
    con = duckdb.connect(str(temporary), config=duckdb_config(home.root))
    try:
        for table, path in staged.files.items():
            con.execute(
                f"create table {identifier(table, 'published table')} as select * from read_parquet(?)", [str(path)]
            )
            fault_point("publish.duckdb_table_written")
        # BI sees every publication so far, this one included.
        attach_read_only(con, home.warehouse, "warehouse")
        earlier = publish_log_rows(con, catalog="warehouse")
        con.execute("detach warehouse")
        con.execute(LOG_DDL.replace(f"{SCHEMA}.publish_log", "publish_log"))
        con.executemany(
            f"insert into publish_log values ({', '.join('?' * LOG_WIDTH)})", [*earlier, staged.entry.row()]
        )
        con.execute("checkpoint")
    finally:
        con.close()
    replace_atomically(temporary, target)
    return target


def publish_parquet_latest(home: Home, staged: StagedRun) -> Path:
    latest = home.published_parquet / "latest"
    switch_link(latest, os.path.relpath(staged.parquet_dir, latest.parent))
    return latest


def discard_staged_parquet(staged: StagedRun) -> None:
    """When Parquet is not a target, its files were only the staging copy."""
    shutil.rmtree(staged.parquet_dir, ignore_errors=True)
