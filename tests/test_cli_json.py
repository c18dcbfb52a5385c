"""With --json, stdout holds exactly the summary object, and a failed run also says why on stderr, in one line,
so a piped run (`tierflow run --json | jq …`) does not fail silently."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tierflow.cli import main


def test_a_failed_json_run_prints_the_summary_and_one_line_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no_landing"
    code = main(["run", "--landing", str(missing), "--home", str(tmp_path / "home"), "--as-of", "2026-01-31", "--json"])
    out, err = capsys.readouterr()
    assert code == 2
    summary = json.loads(out)
    assert summary["status"] == "error" and str(missing) in summary["message"]
    lines = err.strip().splitlines()
    assert lines == [f"tierflow: run error: bad input: landing directory {missing} does not exist"]
