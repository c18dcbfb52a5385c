"""The CRM segment export: per published run, a directory with the full segment snapshot as CSV and
Parquet and a `manifest.json` written last. The directory is assembled under a hidden name and renamed
into place, so a consumer that finds it finds it complete; `LATEST` names the newest one."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from orchestration.ingest.files import quote_literal, sha256_of
from orchestration.paths import Home
from orchestration.publishing import replace_atomically
from orchestration.warehouse import connect

SCHEMA_VERSION = 1
SEGMENT_TABLE = "crm_segments"


@dataclass(frozen=True)
class CrmExport:
    directory: Path
    manifest: dict


def export_segments(home: Home, *, run_id: str, as_of: str, policy_version: str) -> CrmExport:
    home.ensure()
    name = f"{as_of}_{run_id}"
    final = home.crm_exports / name
    staged = home.crm_exports / f".{name}.staged"
    if staged.exists():
        for leftover in staged.iterdir():
            leftover.unlink()
    staged.mkdir(parents=True, exist_ok=True)
    select = f"select * from marts.{SEGMENT_TABLE} order by customer_id"
    with connect(home.warehouse, read_only=True) as con:
        columns = [row[0] for row in con.execute(f"describe {select}").fetchall()]
        rows = con.execute(f"select count(*) from marts.{SEGMENT_TABLE}").fetchall()[0][0]
        con.execute(f"copy ({select}) to {quote_literal(str(staged / 'segments.csv'))} (format csv, header true)")
        con.execute(
            f"copy ({select}) to {quote_literal(str(staged / 'segments.parquet'))} (format parquet, compression zstd)"
        )
    files = {
        path.name: {"sha256": sha256_of(path), "bytes": path.stat().st_size, "rows": rows}
        for path in sorted(staged.iterdir())
    }
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "kind": "full",
        "run_id": run_id,
        "as_of_date": as_of,
        "policy_version": policy_version,
        "row_count": rows,
        "columns": columns,
        "files": files,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    (staged / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    os.replace(staged, final)
    pointer = home.crm_exports / ".LATEST.staged"
    pointer.write_text(name + "\n", encoding="utf-8")
    replace_atomically(pointer, home.crm_exports / "LATEST")
    return CrmExport(final, manifest)
