"""The two reference points of issue 7, computed straight from a landing zone's orders files.

Both compute, per customer with orders, net spend and order counts over the 30, 90 and 365 days ending on the
as-of date, and the spend tier of the shipped policy's thresholds (the rules of README "Tier policy": local
dates in the policy time zone, net of refunds, converted at the fx_rates seed, cancelled and refunded orders
worth 0, fully refunded orders not counted, free ones counted). Rows that do not parse are dropped. pandas
also drops re-sent order ids; the DuckDB query, a floor, does not (a clean landing zone, the benchmark's
default, has none). Neither validates, quarantines, tests or publishes anything: they are the naive way and the floor.

Run one in its own process (the harness does): ``python -m bench.references pandas|duckdb --landing DIR
--as-of YYYY-MM-DD --out FILE.parquet``; it writes the result and prints one JSON line (rows, tier counts,
total 365-day spend) so the harness can check that the two agree.
"""

import argparse
import json
import sys
from datetime import date, timedelta
from pathlib import Path

from tierflow.paths import FX_RATES_SEED
from tierflow.policy.schema import Policy, load_policy

WINDOWS = (30, 90, 365)


def _orders_files(landing: Path) -> tuple[str, list[Path]]:
    files = sorted((landing / "orders").glob("*.parquet"))
    if files:
        return "parquet", files
    return "csv", sorted((landing / "orders").glob("*.csv"))


