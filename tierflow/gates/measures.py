"""The gates that are not expectation suites: quarantine shares, reconciliation, freshness, circuit breakers.

Every figure is one aggregate query in DuckDB (nothing is loaded into pandas), judged against `gates:` of
the policy. Breakers compare with the last *published* run (`published_state`), never with a blocked one.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import duckdb

from tierflow.gates.results import FAILED, OFF, OVERRIDDEN, PASSED, WARNED, GateResult, judge
from tierflow.ingest.inputs import REDUNDANT_REASONS
from tierflow.policy.gates import BREAKERS, Gates
from tierflow.publish.state import SCHEMA as PUBLISHED
from tierflow.publish.state import has_publication
from tierflow.warehouse import scalar, table_exists

SAMPLE = 10


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [
        {n: (str(v) if isinstance(v, date | Decimal) else v) for n, v in zip(names, row, strict=True)}
        for row in cursor.fetchall()
    ]


def _unpublished_files(con: duckdb.DuckDBPyConnection) -> str:
    """Files whose rows have not been part of a publication yet: a file that blocked a run stays judged
    in the next runs (it is not re-ingested) until a run publishes it."""
    if table_exists(con, PUBLISHED, "publish_log"):
        return f"(run_id is null or run_id not in (select run_id from {PUBLISHED}.publish_log))"
    return "true"


def quarantine_share(con: duckdb.DuckDBPyConnection, gates: Gates) -> tuple[GateResult, set[str]]:
    """The share of each unpublished file's rows quarantined, less the redundant ones (duplicates and stale
    updates of rows already loaded, which lose nothing: an old export sent again must not block a run); and
    the inputs with a file over `max_quarantine_share`."""
    redundant = ", ".join(f"'{reason}'" for reason in REDUNDANT_REASONS)
    files = _rows(
        con,
        f"""
        select f.input, f.source_file, f.rows_read, f.rows_quarantined, coalesce(f.rows_redundant, 0) as rows_redundant,
            round((f.rows_quarantined - coalesce(f.rows_redundant, 0)) / f.rows_read, 4) as share,
            (select list(reason order by n desc)[1:3] from (
                select reason, count(*) as n from landing.quarantine as q
                where q.file_sha256 = f.file_sha256 and q.input = f.input and reason not in ({redundant})
                group by reason)) as top_reasons
        from landing.ingested_files as f
        where f.rows_read > 0 and {_unpublished_files(con)}
        order by share desc, f.input, f.source_file
        """,
    )
    worst = files[0]["share"] if files else 0.0
    threshold = gates.max_quarantine_share
    over = [f for f in files if threshold is None or f["share"] > threshold]
    message = f"{len(files)} file(s) not yet published; the worst has {worst:.2%} of its rows quarantined" + "".join(
        f"; {f['input']}/{f['source_file']} has no usable row" for f in files if f["share"] >= 1
    )
    result = judge("quarantine_share", "input", worst, threshold, message, sample=over[:SAMPLE])
    return result, ({f["input"] for f in over} if result.blocks else set())


def utc_span(first: date, last: date, timezone: str) -> tuple[datetime, datetime]:
    """The UTC instants [start, end) whose local date in `timezone` lies in [first, last], naive as the landing
    tables hold them: from the first date's local midnight to the one after the last date."""

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(), ZoneInfo(timezone)).astimezone(UTC).replace(tzinfo=None)

    return midnight(first), midnight(last + timedelta(days=1))


def _local_date(column: str, timezone: str) -> str:
    # Landing timestamps are UTC without an offset; the policy's local date decides the window.
    return f"cast(timezone('{timezone}', timezone('UTC', {column})) as date)"


def reconciliation(con: duckdb.DuckDBPyConnection, as_of: date, timezone: str) -> list[GateResult]:
    accepted = scalar(con, "select coalesce(sum(rows_accepted), 0) from landing.ingested_files where input = 'orders'")
    staged = scalar(con, "select staged_orders from marts.run_figures")
    orders = GateResult(
        "orders_accepted_equal_staged",
        "reconciliation",
        PASSED if accepted == staged else FAILED,
        figure=staged,
        threshold=accepted,
        message=f"orders accepted by ingest {accepted:,}, orders in staging {staged:,}",
    )
    # The same 365-day net spend, computed from the raw landing rows independently of the dbt models. The local
    # dates of the window are the UTC instants from the first one's local midnight to the midnight after the
    # last: no order's timestamp is converted (converting all 22 M took 5.1 s at 1 M customers), and DuckDB
    # skips the row groups of older loads by their statistics.
    first, last = as_of - timedelta(days=364), as_of
    raw = scalar(
        con,
        """
        select coalesce(sum(cast(round(
            case when o.status in ('cancelled', 'refunded') then 0 else o.amount - coalesce(o.refunded_amount, 0) end
            * case when o.currency = p.policy_currency then 1.0 else policy_rate.units_per_usd / rate.units_per_usd end,
            2) as decimal(18, 2))), 0)
        from landing.orders as o
        cross join tierflow.run_parameters as p
        left join reference.fx_rates as rate on rate.currency_code = o.currency
        left join reference.fx_rates as policy_rate on policy_rate.currency_code = p.policy_currency
        where o.order_ts >= ? and o.order_ts < ?
        """,
        list(utc_span(first, last, timezone)),
    )
    published = scalar(con, "select coalesce(sum(spend_365d), 0) from marts.customer_tiers")
    spend = GateResult(
        "spend_365d_equals_raw",
        "reconciliation",
        PASSED if Decimal(raw) == Decimal(published) else FAILED,
        figure=str(published),
        threshold=str(raw),
        message=f"sum of spend_365d {published} vs the same sum from the landing orders {raw} (to the cent)",
    )
    return [orders, spend]


