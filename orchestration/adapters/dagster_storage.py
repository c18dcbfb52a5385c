"""Dagster's SQLite event log, with one SQLAlchemy engine and pool per database file, not one per connection.

Private dagster surface (pinned in `orchestration.adapters.PINNED`, checked by tests/test_adapters.py):
`SqliteEventLogStorage._connect`, `_db_lock`, `_initdb`, `_initialized_dbs`, `conn_string_for_shard`,
`SQLITE_BUSY_TIMEOUT_SECONDS`, `ConfigurableClassData`. No public storage is as fast for a local home: the
stock SQLite storage is what this replaces, `DagsterInstance.ephemeral()` keeps no history (a killed run could
not be found and failed by the next one, and `dagster dev` would not show CLI runs), and a PostgreSQL-backed
instance (deploy/dagster.yaml) is the deployed answer, not one for a laptop.

The stock `SqliteEventLogStorage` builds and disposes an engine for every connection it opens. A run writes
about 1,100 events (every dbt model and test is an output and an asset check), each through several
connections, so on a 5-customer landing zone that was 10 s of a 25 s run: engine set-up, SQL compilation
the engine would otherwise cache, and closing the last connection, which checkpoints the WAL file each
time. The files on disk are the stock layout, so `dagster dev` with the home's `DAGSTER_HOME` reads them as
before.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)
from dagster._serdes import ConfigurableClassData
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine

# sha256 of the source of the stock `SqliteEventLogStorage._connect` this class replaces (dagster 1.13.27): when
# dagster changes it, tests/test_adapters.py fails and the copy below must be brought in line.
REPLACED_CONNECT_SHA256 = "b8435f2665689760a1e1d98e17b78ceef5a48256dc11b562a20c840abc37d170"


def _fewer_syncs(dbapi_connection, _record) -> None:
    # The stock storage keeps SQLite's default of a sync on every commit (~1,100 per run). In WAL mode (which it
    # sets) `normal` still cannot corrupt the file; a power cut may lose the last events, a killed process none.
    dbapi_connection.execute("pragma synchronous = normal")


class CachedEngineSqliteEventLogStorage(SqliteEventLogStorage):
    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        self._engines: dict[str, Engine] = {}
        super().__init__(base_dir, inst_data)

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> CachedEngineSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engines.get(shard)
            if engine is None:
                engine = create_engine(
                    self.conn_string_for_shard(shard), connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS}
                )
                event.listen(engine, "connect", _fewer_syncs)
                if shard not in self._initialized_dbs:
                    self._initdb(engine)
                    self._initialized_dbs.add(shard)
                self._engines[shard] = engine
            with engine.connect() as conn, conn.begin():
                yield conn

    def dispose(self) -> None:
        for engine in self._engines.values():
            engine.dispose()
        self._engines.clear()
        super().dispose()


def event_log_override(dagster_home: str) -> dict:
    """The instance override that stores the home's event log with the storage above, in the stock place."""
    return {
        "event_log_storage": {
            "module": __name__,
            "class": CachedEngineSqliteEventLogStorage.__name__,
            "config": {"base_dir": os.path.join(dagster_home, "history", "runs")},
        }
    }
