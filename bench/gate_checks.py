"""Time the expectation suites of a finished run, the old way and the new way, each in a fresh process.

    python bench/gate_checks.py HOME            # both modes, one line each
    python bench/gate_checks.py HOME --mode new

old: every mart loaded whole into pandas and validated by Great Expectations (how the gates worked before;
the landing suites are new and are not run this way: millions of rows in pandas is what the change avoids);
new: `tierflow.gates.suites.run_suite` (aggregates in DuckDB, GX on a bounded batch, Data Docs written).
Reports seconds and the peak resident memory of the process.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from orchestration.defs.checks import gate_parameters
from tierflow.gates.expectations import load_suite, suite_path
from tierflow.paths import EXPECTATIONS_DIR, Home
from tierflow.policy.parameters import convertible_currencies

TABLES = [
    ("marts", "customer_tiers"),
    ("marts", "crm_segments"),
    ("marts", "customer_segments"),
    ("landing", "orders"),
    ("landing", "profiles"),
    ("landing", "events"),
]


def _old(con: duckdb.DuckDBPyConnection, relation: str, spec: dict, parameters: dict) -> bool:
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    frame = con.execute(f"select * from {relation}").df()
    frame = frame.assign(**{c: frame[c].dt.strftime("%Y-%m-%d") for c in frame.select_dtypes("datetime").columns})
    batch = (
        context.data_sources.add_pandas("b")
        .add_dataframe_asset("t")
        .add_batch_definition_whole_dataframe("w")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    return bool(
        batch.validate(
            gx.ExpectationSuite(name="s", expectations=spec["expectations"]), expectation_parameters=parameters
        ).success
    )


def measure(home: Path, mode: str) -> dict:
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    import great_expectations  # noqa: F401  (import time is not part of the check time)

    from tierflow.gates.suites import run_suite

    docs = Path(tempfile.mkdtemp()) / "docs"
    seconds: dict[str, float] = {}
    with duckdb.connect(str(Home(home).warehouse), read_only=True) as con:
        parameters = {**gate_parameters(con), "currencies": convertible_currencies()}
        for schema, table in TABLES:
            if mode == "old" and schema == "landing":
                continue
            name = table if schema == "marts" else f"landing__{table}"
            spec = load_suite(suite_path(EXPECTATIONS_DIR, name))
            started = time.perf_counter()
            if mode == "old":
                _old(con, f"{schema}.{table}", spec, parameters)
            else:
                run_suite(con, f"{schema}.{table}", spec, parameters, name=name, docs_dir=docs)
            seconds[f"{schema}.{table}"] = round(time.perf_counter() - started, 2)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"mode": mode, "seconds": seconds, "total": round(sum(seconds.values()), 2), "peak_rss_mb": round(peak_mb)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("home", type=Path)
    parser.add_argument("--mode", choices=["old", "new"])
    args = parser.parse_args()
    if args.mode:
        print(json.dumps(measure(args.home, args.mode)))
        return
    for mode in ("new", "old"):
        subprocess.run([sys.executable, __file__, str(args.home), "--mode", mode], check=True)


if __name__ == "__main__":
    main()
