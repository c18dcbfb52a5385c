"""Great Expectations suites (JSON files in `expectations/`): reading them, and their outcomes.

GX 1.x cannot validate DuckDB through SQLAlchemy; `tierflow.gates.suites` judges each suite in DuckDB
over the whole table and with GX on a bounded pandas batch. Values that depend on the policy or the run (the
tier codes, the number of known customers) are suite parameters, written `{"$PARAMETER": "name"}` in the JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tierflow.sql_safety import checked_identifier


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
    rows: int  # in the table, all judged in SQL
    outcomes: list[ExpectationOutcome]
    batch_rows: int = 0  # in the pandas frame Great Expectations validated (bounded: gates.suites)
    validated: bool = False  # Great Expectations validated the batch (for Data Docs): an empty one too

    @property
    def success(self) -> bool:
        return all(o.success for o in self.outcomes)

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]


def suite_path(expectations_dir: Path, table: str) -> Path:
    return expectations_dir / f"{checked_identifier(table, 'published table')}.json"


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


def plain_value(value: Any) -> Any:
    """JSON-friendly values for run summaries and Dagster metadata."""
    if isinstance(value, list):
        return [plain_value(v) for v in value][:20]
    if isinstance(value, dict):
        return {str(k): plain_value(v) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return None if value != value else value  # NaN is not JSON
    return str(value)
