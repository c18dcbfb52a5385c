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
