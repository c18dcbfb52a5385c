"""Tell someone when a tier run fails: a JSON POST to TIERFLOW_ALERT_WEBHOOK_URL (Slack-compatible `text`)."""

from __future__ import annotations

import json
import urllib.request

import dagster as dg

from tierflow.secrets import alert_webhook_url, redact_url


def alert_payload(run_id: str, job_name: str, step: str, error: str) -> dict:
    text = f"tierflow: {job_name} run {run_id} failed at {step}: {error}"
    return {"text": text, "run_id": run_id, "job": job_name, "step": step, "error": error}


@dg.failure_hook(name="alert_on_failure")
def alert_on_failure(context: dg.HookContext) -> None:
    url = alert_webhook_url()
    if not url:
        return
    error = context.op_exception
    message = f"{type(error).__name__}: {str(error).strip().splitlines()[0]}" if error else "failed"
    payload = alert_payload(context.run_id, context.job_name, context.op.name, message[:500])
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10):
            pass
    except OSError as exc:  # an alert that cannot be sent must not hide the failure it reports
        context.log.warning(f"could not post the failure alert to {redact_url(url)}: {exc}")
