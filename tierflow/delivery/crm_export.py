"""CRM exports: per published run, the full segment snapshot and the delta against the previous published
as-of date, as CSV and Parquet with a `manifest.json` written last.

- The delta has one row per customer whose segment fields changed (`added`, `changed`, `removed`), with the
  old and new tier, lifecycle stage and segment, the effective date and an idempotency key
  (`<export_id>:<customer_id>`). Fields that move every day (spend, order counts, last order date) are carried
  in the rows but do not by themselves make a change.
- The base is the snapshot of the latest *published* as-of date before this one, so re-running a date
  compares with the same base. A re-run whose files would be byte for byte those of the export already made
  for that date reuses it: an export is never duplicated.
- Members with marketing opt-in get `email_sha256` (trimmed, lower-cased, salted with TIERFLOW_HASH_SALT);
  raw e-mail and phone never leave the warehouse.
- `notices.csv` / `notices.parquet` hold the tier notices raised and withdrawn against the same base (see
  `tierflow.delivery.notices`); the manifest lists them with the other files.
- The directory is assembled under a hidden name and renamed into place; `LATEST` names the newest one.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from tierflow.delivery.notices import STATUSES, load_notices, notice_delta_select, record_notice_snapshot
from tierflow.faults import fault_point
from tierflow.ingest.files import quote_identifier, quote_literal, sha256_of
from tierflow.paths import Home
from tierflow.publish.files import fsync_path, replace_atomically
from tierflow.publish.state import SCHEMA
from tierflow.secrets import hash_salt
from tierflow.sql_safety import inside
from tierflow.timing import Stopwatch
from tierflow.warehouse import attach_read_only, column_names, connect, connect_scratch, table_exists

SCHEMA_VERSION = 3  # 3: notices.csv / notices.parquet
SEGMENT_TABLE = "crm_segments"
SNAPSHOTS = "crm_segment_snapshots"
SNAPSHOTS_KEPT = 7  # as-of dates kept as delta bases (enough to re-run and backfill the last week)
# Fields that move daily: carried in the delta rows, but a change in them alone is not a segment change.
VOLATILE_FIELDS = frozenset(
    {"spend_365d", "orders_365d", "spend_to_next_tier", "last_order_date", "as_of_date", "policy_version", "run_id"}
)
SEGMENT_FIELDS = ("rfm_segment", "segment")  # the first present is the "segment" of the delta
DATA_FILES = (
    "segments.csv",
    "segments.parquet",
    "delta.csv",
    "delta.parquet",
    "notices.csv",
    "notices.parquet",
)
# File stem -> the temp table it is written from.
EXPORTED = {"segments": "current_segments", "delta": "delta_rows", "notices": "notice_rows"}


@dataclass(frozen=True)
class CrmExport:
    directory: Path
    manifest: dict
    reused: bool
    seconds: dict[str, float] = field(default_factory=dict)  # writing each file set (full, delta, notices)

    @property
    def export_id(self) -> str:
        return self.manifest["export_id"]


def _current_segments(con: duckdb.DuckDBPyConnection) -> None:
    """`current_segments`: the run's segments without run-specific columns, with the e-mail hash."""
    con.execute(
        f"""
        create or replace temp table current_segments as
        select
            segments.* exclude (run_id),
            case
                when segments.is_marketing_opt_in and contacts.normalised_email is not null
                    then sha256(? || contacts.normalised_email)
            end as email_sha256
        from warehouse.marts.{SEGMENT_TABLE} as segments
        left join warehouse.marts.crm_contacts as contacts
            on segments.customer_id = contacts.customer_id
        """,
        [hash_salt()],
    )


def _base_segments(con: duckdb.DuckDBPyConnection, as_of: str) -> str | None:
    """`base_segments`: the snapshot of the latest published as-of date before `as_of`, if any."""
    if not table_exists(con, SCHEMA, SNAPSHOTS, catalog="warehouse"):
        con.execute("create or replace temp table base_segments as select * from current_segments where false")
        return None
    base = con.execute(
        f"select max(as_of_date) from warehouse.{SCHEMA}.{SNAPSHOTS} where as_of_date < cast(? as date)", [as_of]
    ).fetchall()[0][0]
    con.execute(
        f"create or replace temp table base_segments as select * exclude (snapshot_as_of_date) "
        f"from warehouse.{SCHEMA}.{SNAPSHOTS} where snapshot_as_of_date = ?",
        [base],
    )
    return None if base is None else base.isoformat()


