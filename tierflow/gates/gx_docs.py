"""Great Expectations on a bounded batch, with Data Docs written under the run's directory.

One ephemeral GX context per run (the job runs its checks in one process), holding every validation of the
run. The Data Docs site under `<home>/runs/<run_id>/data_docs/` is rendered once, by `build_docs` after the
last check (`run_gates` runs after the table suites): rendering it after every validation took most of the
time the checks spent in Great Expectations.
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from tierflow.gates.expectations import ExpectationOutcome, SuiteError, plain_value

SITE = "tierflow_gates"
_lock = threading.Lock()
_validated: set[str] = set()  # the docs directories this process validated a batch for


@contextmanager
def _not_a_doctest() -> Iterator[None]:
    """GX imports pyspark when it is installed (the spark extra), and pyspark takes a `__main__` without
    `__file__` or `__spec__` (`python -c`, a pytest-xdist worker) for a doctest run and calls sys.exit(0)
    (pyspark/sql/connect/utils.py). Give `__main__` a file name while GX runs (it imports lazily)."""
    main = sys.modules.get("__main__")
    patched = main is not None and getattr(main, "__spec__", None) is None and not hasattr(main, "__file__")
    if patched:
        main.__file__ = "<tierflow>"
    try:
        yield
    finally:
        if patched:
            del main.__file__


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
    with _lock, _not_a_doctest():
        import great_expectations as gx

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
                actions=[],
                result_format="SUMMARY",
            )
        )
        result = checkpoint.run(batch_parameters={"dataframe": frame}, expectation_parameters=parameters)
        _validated.add(str(docs_dir))
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


def build_docs(docs_dir: Path) -> Path | None:
    """Render every validation this process ran for the run into its Data Docs site; the index page, or None
    when nothing was validated for it (no site, and Great Expectations is not even imported)."""
    if str(docs_dir) not in _validated:
        return None
    with _lock, _not_a_doctest():
        context, _ = _context(str(docs_dir))
        context.build_data_docs(site_names=[SITE])
    return docs_dir / "index.html"
