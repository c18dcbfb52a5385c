"""What publishing a run's tables to PostgreSQL costs: the published Parquet files of a home's latest run,
loaded and swapped into a throwaway schema exactly as `tierflow run` does with TIERFLOW_PG_DSN set
(tierflow.publish.postgres), then dropped. The benchmark runs it in a fresh process after the daily run, so the
daily run's own figure stays that of the default targets (DuckDB file and Parquet).

    python -m bench.pg_publish <home> [--dsn postgresql://127.0.0.1:5432/test]

Prints {"tables": …, "rows": …, "seconds": …} as JSON.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

from tierflow.paths import Home
from tierflow.publish.files import PARQUET_MANIFEST
from tierflow.publish.postgres import publish_postgres
from tierflow.publish.state import new_entry

DEFAULT_DSN = "postgresql://127.0.0.1:5432/test"


def publish_latest(home: Home, dsn: str) -> dict:
    run_dir = (home.published_parquet / "latest").resolve()
    manifest = json.loads((run_dir / PARQUET_MANIFEST).read_text(encoding="utf-8"))
    files = {name.removesuffix(".parquet"): run_dir / name for name in manifest["files"]}
    rows = {table: manifest["files"][f"{table}.parquet"]["rows"] for table in files}
    entry = new_entry(
        run_id=manifest["run_id"],
        as_of=manifest["as_of_date"],
        policy_version=manifest["policy_version"],
        row_counts=rows,
        checksums={table: manifest["files"][f"{table}.parquet"]["sha256"] for table in files},
        seconds=0,
    )
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    started = time.perf_counter()
    try:
        publish_postgres(dsn, schema=schema, reader_role=None, files=files, entry=entry, scratch=home.tmp / schema)
        seconds = time.perf_counter() - started
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            for name in (schema, f"{schema}__staging"):
                conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(name)))
    return {"tables": len(files), "rows": sum(rows.values()), "seconds": round(seconds, 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pg_publish", description=__doc__.split("\n\n")[0])
    parser.add_argument("home", type=Path, help="a tierflow home that has published Parquet")
    parser.add_argument("--dsn", default=DEFAULT_DSN, help=f"PostgreSQL to publish into (default {DEFAULT_DSN})")
    args = parser.parse_args(argv)
    print(json.dumps(publish_latest(Home(args.home), args.dsn)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
