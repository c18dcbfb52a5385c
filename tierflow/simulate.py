"""What-if: the tiers members would hold under a candidate policy, computed on a copy of the warehouse.

Nothing live is touched. The warehouse file is copied to a scratch directory while a read-only connection
holds DuckDB's shared lock (so no run writes it half-way through the copy), the candidate policy is written
there as the run parameters, and dbt builds the tier models into the copy through the same project and
profile as a real run. The copy is deleted afterwards; only the JSON and HTML results are kept.

Both sides are what the next run would publish, as of the simulated date (by default the day after the
last publication), on the same data: the "current tier" under the policy in force, the "candidate tier" under
the candidate. Both are computed by the very models a real run uses, so the candidate follows whatever they do
when the policy version changes (upgrades at once, downgrades per `on_policy_change`). The "re-qualified tier"
is the qualified tier: where members land once every pending downgrade has been applied at later evaluations,
spend unchanged; its matrix compares it under the current policy (rows) and the candidate (columns). A date
up to the last publication cannot be simulated: the tier state up to it is published, and a policy change
only acts from the next run on. The notices (tier_notices) each side would raise are counted per type.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from tierflow.ingest.files import quote_literal
from tierflow.paths import Home
from tierflow.policy.parameters import write_run_parameters
from tierflow.policy.schema import Policy
from tierflow.publish.state import prepare_published_state, publish_log_rows
from tierflow.warehouse import connect

TIER_MODEL = "customer_tiers"
NOTICE_MODEL = "tier_notices"
NOTICE_TYPES = ("approaching_upgrade", "downgrade_warning", "points_expiring")
DEFINITION = (
    "current tier: the tier the next run would publish as of the simulated date under the policy in force. "
    "candidate tier: the tier that run would publish under the candidate policy instead (the first run under a "
    "new policy: upgrades at once, downgrades as its on_policy_change says). re-qualified tier: the qualified "
    "tier, where members land once every pending downgrade has been applied at later evaluations, spend "
    "unchanged; its matrix sets the current policy's (rows) against the candidate's (columns). Both sides are "
    "computed by the same dbt models as a real run, on copies of the warehouse; nothing is published."
)


class SimulationError(RuntimeError):
    """The simulation cannot start or failed; `exit_code` says whether the input is at fault (2) or not (1)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class TierOutcome:
    tier: str
    name: str
    current_members: int
    candidate_members: int
    requalified_members: int
    current_avg_spend_365d: float | None
    candidate_avg_spend_365d: float | None


@dataclass
class Simulation:
    as_of: str
    candidate_policy_version: str
    candidate_policy_path: str
    current_source: str
    current_policy_version: str
    customers: int
    moved: int
    upgraded: int
    downgraded: int
    requalified_moved: int
    tiers: list[TierOutcome]
    rows: list[str | None]  # current tiers (None: not in the current tiers, e.g. new since then)
    columns: list[str]  # candidate tiers
    matrix: dict[tuple[str | None, str], int]
    requalified_matrix: dict[tuple[str | None, str], int]
    # notice type -> (notices in force under the current policy, under the candidate)
    notices: dict[str, tuple[int, int]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)

    @property
    def moved_share(self) -> float:
        return self.moved / self.customers if self.customers else 0.0

    @staticmethod
    def _grid(rows: list[str | None], columns: list[str], counts: dict) -> list[list[int]]:
        return [[counts.get((r, c), 0) for c in columns] for r in rows]

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of,
            "candidate_policy": {"version": self.candidate_policy_version, "path": self.candidate_policy_path},
            "current": {"source": self.current_source, "policy_version": self.current_policy_version},
            "definition": DEFINITION,
            "customers": self.customers,
            "moved": self.moved,
            "moved_share": round(self.moved_share, 4),
            "upgraded": self.upgraded,
            "downgraded": self.downgraded,
            "requalified_moved": self.requalified_moved,
            "tiers": [vars(t) for t in self.tiers],
            "matrix": {
                "rows": self.rows,
                "columns": self.columns,
                "counts": self._grid(self.rows, self.columns, self.matrix),
            },
            "requalified_matrix": {
                "rows": self.rows,
                "columns": self.columns,
                "counts": self._grid(self.rows, self.columns, self.requalified_matrix),
            },
            "notices": {kind: {"current": now, "candidate": then} for kind, (now, then) in self.notices.items()},
            "timings": {k: round(v, 2) for k, v in self.timings.items()},
            "files": self.files,
        }