# Every UTC offset lies between -12 and +14 hours, so no order older than this many UTC days can have a local
# date on or after as_of - RECENT_DAYS.
RECENT_DAYS = 2


def newest_order_date(con: duckdb.DuckDBPyConnection, as_of: date, timezone: str) -> date | None:
    """The newest local order date on or before the as-of date. Only the orders of the last UTC days are converted
    (converting all 22 M took 2.7 s of the gates' 15) when one of them is at most RECENT_DAYS old: an older
    order's local date is earlier still, whatever the zone or a DST change; otherwise every order is."""

    def newest(where: str, params: list) -> date | None:
        local = _local_date("order_ts", timezone)
        return scalar(con, f"select max(d) from (select {local} as d from landing.orders {where}) where d <= ?", params)

    since = datetime.combine(as_of - timedelta(days=RECENT_DAYS), time())
    recent = newest("where order_ts >= ?", [since, as_of])
    if recent is not None and recent >= as_of - timedelta(days=RECENT_DAYS):
        return recent
    return newest("", [as_of])


def freshness(con: duckdb.DuckDBPyConnection, gates: Gates, as_of: date, timezone: str) -> GateResult:
    newest = newest_order_date(con, as_of, timezone)
    if newest is None:
        status = OFF if gates.max_staleness_days is None else FAILED
        return GateResult(
            "order_staleness_days",
            "freshness",
            status,
            None,
            gates.max_staleness_days,
            f"no order on or before {as_of}",
        )
    days = (as_of - newest).days
    return judge(
        "order_staleness_days",
        "freshness",
        days,
        gates.max_staleness_days,
        f"newest order {newest}, {days} day(s) before the as-of date {as_of} (stale upstream is not churn)",
    )


def psi(current: dict[str, int], previous: dict[str, int]) -> float:
    """Population stability index of two distributions over the same tiers (empty tiers count as 0.01%)."""
    cur_total, prev_total = sum(current.values()) or 1, sum(previous.values()) or 1
    total = 0.0
    for tier in set(current) | set(previous):
        a = max(current.get(tier, 0) / cur_total, 1e-4)
        e = max(previous.get(tier, 0) / prev_total, 1e-4)
        total += (a - e) * math.log(a / e)
    return round(total, 6)


def _allow(result: GateResult, allowed: dict[str, str]) -> GateResult:
    if result.status == FAILED and result.name in allowed:
        result.status = OVERRIDDEN
        result.message += f"; overridden for this run: {allowed[result.name]}"
    return result


def circuit_breakers(con: duckdb.DuckDBPyConnection, gates: Gates, allowed: dict[str, str]) -> list[GateResult]:
    if not has_publication(con):
        note = "first run: nothing published yet to compare with"
        return [GateResult(name, "breaker", PASSED, None, gates.threshold(name), note) for name in BREAKERS]
    previous_as_of = scalar(con, f"select max(as_of_date) from {PUBLISHED}.customer_tiers")
    before = f"against the run published as of {previous_as_of}"
    prev_count, cur_count, matched, changed, downgraded = con.execute(
        f"""
        select
            (select count(*) from {PUBLISHED}.customer_tiers),
            (select count(*) from marts.customer_tiers),
            count(*),
            count(*) filter (where cur.tier <> prev.tier),
            count(*) filter (where cur.tier_rank < prev.tier_rank)
        from marts.customer_tiers as cur
        join {PUBLISHED}.customer_tiers as prev using (customer_id)
        """
    ).fetchone()
    moved = _rows(
        con,
        f"""select customer_id, prev.tier as previous_tier, cur.tier as tier,
            prev.tier_rank > cur.tier_rank as downgraded
        from marts.customer_tiers as cur join {PUBLISHED}.customer_tiers as prev using (customer_id)
        where cur.tier <> prev.tier order by downgraded desc, customer_id limit {SAMPLE}""",
    )
    gone = _rows(
        con,
        f"""select customer_id, tier as previous_tier from {PUBLISHED}.customer_tiers
        where customer_id not in (select customer_id from marts.customer_tiers) order by customer_id limit {SAMPLE}""",
    )
    distribution = {
        key: dict(con.execute(f"select tier, count(*) from {table}.customer_tiers group by tier").fetchall())
        for key, table in (("current", "marts"), ("previous", PUBLISHED))
    }
    share = round(changed / matched, 6) if matched else 0.0
    drop = round(max(prev_count - cur_count, 0) / prev_count, 6) if prev_count else 0.0
    down = round(downgraded / matched, 6) if matched else 0.0
    index = psi(distribution["current"], distribution["previous"])
    results = [
        judge(
            "tier_change_share",
            "breaker",
            share,
            gates.max_tier_change_share,
            f"{changed:,} of {matched:,} members changed tier {before}",
            sample=moved,
        ),
        judge(
            "customer_drop_share",
            "breaker",
            drop,
            gates.max_customer_drop_share,
            f"customers {prev_count:,} → {cur_count:,} {before}",
            sample=gone,
        ),
        judge(
            "tier_psi",
            "breaker",
            index,
            gates.max_psi,
            f"population stability index of the tier distribution {index:.4f} {before}: {distribution}",
        ),
        judge(
            "downgrade_share",
            "breaker",
            down,
            gates.max_downgrade_share,
            f"{downgraded:,} of {matched:,} members downgraded {before}",
            sample=[m for m in moved if m["downgraded"]],
        ),
    ]
    psi_result = results[2]
    if psi_result.status == PASSED and gates.warn_psi is not None and index > gates.warn_psi:
        psi_result.status = WARNED
        psi_result.message += f" (above the warning level {gates.warn_psi}; not blocking)"
    return [_allow(r, allowed) for r in results]
