"""The entry point: checks the arguments, draws the customers, then writes profiles and, month by month,
orders and events, all from one random stream in a fixed order."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

from tierflow.generate.catalogue import FX_UNITS_PER_USD, currency_mix
from tierflow.generate.context import Run
from tierflow.generate.customers import Customers, draw_counts, draw_customers
from tierflow.generate.dates import EPOCH, Month, window_months
from tierflow.generate.events import month_events
from tierflow.generate.orders import month_orders
from tierflow.generate.profiles import write_profiles
from tierflow.generate.schema import DIRTY_KINDS
from tierflow.generate.seasonality import season_weights
from tierflow.generate.text import prefixed_ids
from tierflow.generate.values import value_columns
from tierflow.generate.writing import FORMATS, Format, Writer, prepare_folders

MAX_DIRTY_RATE = 0.5


@dataclass(frozen=True)
class GenerateReport:
    out_dir: Path
    customers: int
    orders: int  # data rows written to orders files (incl. dirty rows)
    profiles: int
    events: int
    dirty_rows: dict[str, int]  # per dirty kind present, e.g. {"orders.negative_amount": 12, ...}
    files: list[Path]
    seconds: float


def generate_landing(
    out_dir: Path,
    *,
    customers: int,
    days: int,
    seed: int,
    end: date,
    fmt: Format = "csv",
    dirty_rate: float = 0.0,
    currency: str = "CNY",
    progress: Callable[[str], None] | None = None,
) -> GenerateReport:
    """Write a landing zone of demo orders, profiles and events for the `days` days ending on `end`.

    `currency` is the shop's home currency (most orders); a few orders come in two other convertible
    currencies, converted at the fx_rates seed so that spend stays comparable. Same arguments give
    byte-identical files.
    """
    started = time.perf_counter()
    validate(customers=customers, days=days, seed=seed, end=end, fmt=fmt, dirty_rate=dirty_rate, currency=currency)
    if isinstance(end, datetime):
        end = end.date()
    say = progress or (lambda _msg: None)
    out_dir = Path(out_dir)
    dirs = prepare_folders(out_dir)

    rng = np.random.default_rng(seed)
    start = end - timedelta(days=days - 1)
    currencies = currency_mix(currency)
    pop = draw_population(rng, customers=customers, days=days, end=end)
    state, months, order_counts, event_counts = pop.state, pop.months, pop.order_counts, pop.event_counts
    prospects = int(np.count_nonzero(state.churn <= state.join))
    say(f"customers: {customers:,} ({prospects:,} prospects) over {days} days {start} .. {end}")
    total_orders = pop.total_orders
    total_events = int(sum(int(c.sum(dtype=np.int64)) for c in event_counts))
    has_orders = np.zeros(customers, dtype=bool)
    for oc in order_counts:
        has_orders |= oc > 0

    run = make_run(rng, state, start, dirty_rate, fmt)
    order_width = order_id_width(total_orders)
    event_width = max(9, len(str(total_events)))
    next_order = next_event = 1
    order_rows = event_rows = 0
    writer = Writer(fmt)
    try:
        profile_rows = write_profiles(run, has_orders, end, dirs["profiles"], writer, say)
        for mi, m in enumerate(months):
            table, n_clean = month_orders(run, m, order_counts[mi], pop.cum_weight, next_order, order_width, currencies)
            next_order += n_clean
            order_rows += table.num_rows
            writer.write(table, dirs["orders"] / f"orders_{m.label}")
            say(f"orders {m.label}: {table.num_rows:,} rows")

            table, n_clean = month_events(run, m, event_counts[mi], order_counts[mi], next_event, event_width)
            next_event += n_clean
            event_rows += table.num_rows
            writer.write(table, dirs["events"] / f"events_{m.label}")
            say(f"events {m.label}: {table.num_rows:,} rows")
    finally:
        writer.close()

    seconds = time.perf_counter() - started
    say(f"done: {order_rows:,} orders, {profile_rows:,} profiles, {event_rows:,} events in {seconds:.1f}s")
    return GenerateReport(
        out_dir=out_dir,
        customers=customers,
        orders=order_rows,
        profiles=profile_rows,
        events=event_rows,
        # Only kinds that occur, like a quarantine summary, so the two compare directly.
        dirty_rows={kind: count for kind, count in run.dirty.items() if count},
        files=writer.files,
        seconds=seconds,
    )


@dataclass(frozen=True)
class Population:
    """The customers of a landing zone and their orders and events per month, before any row is drawn."""

    state: Customers
    months: list[Month]
    cum_weight: np.ndarray  # cumulative seasonal weight, index = window day
    order_counts: list[np.ndarray]
    event_counts: list[np.ndarray]

    @property
    def total_orders(self) -> int:
        return int(sum(int(c.sum(dtype=np.int64)) for c in self.order_counts))


def draw_population(rng: np.random.Generator, *, customers: int, days: int, end: date) -> Population:
    """The first draws of a run: the customers, then their counts (so that id widths and who-has-a-profile
    are known before any file is written). Replaying them with the same seed gives the same population."""
    start = end - timedelta(days=days - 1)
    months = window_months(start, end)
    cum_weight = np.concatenate(([0.0], np.cumsum(season_weights(start, end))))
    state = draw_customers(rng, customers, days)
    order_counts, event_counts = draw_counts(rng, state, months, cum_weight)
    return Population(state, months, cum_weight, order_counts, event_counts)


def make_run(rng: np.random.Generator, state: Customers, start: date, dirty_rate: float, fmt: Format) -> Run:
    n = state.rate.size
    return Run(
        rng=rng,
        customers=state,
        epoch0=(start - EPOCH).days,
        cid=prefixed_ids("C", np.arange(1, n + 1, dtype=np.int64), max(7, len(str(n)))),
        dirty_rate=dirty_rate,
        dirty=dict.fromkeys(DIRTY_KINDS, 0),
        values=value_columns(fmt),
    )


def order_id_width(total_orders: int) -> int:
    return max(8, len(str(total_orders)))


def _is_integer(value: object) -> bool:
    # bool is an int subclass, but customers=True is a mistake, not 1.
    return not isinstance(value, bool) and isinstance(value, int | np.integer)


def validate(*, customers: int, days: int, seed: int, end: date, fmt: str, dirty_rate: float, currency: str) -> None:
    if not _is_integer(customers) or customers < 1:
        raise ValueError(f"customers must be an integer >= 1, got {customers!r}")
    if not _is_integer(days) or days < 1:
        raise ValueError(f"days must be an integer >= 1, got {days!r}")
    if not _is_integer(seed) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not isinstance(end, date):
        raise ValueError(f"end must be a date, got {end!r}")
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if (
        isinstance(dirty_rate, bool)
        or not isinstance(dirty_rate, int | float | np.floating)
        or not 0.0 <= float(dirty_rate) <= MAX_DIRTY_RATE
    ):
        raise ValueError(f"dirty_rate must be a number between 0 and {MAX_DIRTY_RATE}, got {dirty_rate!r}")
    if currency not in FX_UNITS_PER_USD:
        known = ", ".join(sorted(FX_UNITS_PER_USD))
        raise ValueError(f"currency must be one the fx_rates seed can convert ({known}), got {currency!r}")
    first = end - timedelta(days=days - 1) if days <= 365 * 200 else None
    if first is None or first.year < 1900:
        raise ValueError(f"days={days} reaches before 1900; use a shorter window")
