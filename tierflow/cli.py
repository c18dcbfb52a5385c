"""The `tierflow` command line: run the pipeline, generate demo data, prepare the dbt manifest.

Exit codes: 0 published, 1 unexpected failure, 2 bad input or configuration, 3 a quality gate blocked the
run (nothing was published). With --json, stdout holds exactly one JSON object; logs go to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from orchestration.runner import EXIT_BAD_INPUT, EXIT_FAILED, RunSummary, run_pipeline
from tierflow.policy.gates import BREAKERS
from tierflow.policy.schema import PolicyError, load_policy
from tierflow.resource_errors import describe_failure
from tierflow.run_lock import HomeLockedError, command_line, run_lock
from tierflow.settings import Settings, SettingsError
from tierflow.targets.base import TARGETS


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-01-31") from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _print_summary(summary: RunSummary) -> None:
    out = sys.stderr
    print(f"\ntierflow run {summary.run_id or '-'} as of {summary.as_of}: {summary.status.upper()}", file=out)
    for name, counts in summary.inputs.items():
        if not counts.get("files_seen"):
            continue
        line = (
            f"  {name:<9} {counts['files_loaded']} new file(s), {counts['files_skipped']} already ingested; "
            f"rows read {counts['rows_read']:,} = accepted {counts['rows_accepted']:,} "
            + (f"+ updated {counts['rows_updated']:,} " if counts.get("rows_updated") else "")
            + f"+ quarantined {counts['rows_quarantined']:,}"
            + (f" (of which {counts['rows_redundant']:,} repeats)" if counts.get("rows_redundant") else "")
        )
        print(line, file=out)
        if counts.get("quarantine_reasons"):
            reasons = ", ".join(f"{k} {v:,}" for k, v in counts["quarantine_reasons"].items())
            print(f"            quarantine reasons: {reasons}", file=out)
    if summary.tier_counts:
        total = sum(summary.tier_counts.values()) or 1
        print(
            f"  customers {summary.customers.get('total', 0):,} "
            f"({summary.customers.get('without_profile', 0):,} with orders but no profile, "
            f"{summary.customers.get('without_orders', 0):,} without orders)",
            file=out,
        )
        for tier, count in summary.tier_counts.items():
            print(f"    {tier:<12} {count:>10,}  {100 * count / total:5.1f}%", file=out)
    checks = summary.checks
    if summary.status != "unchanged":  # then no check ran: nothing was built
        scope = {True: " (full audit: every landed row)", False: " (the rows this run loaded)"}
        print(
            f"  checks    {sum(c['passed'] for c in checks)} passed, {len(summary.failed_checks)} failed"
            f"{scope.get(summary.is_full_audit, '')}",
            file=out,
        )
    for check in summary.failed_checks:
        print(f"    FAILED  {check['asset']} {check['check']}", file=out)
        for failure in check.get("details", {}).get("failed") or []:
            print(f"            {failure}", file=out)
    for what, where in summary.published.items():
        print(f"  {what:<9} {where}", file=out)
    if summary.crm:
        counts = summary.crm.get("delta_counts") or {}
        reused = " (identical to the export already made for this date)" if summary.crm.get("reused") else ""
        print(f"  crm delta {', '.join(f'{k} {v:,}' for k, v in counts.items())}{reused}", file=out)
        notices = summary.crm.get("notice_counts") or {}
        if any(notices.values()):  # nothing raised or withdrawn (or notices off): no line
            print(f"  notices   {', '.join(f'{k} {v:,}' for k, v in notices.items())}", file=out)
        sync = summary.crm.get("sync") or {}
        if str(sync.get("status", "")).startswith("disabled"):
            print(f"  crm sync  {sync['status']}", file=out)
        elif sync:
            print(
                f"  crm sync  {sync.get('status')}: {sync.get('batches_sent', 0)} batch(es) sent, "
                f"{sync.get('batches_failed', 0)} failed, {sync.get('batches_pending', 0)} waiting",
                file=out,
            )
    _print_gates(summary.gates)
    for skipped in summary.overrides_not_applied:
        print(
            f"  override  not applied ({skipped['issue']}): {skipped['customer_id']} -> {skipped['tier']}, "
            f"row {skipped['row']}",
            file=out,
        )
    if summary.message:
        print(f"  {summary.message}", file=out)
    if summary.run_id:
        print(f"  summary   {summary.summary_path}", file=out)
    print(f"  took {summary.seconds:.1f} s", file=out)


def _print_gates(gates: dict) -> None:
    if not gates:
        return
    notes = [f"{k} {', '.join(gates[k])}" for k in ("blocked_by", "warnings", "overridden") if gates.get(k)]
    print(f"  gates     {gates['status']}{': ' + '; '.join(notes) if notes else ''}", file=sys.stderr)
    print(f"  gate report {gates['report']}", file=sys.stderr)
    if gates.get("data_docs"):
        print(f"  data docs {gates['data_docs']}", file=sys.stderr)


def _allowed(args: argparse.Namespace) -> dict[str, str]:
    """--allow BREAKER (repeatable) with the --reason it needs: {breaker: reason}."""
    if not args.allow:
        if args.reason:
            raise ValueError("--reason goes with --allow BREAKER")
        return {}
    unknown = sorted(set(args.allow) - set(BREAKERS))
    if unknown:
        raise ValueError(f"--allow: unknown check {', '.join(unknown)} (valid: {', '.join(BREAKERS)})")
    if not (args.reason or "").strip():
        raise ValueError("--allow needs --reason TEXT: the override and its reason go into the publish log")
    return dict.fromkeys(args.allow, args.reason.strip())


def cmd_run(args: argparse.Namespace) -> int:
    settings = Settings.from_env(
        home=args.home, landing=args.landing, policy=args.policy, expectations=args.expectations, target=args.target
    )
    policy = load_policy(settings.policy)
    as_of = args.as_of or (datetime.now(ZoneInfo(policy.timezone)).date() - timedelta(days=1))
    with run_lock(settings.layout, command_line()):
        summary = run_pipeline(
            settings,
            as_of,
            verbose=args.verbose,
            allow=_allowed(args),
            force=args.force,
            full_refresh=args.full_refresh,
            full_audit=args.full_audit,
        )
    if args.json:
        print(json.dumps(summary.as_dict(), default=str))
        if summary.exit_code:
            # One line on stderr too, so a piped run that reads only the exit code or the log still sees why.
            _err(f"tierflow: run {summary.status}: {' '.join((summary.message or 'see the summary').split())}")
    else:
        _print_summary(summary)
    return summary.exit_code


def cmd_generate(args: argparse.Namespace) -> int:
    from tierflow.generate import generate_landing, generate_next_days

    next_days = getattr(args, "next_days", 0)
    write = partial(generate_next_days, count=next_days) if next_days else generate_landing
    report = write(
        args.out,
        customers=args.customers,
        days=args.days,
        seed=args.seed,
        # Yesterday by default: orders generated for today could be later than the moment they are ingested,
        # and ingest rightly quarantines those as upstream clock errors.
        end=args.end or date.today() - timedelta(days=1),
        fmt=args.format,
        dirty_rate=args.dirty_rate,
        progress=_err,
    )
    _err(
        f"wrote {report.orders:,} orders, {report.profiles:,} profiles and {report.events:,} events "
        f"for {report.customers:,} customers to {report.out_dir} in {report.seconds:.1f} s"
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    settings = Settings.from_env(home=args.home)
    policy = load_policy(settings.policy)
    as_of = args.end or datetime.now(ZoneInfo(policy.timezone)).date() - timedelta(days=1)
    landing = settings.home / "demo_landing"
    _err(f"generating demo data for {args.customers:,} customers into {landing} …")
    # Both commands' arguments come from their own parsers, so a new option has its default here too.
    generate_args = ["generate", "--customers", str(args.customers), "--out", str(landing), "--days", "730"]
    generate_args += ["--seed", "7", "--end", as_of.isoformat(), "--format", "csv", "--dirty-rate", "0.002"]
    run_args = ["run", "--landing", str(landing), "--as-of", as_of.isoformat(), "--home", str(settings.home)]
    with run_lock(settings.layout, command_line()):
        cmd_generate(build_parser().parse_args(generate_args))
        _err(f"running the tier job as of {as_of} …")
        return cmd_run(build_parser().parse_args(run_args + (["--verbose"] if args.verbose else [])))


def cmd_sync(args: argparse.Namespace) -> int:
    import uuid

    from orchestration.defs.resources import TierflowResource
    from tierflow.delivery.sync import sync_exports

    settings = Settings.from_env(home=args.home)
    config = TierflowResource.from_settings(settings).webhook_config()
    if config is None:
        _err("tierflow: TIERFLOW_CRM_WEBHOOK_URL is not set: there is nowhere to send the CRM deltas")
        return EXIT_BAD_INPUT
    with run_lock(settings.layout, command_line()):
        if not settings.layout.warehouse.exists():
            _err(f"tierflow: no warehouse in {settings.home}: run `tierflow run` first")
            return EXIT_BAD_INPUT
        report = sync_exports(
            settings.layout, config, sync_id=f"manual-{uuid.uuid4()}", trigger="cli", export_id=args.run, log=_err
        )
    _err(
        f"sync {'complete' if report.complete else 'incomplete'}: {report.batches_sent} batch(es) sent, "
        f"{report.batches_failed} failed, {report.batches_pending} waiting ({report.requests} requests)"
    )
    return 0 if report.complete else EXIT_FAILED


def cmd_prepare(args: argparse.Namespace) -> int:
    from orchestration.defs.dbt.project import prepare_manifest

    _err(f"dbt manifest ready: {prepare_manifest()}")
    return 0


def cmd_check_policy(args: argparse.Namespace) -> int:
    policy = load_policy(args.policy)
    tiers = ", ".join(t.code for t in policy.tiers)
    _err(f"{args.policy}: valid policy {policy.version} ({policy.currency}, {policy.timezone}; tiers {tiers})")
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from tierflow.simulate import run_simulation_command

    settings = Settings.from_env(home=args.home, policy=args.current_policy)
    # Holds the home's lock: the warehouse copy must not be taken while a run writes it.
    with run_lock(settings.layout, command_line()):
        return run_simulation_command(
            settings.layout,
            args.policy,
            load_policy(settings.policy),
            as_of=args.as_of,
            out_dir=args.out,
            as_json=args.json,
            log=_err,
        )


def cmd_backfill(args: argparse.Namespace) -> int:
    from tierflow.backfill import backfill

    settings = Settings.from_env(
        home=args.home, landing=args.landing, policy=args.policy, expectations=args.expectations
    )
    load_policy(settings.policy)
    with run_lock(settings.layout, command_line()):
        return backfill(
            settings,
            args.start,
            args.end,
            log=_err,
            verbose=args.verbose,
            full_refresh=args.full_refresh,
            full_audit=args.full_audit,
        )


def cmd_explain(args: argparse.Namespace) -> int:
    from tierflow.explain import run_explain_command

    settings = Settings.from_env(home=args.home)
    return run_explain_command(settings.layout, args.customer_id, as_of=args.as_of, as_json=args.json, log=_err)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tierflow",
        description="Recompute customer membership tiers: ingest landing files, build the dbt models, run the "
        "quality gates, publish for BI and export for CRM.",
        epilog="Exit codes: 0 published, 1 failed, 2 bad input or configuration, 3 blocked by a quality gate.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="run the tier job once (ingest → dbt → gates → publish)",
        description="Run the tier job in-process, as of one date.",
    )
    run.add_argument(
        "--landing",
        type=Path,
        help="landing directory with orders/, profiles/, events/ (default $TIERFLOW_LANDING or <home>/landing)",
    )
    run.add_argument(
        "--as-of",
        type=_date,
        help="date to compute tiers for, YYYY-MM-DD (default: yesterday in the policy time zone)",
    )
    run.add_argument(
        "--home",
        type=Path,
        help="tierflow home: warehouse, published tables, exports (default $TIERFLOW_HOME or ./tierflow_home)",
    )
    run.add_argument("--policy", type=Path, help="tier policy YAML (default: the shipped policy)")
    run.add_argument("--expectations", type=Path, help="directory of Great Expectations suites")
    run.add_argument(
        "--allow",
        action="append",
        metavar="CHECK",
        help=f"let this circuit breaker through for this run only (repeatable; one of {', '.join(BREAKERS)}); "
        "needs --reason, recorded in the publish log",
    )
    run.add_argument("--reason", metavar="TEXT", help="why the --allow override is right (required with --allow)")
    run.add_argument(
        "--target",
        choices=TARGETS,
        help="where dbt builds the models (default $TIERFLOW_TARGET or duckdb); postgres needs "
        "TIERFLOW_PG_DSN (or TIERFLOW_TARGET_PG_DSN for a database of its own), spark needs "
        "pip install '.[spark]' and Java 17",
    )
    run.add_argument(
        "--force",
        action="store_true",
        help="recompute even when nothing changed since the last complete run (same landing files, policy, "
        "overrides, expectations, code, settings and as-of date); without it such a run does nothing, exit 0",
    )
    run.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild every carried table (the incremental models) from scratch instead of updating it with "
        "what is new: what a run costs without carried state; the published tables are the same (implies --force)",
    )
    run.add_argument(
        "--full-audit",
        action="store_true",
        help="the landing suites judge every landed row, not only the rows this run loaded (a daily run is a full "
        "audit anyway every gates.full_audit_every_days days of the policy); implies --force",
    )
    run.add_argument("--json", action="store_true", help="print one JSON summary object on stdout")
    run.add_argument("-v", "--verbose", action="store_true", help="log every step (stderr)")
    run.set_defaults(func=cmd_run)

    gen = commands.add_parser(
        "generate",
        help="write a realistic demo landing zone",
        description="Generate a deterministic landing zone (same seed, same bytes).",
    )
    gen.add_argument("--customers", type=_positive, required=True, help="number of customers")
    gen.add_argument("--days", type=_positive, default=730, help="days of orders, ending on --end (default 730)")
    gen.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    gen.add_argument("--out", type=Path, required=True, help="landing directory to write")
    gen.add_argument("--end", type=_date, help="last day of data, YYYY-MM-DD (default: yesterday)")
    gen.add_argument(
        "--format",
        choices=["csv", "parquet", "parquet-text"],
        default="csv",
        help="file format (default csv); parquet is typed like a real export, parquet-text holds every column as text",
    )
    gen.add_argument("--dirty-rate", type=float, default=0.0, help="share of bad rows, 0 to 0.5 (default 0)")
    gen.add_argument(
        "--next-days",
        type=_positive,
        default=0,
        metavar="K",
        help="instead, add orders_<day> files for the K days after --end to the landing zone generated with the "
        "same --customers/--days/--seed/--end (same customers; the other files are kept)",
    )
    gen.set_defaults(func=cmd_generate)

    demo = commands.add_parser(
        "demo",
        help="generate demo data and run the tier job on it",
        description="Generate two years of demo data into <home>/demo_landing and run the tier job as of its last day "
        "(yesterday unless --end says otherwise).",
    )
    demo.add_argument("--customers", type=_positive, default=5000, help="demo customers (default 5000)")
    demo.add_argument(
        "--end", type=_date, help="last day of demo data and the as-of date, YYYY-MM-DD (default: yesterday)"
    )
    demo.add_argument("--home", type=Path, help="tierflow home (default ./tierflow_home)")
    demo.add_argument("-v", "--verbose", action="store_true", help="log every step (stderr)")
    demo.set_defaults(func=cmd_demo)

    sync = commands.add_parser(
        "sync",
        help="send CRM deltas that were not delivered yet to the webhook",
        description="Deliver every CRM delta batch not yet accepted by TIERFLOW_CRM_WEBHOOK_URL, oldest first, "
        "with the same idempotency keys as before. Exit 0 when everything is delivered, 1 when some batch still "
        "fails (it is recorded and retried next time).",
    )
    sync.add_argument("--run", metavar="RUN_ID", help="only the export of this run (its export id)")
    sync.add_argument("--home", type=Path, help="tierflow home (default $TIERFLOW_HOME or ./tierflow_home)")
    sync.set_defaults(func=cmd_sync)

    prep = commands.add_parser("prepare", help="parse the dbt project into its manifest (deployments, CI)")
    prep.set_defaults(func=cmd_prepare)

    simulate = commands.add_parser(
        "simulate",
        help="what-if: tiers under a candidate policy, compared with the current ones (publishes nothing)",
        description="Recompute the tiers under a candidate policy on a copy of the warehouse and compare them with "
        "the current tiers: migration matrix, share of members who move, members and average spend per tier. "
        "Writes simulation.json and simulation.html; the warehouse and the published files are only read.",
    )
    simulate.add_argument("--policy", type=Path, required=True, help="candidate tier policy YAML")
    simulate.add_argument(
        "--as-of", type=_date, help="date to simulate (default: the day after the last published as-of date)"
    )
    simulate.add_argument("--out", type=Path, help="directory for the results (default <home>/simulations/…)")
    simulate.add_argument("--home", type=Path, help="tierflow home (default $TIERFLOW_HOME or ./tierflow_home)")
    simulate.add_argument(
        "--current-policy",
        type=Path,
        help="policy in force, used when the date has no publication (default: the deployment's, $TIERFLOW_POLICY)",
    )
    simulate.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    simulate.set_defaults(func=cmd_simulate)

    back = commands.add_parser(
        "backfill",
        help="run the tier job for every date of a range, oldest first (resumable)",
        description="Run the tier job for each date from --from to --to in order. Dates already published are "
        "skipped, so the same command resumes an interrupted or failed backfill. Stops at the first date that "
        "does not publish, with that run's exit code.",
    )
    back.add_argument("--from", dest="start", type=_date, required=True, help="first as-of date, YYYY-MM-DD")
    back.add_argument("--to", dest="end", type=_date, required=True, help="last as-of date, YYYY-MM-DD")
    back.add_argument("--landing", type=Path, help="landing directory (default $TIERFLOW_LANDING or <home>/landing)")
    back.add_argument("--home", type=Path, help="tierflow home (default $TIERFLOW_HOME or ./tierflow_home)")
    back.add_argument("--policy", type=Path, help="tier policy YAML (default: the shipped policy)")
    back.add_argument("--expectations", type=Path, help="directory of Great Expectations suites")
    back.add_argument(
        "--full-refresh",
        action="store_true",
        help="the first date run rebuilds every carried table from scratch (e.g. after restoring an old "
        "warehouse); the later dates carry them on from there",
    )
    back.add_argument(
        "--full-audit", action="store_true", help="every run of the backfill is a full audit (see run --full-audit)"
    )
    back.add_argument("-v", "--verbose", action="store_true", help="log every step (stderr)")
    back.set_defaults(func=cmd_backfill)

    explain = commands.add_parser(
        "explain",
        help="why a customer holds their tier (from the published tables)",
        description="Print the published tier of one customer, why and since when it holds, each threshold "
        "against the customer's value, and what keeps or lifts the tier. Reads the published files only.",
    )
    explain.add_argument("customer_id", help="the customer's id")
    explain.add_argument("--as-of", type=_date, help="a published as-of date (default: the newest publication)")
    explain.add_argument("--home", type=Path, help="tierflow home (default $TIERFLOW_HOME or ./tierflow_home)")
    explain.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    explain.set_defaults(func=cmd_explain)

    check = commands.add_parser("check-policy", help="validate a tier policy file")
    check.add_argument("policy", type=Path, help="policy YAML")
    check.set_defaults(func=cmd_check_policy)
    return parser


def _refuse(args: argparse.Namespace, message: str, code: int) -> int:
    """One line on stderr; with --json also the error object on stdout, so a piped run sees why."""
    _err(f"tierflow: {message}")
    if getattr(args, "json", False):
        print(json.dumps({"status": "error", "exit_code": code, "message": message}))
    return code


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except HomeLockedError as exc:
        return _refuse(args, str(exc), EXIT_FAILED)
    except (PolicyError, SettingsError, ValueError) as exc:
        return _refuse(args, str(exc), EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        return _refuse(args, "interrupted", EXIT_FAILED)
    except Exception as exc:  # the last line of defence: one clear line, never a traceback
        home = getattr(args, "home", None) or Settings.from_env().home
        return _refuse(args, describe_failure(exc, home), EXIT_FAILED)


if __name__ == "__main__":
    sys.exit(main())
