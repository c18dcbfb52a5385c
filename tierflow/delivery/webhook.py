"""The CRM webhook sync: sends each export's delta as JSON batches, losing nothing and duplicating nothing.

- An export's segment changes (`record_type: segment_change`, from delta.parquet) go first, then its tier
  notices (`record_type: tier_notice`, from notices.parquet, each `raised` or `withdrawn`); the batches of
  both are numbered in one sequence and follow the same rules.

- Every batch has a stable `Idempotency-Key` (`<export_id>:<batch number>`), so a batch sent twice (a crash
  after the CRM answered but before we recorded it) is recognised by the CRM as the same request.
- The state of every batch lives in the warehouse (`sync.sync_batches`) and is committed after each
  response: a killed sync resumes where it stopped.
- 429 and 5xx answers and dropped connections are retried with exponential backoff and jitter, honouring
  `Retry-After`; after `max_attempts` tries a batch is recorded as failed and the sync stops, so changes are
  never applied out of order. The next sync (the next run, or `tierflow sync`) retries from the first batch
  not yet delivered, oldest export first.
"""

from __future__ import annotations

import http.client
import json
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb

from tierflow.delivery.backoff import backoff_seconds
from tierflow.secrets import redact_url
from tierflow.warehouse import connect

DDL = """
create schema if not exists sync;
create table if not exists sync.sync_runs (
    sync_id varchar not null,
    trigger varchar not null,
    started_at timestamp not null,
    finished_at timestamp,
    status varchar not null,
    batches_sent integer not null default 0,
    batches_failed integer not null default 0,
    requests integer not null default 0
);
create table if not exists sync.sync_batches (
    export_id varchar not null,
    as_of_date date not null,
    batch_no integer not null,
    idempotency_key varchar not null,
    export_dir varchar not null,
    first_row integer not null,
    row_count integer not null,
    status varchar not null,
    attempts integer not null default 0,
    http_codes varchar not null default '[]',
    last_error varchar,
    first_attempt_at timestamp,
    last_attempt_at timestamp,
    sent_at timestamp,
    duration_ms bigint not null default 0,
    sync_id varchar,
    record_type varchar not null default 'segment_change',
    primary key (export_id, batch_no)
);
-- Batches planned before tier notices existed are segment changes.
alter table sync.sync_batches add column if not exists record_type varchar default 'segment_change';
"""
RETRYABLE = {429, 500, 502, 503, 504}
# record_type -> (the export's file, its order: batches are slices of it); segment changes are sent first.
RECORD_FILES = {
    "segment_change": ("delta.parquet", "customer_id"),
    "tier_notice": ("notices.parquet", "customer_id, notice_key, status"),
}


@dataclass(frozen=True)
class WebhookConfig:
    url: str
    token: str | None
    batch_size: int = 500
    timeout_seconds: float = 10.0
    rate_limit: float = 5.0  # requests per second
    max_attempts: int = 5
    backoff_base: float = 0.5
    backoff_cap: float = 30.0


@dataclass
class SyncReport:
    sync_id: str
    batches_sent: int = 0
    batches_failed: int = 0
    batches_pending: int = 0
    requests: int = 0
    http_codes: dict[str, int] = field(default_factory=dict)
    failures: list[dict] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.batches_failed == 0 and self.batches_pending == 0

    def as_dict(self) -> dict:
        return {
            "sync_id": self.sync_id,
            "batches_sent": self.batches_sent,
            "batches_failed": self.batches_failed,
            "batches_pending": self.batches_pending,
            "requests": self.requests,
            "http_codes": self.http_codes,
            "failures": self.failures[:20],
        }


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def register_export(con: duckdb.DuckDBPyConnection, export_dir: Path, manifest: dict, batch_size: int) -> int:
    """Plan the batches of an export once; re-registering the same export changes nothing."""
    con.execute(DDL)
    export_id = manifest["export_id"]
    if con.execute("select count(*) from sync.sync_batches where export_id = ?", [export_id]).fetchall()[0][0]:
        return 0
    slices = [
        (record_type, start, min(batch_size, rows - start))
        for record_type, (name, _) in RECORD_FILES.items()
        # Exports made before tier notices existed have no notices file.
        for rows in [manifest["files"].get(name, {}).get("rows", 0)]
        for start in range(0, rows, batch_size)
    ]
    batches = [
        [export_id, manifest["as_of_date"], n, f"{export_id}:{n}", str(export_dir), start, count, record_type]
        for n, (record_type, start, count) in enumerate(slices, start=1)
    ]
    con.executemany(
        "insert into sync.sync_batches (export_id, as_of_date, batch_no, idempotency_key, export_dir, first_row, "
        "row_count, record_type, status) values (?, ?, ?, ?, ?, ?, ?, ?, 'pending')",
        batches,
    )
    return len(batches)


