"""Where dbt runs the transformations: the embedded DuckDB warehouse (the default), PostgreSQL or Apache Spark.

Ingest, the quality gates and publication always work on the DuckDB warehouse: it is the staging area of
write-audit-publish and the one place the Python side reads. With another target, the tables the models read
(landing data, run parameters, the last published state) are copied to that target before `dbt build`, and
the relations it built are copied back after it, cast to their contract types, so the gates judge and
publish exactly what that target computed.
"""

from __future__ import annotations

from tierflow.paths import Home
from tierflow.targets.base import TARGETS, Target, TargetError
from tierflow.targets.duckdb import DuckDBTarget
from tierflow.targets.postgres import PostgresTarget
from tierflow.targets.spark import SparkTarget

__all__ = ["TARGETS", "Target", "TargetError", "target_for"]


def target_for(target: str, layout: Home) -> Target:
    targets: dict[str, type[Target]] = {"duckdb": DuckDBTarget, "postgres": PostgresTarget, "spark": SparkTarget}
    if target not in targets:
        raise TargetError(f"unknown target {target!r}: use one of {', '.join(TARGETS)}")
    return targets[target](layout)