def _typed(files: list[Path]) -> bool:
    """Typed Parquet (`tierflow generate --format parquet`) holds order times as timestamps, not text."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    return (
        bool(files)
        and files[0].suffix == ".parquet"
        and pa.types.is_timestamp(pq.read_schema(files[0]).field("order_ts").type)
    )


def _thresholds(policy: Policy) -> list[tuple[str, float]]:
    """(code, min_spend) from the highest tier down; the lowest tier has none."""
    tiers = [(t.code, float(t.min_spend or 0)) for t in policy.tiers]
    return list(reversed(tiers))


def pandas_reference(landing: Path, as_of: date, policy: Policy):
    """The naive way: every orders file into one DataFrame (strings, or the types of typed Parquet), then
    vectorised pandas."""
    import numpy as np
    import pandas as pd

    fmt, files = _orders_files(landing)
    read = pd.read_parquet if fmt == "parquet" else (lambda f: pd.read_csv(f, dtype=str))
    df = pd.concat([read(f) for f in files], ignore_index=True)
    df = df.drop_duplicates("order_id", keep="first")
    if pd.api.types.is_datetime64_any_dtype(df["order_ts"]):  # typed Parquet: instants in UTC
        local = df["order_ts"].dt.tz_convert(policy.timezone).dt.tz_localize(None)
    else:
        ts = df["order_ts"].astype("string")
        aware = ts.str.contains(r"(?:Z|[+-]\d\d:\d\d)$", regex=True).fillna(False).to_numpy(dtype=bool)
        local = pd.to_datetime(ts.str.slice(0, 19).str.replace("T", " "), format="%Y-%m-%d %H:%M:%S", errors="coerce")
        if aware.any():
            instants = pd.to_datetime(ts[aware], utc=True, format="ISO8601", errors="coerce")
            local = local.copy()
            local[aware] = instants.dt.tz_convert(policy.timezone).dt.tz_localize(None).to_numpy()
    df["order_date"] = local.dt.normalize()
    fx = pd.read_csv(FX_RATES_SEED).set_index("currency_code")["units_per_usd"]
    rate = fx[policy.currency] / df["currency"].fillna(policy.currency).map(fx)
    amount = pd.to_numeric(df["amount"], errors="coerce")
    refunded = pd.to_numeric(df["refunded_amount"], errors="coerce").fillna(0.0)
    completed = df["status"].fillna("completed") == "completed"
    df["net"] = np.where(completed, (amount - refunded) * rate, 0.0)
    df["counted"] = completed & ((refunded == 0) | (refunded < amount))
    df = df[df["order_date"].notna() & amount.notna() & rate.notna()]
    df = df[df["order_date"] <= pd.Timestamp(as_of)]

    out = pd.DataFrame(index=pd.Index(df["customer_id"].unique(), name="customer_id"))
    for days in WINDOWS:
        recent = df[df["order_date"] > pd.Timestamp(as_of - timedelta(days=days))]
        grouped = recent.groupby("customer_id")
        out[f"spend_{days}d"] = grouped["net"].sum().round(2)
        out[f"orders_{days}d"] = grouped["counted"].sum()
    out = out.fillna(0)
    tier = pd.Series(policy.tiers[0].code, index=out.index)
    for code, floor in reversed(_thresholds(policy)[:-1]):
        tier[out["spend_365d"] >= floor] = code
    out["tier"] = tier
    return out.reset_index()


def duckdb_query(landing: Path, as_of: date, policy: Policy) -> str:
    """One SQL statement over the files: the practical floor for a full recompute."""
    fmt, files = _orders_files(landing)
    pattern = str(landing / "orders" / f"*.{fmt}").replace("'", "''")
    # Wall-clock text (19 characters) is already local: only text with an offset, and typed instants, need the
    # session's zone (the policy's) to give a local date.
    order_date = (
        "cast(order_ts as date)"
        if _typed(files)
        else """case
                when length(order_ts) > 19 then cast(try_cast(order_ts as timestamptz) as date)
                else cast(try_cast(order_ts as timestamp) as date)
            end"""
    )
    source = f"read_parquet('{pattern}')" if fmt == "parquet" else f"read_csv('{pattern}', all_varchar = true)"
    windows = ",\n        ".join(
        f"round(sum(net) filter (where order_date > date '{as_of - timedelta(days=d)}'), 2) as spend_{d}d, "
        f"count(*) filter (where counted and order_date > date '{as_of - timedelta(days=d)}') as orders_{d}d"
        for d in WINDOWS
    )
    tiers = " ".join(f"when spend_365d >= {floor} then '{code}'" for code, floor in _thresholds(policy)[:-1])
    return f"""
    with fx as (
        select currency_code, units_per_usd from read_csv('{FX_RATES_SEED}')
    ),
    orders as (
        select
            customer_id,
            {order_date} as order_date,
            coalesce(status, 'completed') = 'completed' as is_completed,
            try_cast(amount as decimal(18, 2)) as amount,
            coalesce(try_cast(refunded_amount as decimal(18, 2)), 0) as refunded,
            home.units_per_usd / fx.units_per_usd as rate
        from {source} as raw
        join fx on fx.currency_code = coalesce(raw.currency, '{policy.currency}')
        cross join (select units_per_usd from fx where currency_code = '{policy.currency}') as home
    ),
    valued as (
        select
            customer_id,
            order_date,
            case when is_completed then (amount - refunded) * rate else 0 end as net,
            is_completed and (refunded = 0 or refunded < amount) as counted
        from orders
        where order_date is not null and amount is not null and order_date <= date '{as_of}'
    ),
    windows as (
        select customer_id,
        {windows}
        from valued
        group by customer_id
    )
    select
        customer_id,
        coalesce(spend_30d, 0) as spend_30d, orders_30d,
        coalesce(spend_90d, 0) as spend_90d, orders_90d,
        coalesce(spend_365d, 0) as spend_365d, orders_365d,
        case {tiers} else '{policy.tiers[0].code}' end as tier
    from windows
    """


def _run_duckdb(landing: Path, as_of: date, policy: Policy, out: Path) -> dict:
    import duckdb

    con = duckdb.connect()
    # Naive order_ts values are local wall time in the policy zone; timestamptz -> date also uses it.
    con.execute(f"set TimeZone = '{policy.timezone}'")
    escaped = str(out).replace("'", "''")
    con.execute(f"copy ({duckdb_query(landing, as_of, policy)}) to '{escaped}' (format parquet)")
    rows, spend = con.execute(f"select count(*), sum(spend_365d)::double from '{escaped}'").fetchone()
    counts = dict(con.execute(f"select tier, count(*) from '{escaped}' group by tier").fetchall())
    return {"rows": rows, "spend_365d": round(spend or 0.0, 2), "tier_counts": counts}


def _run_pandas(landing: Path, as_of: date, policy: Policy, out: Path) -> dict:
    result = pandas_reference(landing, as_of, policy)
    result.to_parquet(out, index=False)
    return {
        "rows": len(result),
        "spend_365d": round(float(result["spend_365d"].sum()), 2),
        "tier_counts": {k: int(v) for k, v in result["tier"].value_counts().items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.references", description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["pandas", "duckdb"])
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--as-of", type=date.fromisoformat, required=True)
    parser.add_argument("--out", type=Path, required=True, help="Parquet file for the result")
    args = parser.parse_args(argv)
    policy = load_policy()
    run = _run_pandas if args.kind == "pandas" else _run_duckdb
    print(json.dumps(run(args.landing, args.as_of, policy, args.out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
