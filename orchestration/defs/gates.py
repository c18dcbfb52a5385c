"""The run-level quality gates as blocking asset checks.

- `input_gates` on each landing asset (quarantine shares and the landing suites): dbt waits for them, so a
  bad landing batch stops the run before `dbt build` starts;
- reconciliation, freshness and circuit breakers on `marts/customer_tiers`: publishing waits for them.

Thresholds come from `gates:` in the policy; `tierflow run --allow NAME --reason TEXT` sets the run tag
`tierflow/allow` that lets a breaker through for that run only. Every check writes its part of the gate
report under `<home>/runs/<run_id>/` and links it in its metadata.
"""

import json
from datetime import date
from typing import Any

import dagster as dg
import duckdb

from orchestration.defs.ingest import RUN_PARAMETER_KEYS, landing_key
from orchestration.defs.resources import TierflowResource
from tierflow.gates.audit import renders_data_docs
from tierflow.gates.expectations import SuiteError, load_suite, suite_path
from tierflow.gates.gx_docs import build_docs
from tierflow.gates.measures import circuit_breakers, freshness, quarantine_share, reconciliation
from tierflow.gates.report import data_docs_dir, suite_entry, write_part
from tierflow.gates.results import GateResult
from tierflow.gates.suites import run_suite
from tierflow.ingest import INPUTS
from tierflow.policy.parameters import convertible_currencies
from tierflow.warehouse import column_names, connect, table_exists

ALLOW_TAG = "tierflow/allow"
# `tierflow run --full-refresh`: dbt rebuilds every incremental (carried) model from scratch.
FULL_REFRESH_TAG = "tierflow/full_refresh"
TIERS = dg.AssetKey(["marts", "customer_tiers"])
INPUT_GATES = "input_gates"
INPUT_GATES_TEXT = (
    "No landing file of this input not yet published has more than gates.max_quarantine_share of its rows "
    "quarantined, and the landing table passes its suite (expectations/landing__<input>.json). dbt waits for it."
)
GATE_CHECKS = {
    "reconciliation": "Orders accepted by ingest = orders in staging; the sum of spend_365d equals the same sum "
    "computed from the landing orders, to the cent.",
    "freshness": "The newest order is at most gates.max_staleness_days before the as-of date.",
    "circuit_breakers": "Against the last published run: tier change share, customer drop share, tier PSI and "
    "downgrade share within the gates: thresholds (PSI above warn_psi only warns).",
}


def allowed_breakers(tags: dict[str, str]) -> dict[str, str]:
    """{breaker: reason} the operator allowed for this run."""
    return json.loads(tags.get(ALLOW_TAG) or "{}")


