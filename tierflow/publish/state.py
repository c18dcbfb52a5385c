"""The warehouse's memory of the last *published* run.

After a run publishes, the published marts that later runs read back (`state_tables`: the tables of the dbt
source `published_state`, such as customer_tiers and tier_changes) are copied to the `published_state` schema
of the warehouse and a row is added to `published_state.publish_log`. Models that compare with "the previous
published run" (KPIs, migrations, the tier engine's state) read them as the dbt sources `published_state` and
`published_base`, through the staging models `stg_published_state__<table>`: a blocked or crashed run never
becomes anyone's "previous". The other published marts stay in the published targets only (copying them too
cost a daily run at 1 M customers two copies of four 1 M-row tables). Before dbt runs,
`prepare_published_state` creates whatever of these tables is missing, empty, with the columns of the marts'
contracts, so the sources exist from a home's first run on.

A re-run of the last published as-of date must compute what the first run of that date computed (the same
as-of date run twice publishes identical content), so it must compare with the run *before* that date, not
with its own first attempt. When a publication moves to a new as-of date, the tables it replaces are kept
in `published_base` (the last published state of an earlier date); the staging models read `published_base`
when the run's as-of date is the last published one, `published_state` otherwise.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from tierflow.faults import fault_point
from tierflow.sql_safety import identifier
from tierflow.warehouse import connect, scalar, table_exists

SCHEMA = "published_state"
BASE_SCHEMA = "published_base"
LOG_DDL = f"""
create table if not exists {SCHEMA}.publish_log (
    run_id varchar not null,
    as_of_date date not null,
    policy_version varchar not null,
    published_at timestamp not null,
    tables varchar not null,
    row_counts varchar not null,
    checksums varchar not null,
    seconds double not null,
    overrides varchar,
    full_audit boolean
)
"""
# Logs written before breaker overrides or full audits existed lack the last columns; they are added (null)
# when next written.
LOG_UPGRADE = (
    f"alter table {SCHEMA}.publish_log add column if not exists overrides varchar; "
    f"alter table {SCHEMA}.publish_log add column if not exists full_audit boolean"
)
LOG_WIDTH = 10


@dataclass(frozen=True)
class PublishEntry:
    run_id: str
    as_of_date: str
    policy_version: str
    row_counts: dict[str, int]
    checksums: dict[str, str]
    seconds: float
    published_at: datetime
    # {breaker: reason} the operator allowed with `tierflow run --allow … --reason …`; None when none.
    overrides: dict[str, str] | None = None
    # The landing suites judged every row, not only this run's (tierflow.gates.audit).
    full_audit: bool = False

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
            json.dumps(self.overrides, sort_keys=True) if self.overrides else None,
            self.full_audit,
        ]


def new_entry(
    *,
    run_id: str,
    as_of: str,
    policy_version: str,
    row_counts: dict[str, int],
    checksums: dict[str, str],
    seconds: float,
    overrides: dict[str, str] | None = None,
    full_audit: bool = False,
) -> PublishEntry:
    return PublishEntry(
        run_id, as_of, policy_version, row_counts, checksums, seconds, datetime.now(UTC), overrides, full_audit
    )


def publish_log_rows(con: duckdb.DuckDBPyConnection, catalog: str = "") -> list[tuple]:
    """Earlier publications, oldest first (none before the first)."""
    prefix = f"{catalog}." if catalog else ""
    if not table_exists(con, SCHEMA, "publish_log", catalog=catalog or None):
        return []
    rows = con.execute(f"select * from {prefix}{SCHEMA}.publish_log order by published_at").fetchall()
    return [(*row, *([None] * (LOG_WIDTH - len(row)))) for row in rows]


def _parsed(manifest: Path) -> dict:
    """dbt's manifest, parsed once per version of the file (a run asks several times; ~1.7 MB of JSON)."""
    return _parsed_version(manifest, manifest.stat().st_mtime_ns)


@functools.lru_cache(maxsize=1)  # the current version only
def _parsed_version(manifest: Path, _mtime_ns: int) -> dict:
    return json.loads(manifest.read_text(encoding="utf-8"))


