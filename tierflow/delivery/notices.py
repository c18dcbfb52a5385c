"""Tier notices in the CRM export: `notices.csv` / `notices.parquet` hold the notices *raised* since the
export's base (their `notice_key` was not in force then) and those *withdrawn* (in force then, no longer:
the member bought and now keeps the tier, reached the next one, or the points expired). A notice still in
force keeps its key and is not sent again.

The notices in force at each exported as-of date are kept in `published_state.crm_notice_snapshots`, the
base of later deltas, like the segment snapshots.
"""

from __future__ import annotations

import duckdb

from tierflow.publish.state import SCHEMA
from tierflow.warehouse import table_exists

TABLE = "tier_notices"
SNAPSHOTS = "crm_notice_snapshots"
STATUSES = ("raised", "withdrawn")
# Run stamps change every night; a notice is the same notice without them.
_IN_FORCE = f"select * exclude (run_id, policy_version) from {{catalog}}marts.{TABLE}"


def load_notices(con: duckdb.DuckDBPyConnection, base_as_of: str | None) -> None:
    """Temp tables `current_notices` (in force now) and `base_notices` (in force at the base date, if any)."""
    con.execute(f"create or replace temp table current_notices as {_IN_FORCE.format(catalog='warehouse.')}")
    if base_as_of is None or not table_exists(con, SCHEMA, SNAPSHOTS, catalog="warehouse"):
        con.execute("create or replace temp table base_notices as select * from current_notices where false")
        return
    con.execute(
        f"create or replace temp table base_notices as select * exclude (snapshot_as_of_date) "
        f"from warehouse.{SCHEMA}.{SNAPSHOTS} where snapshot_as_of_date = cast(? as date)",
        [base_as_of],
    )


def notice_delta_select() -> str:
    """Raised and withdrawn notices; binds $as_of. A withdrawn row carries the notice as it was raised."""
    return """
        select 'raised' as status, cast($as_of as date) as effective_date, c.*
        from current_notices as c
        where c.notice_key not in (select notice_key from base_notices)
        union all
        select 'withdrawn' as status, cast($as_of as date) as effective_date, b.*
        from base_notices as b
        where b.notice_key not in (select notice_key from current_notices)
    """


def record_notice_snapshot(con: duckdb.DuckDBPyConnection, as_of: str, kept: int) -> None:
    """Keep the notices in force on `as_of` as a later base (inside the caller's transaction)."""
    in_force = _IN_FORCE.format(catalog="")
    con.execute(
        f"create table if not exists {SCHEMA}.{SNAPSHOTS} as "
        f"select cast(null as date) as snapshot_as_of_date, * from ({in_force}) where false"
    )
    con.execute(f"delete from {SCHEMA}.{SNAPSHOTS} where snapshot_as_of_date = ?", [as_of])
    con.execute(
        f"insert into {SCHEMA}.{SNAPSHOTS} by name select cast(? as date) as snapshot_as_of_date, * from ({in_force})",
        [as_of],
    )
    con.execute(
        f"delete from {SCHEMA}.{SNAPSHOTS} where snapshot_as_of_date not in ("
        f"select distinct snapshot_as_of_date from {SCHEMA}.{SNAPSHOTS} order by 1 desc limit {kept})"
    )
