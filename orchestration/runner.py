"""Running the tier job in-process and turning its events into a run summary (the CLI and tests use it)."""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg

from orchestration.adapters import instance_overrides
from orchestration.defs import build_definitions
from orchestration.defs.dbt.assets import process_environment
from orchestration.defs.gates import ALLOW_TAG, FULL_REFRESH_TAG
from orchestration.defs.publish import PUBLISH_GROUP
from orchestration.defs.resources import BAD_INPUT
from orchestration.defs.schedules import TIER_JOB_NAME, run_config_for
from orchestration.progress import DbtEchoFilter
from tierflow.gates.audit import FULL_AUDIT_TAG
from tierflow.gates.report import gate_summary
from tierflow.ingest.overrides import not_applied
from tierflow.policy.schema import load_policy
from tierflow.recovery import clean_stale, fail_abandoned_runs
from tierflow.resource_errors import dbt_errors, disk_nearly_full, explain
from tierflow.secrets import redact
from tierflow.settings import Settings
from tierflow.sql_safety import check_layout
from tierflow.targets import TargetError, target_for
from tierflow.unchanged import (
    FINGERPRINT_TAG,
    Reusable,
    forget,
    input_fingerprint,
    remember,
    resumable,
    reusable,
)
from tierflow.warehouse import held, spill_bound_environment

EXIT_PUBLISHED, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_BLOCKED = 0, 1, 2, 3


@dataclass
class RunSummary:
    status: str  # published | unchanged | blocked | error
    as_of: str
    run_id: str | None = None
    reused_run: str | None = None  # unchanged: the run whose publication stands (tierflow.unchanged)
    resumed_run: str | None = None  # the stopped run whose audited build this run published (tierflow.unchanged)
    policy_version: str | None = None
    inputs: dict[str, dict] = field(default_factory=dict)
    checks: list[dict] = field(default_factory=list)
    tier_counts: dict[str, int] = field(default_factory=dict)
    customers: dict[str, int] = field(default_factory=dict)
    published: dict[str, str] = field(default_factory=dict)
    crm: dict[str, Any] = field(default_factory=dict)
    gates: dict[str, Any] = field(default_factory=dict)  # gate report, Data Docs, warnings, overrides
    overrides_not_applied: list[dict] = field(default_factory=list)  # unknown customers or tiers
    message: str | None = None
    seconds: float = 0.0
    summary_path: Path | None = None
    is_bad_input: bool = False  # the input or configuration is at fault: exit 2
    full_refresh: bool = False  # every carried table was rebuilt from scratch (--full-refresh)
    is_full_audit: bool | None = None  # the landing suites judged every row (None: the run did not get that far)
    max_spill_gb: float | None = None  # the spill bound this run had (TIERFLOW_MAX_SPILL_GB or its default)

    @property
    def exit_code(self) -> int:
        if self.status in ("published", "unchanged"):
            return EXIT_PUBLISHED
        if self.status == "blocked":
            return EXIT_BLOCKED
        return EXIT_BAD_INPUT if self.is_bad_input else EXIT_FAILED

    @property
    def failed_checks(self) -> list[dict]:
        return [c for c in self.checks if not c["passed"]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "as_of": self.as_of,
            "run_id": self.run_id,
            "reused_run": self.reused_run,
            "resumed_run": self.resumed_run,
            "policy_version": self.policy_version,
            "inputs": self.inputs,
            "customers": self.customers,
            "tier_counts": self.tier_counts,
            "checks": self.checks,
            "published": self.published,
            "crm": self.crm,
            "gates": self.gates,
            "overrides_not_applied": self.overrides_not_applied,
            "message": self.message,
            "seconds": round(self.seconds, 2),
            "full_refresh": self.full_refresh,
            "is_full_audit": self.is_full_audit,
            "max_spill_gb": None if self.max_spill_gb is None else round(self.max_spill_gb, 3),
        }


def _value(metadata: dict, key: str) -> Any:
    entry = metadata.get(key)
    return getattr(entry, "value", entry)


def _root_cause(error: Any) -> str:
    """The innermost error of a Dagster failure: the wrapper only says which op failed."""
    while getattr(error, "cause", None) is not None:
        error = error.cause
    return error.message.strip().splitlines()[0] if error.message.strip() else error.cls_name


