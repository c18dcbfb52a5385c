"""What a tierflow home publishes, as content hashes, and the invariants every published output must satisfy
at any moment (after a crash included). Shared by the crash, idempotency and resource tests.

Content hashes leave out what legitimately differs between two runs of the same as-of date:
- `run_id` (every published table) and `source_run_id` (KPI tables: the run that measured the row);
- `publish_log` gets a row per publication (a re-run is one, and a crashed run may have reached PostgreSQL):
  only its last row counts, without run id, published_at, seconds and the Parquet checksums (the files
  carry the run id);
- in a CRM export: `export_id`/`run_id`/`created_at` of the manifest, the delta's `idempotency_key`
  (`<export_id>:<customer_id>`) and so the delta files' checksums and sizes.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import psycopg
from psycopg import sql

RUN_COLUMNS = ("run_id", "source_run_id")


def _digest(rows: list) -> str:
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def _table_hash(con: duckdb.DuckDBPyConnection, relation: str) -> str:
    columns = [r[0] for r in con.execute(f"describe select * from {relation}").fetchall()]
    kept = ", ".join(f'"{c}"' for c in columns if c not in RUN_COLUMNS)
    return _digest(con.execute(f"select {kept} from {relation} order by all").fetchall())


def _log_hash(rows: list[tuple]) -> str:
    # run_id, as_of_date, policy_version, published_at, tables, row_counts, checksums, seconds
    last = rows[-1]
    return _digest([str(last[1]), last[2], last[4], last[5]])


def duckdb_file_content(path: Path) -> tuple[dict[str, str], set[str], str]:
    """(table -> content hash, run ids in the tables, the last publish_log run id); checks every table
    carries exactly that run id."""
    with duckdb.connect(str(path), read_only=True) as con:
        tables = [r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()]
        log = con.execute("select * from publish_log order by published_at").fetchall()
        hashes = {t: _table_hash(con, f'"{t}"') for t in tables if t != "publish_log"}
        hashes["publish_log"] = _log_hash(log)
        stamps = {
            r[0]
            for t in tables
            if t != "publish_log"
            for r in con.execute(f'select distinct run_id from "{t}"').fetchall()
        }
    return hashes, stamps, log[-1][0]


def parquet_content(latest: Path) -> tuple[dict[str, str], str]:
    """(file -> content hash, the manifest's run id); checks the files against `manifest.json`."""
    manifest = json.loads((latest / "manifest.json").read_text(encoding="utf-8"))
    files = sorted(p.name for p in latest.glob("*.parquet"))
    assert files == sorted(manifest["files"]), (files, manifest["files"])
    hashes = {}
    with duckdb.connect() as con:
        for name, meta in manifest["files"].items():
            path = latest / name
            assert hashlib.sha256(path.read_bytes()).hexdigest() == meta["sha256"], name
            relation = f"read_parquet('{path}')"
            assert con.execute(f"select count(*) from {relation}").fetchone()[0] == meta["rows"], name
            stamps = {r[0] for r in con.execute(f"select distinct run_id from {relation}").fetchall()}
            assert stamps <= {manifest["run_id"]}, (name, stamps)
            hashes[name] = _table_hash(con, relation)
    return hashes, manifest["run_id"]


def crm_export_content(exports: Path) -> tuple[dict[str, str], str]:
    """The export LATEST names: (content hashes, as-of date); checks its files against its manifest."""
    directory = exports / (exports / "LATEST").read_text(encoding="utf-8").strip()
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    for name, meta in manifest["files"].items():
        assert hashlib.sha256((directory / name).read_bytes()).hexdigest() == meta["sha256"], name
        assert (directory / name).stat().st_size == meta["bytes"], name
    stable = {k: v for k, v in manifest.items() if k not in {"export_id", "run_id", "created_at", "files"}}
    hashes = {
        "manifest": _digest(sorted(json.dumps(stable, sort_keys=True))),
        "segments.csv": manifest["files"]["segments.csv"]["sha256"],
        "segments.parquet": manifest["files"]["segments.parquet"]["sha256"],
        "notices.parquet": manifest["files"]["notices.parquet"]["sha256"],
    }
    with duckdb.connect() as con:
        delta = f"(select * exclude (idempotency_key) from read_parquet('{directory / 'delta.parquet'}'))"
        hashes["delta"] = _table_hash(con, delta)
    return hashes, manifest["as_of_date"]


def postgres_content(dsn: str, schema: str) -> tuple[dict[str, str], str | None]:
    """(table -> content hash, last publish_log run id), or ({}, None) before the first publication; checks
    every table carries that run id."""
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("select table_name from information_schema.tables where table_schema = %s", [schema])
        tables = sorted(r[0] for r in cur.fetchall())
        if not tables:
            return {}, None
        cur.execute(sql.SQL("select * from {}.publish_log order by published_at").format(sql.Identifier(schema)))
        log = cur.fetchall()
        last = log[-1][0]
        hashes = {"publish_log": _log_hash(log)}
        for table in tables:
            if table == "publish_log":
                continue
            cur.execute(sql.SQL("select * from {}.{}").format(sql.Identifier(schema), sql.Identifier(table)))
            names = [d.name for d in cur.description]
            rows = cur.fetchall()
            run_ids = {r[names.index("run_id")] for r in rows}
            assert run_ids <= {last}, (table, run_ids, last)
            kept = [i for i, n in enumerate(names) if n not in RUN_COLUMNS]
            hashes[table] = _digest(sorted((tuple(r[i] for i in kept) for r in rows), key=repr))
    return hashes, last


def warehouse_last_published(home: Path) -> tuple[str, str] | None:
    """(run id, as-of date) of the warehouse's last committed publication; the warehouse must open."""
    with duckdb.connect(str(home / "warehouse" / "warehouse.duckdb"), read_only=True) as con:
        exists = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'published_state' "
            "and table_name = 'publish_log'"
        ).fetchone()[0]
        if not exists:
            return None
        row = con.execute(
            "select run_id, cast(as_of_date as varchar) from published_state.publish_log order by published_at desc"
        ).fetchone()
    return row[0], row[1]


def snapshot(home: Path, pg: tuple[str, str] | None = None) -> dict[str, dict[str, str]]:
    """Content hashes of every published output of a home (checking each one's own consistency)."""
    outputs: dict[str, dict[str, str]] = {}
    if (home / "published" / "tierflow.duckdb").exists():
        hashes, stamps, last = duckdb_file_content(home / "published" / "tierflow.duckdb")
        assert stamps == {last}, f"BI DuckDB tables carry {stamps}, its publish_log ends with {last}"
        outputs["duckdb"] = hashes
    if (home / "published" / "parquet" / "latest").exists():
        outputs["parquet"] = parquet_content(home / "published" / "parquet" / "latest")[0]
    if (home / "exports" / "crm" / "LATEST").exists():
        outputs["crm"] = crm_export_content(home / "exports" / "crm")[0]
    if pg:
        hashes, _ = postgres_content(*pg)
        if hashes:
            outputs["postgres"] = hashes
    return outputs


def staging_leftovers(home: Path) -> list[str]:
    """Hidden staging files and directories anywhere in the published areas of a home."""
    areas = [home / "published", home / "exports", home / "reports", home / "runs"]
    return sorted(str(p.relative_to(home)) for area in areas if area.exists() for p in area.rglob(".*"))
