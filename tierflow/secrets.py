"""Secrets are `SecretStr` fields of `Settings`, read from the environment at the moment they are used: they are
never part of a Dagster resource's config, a log line or a run summary."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from tierflow.settings import Settings, variable


def _secret(name: str) -> str | None:
    return Settings.from_env().secret(name)


def pg_dsn() -> str | None:
    """TIERFLOW_PG_DSN, e.g. postgresql://user@127.0.0.1:5432/warehouse; enables PostgreSQL publication."""
    return _secret("pg_dsn")


def target_pg_dsn() -> str | None:
    """The database dbt builds the models in with `--target postgres`: TIERFLOW_TARGET_PG_DSN, else
    TIERFLOW_PG_DSN (one database serves both unless the user names a second)."""
    return Settings.from_env().target_dsn


def webhook_url() -> str | None:
    """TIERFLOW_CRM_WEBHOOK_URL; enables the CRM webhook sync."""
    return _secret("crm_webhook_url")


def webhook_token() -> str | None:
    return _secret("crm_webhook_token")


def alert_webhook_url() -> str | None:
    """TIERFLOW_ALERT_WEBHOOK_URL; failed runs post an alert there."""
    return _secret("alert_webhook_url")


def hash_salt() -> str:
    """TIERFLOW_HASH_SALT, mixed into e-mail hashes so exported hashes cannot be matched to other lists."""
    return _secret("hash_salt") or ""


def redact_url(url: str) -> str:
    """scheme://host:port/path, without credentials or query: safe to log."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def secret_values() -> list[str]:
    """Every secret currently configured, longest first: the DSNs and their passwords, the webhook token and URL
    credentials, the hash salt (values shorter than 4 characters are not worth hunting for)."""
    values: list[str | None] = []
    for name in Settings.secret_fields():
        # Raw, not validated: redaction must work even when another setting is invalid.
        value = os.environ.get(variable(name))
        values.append(value)
        if value and "://" in value:
            parts = urlsplit(value)
            values += [parts.password, parts.query]
        if value:
            values += [part.split("=", 1)[1] for part in value.split() if part.startswith("password=")]
    return sorted({v for v in values if v and len(v) >= 4}, key=len, reverse=True)


def redact(text: str) -> str:
    """`text` with every configured secret replaced by ***, for messages built from third-party errors."""
    for value in secret_values():
        text = text.replace(value, "***")
    return text