def _json_value(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)  # money stays exact
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def _batch_payload(con: duckdb.DuckDBPyConnection, batch: dict) -> bytes:
    name, order = RECORD_FILES[batch["record_type"]]
    result = con.execute(
        f"select * from read_parquet(?) order by {order} limit ? offset ?",
        [str(Path(batch["export_dir"]) / name), batch["row_count"], batch["first_row"]],
    )
    names = [d[0] for d in result.description]
    changes = [{n: _json_value(v) for n, v in zip(names, row, strict=True)} for row in result.fetchall()]
    body = {
        "export_id": batch["export_id"],
        "as_of_date": batch["as_of_date"].isoformat(),
        "batch": batch["batch_no"],
        "idempotency_key": batch["idempotency_key"],
        "record_type": batch["record_type"],
        "changes": changes,
    }
    return json.dumps(body, separators=(",", ":")).encode()


def _retry_after(error: urllib.error.HTTPError) -> float | None:
    value = error.headers.get("Retry-After") if error.headers else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


class _Pacer:
    """At most `rate` requests per second."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self.next_at = 0.0

    def wait(self) -> None:
        delay = self.next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        self.next_at = time.monotonic() + self.interval


def _send(config: WebhookConfig, body: bytes, key: str) -> tuple[int | None, str | None, float | None]:
    """One attempt: (HTTP status or None, error text, Retry-After seconds)."""
    headers = {"Content-Type": "application/json", "Idempotency-Key": key, "User-Agent": "tierflow-crm-sync"}
    if config.token:
        headers["Authorization"] = f"Bearer {config.token}"
    request = urllib.request.Request(config.url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=config.timeout_seconds) as response:
            response.read()
            return response.status, None, None
    except urllib.error.HTTPError as error:
        return error.code, f"HTTP {error.code}", _retry_after(error)
    except (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError) as error:
        reason = getattr(error, "reason", error)
        return None, f"{type(reason).__name__}: {reason}", None


def sync_pending(
    warehouse: Path,
    config: WebhookConfig,
    *,
    sync_id: str,
    trigger: str,
    export_id: str | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> SyncReport:
    """Deliver every batch not yet sent, oldest export first; stop at the first batch that keeps failing."""
    report = SyncReport(sync_id=sync_id)
    pacer = _Pacer(config.rate_limit)
    with connect(warehouse) as con:
        con.execute(DDL)
        con.execute(
            "insert into sync.sync_runs (sync_id, trigger, started_at, status) values (?, ?, ?, 'running')",
            [sync_id, trigger, _now()],
        )
        where = "status <> 'sent'" + (" and export_id = ?" if export_id else "")
        cursor = con.execute(
            f"select * from sync.sync_batches where {where} order by as_of_date, export_id, batch_no",
            [export_id] if export_id else [],
        )
        names = [d[0] for d in cursor.description]
        batches = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        log(f"sync {sync_id}: {len(batches)} batch(es) to deliver to {redact_url(config.url)}")
        for index, batch in enumerate(batches):
            body = _batch_payload(con, batch)
            codes = json.loads(batch["http_codes"])
            delivered = False
            for attempt in range(1, config.max_attempts + 1):
                pacer.wait()
                started = time.monotonic()
                status, error, retry_after = _send(config, body, batch["idempotency_key"])
                elapsed_ms = int((time.monotonic() - started) * 1000)
                report.requests += 1
                codes.append(status)
                report.http_codes[str(status)] = report.http_codes.get(str(status), 0) + 1
                delivered = status is not None and 200 <= status < 300
                con.execute(
                    "update sync.sync_batches set attempts = attempts + 1, http_codes = ?, last_error = ?, "
                    "first_attempt_at = coalesce(first_attempt_at, ?), last_attempt_at = ?, "
                    "duration_ms = duration_ms + ?, sync_id = ?, status = ?, sent_at = ? "
                    "where export_id = ? and batch_no = ?",
                    [
                        json.dumps(codes),
                        error,
                        _now(),
                        _now(),
                        elapsed_ms,
                        sync_id,
                        "sent" if delivered else "retrying",
                        _now() if delivered else None,
                        batch["export_id"],
                        batch["batch_no"],
                    ],
                )
                if delivered or (status is not None and status not in RETRYABLE):
                    break
                if attempt < config.max_attempts:
                    backoff = backoff_seconds(attempt, config.backoff_base, config.backoff_cap)
                    time.sleep(retry_after if retry_after is not None else random.uniform(0, backoff))
            if delivered:
                report.batches_sent += 1
                continue
            con.execute(
                "update sync.sync_batches set status = 'failed' where export_id = ? and batch_no = ?",
                [batch["export_id"], batch["batch_no"]],
            )
            report.batches_failed += 1
            report.batches_pending = len(batches) - index - 1
            report.failures.append(
                {"idempotency_key": batch["idempotency_key"], "http_codes": codes[-5:], "error": error}
            )
            log(
                f"batch {batch['idempotency_key']} failed after {config.max_attempts} attempts ({error}); "
                f"{report.batches_pending} later batch(es) wait so changes stay in order"
            )
            break
        con.execute(
            "update sync.sync_runs set finished_at = ?, status = ?, batches_sent = ?, batches_failed = ?, "
            "requests = ? where sync_id = ?",
            [
                _now(),
                "complete" if report.complete else "incomplete",
                report.batches_sent,
                report.batches_failed,
                report.requests,
                sync_id,
            ],
        )
    return report
