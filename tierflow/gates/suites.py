"""One expectation suite on one warehouse table: complete in SQL, Great Expectations on a bounded batch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from tierflow.gates.expectations import SuiteOutcome
from tierflow.gates.gx_docs import validate_batch
from tierflow.gates.sql_suite import TABLE_LEVEL, evaluate

BATCH_ROWS = 10_000  # the most rows Great Expectations ever sees as a pandas frame


def run_suite(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    spec: dict,
    parameters: dict[str, Any],
    *,
    name: str,
    docs_dir: Path,
    batch_rows: int = BATCH_ROWS,
    docs: bool = True,
) -> SuiteOutcome:
    """Every expectation DuckDB can count is judged over the whole table; the rest by Great Expectations on the
    whole table when it is small, else on a repeatable sample of `batch_rows` rows. Great Expectations also
    validates that batch for the run's Data Docs when `docs` is set or the suite failed; a passing suite that
    SQL judged entirely and wants no docs never reaches it (nor its import)."""
    rows, sql_results, untranslated = evaluate(con, relation, spec, parameters)
    if not (docs or untranslated or not all(r.outcome.success for r in sql_results)):
        return SuiteOutcome(suite=name, rows=rows, outcomes=[r.outcome for r in sql_results])
    sample = "" if rows <= batch_rows else f" using sample reservoir({int(batch_rows)} rows) repeatable (7)"
    frame = con.execute(f"select * from {relation}{sample}").df()
    on_batch = [i for i, e in enumerate(spec["expectations"]) if e["type"] not in TABLE_LEVEL]
    gx_outcomes = validate_batch(
        frame,
        {**spec, "expectations": [spec["expectations"][i] for i in on_batch]},
        parameters,
        name=name,
        docs_dir=docs_dir,
    )
    by_index = {r.index: r.outcome for r in sql_results}
    by_index.update({i: gx_outcomes[on_batch.index(i)] for i in untranslated})
    outcomes = [by_index[i] for i in sorted(by_index)]
    return SuiteOutcome(suite=name, rows=rows, outcomes=outcomes, batch_rows=len(frame), validated=True)
