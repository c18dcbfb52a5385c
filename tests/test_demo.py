"""README command 1: `tierflow demo` generates demo data into the home and publishes tiers on it."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import duckdb

from tierflow.cli import main


def test_demo_generates_data_and_publishes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    stderr = io.StringIO()  # progress and the run summary
    with contextlib.redirect_stderr(stderr):
        code = main(["demo", "--customers", "60", "--home", str(home)])
    assert code == 0, stderr.getvalue()[-3000:]
    assert ": PUBLISHED" in stderr.getvalue(), stderr.getvalue()[-3000:]
    assert any((home / "demo_landing" / "orders").iterdir())
    with duckdb.connect(str(home / "published" / "tierflow.duckdb"), read_only=True) as con:
        customers = con.execute("select count(*) from customer_tiers").fetchall()[0][0]
    assert 50 <= customers <= 60
