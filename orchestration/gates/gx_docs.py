"""Great Expectations on a bounded batch, with Data Docs written under the run's directory.

One ephemeral GX context per run (the job runs its checks in one process), holding every validation of the
run, so the Data Docs index lists them all. A Checkpoint with UpdateDataDocsAction renders each validation
to `<home>/runs/<run_id>/data_docs/`.
"""

from __future__ import annotations

import itertools
import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from orchestration.expectations import ExpectationOutcome, SuiteError, plain_value

SITE = "tierflow_gates"
_lock = threading.Lock()


@lru_cache(maxsize=4)
def _context(docs_dir: str):
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx  # slow to import: only when a check actually runs
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    site = {
        "class_name": "SiteBuilder",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": docs_dir},
    }
    context.add_data_docs_site(SITE, site)
    return context, context.data_sources.add_pandas("tierflow")


def _free_name(name: str, taken: set[str]) -> str:
    return next(c for c in (name if n == 0 else f"{name}#{n}" for n in itertools.count()) if c not in taken)


def validate_batch(
    frame: pd.DataFrame, spec: dict, parameters: dict[str, Any], *, name: str, docs_dir: Path
) -> list[ExpectationOutcome]:
    """Validate `frame` (a bounded batch) against the suite and add the result to the run's Data Docs."""
    import great_expectations as gx

    with _lock:
        context, source = _context(str(docs_dir))
        try:
            suite = context.suites.add_or_update(gx.ExpectationSuite(name=name, expectations=spec["expectations"]))
        except Exception as exc:  # GX raises several unrelated types for a bad configuration
            raise SuiteError(f"suite {name!r}: {exc}") from None
        # Dates arrive from DuckDB as datetime64; as ISO text they compare with JSON values in suites.
        frame = frame.assign(
            **{c: frame[c].dt.strftime("%Y-%m-%d") for c in frame.select_dtypes(include="datetime").columns}
        )
        # A check retried in the same process validates again under a new name (GX names are unique).
        unique = _free_name(name, {a.name for a in source.assets})
        asset = source.add_dataframe_asset(unique)
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=unique, data=asset.add_batch_definition_whole_dataframe("batch"), suite=suite)
        )
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(
                name=unique,
                validation_definitions=[definition],
                actions=[gx.checkpoint.UpdateDataDocsAction(name="data_docs", site_names=[SITE])],
                result_format="SUMMARY",
            )
        )
        result = checkpoint.run(batch_parameters={"dataframe": frame}, expectation_parameters=parameters)
    validation = next(iter(result.run_results.values()))
    outcomes = []
    for item in validation.results:
        config = item.expectation_config
        details = item.result or {}
        outcomes.append(
            ExpectationOutcome(
                expectation=config.type,
                column=config.kwargs.get("column"),
                success=bool(item.success),
                observed=plain_value(details.get("observed_value")),
                unexpected_count=details.get("unexpected_count"),
                sample=plain_value(details.get("partial_unexpected_list") or []),
            )
        )
    return outcomes
