"""The warehouse's memory of the last *published* run.

After a run publishes, its gated marts are copied to the `published_state` schema of the warehouse and a row
is added to `published_state.publish_log`. Models that compare with "the previous published run" (KPIs,
migrations, CRM deltas) read from there through the `previous_published` dbt macro: a blocked or crashed
run never becomes anyone's "previous".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.ingest.files import quote_identifier
from orchestration.warehouse import connect, table_exists

SCHEMA = "published_state"
LOG_DDL = f"""
create table if not exists {SCHEMA}.publish_log (
    run_id varchar not null,
    as_of_date date not null,
    policy_version varchar not null,
    published_at timestamp not null,
    tables varchar not null,
    row_counts varchar not null,
    checksums varchar not null,
    seconds double not null
)
"""


@dataclass(frozen=True)
class PublishEntry:
    run_id: str
    as_of_date: str
    policy_version: str
    row_counts: dict[str, int]
    checksums: dict[str, str]
    seconds: float
    published_at: datetime

    def row(self) -> list:
        return [
            self.run_id,
            self.as_of_date,
            self.policy_version,
            self.published_at.replace(tzinfo=None),
            json.dumps(sorted(self.row_counts)),
            json.dumps(self.row_counts, sort_keys=True),
            json.dumps(self.checksums, sort_keys=True),
            round(self.seconds, 3),
        ]


def new_entry(
    *,
    run_id: str,
    as_of: str,
    policy_version: str,
    row_counts: dict[str, int],
    checksums: dict[str, str],
    seconds: float,
) -> PublishEntry:
    return PublishEntry(run_id, as_of, policy_version, row_counts, checksums, seconds, datetime.now(UTC))


def publish_log_rows(con: duckdb.DuckDBPyConnection, catalog: str = "") -> list[tuple]:
    """Earlier publications, oldest first (none before the first)."""
    prefix = f"{catalog}." if catalog else ""
    if not table_exists(con, SCHEMA, "publish_log", catalog=catalog or None):
        return []
    return con.execute(f"select * from {prefix}{SCHEMA}.publish_log order by published_at").fetchall()


def record_publication(warehouse: Path, tables: list[str], entry: PublishEntry) -> None:
    """Remember what was just published, in one transaction."""
    with connect(warehouse) as con:
        con.begin()
        con.execute(f"create schema if not exists {SCHEMA}")
        for table in tables:
            name = quote_identifier(table)
            con.execute(f"create or replace table {SCHEMA}.{name} as select * from marts.{name}")
        con.execute(LOG_DDL)
        con.execute(f"insert into {SCHEMA}.publish_log values (?, ?, ?, ?, ?, ?, ?, ?)", entry.row())
        con.commit()
