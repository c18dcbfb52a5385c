"""README command 1: `tierflow demo` generates demo data into the home and publishes tiers on it.

The dates are pinned (--end): 2026-12-01 is a day on which 60 demo customers once got a monthly orders file
with 6.45% of its rows bad, which the product's own quarantine-share gate (max 5%) blocked. The generator
now spoils exactly floor(rate x rows) rows per file, so the demo publishes at any size and on any day."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import duckdb

from tierflow.cli import main

END = "2026-12-01"


def test_demo_generates_data_and_publishes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    stderr = io.StringIO()  # progress and the run summary
    with contextlib.redirect_stderr(stderr):
        code = main(["demo", "--customers", "60", "--end", END, "--home", str(home)])
    assert code == 0, stderr.getvalue()[-3000:]
    assert ": PUBLISHED" in stderr.getvalue(), stderr.getvalue()[-3000:]
    assert any((home / "demo_landing" / "orders").iterdir())
    with duckdb.connect(str(home / "published" / "tierflow.duckdb"), read_only=True) as con:
        customers = con.execute("select count(*) from customer_tiers").fetchall()[0][0]
        as_of = con.execute("select distinct cast(as_of_date as varchar) from customer_tiers").fetchall()
    assert 50 <= customers <= 60
    assert as_of == [(END,)]
