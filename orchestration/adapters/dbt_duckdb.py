"""dbt-duckdb opens the run's warehouse, and spills where and as much as the run allows, without those values
in the dbt profile: a dbt-duckdb plugin sets them when the database is opened.

Why: dbt re-parses the whole project (about 8 s on two cores, 555 macros, 235 nodes) whenever the profile's
connection values differ from the ones its saved parse was made with (`profile_hash`, built from the
credentials' `path`, `config_options` and `settings`). The warehouse path differs for every home, and the spill
bound (half the free disk, in whole GB) from night to night, so nearly every `dbt build` parsed from scratch:
every first run of a home, and every daily run after the disk filled or freed a GB. With the profile constant,
the parse prepared once in `dbt_project/target` serves every home and every run.

Private dbt-duckdb surface (pinned in `orchestration.adapters.PINNED`, checked by tests/test_adapters.py):
`Environment.initialize_db` hands the credentials to each plugin's public `update_connection_config` hook and
only then opens `creds.path`; the plugin replaces that path, which dbt-duckdb gives plugins no public way to do.
When the override is off (another dbt-duckdb, or switched off), tierflow passes the real values through the
profile as before (`tierflow.targets.base.duckdb_environment`), so nothing depends on the plugin but the speed.
"""

from __future__ import annotations

import json
import os
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

# The internal variable (tierflow.settings.INTERNAL) that carries the values, JSON.
CONNECT_VARIABLE = "TIERFLOW__DBT_DUCKDB_CONNECT"
# Diagnostics (python -m bench.reads): a directory where dbt's DuckDB logs every query's metrics (its SQL and
# the rows it scanned), through DuckDB's own logger. Public plugin hooks, here because dbt-duckdb loads one
# plugin module per entry of the profile.
QUERY_LOG_VARIABLE = "TIERFLOW__DUCKDB_QUERY_LOG"


def connect_values(path: str, config_options: dict[str, str]) -> dict[str, str]:
    """What the plugin reads: the database file and the options DuckDB takes when it is opened."""
    return {CONNECT_VARIABLE: json.dumps({"path": path, "config_options": config_options})}


class Plugin(BasePlugin):
    def update_connection_config(self, creds: Any, config: dict[str, Any]) -> None:
        values = os.environ.get(CONNECT_VARIABLE)
        if not values:  # dbt run by hand from dbt_project/: the profile's own values stand
            return
        opened = json.loads(values)
        creds.path = opened["path"]
        config.update(opened["config_options"])

    def configure_connection(self, conn: Any) -> None:
        log = os.environ.get(QUERY_LOG_VARIABLE)
        if log:
            conn.execute("call enable_logging('Metrics', storage = 'file', storage_path = ?)", [log])

    def configure_cursor(self, cursor: Any) -> None:
        # DuckDB logs a query's metrics only where profiling is on, a per-cursor setting.
        if os.environ.get(QUERY_LOG_VARIABLE):
            cursor.execute("set enable_profiling = 'no_output'")