def contract_columns(manifest: Path) -> dict[str, list[tuple[str, str]]]:
    """{published mart: [(column, type)]} from the enforced contracts in dbt's manifest."""
    return {
        node["name"]: [(name, column["data_type"]) for name, column in node["columns"].items()]
        for node in _parsed(manifest)["nodes"].values()
        if node["resource_type"] == "model"
        and node["config"].get("meta", {}).get("published")
        and node["config"].get("contract", {}).get("enforced")
    }


def primary_keys(manifest: Path) -> dict[str, list[str]]:
    """{model: key columns} from the `primary_key` data tests in dbt's manifest (the shortest key where a model
    has several): a publication writes a mart in key order, the same content in the same bytes, without
    sorting on every column."""
    keys: dict[str, list[str]] = {}
    for node in _parsed(manifest)["nodes"].values():
        test = node.get("test_metadata") or {}
        if node["resource_type"] != "test" or test.get("name") != "primary_key" or not node.get("attached_node"):
            continue
        model, columns = node["attached_node"].split(".")[-1], list(test["kwargs"]["columns"])
        if model not in keys or (len(columns), columns) < (len(keys[model]), keys[model]):
            keys[model] = columns
    return keys


def state_tables(manifest: Path) -> tuple[str, ...]:
    """The published marts that models read back as the dbt source `published_state`: the ones a publication
    keeps in the warehouse."""
    sources = _parsed(manifest)["sources"].values()
    read_back = {source["name"] for source in sources if source["source_name"] == SCHEMA}
    return tuple(sorted(read_back & set(contract_columns(manifest))))


def prepare_published_state(con: duckdb.DuckDBPyConnection, manifest: Path) -> None:
    """Create the published-state tables the models read as sources, empty, where they are missing (a new
    home), and add the columns a newer contract has to the tables an older version published (null there).
    Copies of other published marts that an older version kept there are dropped (nothing reads them, and
    they would stay as of that version's last run). One transaction."""
    con.begin()
    for schema in (SCHEMA, BASE_SCHEMA):
        con.execute(f"create schema if not exists {schema}")
    con.execute(LOG_DDL)
    con.execute(LOG_UPGRADE)
    kept = state_tables(manifest)
    for table, columns in contract_columns(manifest).items():
        name = identifier(table, "published table")
        if table not in kept:
            for schema in (SCHEMA, BASE_SCHEMA):
                con.execute(f"drop table if exists {schema}.{name}")
            continue
        for schema in (SCHEMA, BASE_SCHEMA):
            typed = ", ".join(f"{identifier(column, 'column')} {kind}" for column, kind in columns)
            con.execute(f"create table if not exists {schema}.{name} ({typed})")
            for column, kind in columns:
                con.execute(
                    f"alter table {schema}.{name} add column if not exists {identifier(column, 'column')} {kind}"
                )
    con.commit()


def has_publication(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether any run has published yet (the published-state tables may exist, empty, before that)."""
    return table_exists(con, SCHEMA, "publish_log") and bool(scalar(con, f"select count(*) from {SCHEMA}.publish_log"))


def record_publication(warehouse: Path, tables: list[str], entry: PublishEntry) -> None:
    """Remember what was just published, in one transaction."""
    with connect(warehouse) as con:
        con.begin()
        con.execute(f"create schema if not exists {SCHEMA}")
        con.execute(f"create schema if not exists {BASE_SCHEMA}")
        last_as_of = (
            scalar(
                con, f"select cast(as_of_date as varchar) from {SCHEMA}.publish_log order by published_at desc limit 1"
            )
            if table_exists(con, SCHEMA, "publish_log")
            else None
        )
        moving_on = last_as_of is not None and last_as_of != entry.as_of_date
        for table in tables:
            name = identifier(table, "published table")
            if moving_on and table_exists(con, SCHEMA, table):
                con.execute(f"create or replace table {BASE_SCHEMA}.{name} as select * from {SCHEMA}.{name}")
            con.execute(f"create or replace table {SCHEMA}.{name} as select * from marts.{name}")
        con.execute(LOG_DDL)
        con.execute(LOG_UPGRADE)
        con.execute(f"insert into {SCHEMA}.publish_log values ({', '.join('?' * LOG_WIDTH)})", entry.row())
        fault_point("publish.recording")  # inside the transaction: a kill here must roll it all back
        con.commit()
