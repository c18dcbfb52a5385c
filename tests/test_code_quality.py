"""The code stays ruff-clean: lint findings fail the suite like any other defect."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tierflow.paths import REPO_ROOT


def test_ruff_check_is_clean() -> None:
    ruff = Path(sys.executable).parent / "ruff"
    done = subprocess.run([str(ruff), "check", "."], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-4000:]


def test_python_reads_no_staging_or_intermediate_model() -> None:
    """tierflow's Python side reads the landing tables and the marts (models/exposures.yml says which),
    never a staging or intermediate model: those are dbt's own, free to change shape."""
    hidden = {
        path.stem for folder in ("staging", "intermediate") for path in (REPO_ROOT / "models" / folder).glob("*.sql")
    }
    assert len(hidden) > 10
    named = [
        f"{path.relative_to(REPO_ROOT)}: {name}"
        for package in ("tierflow", "orchestration")
        for path in sorted((REPO_ROOT / package).rglob("*.py"))
        for name in sorted(hidden)
        if name in path.read_text(encoding="utf-8")
    ]
    schemas = [
        f"{path.relative_to(REPO_ROOT)}: {schema}"
        for package in ("tierflow", "orchestration")
        for path in sorted((REPO_ROOT / package).rglob("*.py"))
        for schema in ("staging.", "intermediate.")
        if schema in path.read_text(encoding="utf-8")
    ]
    assert not named and not schemas, named + schemas
