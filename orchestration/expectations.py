"""Great Expectations suites (JSON files in `expectations/`) run against a table pulled from the warehouse.

GX 1.x cannot validate DuckDB through SQLAlchemy, so each check loads the table as a pandas DataFrame and
validates it in an ephemeral context. Values that depend on the policy or the run (the tier codes, the
number of known customers) are suite parameters, written `{"$PARAMETER": "name"}` in the JSON.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd


class SuiteError(ValueError):
    """A suite file that cannot be read or names an unknown expectation."""


@dataclass(frozen=True)
class ExpectationOutcome:
    expectation: str
    column: str | None
    success: bool
    observed: Any = None
    unexpected_count: int | None = None
    sample: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "expectation": self.expectation,
            "column": self.column,
            "success": self.success,
            "observed": self.observed,
            "unexpected_count": self.unexpected_count,
            "sample": self.sample,
        }


@dataclass(frozen=True)
class SuiteOutcome:
    suite: str
    rows: int
    outcomes: list[ExpectationOutcome]

    @property
    def success(self) -> bool:
        return all(o.success for o in self.outcomes)

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]


def suite_path(expectations_dir: Path, table: str) -> Path:
    return expectations_dir / f"{table}.json"


def load_suite(path: Path) -> dict:
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SuiteError(f"{path}: cannot read the expectation suite ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise SuiteError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("expectations"), list):
        raise SuiteError(f"{path}: a suite needs a name and a list of expectations")
    return spec


def _plain(value: Any) -> Any:
    """JSON-friendly values for run summaries and Dagster metadata."""
    if isinstance(value, list):
        return [_plain(v) for v in value][:20]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return None if value != value else value  # NaN is not JSON
    return str(value)


def validate_frame(frame: pd.DataFrame, spec: dict, parameters: dict[str, Any]) -> SuiteOutcome:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx  # slow to import: only when a check actually runs
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    try:
        suite = gx.ExpectationSuite(name=spec.get("name", "suite"), expectations=spec["expectations"])
    except Exception as exc:  # GX raises several unrelated types for a bad configuration
        raise SuiteError(f"suite {spec.get('name')!r}: {exc}") from None
    # Dates arrive from DuckDB as datetime64; as ISO text they compare with JSON values in suites.
    frame = frame.assign(
        **{c: frame[c].dt.strftime("%Y-%m-%d") for c in frame.select_dtypes(include="datetime").columns}
    )
    batch = (
        context.data_sources.add_pandas("tierflow")
        .add_dataframe_asset("table")
        .add_batch_definition_whole_dataframe("whole")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    result = batch.validate(suite, expectation_parameters=parameters, result_format="SUMMARY")
    outcomes = []
    for item in result.results:
        config = item.expectation_config
        details = item.result or {}
        outcomes.append(
            ExpectationOutcome(
                expectation=config.type,
                column=config.kwargs.get("column"),
                success=bool(item.success),
                observed=_plain(details.get("observed_value")),
                unexpected_count=details.get("unexpected_count"),
                sample=_plain(details.get("partial_unexpected_list") or []),
            )
        )
    return SuiteOutcome(suite=spec.get("name", "suite"), rows=len(frame), outcomes=outcomes)