def _read_materialization(summary: RunSummary, materialization: dg.AssetMaterialization) -> None:
    key = materialization.asset_key.path
    metadata = materialization.metadata
    if key[0] == "landing":
        summary.inputs[key[1]] = {
            name: _value(metadata, name)
            for name in (
                "files_seen",
                "files_loaded",
                "files_skipped",
                "rows_read",
                "rows_accepted",
                "rows_updated",
                "rows_quarantined",
                "rows_redundant",
                "quarantine_reasons",
            )
        }
    elif key == ["tierflow", "run_parameters"]:
        summary.policy_version = _value(metadata, "policy_version")
        summary.is_full_audit = _value(metadata, "is_full_audit")
    elif key == ["published_tables"]:
        summary.tier_counts = _value(metadata, "tier_counts")
        summary.customers = _value(metadata, "customers")
        for name in metadata:
            if name.endswith("_path"):
                summary.published[name.removesuffix("_path")] = str(_value(metadata, name))
    elif key == ["crm_segment_export"]:
        summary.published["crm_export"] = str(_value(metadata, "directory"))
        summary.crm = {
            "export_id": _value(metadata, "export_id"),
            "reused": _value(metadata, "reused"),
            "delta_counts": _value(metadata, "delta_counts"),
            "notice_counts": _value(metadata, "notice_counts"),
        }
    elif key == ["tier_report"]:
        summary.published["report"] = str(_value(metadata, "report_path"))
    elif key == ["crm_webhook_sync"]:
        summary.crm["sync"] = {name: _value(metadata, name) for name in metadata}


def _read_check(summary: RunSummary, evaluation: dg.AssetCheckEvaluation) -> None:
    check = {
        "asset": evaluation.asset_key.to_user_string(),
        "check": evaluation.check_name,
        "passed": evaluation.passed,
    }
    if not evaluation.passed:
        # What failed and on which values, so an operator need not open Dagster to see why.
        check["details"] = {k: _value(evaluation.metadata, k) for k in evaluation.metadata}
    summary.checks.append(check)


def _read_build_run(instance: dg.DagsterInstance, summary: RunSummary, build_run: str) -> None:
    """A resumed run's inputs, parameters and checks: those of the run that built and audited what it publishes."""
    kinds = {dg.DagsterEventType.ASSET_MATERIALIZATION, dg.DagsterEventType.ASSET_CHECK_EVALUATION}
    for entry in instance.all_logs(build_run, of_type=kinds):
        event = entry.dagster_event
        if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            _read_materialization(summary, event.event_specific_data.materialization)
        else:
            _read_check(summary, event.event_specific_data)


def _summarise(result: dg.ExecuteInProcessResult, summary: RunSummary) -> RunSummary:
    summary.run_id = result.run_id
    for event in result.get_asset_materialization_events():
        _read_materialization(summary, event.materialization)
    for evaluation in result.get_asset_check_evaluations():
        _read_check(summary, evaluation)
    failures = [e for e in result.all_events if e.is_step_failure]
    bad_input = [
        f.step_failure_data.user_failure_data.description
        for f in failures
        if f.step_failure_data.user_failure_data
        and _value(f.step_failure_data.user_failure_data.metadata, "tierflow_error") == BAD_INPUT
    ]
    if result.success and "crm_export" in summary.published:
        summary.status = "published"
    elif bad_input:
        summary.status, summary.message = "error", "bad input: " + "\n".join(bad_input)
        summary.is_bad_input = True
    elif summary.failed_checks:
        names = ", ".join(f"{c['asset']}:{c['check']}" for c in summary.failed_checks)
        summary.status, summary.message = "blocked", f"quality gate failed, nothing was published: {names}"
    else:
        errors = [
            f"{f.step_key}: {_root_cause(f.step_failure_data.error)}" for f in failures if f.step_failure_data.error
        ]
        summary.status = "error"
        summary.message = "; ".join(errors) or "the run failed before publishing"
    if summary.resumed_run and summary.status == "published":
        summary.message = (
            f"resumed run {summary.resumed_run} at publication: it had stopped after its quality gates passed, "
            "with the same landing files, policy, overrides, expectations, code, settings and as-of date, so its "
            "audited build was published without ingesting, building or judging it again (--force rebuilds)"
        )
    return summary


def _unchanged(summary: RunSummary, reuse: Reusable) -> RunSummary:
    """Nothing to do: what the matched run published still stands, and is what this run would publish."""
    previous = reuse.summary
    summary.status, summary.reused_run = "unchanged", reuse.run_id
    summary.policy_version = previous.get("policy_version")
    summary.tier_counts = previous.get("tier_counts") or {}
    summary.customers = previous.get("customers") or {}
    summary.published = previous.get("published") or {}
    summary.message = (
        f"nothing new since run {reuse.run_id}: the same landing files, policy, overrides, expectations, code, "
        "settings and as-of date, so nothing was recomputed and its publication stands (--force recomputes)"
    )
    return summary


def _is_complete(summary: RunSummary) -> bool:
    """Published, and the CRM webhook (if one is set) has every delta: nothing left for a re-run to do."""
    sync = str((summary.crm.get("sync") or {}).get("status", "disabled"))
    return summary.status == "published" and (sync == "complete" or sync.startswith("disabled"))


def _publication(defs: dg.Definitions) -> list[dg.AssetKey]:
    """The publish steps (BI tables, CRM export and sync, report): what a resumed run executes."""
    return [spec.key for spec in defs.resolve_all_asset_specs() if spec.group_name == PUBLISH_GROUP]


