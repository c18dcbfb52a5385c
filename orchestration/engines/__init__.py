"""Where dbt runs the transformations: the embedded DuckDB warehouse (the default), PostgreSQL or Apache Spark.

Ingest, the quality gates and publication always work on the DuckDB warehouse: it is the staging area of
write-audit-publish and the one place the Python side reads. With another engine, the tables the models read
(landing data, run parameters, the last published state) are copied to that engine before `dbt build`, and
the relations it built are copied back after it, cast to their contract types, so the gates judge and
publish exactly what that engine computed.
"""

from __future__ import annotations

from orchestration.engines.base import TARGETS, Engine, EngineError
from orchestration.engines.duckdb import DuckDBEngine
from orchestration.engines.postgres import PostgresEngine
from orchestration.engines.spark import SparkEngine
from orchestration.paths import Home

__all__ = ["TARGETS", "Engine", "EngineError", "engine_for"]


def engine_for(target: str, layout: Home) -> Engine:
    engines: dict[str, type[Engine]] = {"duckdb": DuckDBEngine, "postgres": PostgresEngine, "spark": SparkEngine}
    if target not in engines:
        raise EngineError(f"unknown target {target!r}: use one of {', '.join(TARGETS)}")
    return engines[target](layout)
