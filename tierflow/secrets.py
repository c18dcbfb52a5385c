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


def engine_pg_dsn() -> str | None:
    """TIERFLOW_ENGINE_PG_DSN: the PostgreSQL database dbt builds the models in with `--target postgres`."""
    return os.environ.get("TIERFLOW_ENGINE_PG_DSN") or None


def secret_values() -> list[str]:
    """Every secret currently configured, longest first: the DSN, its password, the webhook token and URL
    credentials, the hash salt (values shorter than 4 characters are not worth hunting for)."""
    values = [webhook_token(), hash_salt()]
    for url in (pg_dsn(), engine_pg_dsn(), webhook_url()):
        if url:
            parts = urlsplit(url)
            values += [url, parts.password, parts.query]
            values += [part.split("=", 1)[1] for part in url.split() if part.startswith("password=")]
    return sorted({v for v in values if v and len(v) >= 4}, key=len, reverse=True)


def redact(text: str) -> str:
    """`text` with every configured secret replaced by ***, for messages built from third-party errors."""
    for value in secret_values():
        text = text.replace(value, "***")
    return text