def run_identity(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    run_id, as_of, version = con.execute(
        "select run_id, as_of_date, policy_version from tierflow.run_parameters"
    ).fetchone()
    return {"run_id": run_id, "as_of": as_of, "policy_version": version}


def judged_rows(con: duckdb.DuckDBPyConnection, name: str) -> str:
    """What the suite of landing.<name> judges: every row on a full audit (tierflow.gates.audit), else the rows
    this run loaded or updated in place; earlier rows were judged by the run that loaded them."""
    relation = f"landing.{name}"
    full_audit, run_id = con.execute("select is_full_audit, run_id from tierflow.run_parameters").fetchone()
    if full_audit or "updated_seq" not in column_names(con, relation):
        return relation
    # A run's loads have consecutive sequence numbers. Constant bounds, one column per branch, let DuckDB skip
    # every row group of earlier loads by its min/max statistics; `in (subquery)` read all of them (9 s a
    # night over the 55 M landing rows of 1 M customers).
    low, high = con.execute(
        "select min(load_seq), max(load_seq) from landing.ingested_files where run_id = ?", [run_id]
    ).fetchone()
    if low is None:
        return f"(select * from {relation} where false)"
    loaded = f"between {int(low)} and {int(high)}"
    return (
        f"(select * from {relation} where load_seq {loaded} union all "
        f"select * from {relation} where updated_seq {loaded} and not load_seq {loaded})"
    )


def landing_suite(
    con: duckdb.DuckDBPyConnection, tierflow: TierflowResource, name: str, as_of: date, docs, with_docs: bool
) -> dict | None:
    """The suite of landing.<name>, or None for an optional input that never arrived."""
    table = f"landing__{name}"
    path = suite_path(tierflow.expectations_dir, table)
    if not path.exists() or not table_exists(con, "landing", name):
        return None
    parameters = {"currencies": convertible_currencies(), "as_of_date": as_of.isoformat()}
    try:
        outcome = run_suite(
            con, judged_rows(con, name), load_suite(path), parameters, name=table, docs_dir=docs, docs=with_docs
        )
    except SuiteError as exc:
        return {"suite": table, "table": f"landing.{name}", "success": False, "error": str(exc), "failed": []}
    return suite_entry(f"landing.{name}", outcome)


def _result(
    name: str, gates: list[GateResult], suites: list[dict], report, docs, asset: dg.AssetKey = TIERS
) -> dg.AssetCheckResult:
    # One line per failure for the run summary; figures, samples and failing rows are in the report.
    failed = [f"{g.name}: figure {g.figure}, threshold {g.threshold}: {g.message}" for g in gates if g.blocks]
    failed += [
        f"suite {s['suite']}: "
        + (s.get("error") or ", ".join(f"{f['expectation']} on {f['column']}" for f in s["failed"]))
        for s in suites
        if not s["success"]
    ]
    return dg.AssetCheckResult(
        check_name=name,
        asset_key=asset,
        passed=not failed,
        metadata={
            "gate_report": dg.MetadataValue.path(str(report)),
            **({"data_docs": dg.MetadataValue.path(str(docs))} if docs else {}),
            "gates": dg.MetadataValue.json([g.as_dict() for g in gates]),
            "failed": dg.MetadataValue.json(failed),
        },
    )


def _log(context: dg.AssetCheckExecutionContext, results: list[GateResult]) -> None:
    for result in results:
        if result.blocks:
            context.log.error(f"gate {result.name} failed: {result.message} (threshold {result.threshold})")
        elif result.status != "passed":
            context.log.warning(f"gate {result.name} {result.status}: {result.message}")


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            INPUT_GATES,
            asset=landing_key(spec),
            blocking=True,
            description=INPUT_GATES_TEXT,
            additional_deps=[RUN_PARAMETER_KEYS[0]],  # the run's as-of date and id
        )
        for spec in INPUTS.values()
    ],
    can_subset=False,
)
def input_gates(context: dg.AssetCheckExecutionContext, tierflow: TierflowResource):
    """Judged once every input is ingested; each landing asset fails its check when one of its own files is
    quarantined over the threshold or its suite fails, and any failure keeps dbt from starting."""
    run_dir = tierflow.layout.run_dir(context.run.run_id)
    with connect(tierflow.layout.warehouse, read_only=True) as con:
        run = {**run_identity(con), "overrides": allowed_breakers(context.run.tags)}
        gates = tierflow.load_policy().gates
        share, over = quarantine_share(con, gates)
        with_docs = renders_data_docs(con, gates.data_docs)
        suites = {
            name: landing_suite(con, tierflow, name, run["as_of"], data_docs_dir(run_dir), with_docs) for name in INPUTS
        }
    docs = build_docs(data_docs_dir(run_dir))
    entries = [entry for entry in suites.values() if entry]
    report = write_part(run_dir, INPUT_GATES, run=run, gates=[share], suites=entries)
    _log(context, [share])
    for name, spec in INPUTS.items():
        # Each landing asset carries the quarantine gate unless only other inputs' files failed it.
        carried = [share] if name in over or not share.blocks else []
        entry = suites[name]
        yield _result(INPUT_GATES, carried, [entry] if entry else [], report, docs, landing_key(spec))


@dg.multi_asset_check(
    specs=[dg.AssetCheckSpec(name, asset=TIERS, blocking=True, description=text) for name, text in GATE_CHECKS.items()],
    can_subset=False,
    # After the table suites (the job runs in one process), so the Data Docs it renders hold every suite.
    op_tags={"dagster/priority": "-1"},
)
def run_gates(context: dg.AssetCheckExecutionContext, tierflow: TierflowResource):
    policy = tierflow.load_policy()
    gates = policy.gates
    allowed = allowed_breakers(context.run.tags)
    with connect(tierflow.layout.warehouse, read_only=True) as con:
        run = {**run_identity(con), "overrides": allowed}
        as_of = run["as_of"]
        run_dir = tierflow.layout.run_dir(context.run.run_id)
        parts = {
            "reconciliation": reconciliation(con, as_of, policy.timezone),
            "freshness": [freshness(con, gates, as_of, policy.timezone)],
            "circuit_breakers": circuit_breakers(con, gates, allowed),
        }
    docs = build_docs(data_docs_dir(run_dir))
    for name, results in parts.items():
        report = write_part(run_dir, name, run=run, gates=results)
        _log(context, results)
        yield _result(name, results, [], report, docs)