def snapshot_warehouse(live: Path, scratch: Path) -> float:
    """Copy the warehouse (and its WAL, if any) under DuckDB's shared lock; return the seconds it took."""
    if not live.exists():
        raise SimulationError(f"no warehouse at {live}: run `tierflow run` first", exit_code=2)
    started = time.perf_counter()
    try:
        lock = duckdb.connect(str(live), read_only=True)
    except duckdb.IOException:
        raise SimulationError(
            f"the warehouse {live} is being written by a running tierflow run: try again when it has finished"
        ) from None
    try:
        scratch.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(live, scratch)
        wal = live.with_name(live.name + ".wal")
        if wal.exists():
            shutil.copyfile(wal, scratch.with_name(scratch.name + ".wal"))
    finally:
        lock.close()
    return time.perf_counter() - started


def build_tier_models(warehouse: Path, target_dir: Path) -> None:
    """`dbt run` of the tier and notice marts and everything they read, into `warehouse` (never the live one)."""
    from dagster_dbt.errors import DagsterDbtCliRuntimeError

    from orchestration.defs.dbt.assets import warehouse_environment
    from orchestration.defs.dbt.project import dbt_cli, dbt_project

    dbt = dbt_cli(dbt_project())
    with warehouse_environment(warehouse):
        # One selector argument: dbt takes the union of space-separated methods.
        selector = f"+{TIER_MODEL} +{NOTICE_MODEL}"
        invocation = dbt.cli(["run", "--select", selector, "--quiet"], target_path=target_dir)
        try:
            invocation.wait()
        except DagsterDbtCliRuntimeError as exc:
            raise SimulationError(f"dbt failed on the scratch copy: {str(exc).splitlines()[0]}") from None


def recompute(live: Path, scratch_dir: Path, policy: Policy, as_of: date, *, name: str) -> tuple[Path, float, float]:
    """A scratch copy of the warehouse with the tier models rebuilt under `policy` as of `as_of`."""
    scratch = scratch_dir / name / "warehouse.duckdb"
    copy_seconds = snapshot_warehouse(live, scratch)
    started = time.perf_counter()
    from orchestration.defs.dbt.project import dbt_project

    with connect(scratch) as con:
        write_run_parameters(con, run_id=f"simulation-{uuid.uuid4()}", as_of=as_of, policy=policy)
        # A warehouse from before the published state was a dbt source may lack its tables.
        prepare_published_state(con, dbt_project().manifest_path)
    build_tier_models(scratch, scratch_dir / name / "target")
    return scratch, copy_seconds, time.perf_counter() - started


def last_publication(live: Path) -> tuple[str, str, str] | None:
    """(run_id, as_of_date, policy_version) of the newest publication, or None before the first."""
    try:
        with connect(live, read_only=True) as con:
            rows = publish_log_rows(con)
    except duckdb.IOException:
        raise SimulationError(
            f"the warehouse {live} is being written by a running tierflow run: try again when it has finished"
        ) from None
    if not rows:
        return None
    run_id, as_of, version = rows[-1][:3]
    return run_id, str(as_of), version


