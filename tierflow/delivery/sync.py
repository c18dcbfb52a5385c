"""Registering CRM exports for the webhook and delivering what is pending (shared by the Dagster asset and
`tierflow sync`)."""

from __future__ import annotations

import json
from collections.abc import Callable

from tierflow.delivery.webhook import SyncReport, WebhookConfig, register_export, sync_pending
from tierflow.paths import Home
from tierflow.warehouse import connect


def sync_exports(
    home: Home,
    config: WebhookConfig,
    *,
    sync_id: str,
    trigger: str,
    export_id: str | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> SyncReport:
    """Plan batches for every export on disk not yet planned, then deliver everything still pending."""
    manifests = [
        (path.parent, json.loads(path.read_text(encoding="utf-8")))
        for path in sorted(home.crm_exports.glob("*/manifest.json"))
        if not path.parent.name.startswith(".")
    ]
    with connect(home.warehouse) as con:
        for directory, manifest in manifests:
            planned = register_export(con, directory, manifest, config.batch_size)
            if planned:
                log(f"planned {planned} batch(es) for export {manifest['export_id']} ({manifest['as_of_date']})")
    return sync_pending(home.warehouse, config, sync_id=sync_id, trigger=trigger, export_id=export_id, log=log)
