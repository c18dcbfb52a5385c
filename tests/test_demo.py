"""README command 1: `tierflow demo` generates demo data into the home and publishes tiers on it.

The dates are pinned (--end). 2026-12-02 is the day the issue reported: the generator then drew a random
count of bad rows per file, and gave this demo's 30-row orders file of 2026-12 two of them (2 of 31 rows
with the re-send, 6.45%), which the product's own quarantine-share gate (max 5%) blocked. It now spoils
exactly floor(rate x rows) rows per file (0 of 30 at rate 0.002), so the demo publishes at any size, any day."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import duckdb

from tierflow.cli import main

END = "2026-12-02"


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