def compare(candidate_db: Path, current_db: Path, candidate_policy: Policy) -> dict[str, Any]:
    """Current vs candidate tiers, joined on customer_id (both copies read-only)."""
    current_relation = f"current_db.marts.{TIER_MODEL}"
    with duckdb.connect(str(candidate_db), read_only=True) as con:
        con.execute(f"attach {quote_literal(str(current_db))} as current_db (read_only)")
        con.execute(
            f"""
            create temp table joined as
            select
                coalesce(cur.customer_id, cand.customer_id) as customer_id,
                cur.tier as current_tier, cur.tier_rank as current_rank, cur.spend_365d as current_spend,
                cand.tier as candidate_tier, cand.tier_rank as candidate_rank, cand.spend_365d as candidate_spend,
                cur.qualified_tier as current_requalified_tier, cand.qualified_tier as requalified_tier
            from {current_relation} as cur
            full outer join marts.{TIER_MODEL} as cand on cur.customer_id = cand.customer_id
            """
        )
        matrix = con.execute(
            "select current_tier, candidate_tier, count(*) from joined where candidate_tier is not null group by all"
        ).fetchall()
        requalified = con.execute(
            "select current_requalified_tier, requalified_tier, count(*) from joined "
            "where requalified_tier is not null group by all"
        ).fetchall()
        totals = con.execute(
            """
            select
                count(*) filter (where candidate_tier is not null),
                count(*) filter (where current_tier is distinct from candidate_tier and candidate_tier is not null),
                count(*) filter (where candidate_rank > current_rank),
                count(*) filter (where candidate_rank < current_rank),
                count(*) filter (
                    where current_requalified_tier is distinct from requalified_tier and requalified_tier is not null
                )
            from joined
            """
        ).fetchall()[0]
        per_tier = tuple(
            {
                r[0]: (r[1], r[2])
                for r in con.execute(
                    f"select {tier}, count(*), avg({spend})::double from joined where {tier} is not null group by all"
                ).fetchall()
            }
            for tier, spend in (
                ("current_tier", "current_spend"),
                ("candidate_tier", "candidate_spend"),
                ("requalified_tier", "candidate_spend"),
            )
        )
        notices = {
            side: dict(con.execute(f"select notice_type, count(*) from {relation} group by 1").fetchall())
            for side, relation in (
                ("current", f"current_db.marts.{NOTICE_MODEL}"),
                ("candidate", f"marts.{NOTICE_MODEL}"),
            )
        }
    return {
        "notices": {
            kind: (notices["current"].get(kind, 0), notices["candidate"].get(kind, 0)) for kind in NOTICE_TYPES
        },
        "matrix": {(r[0], r[1]): r[2] for r in matrix},
        "requalified": {(r[0], r[1]): r[2] for r in requalified},
        "totals": totals,
        "per_tier": per_tier,
        "names": {t.code: t.name for t in candidate_policy.tiers},
    }


def _tier_outcomes(codes: list[str], names: dict[str, str], per_tier: tuple[dict, dict, dict]) -> list[TierOutcome]:
    current, candidate, requalified = per_tier

    def avg(value: float | None) -> float | None:
        return None if value is None else round(value, 2)

    return [
        TierOutcome(
            tier=code,
            name=names.get(code, code),
            current_members=current.get(code, (0, None))[0],
            candidate_members=candidate.get(code, (0, None))[0],
            requalified_members=requalified.get(code, (0, None))[0],
            current_avg_spend_365d=avg(current.get(code, (0, None))[1]),
            candidate_avg_spend_365d=avg(candidate.get(code, (0, None))[1]),
        )
        for code in codes
    ]


def simulate(
    home: Home,
    candidate: Policy,
    candidate_path: Path,
    *,
    current_policy: Policy,
    as_of: date | None = None,
    scratch_root: Path | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> Simulation:
    """Compare the current tiers with those under `candidate`; the live warehouse and published files are only
    read (the warehouse under a shared lock, for the time of a file copy)."""
    started = time.perf_counter()
    live = home.warehouse
    published = last_publication(live)
    if published is not None:
        published_as_of = date.fromisoformat(published[1])
        as_of = as_of or published_as_of + timedelta(days=1)
        if as_of <= published_as_of:
            raise SimulationError(
                f"--as-of {as_of} is not after the last publication ({published_as_of}): the tier state up to "
                "then is published and a policy change takes effect from the next run on; simulate a later date",
                2,
            )
    elif as_of is None:
        raise SimulationError("nothing has been published yet: give --as-of, or run `tierflow run` first", 2)
    timings: dict[str, float] = {}
    scratch_root = scratch_root or home.tmp
    scratch_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="simulation-", dir=scratch_root) as tmp:
        scratch_dir = Path(tmp)
        progress(f"recomputing the tiers as of {as_of} under the current policy {current_policy.version} …")
        current_db, timings["copy_seconds"], timings["current_dbt_seconds"] = recompute(
            live, scratch_dir, current_policy, as_of, name="current"
        )
        progress(f"recomputing the tiers as of {as_of} under the candidate policy {candidate.version} …")
        candidate_db, _, timings["candidate_dbt_seconds"] = recompute(
            live, scratch_dir, candidate, as_of, name="candidate"
        )
        progress("comparing current and candidate tiers …")
        result = compare(candidate_db, current_db, candidate)
    customers, moved, upgraded, downgraded, requalified_moved = result["totals"]
    columns = [t.code for t in candidate.tiers]
    rows: list[str | None] = [t.code for t in current_policy.tiers]
    if any(source is None for source, _ in result["matrix"]):
        rows.insert(0, None)
    codes = [*dict.fromkeys([*(r for r in rows if r is not None), *columns])]
    timings["total_seconds"] = time.perf_counter() - started
    return Simulation(
        as_of=as_of.isoformat(),
        candidate_policy_version=candidate.version,
        candidate_policy_path=str(candidate_path),
        current_source=(
            f"the next run under the current policy, after the publication of {published[1]}"
            if published
            else "a first run under the current policy"
        ),
        current_policy_version=current_policy.version,
        customers=customers,
        moved=moved,
        upgraded=upgraded,
        downgraded=downgraded,
        requalified_moved=requalified_moved,
        tiers=_tier_outcomes(codes, result["names"], result["per_tier"]),
        rows=rows,
        columns=columns,
        matrix=result["matrix"],
        requalified_matrix=result["requalified"],
        notices=result["notices"],
        timings=timings,
    )