def _delta_select(current: list[str], base: list[str]) -> str:
    """The delta query; binds $as_of and $key_prefix (values are never formatted into the SQL)."""
    compared = [c for c in current if c in base and c not in VOLATILE_FIELDS and c != "customer_id"]
    changed = " or ".join(f"c.{quote_identifier(c)} is distinct from b.{quote_identifier(c)}" for c in compared)
    segment = next((f for f in SEGMENT_FIELDS if f in current and f in base), None)
    old_segment = f"b.{segment}" if segment else "cast(null as varchar)"
    new_segment = f"c.{segment}" if segment else "cast(null as varchar)"
    carried = [c for c in current if c != "customer_id"]
    return f"""
        select
            coalesce(c.customer_id, b.customer_id) as customer_id,
            case when b.customer_id is null then 'added' when c.customer_id is null then 'removed'
                 else 'changed' end as change_type,
            cast($as_of as date) as effective_date,
            $key_prefix || coalesce(c.customer_id, b.customer_id) as idempotency_key,
            b.tier as old_tier, c.tier as new_tier,
            b.lifecycle_stage as old_lifecycle_stage, c.lifecycle_stage as new_lifecycle_stage,
            {old_segment} as old_segment, {new_segment} as new_segment,
            {", ".join(f"c.{quote_identifier(col)}" for col in carried)}
        from current_segments as c
        full outer join base_segments as b on c.customer_id = b.customer_id
        where b.customer_id is null or c.customer_id is null {f"or {changed}" if changed else ""}
        order by 1
    """


def _write_files(
    con: duckdb.DuckDBPyConnection, directory: Path, as_of: str, export_id: str, watch: Stopwatch
) -> tuple[dict[str, int], dict[str, int]]:
    """Write the data files; (delta counts by change type, notice counts by status)."""
    directory.mkdir(parents=True, exist_ok=True)
    with watch.part("delta"):
        delta = _delta_select(column_names(con, "current_segments"), column_names(con, "base_segments"))
        con.execute(
            f"create or replace temp table delta_rows as {delta}", {"as_of": as_of, "key_prefix": f"{export_id}:"}
        )
    with watch.part("notices"):
        con.execute(f"create or replace temp table notice_rows as {notice_delta_select()}", {"as_of": as_of})
    for name, part, select in (
        ("segments", "full", "select * from current_segments order by customer_id"),
        ("delta", "delta", "select * from delta_rows order by customer_id"),
        ("notices", "notices", "select * from notice_rows order by customer_id, notice_key, status"),
    ):
        with watch.part(part):
            con.execute(
                f"copy ({select}) to {quote_literal(str(directory / (name + '.csv')))} (format csv, header true)"
            )
            con.execute(
                f"copy ({select}) to {quote_literal(str(directory / (name + '.parquet')))} "
                "(format parquet, compression zstd)"
            )
        fault_point("export.file_written")
    counts = dict(con.execute("select change_type, count(*) from delta_rows group by 1").fetchall())
    notices = dict(con.execute("select status, count(*) from notice_rows group by 1").fetchall())
    return (
        {kind: counts.get(kind, 0) for kind in ("added", "changed", "removed")},
        {status: notices.get(status, 0) for status in STATUSES},
    )


def _existing_export(home: Home, as_of: str) -> tuple[Path, dict] | None:
    found = []
    for directory in home.crm_exports.glob(f"{as_of}_*"):
        manifest = directory / "manifest.json"
        if manifest.exists():
            found.append((json.loads(manifest.read_text(encoding="utf-8")), directory))
    if not found:
        return None
    manifest, directory = max(found, key=lambda item: item[0]["created_at"])
    return directory, manifest


