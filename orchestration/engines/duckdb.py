"""The default engine: dbt-duckdb on the warehouse file itself."""

from __future__ import annotations

from orchestration.engines.base import Engine


class DuckDBEngine(Engine):
    name = "duckdb"