def default_out_dir(home: Home, simulation_as_of: str, version: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return home.root / "simulations" / f"{simulation_as_of}_{version}_{stamp}"


def run_simulation_command(
    home: Home,
    candidate_path: Path,
    current_policy: Policy,
    *,
    as_of: date | None,
    out_dir: Path | None,
    as_json: bool,
    log: Callable[[str], None],
) -> int:
    """`tierflow simulate`: print the outcome (or one JSON object with --json), write JSON and HTML."""
    from tierflow.policy.schema import load_policy
    from tierflow.report.simulation import write_simulation

    candidate = load_policy(candidate_path)  # PolicyError: exit 2 with the key path
    try:
        simulation = simulate(home, candidate, candidate_path, current_policy=current_policy, as_of=as_of, progress=log)
    except SimulationError as exc:
        log(f"tierflow: {exc}")
        return exc.exit_code
    write_simulation(simulation, out_dir or default_out_dir(home, simulation.as_of, candidate.version))
    if as_json:
        print(json.dumps(simulation.as_dict()))
        return 0
    log(
        f"\nwhat if {candidate.version} applied as of {simulation.as_of} (current: {simulation.current_source}, "
        f"policy {simulation.current_policy_version}); nothing was published"
    )
    log(
        f"  customers {simulation.customers:,}: {simulation.moved:,} move ({simulation.moved_share:.1%}), "
        f"{simulation.upgraded:,} up, {simulation.downgraded:,} down; "
        f"{simulation.requalified_moved:,} once re-qualified"
    )
    log(f"  {'tier':<12} {'now':>8} {'candidate':>10} {'avg spend now':>15} {'candidate':>12}")
    for t in simulation.tiers:
        now = "-" if t.current_avg_spend_365d is None else f"{t.current_avg_spend_365d:,.2f}"
        then = "-" if t.candidate_avg_spend_365d is None else f"{t.candidate_avg_spend_365d:,.2f}"
        log(f"  {t.tier:<12} {t.current_members:>8,} {t.candidate_members:>10,} {now:>15} {then:>12}")
    width = max(len(c) for c in simulation.columns) + 2
    log("  migration (rows current, columns candidate):")
    log("  " + " " * 12 + "".join(f"{c:>{width}}" for c in simulation.columns))
    for row in simulation.rows:
        cells = "".join(f"{simulation.matrix.get((row, c), 0):>{width},}" for c in simulation.columns)
        log(f"  {row or 'not current':<12}{cells}")
    log(
        "  notices raised (now -> candidate): "
        + ", ".join(f"{kind} {now:,} -> {then:,}" for kind, (now, then) in simulation.notices.items())
    )
    log(f"  json      {simulation.files['json']}")
    log(f"  html      {simulation.files['html']}")
    log(
        f"  took {simulation.timings['total_seconds']:.1f} s (warehouse copy "
        f"{simulation.timings['copy_seconds']:.2f} s, dbt {simulation.timings['current_dbt_seconds']:.1f} s current + "
        f"{simulation.timings['candidate_dbt_seconds']:.1f} s candidate)"
    )
    return 0
