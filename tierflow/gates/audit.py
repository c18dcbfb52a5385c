"""Full audits: a daily run's landing suites judge only the rows it loaded; a full audit judges every row.

A run is a full audit when it is forced (`tierflow run --full-audit`), when no full audit has been published
yet, or when the last published one is `gates.full_audit_every_days` or more days before the run's as-of date.
The publish log records which publications were full audits, so a blocked run never resets the cadence.
"""

from __future__ import annotations

from datetime import date

import duckdb

from tierflow.publish.state import SCHEMA
from tierflow.warehouse import column_names, scalar, table_exists

# The run tag of `tierflow run --full-audit`.
FULL_AUDIT_TAG = "tierflow/full_audit"


def is_full_audit(as_of: date, last_full_audit: date | None, every_days: int, *, forced: bool = False) -> bool:
    if forced or last_full_audit is None:
        return True
    return (as_of - last_full_audit).days >= every_days


def last_full_audit(con: duckdb.DuckDBPyConnection) -> date | None:
    """The as-of date of the latest published full audit (the latest date, as a back-dated run may come later)."""
    if not table_exists(con, SCHEMA, "publish_log") or "full_audit" not in column_names(con, f"{SCHEMA}.publish_log"):
        return None
    return scalar(con, f"select max(as_of_date) from {SCHEMA}.publish_log where full_audit")


def renders_data_docs(con: duckdb.DuckDBPyConnection, data_docs: str) -> bool:
    """Whether this run validates its passing suites for Data Docs too (`gates.data_docs`); a failing suite
    always renders its own."""
    if data_docs != "full_audit":
        return data_docs == "every_run"
    return bool(scalar(con, "select is_full_audit from tierflow.run_parameters"))
