"""The gate report of a run: `<home>/runs/<run_id>/gate_report.json` and Great Expectations Data Docs
(`data_docs/index.html`), written for passing and blocked runs alike.

Each check writes its own part (`gates/<part>.json`) and then re-assembles the report from all parts, so
the report is complete after the last check whichever way the job is run (CLI, schedule, Dagster UI).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tierflow.gates.expectations import SuiteOutcome
from tierflow.gates.results import FAILED, OVERRIDDEN, WARNED, GateResult

REPORT_NAME = "gate_report.json"


def report_path(run_dir: Path) -> Path:
    return run_dir / REPORT_NAME


def data_docs_dir(run_dir: Path) -> Path:
    return run_dir / "data_docs"


def suite_entry(table: str, outcome: SuiteOutcome) -> dict[str, Any]:
    return {
        "suite": outcome.suite,
        "table": table,
        "rows": outcome.rows,
        "batch_rows": outcome.batch_rows,
        "success": outcome.success,
        "expectations": len(outcome.outcomes),
        "failed": [o.as_dict() for o in outcome.failed],
    }


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def write_part(
    run_dir: Path,
    part: str,
    *,
    run: dict[str, Any],
    gates: list[GateResult] = (),
    suites: list[dict] = (),
) -> Path:
    """Record one check's gates and suites, then rebuild the whole report; returns the report's path."""
    _write_json(
        run_dir / "gates" / f"{part}.json",
        {"run": run, "gates": [g.as_dict() for g in gates], "suites": list(suites)},
    )
    parts = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((run_dir / "gates").glob("*.json"))]
    all_gates = [g for p in parts for g in p["gates"]]
    all_suites = sorted((s for p in parts for s in p["suites"]), key=lambda s: s["suite"])
    blocked_by = [g["name"] for g in all_gates if g["status"] == FAILED]
    blocked_by += [f"suite:{s['suite']}" for s in all_suites if not s["success"]]
    docs = data_docs_dir(run_dir) / "index.html"
    report = {
        **run,
        "status": "blocked" if blocked_by else "passed",
        "blocked_by": blocked_by,
        "warnings": [g["name"] for g in all_gates if g["status"] == WARNED],
        "overridden": [g["name"] for g in all_gates if g["status"] == OVERRIDDEN],
        "data_docs": str(docs) if docs.exists() else None,
        "gates": all_gates,
        "suites": all_suites,
    }
    path = report_path(run_dir)
    _write_json(path, report)
    return path


def gate_summary(run_dir: Path) -> dict[str, Any]:
    """What the run summary says about the gates: the verdict, the links, warnings and overrides."""
    path = report_path(run_dir)
    if not path.exists():
        return {}
    report = json.loads(path.read_text(encoding="utf-8"))
    keys = ("status", "blocked_by", "warnings", "overridden", "overrides", "data_docs")
    return {"report": str(path), **{k: report.get(k) for k in keys}}