def point_latest(home: Home, directory: Path, *, only_if_newer: bool = False) -> None:
    """`LATEST` names the newest export; `only_if_newer` leaves it alone when it names a later as-of date."""
    current = home.crm_exports / "LATEST"
    if only_if_newer and current.exists():
        named = current.read_text(encoding="utf-8").strip()
        if named == directory.name or named.split("_", 1)[0] > directory.name.split("_", 1)[0]:
            return
    pointer = home.crm_exports / ".LATEST.staged"
    pointer.write_text(directory.name + "\n", encoding="utf-8")
    replace_atomically(pointer, current)


def export_segments(home: Home, *, run_id: str, as_of: str, policy_version: str) -> CrmExport:
    home.ensure()
    existing = _existing_export(home, as_of)
    staged = inside(home.crm_exports, f".{as_of}_{run_id}.staged", what="CRM export directory")
    shutil.rmtree(staged, ignore_errors=True)
    with connect_scratch(home.root) as con:
        attach_read_only(con, home.warehouse, "warehouse")
        watch = Stopwatch()
        with watch.part("full"):
            _current_segments(con)
        with watch.part("delta"):
            base_as_of = _base_segments(con, as_of)
        with watch.part("notices"):
            load_notices(con, base_as_of)
        if existing:
            directory, manifest = existing
            _write_files(con, staged, as_of, manifest["export_id"], watch)
            if all(
                name in manifest["files"] and sha256_of(staged / name) == manifest["files"][name]["sha256"]
                for name in DATA_FILES
            ):
                shutil.rmtree(staged)
                # A run killed after renaming its export but before LATEST: this run finishes the job.
                point_latest(home, directory, only_if_newer=True)
                return CrmExport(directory, manifest, reused=True, seconds=watch.rounded())
            shutil.rmtree(staged)
        counts, notice_counts = _write_files(con, staged, as_of, run_id, watch)
        rows = {name: con.execute(f"select count(*) from {table}").fetchall()[0][0] for name, table in EXPORTED.items()}
        columns = {name: column_names(con, table) for name, table in EXPORTED.items()}
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "export_id": run_id,
        "run_id": run_id,
        "as_of_date": as_of,
        "base_as_of_date": base_as_of,
        "policy_version": policy_version,
        "row_count": rows["segments"],
        "delta_counts": counts,
        "notice_counts": notice_counts,
        "columns": columns,
        "files": {
            name: {
                "sha256": sha256_of(staged / name),
                "bytes": (staged / name).stat().st_size,
                "rows": rows[name.split(".")[0]],
            }
            for name in DATA_FILES
        },
        "created_at": datetime.now(UTC).isoformat(timespec="microseconds"),
    }
    (staged / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    fault_point("export.manifest_written")
    final = inside(home.crm_exports, f"{as_of}_{run_id}", what="CRM export directory")
    for path in staged.iterdir():
        fsync_path(path)  # the files reach the disk before the directory becomes visible
    os.replace(staged, final)
    fault_point("export.renamed")
    point_latest(home, final)
    return CrmExport(final, manifest, reused=False, seconds=watch.rounded())


def record_snapshot(home: Home, export: CrmExport) -> None:
    """Keep the exported snapshot as the base of later deltas (after the export is in place)."""
    as_of = export.manifest["as_of_date"]
    parquet = str(export.directory / "segments.parquet")
    with connect(home.warehouse) as con:
        con.begin()
        con.execute(f"create schema if not exists {SCHEMA}")
        con.execute(
            f"create table if not exists {SCHEMA}.{SNAPSHOTS} as "
            "select cast(null as date) as snapshot_as_of_date, * from read_parquet(?) where false",
            [parquet],
        )
        con.execute(f"delete from {SCHEMA}.{SNAPSHOTS} where snapshot_as_of_date = ?", [as_of])
        con.execute(
            f"insert into {SCHEMA}.{SNAPSHOTS} by name select cast(? as date) as snapshot_as_of_date, * "
            "from read_parquet(?)",
            [as_of, parquet],
        )
        con.execute(
            f"delete from {SCHEMA}.{SNAPSHOTS} where snapshot_as_of_date not in ("
            f"select distinct snapshot_as_of_date from {SCHEMA}.{SNAPSHOTS} order by 1 desc limit {SNAPSHOTS_KEPT})"
        )
        record_notice_snapshot(con, as_of, SNAPSHOTS_KEPT)
        con.commit()
