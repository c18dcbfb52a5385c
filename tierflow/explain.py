"""`tierflow explain CUSTOMER_ID`: why a member holds their tier, from the published artefacts only.

It reads the `tier_explanations` row of the customer, and the customer's `tier_notices` in force, from the BI
DuckDB file (the newest publication) or, for an earlier `--as-of` date, from the Parquet files that publication
left under `published/parquet/runs/`.
The live warehouse is never opened, so explain works while a run is going and shows what BI and CRM see.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import duckdb

from tierflow.ingest.files import quote_literal
from tierflow.paths import Home

TABLE = "tier_explanations"
NOTICES = "tier_notices"
NOTICE_COLUMNS = "notice_type, tier, target_tier, amount_needed, points, due_date, notice_key"


class ExplainError(ValueError):
    """The explanation cannot be found; the message says what to do."""


def _publication(con: duckdb.DuckDBPyConnection, as_of: date | None) -> tuple[str, str]:
    """(run_id, as_of_date) of the newest publication, or of the newest one as of `as_of`."""
    sql = "select run_id, cast(as_of_date as varchar) from publish_log"
    params: list[Any] = []
    if as_of is not None:
        sql += " where as_of_date = ?"
        params.append(as_of)
    row = con.execute(sql + " order by published_at desc limit 1", params).fetchone()
    if row is None:
        raise ExplainError(f"nothing was published as of {as_of}" if as_of else "nothing was published yet")
    return row[0], row[1]


def load_explanation(home: Home, customer_id: str, as_of: date | None = None) -> dict[str, Any]:
    """The published explanation row of one customer, as a dict (column name → value)."""
    path = home.published_duckdb
    if not path.exists():
        raise ExplainError(f"no published tiers at {path}: run `tierflow run` first")
    with duckdb.connect(str(path), read_only=True) as con:
        run_id, published_as_of = _publication(con, as_of)
        relation = _published(con, home, TABLE, run_id)
        if relation is None:
            parquet = home.published_parquet / "runs" / run_id / f"{TABLE}.parquet"
            raise ExplainError(
                f"the explanations published as of {published_as_of} (run {run_id}) are not kept: "
                f"{parquet} is missing (Parquet is not a BI target, or the run predates {TABLE})"
            )
        cursor = con.execute(f"select * from {relation} where customer_id = ?", [customer_id])
        row = cursor.fetchone()
        names = [d[0] for d in cursor.description]
        if row is None:
            raise ExplainError(f"customer {customer_id!r} is not among the tiers published as of {published_as_of}")
        # Notices of the same publication (none when it predates tier_notices or keeps no Parquet copy).
        notices = _published(con, home, NOTICES, run_id)
        found: list[dict[str, Any]] = []
        if notices is not None:
            cursor = con.execute(
                f"select {NOTICE_COLUMNS} from {notices} where customer_id = ? order by notice_type, notice_key",
                [customer_id],
            )
            columns = [d[0] for d in cursor.description]
            found = [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]
    return {**dict(zip(names, row, strict=True)), "notices": found}


def _published(con: duckdb.DuckDBPyConnection, home: Home, table: str, run_id: str) -> str | None:
    """The relation holding `table` as published by `run_id`: the BI file's table while that run is the
    current publication, else the Parquet copy the run left; None when neither exists."""
    tables = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
    current = con.execute(f"select distinct run_id from {table}").fetchall() if table in tables else []
    if current == [(run_id,)]:
        return table
    parquet = home.published_parquet / "runs" / run_id / f"{table}.parquet"
    return f"read_parquet({quote_literal(str(parquet))})" if parquet.exists() else None


METRICS = (("min_spend", "qualifying_spend"), ("min_orders", "qualifying_orders"), ("min_points", "qualifying_points"))
# (scope, tier column, threshold column prefix): entering the tier held, keeping it, entering the next one.
SCOPES = (("held", "tier", "tier_"), ("keep", "tier", "keep_"), ("next", "next_tier", "next_tier_"))


def threshold_checks(row: dict[str, Any]) -> list[dict[str, Any]]:
    """Each threshold of the tier held (to enter, to keep) and of the next tier, against the member's value
    over the qualification period on the as-of date."""
    checks = []
    for scope, tier_column, prefix in SCOPES:
        tier = row.get(tier_column)
        if tier is None:
            continue
        for metric, value_column in METRICS:
            threshold = row.get(f"{prefix}{metric}")
            if threshold is None or value_column not in row:
                continue
            # With pooling, thresholds are met on the household's figures (points stay the member's own).
            pooled = row.get("household_id") is not None and row.get(f"household_{value_column}") is not None
            value = row[f"household_{value_column}"] if pooled else row[value_column]
            checks.append(
                {
                    "scope": scope,
                    "tier": tier,
                    "metric": metric,
                    "threshold": threshold,
                    "value": value,
                    "met": value is not None and value >= threshold,
                    "pooled": pooled,
                }
            )
    return checks


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def explanation_document(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **{k: _plain(v) for k, v in row.items() if k != "notices"},
        "thresholds": [{k: _plain(v) for k, v in c.items()} for c in threshold_checks(row)],
        "notices": [{k: _plain(v) for k, v in n.items()} for n in row.get("notices", [])],
    }


def _notice_line(notice: dict[str, Any]) -> str:
    """One notice in force, in words: what it is about, what it takes, by when."""
    kind = str(notice["notice_type"]).replace("_", " ")
    parts = [f"{kind}: {notice['tier']}" + (f" -> {notice['target_tier']}" if notice.get("target_tier") else "")]
    if notice.get("amount_needed") is not None:
        parts.append(f"{_number(notice['amount_needed'])} more spend")
    if notice.get("points"):
        parts.append(f"{_number(notice['points'])} point(s)")
    if notice.get("due_date"):
        parts.append(f"by {_plain(notice['due_date'])}")
    return ", ".join(parts)


def _number(value: Any) -> str:
    return f"{value:,.2f}" if isinstance(value, Decimal | float) else f"{value:,}"


def _why(row: dict[str, Any]) -> str:
    why = str(row["tier_reason"])
    if row.get("tier_change_type"):
        why = f"{row['tier_change_type']} ({why}) on {_plain(row['tier_changed_date'])}"
    if row.get("tier_since"):
        why += f"; in {row.get('computed_tier') or row['tier']} since {_plain(row['tier_since'])}"
    if row.get("computed_tier") and row["computed_tier"] != row["tier"]:
        why += f"; computed tier {row['computed_tier']}"
    return why


def _period(row: dict[str, Any]) -> str:
    period, window = row.get("qualification_period"), row.get("qualification_window_days")
    if period in (None, "rolling"):
        return f"the last {window} days" if window else "the qualification period"
    return f"the {str(period).replace('_', ' ')} so far"


def explanation_lines(row: dict[str, Any]) -> list[str]:
    figures = f"spend {_number(row['qualifying_spend'])}, {row['qualifying_orders']:,} order(s)"
    if row.get("qualifying_points") is not None:
        figures += f", {row['qualifying_points']:,} point(s)"
    lines = [
        f"customer {row['customer_id']} as of {_plain(row['as_of_date'])}: {row['tier_name']} ({row['tier']}), "
        f"rank {row['tier_rank']}",
        f"  why        {_why(row)}",
        f"  figures    {figures} over {_period(row)}",
    ]
    if row.get("household_id") is not None:
        lines.append(
            f"  household  {row['household_id']}, {row['household_members']:,} members: spend "
            f"{_number(row['household_qualifying_spend'])}, {row['household_qualifying_orders']:,} order(s) pooled"
        )
    for check in threshold_checks(row):
        label = f"{check['tier']} {'keep ' if check['scope'] == 'keep' else ''}{check['metric']}"
        lines.append(
            f"  {check['scope']:<10} {label:<24} {_number(check['threshold']):>12}  vs {_number(check['value']):>12}"
            f"  {'met' if check['met'] else 'not met'}{' (household)' if check['pooled'] else ''}"
        )
    keeps = str(row["keep_condition"])
    if row.get("next_evaluation_date"):
        keeps += f"; next evaluation {_plain(row['next_evaluation_date'])}"
    if row.get("keep_spend_gap"):
        keeps += f"; {_number(row['keep_spend_gap'])} more spend needed to keep it"
    lines.append(f"  keeps      {keeps}")
    gaps = [
        f"{_number(row[column])} more {what}"
        for column, what in (
            ("spend_to_next_tier", "spend"),
            ("orders_to_next_tier", "order(s)"),
            ("points_to_next_tier", "point(s)"),
        )
        if row.get(column)
    ]
    lines.append(f"  lifts      {row['lift_condition']}" + (f" ({', '.join(gaps)})" if gaps else ""))
    for i, notice in enumerate(row.get("notices", [])):
        lines.append(f"  {'notices' if i == 0 else '':<10} {_notice_line(notice)}")
    lines.append(f"  policy     {row['policy_version']}, run {row['run_id']}")
    return lines


def run_explain_command(
    home: Home, customer_id: str, *, as_of: date | None, as_json: bool, log: Callable[[str], None]
) -> int:
    try:
        row = load_explanation(home, customer_id, as_of)
    except ExplainError as exc:
        log(f"tierflow: {exc}")
        return 2
    if as_json:
        print(json.dumps(explanation_document(row)))
    else:
        print("\n".join(explanation_lines(row)))
    return 0
