"""The days after a landing zone: one more orders file per day for the same customers, as a nightly extract
would drop it, so that incremental runs can be exercised and measured.

The population is replayed from the seed (the same draws as the landing zone itself), customers still
active on the last day keep buying at their own rate and no one new joins. Day k after `end` is drawn from
its own random stream, so its file has the same bytes whichever number of days is asked for, and its order
ids continue after those of the landing zone and of the days before it.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

from tierflow.generate.catalogue import currency_mix
from tierflow.generate.customers import Customers
from tierflow.generate.dates import Month
from tierflow.generate.landing import GenerateReport, draw_population, make_run, order_id_width, validate
from tierflow.generate.orders import month_orders
from tierflow.generate.seasonality import season_weights
from tierflow.generate.writing import Format, Writer

# Mixed into the seed of day k's stream, so that it never coincides with the landing zone's own stream.
_NEXT_DAY_STREAM = 0x6E657874


def daily_orders_stem(day: date) -> str:
    return f"orders_{day.isoformat()}"


def generate_next_days(
    out_dir: Path,
    *,
    count: int,
    customers: int,
    days: int,
    seed: int,
    end: date,
    fmt: Format = "csv",
    dirty_rate: float = 0.0,
    currency: str = "CNY",
    progress: Callable[[str], None] | None = None,
) -> GenerateReport:
    """Write `orders/orders_<day>.<fmt>` for the `count` days after `end`, next to an existing landing zone
    generated with the same customers, days, seed and end (its files are left alone)."""
    started = time.perf_counter()
    validate(customers=customers, days=days, seed=seed, end=end, fmt=fmt, dirty_rate=dirty_rate, currency=currency)
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise ValueError(f"count must be an integer >= 1, got {count!r}")
    if isinstance(end, datetime):
        end = end.date()
    say = progress or (lambda _msg: None)
    orders_dir = Path(out_dir) / "orders"
    orders_dir.mkdir(parents=True, exist_ok=True)

    pop = draw_population(np.random.default_rng(seed), customers=customers, days=days, end=end)
    # Customers active on the last day are censored, not gone: they keep their pace into the next days.
    ongoing = _still_active(pop.state, days, count)
    start = end - timedelta(days=days - 1)
    currencies = currency_mix(currency)
    next_order = pop.total_orders + 1
    width = order_id_width(pop.total_orders)
    rows = 0
    dirty: dict[str, int] = {}
    writer = Writer(fmt)
    try:
        for k in range(1, count + 1):
            day = end + timedelta(days=k)
            rng = np.random.default_rng([seed, _NEXT_DAY_STREAM, k])
            # Weighted like the landing zone's days, normalised over the year ending on that day.
            cum_weight = np.concatenate(([0.0], np.cumsum(season_weights(start, day))))
            m = Month(day.year, day.month, days + k - 1, days + k)
            lo, hi = np.maximum(ongoing.join, m.lo), np.minimum(ongoing.churn, m.hi)
            lam = np.where(hi > lo, ongoing.rate * (cum_weight[m.hi] - cum_weight[m.lo]), 0.0)
            counts = rng.poisson(lam).astype(np.uint16)
            run = make_run(rng, ongoing, start, dirty_rate, fmt)
            table, n_clean = month_orders(
                run, m, counts, cum_weight, next_order, max(width, len(str(next_order + int(counts.sum())))), currencies
            )
            next_order += n_clean
            rows += table.num_rows
            for kind, n in run.dirty.items():
                dirty[kind] = dirty.get(kind, 0) + n
            writer.write(table, orders_dir / daily_orders_stem(day))
            say(f"orders {day}: {table.num_rows:,} rows")
    finally:
        writer.close()
    seconds = time.perf_counter() - started
    say(f"done: {rows:,} orders over {count} day(s) after {end} in {seconds:.1f}s")
    return GenerateReport(
        out_dir=Path(out_dir),
        customers=customers,
        orders=rows,
        profiles=0,
        events=0,
        dirty_rows={kind: n for kind, n in dirty.items() if n},
        files=writer.files,
        seconds=seconds,
    )


def _still_active(state: Customers, days: int, count: int) -> Customers:
    return dataclasses.replace(state, churn=np.where(state.churn >= days, days + count, state.churn))
