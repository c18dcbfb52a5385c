"""Secrets come from the environment only, at the moment they are used: they are never part of a settings
object, a Dagster resource's config, a log line or a run summary."""

from __future__ import annotations

import os
from urllib.parse import urlsplit


def pg_dsn() -> str | None:
    """TIERFLOW_PG_DSN, e.g. postgresql://user@127.0.0.1:5432/warehouse; enables PostgreSQL publication."""
    return os.environ.get("TIERFLOW_PG_DSN") or None


def webhook_url() -> str | None:
    """TIERFLOW_CRM_WEBHOOK_URL; enables the CRM webhook sync."""
    return os.environ.get("TIERFLOW_CRM_WEBHOOK_URL") or None


def webhook_token() -> str | None:
    return os.environ.get("TIERFLOW_CRM_WEBHOOK_TOKEN") or None


def hash_salt() -> str:
    """TIERFLOW_HASH_SALT, mixed into e-mail hashes so exported hashes cannot be matched to other lists."""
    return os.environ.get("TIERFLOW_HASH_SALT", "")


def redact_url(url: str) -> str:
    """scheme://host:port/path, without credentials or query: safe to log."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"