def run_pipeline(
    settings: Settings,
    as_of: date,
    *,
    verbose: bool = False,
    allow: dict[str, str] | None = None,
    force: bool = False,
    full_refresh: bool = False,
    full_audit: bool = False,
) -> RunSummary:
    """Ingest, transform, gate and publish as of `as_of`, unless nothing changed since the last complete run,
    or only publish when a run with the same inputs stopped after its gates passed (tierflow.unchanged).
    `force` recomputes anyway; so does `full_refresh`, which also rebuilds every carried table from scratch.
    Never raises for bad input: see the summary."""
    started = time.perf_counter()
    summary = RunSummary(status="error", as_of=as_of.isoformat(), full_refresh=full_refresh)
    check_layout(settings.layout.root, settings.layout.managed)  # UnsafeNameError: bad configuration, exit 2
    layout = settings.layout.ensure()
    if not settings.landing_dir.is_dir():
        summary.message = f"bad input: landing directory {settings.landing_dir} does not exist"
        summary.is_bad_input = True
        return summary
    load_policy(settings.policy)  # PolicyError: the caller reports it as bad input
    try:
        target_for(settings.target, layout).check()
    except TargetError as exc:
        summary.message = str(exc)
        summary.is_bad_input = exc.is_config
        return summary
    # A run let through a breaker by --allow is never reused: without the override it would be blocked.
    digest = None if allow else input_fingerprint(settings, as_of)
    reuse = None if force or full_refresh or full_audit else reusable(layout, digest)
    if reuse is not None:
        summary = _unchanged(summary, reuse)
        summary.seconds = time.perf_counter() - started
        return summary
    resume = None if force or full_refresh or full_audit else resumable(layout, digest)
    summary.resumed_run = resume.build_run if resume else None
    forget(layout)
    defs = build_definitions(settings)
    layout.dagster_home.mkdir(parents=True, exist_ok=True)
    # A batch run writes its own summary; Dagster's first-run telemetry banner on stderr is noise there.
    overrides = {**instance_overrides(str(layout.dagster_home)), "telemetry": {"enabled": False}}
    bound = spill_bound_environment(layout.root)
    summary.max_spill_gb = float(next(iter(bound.values())))
    with (
        process_environment(bound),
        # `local_temp` with a directory is the public way to a persistent instance there with overrides.
        dg.DagsterInstance.local_temp(str(layout.dagster_home), overrides=overrides) as instance,
        contextlib.redirect_stdout(DbtEchoFilter(verbose)),
        held(layout.warehouse),
    ):
        # What a killed run left behind (see tierflow.recovery); the caller holds the run lock.
        clean_stale(layout)
        fail_abandoned_runs(instance)
        loggers = {"loggers": {"tierflow_cli": {"config": {"verbose": verbose}}}}
        result = defs.resolve_job_def(TIER_JOB_NAME).execute_in_process(
            # Resumed: only the publish steps, which read the as-of date from the audited build.
            run_config=loggers if resume else {**run_config_for(as_of.isoformat()), **loggers},
            asset_selection=_publication(defs) if resume else None,
            instance=instance,
            raise_on_error=False,
            tags={
                "tierflow/as_of": as_of.isoformat(),
                "tierflow/trigger": "cli",
                **({FINGERPRINT_TAG: digest} if digest else {}),
                **({ALLOW_TAG: json.dumps(allow, sort_keys=True)} if allow else {}),
                **({FULL_REFRESH_TAG: "true"} if full_refresh else {}),
                **({FULL_AUDIT_TAG: "true"} if full_audit else {}),
            },
        )
        if resume:
            _read_build_run(instance, summary, resume.build_run)
    _summarise(result, summary)
    if summary.status == "error" and not summary.is_bad_input:
        causes = "\n".join([summary.message or "", *dbt_errors(layout.dbt_target)])
        if "disk I/O error" in causes and disk_nearly_full(layout.root):
            causes += "\nno space left on device"
        summary.message = explain(causes, str(layout.root), summary.max_spill_gb) or summary.message
    summary.message = redact(summary.message) if summary.message else None
    summary.seconds = time.perf_counter() - started
    summary.gates = gate_summary(layout.run_dir(summary.resumed_run or summary.run_id))
    summary.overrides_not_applied = not_applied(layout.warehouse)
    summary.summary_path = layout.run_dir(summary.run_id) / "summary.json"
    summary.summary_path.parent.mkdir(parents=True, exist_ok=True)
    staged = summary.summary_path.with_name(".summary.json.staged")
    staged.write_text(json.dumps(summary.as_dict(), indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(staged, summary.summary_path)
    if digest is not None and summary.run_id and _is_complete(summary):
        # The warehouse's last publication is stamped with the run that built it.
        remember(layout, summary.resumed_run or summary.run_id, digest, summary.as_dict())
    return summary
