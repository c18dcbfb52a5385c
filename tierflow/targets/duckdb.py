"""The default target: dbt-duckdb on the warehouse file itself."""

from __future__ import annotations

from tierflow.targets.base import Target


class DuckDBTarget(Target):
    name = "duckdb"
