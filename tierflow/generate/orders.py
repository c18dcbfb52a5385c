"""One month of orders: when, what, through which channel and store, at what price, refunded or not."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tierflow.generate.catalogue import (
    CATEGORIES,
    CATEGORY_POPULARITY,
    CATEGORY_PRICE,
    CHANNEL_POPULARITY,
    CHANNELS,
    FX_UNITS_PER_USD,
    MINI_PROGRAM_CHANNEL,
    N_STORES,
    STORE_CHANNEL,
)
from tierflow.generate.context import Run
from tierflow.generate.customers import first_order_here, month_rows
from tierflow.generate.dates import Month, civil
from tierflow.generate.dirty import dirty_orders
from tierflow.generate.sampling import choose, sampler_table, time_order, uniform_codes, wall_clock
from tierflow.generate.seasonality import HOURS_ONLINE, HOURS_STORE
from tierflow.generate.text import fixed, null_where, pick, prefixed_ids, sequential_ids

_ORDER_SIGMA = 0.6  # order-to-order spread of basket value for one customer (calibrated with customers.py)
_P_FAVOURITE_CATEGORY = 0.6
_P_PREFERRED_CHANNEL = 0.7
_P_HOME_STORE = 0.85

# Share of orders whose timestamp carries an explicit +08:00 offset, and of those written in UTC ("Z").
_P_TS_OFFSET = 0.05
_P_TS_UTC = 0.02

_STATUSES: tuple[str, ...] = ("completed", "cancelled", "refunded")


def month_orders(
    run: Run,
    m: Month,
    counts: np.ndarray,
    cum_weight: np.ndarray,
    first_id: int,
    id_width: int,
    currency_names: list[str],
) -> tuple[pa.Table, int]:
    """The orders file of month `m` (ids from `first_id` on) and how many clean orders it holds."""
    rng, state, epoch0 = run.rng, run.customers, run.epoch0
    c64 = counts.astype(np.int64)
    cust, lo_o, hi_o = month_rows(state, m, counts)
    n = cust.size

    # Day: inverse CDF of the seasonal weight over each customer's active days this month.
    base = cum_weight[lo_o]
    target = base + rng.random(n) * (cum_weight[hi_o] - base)
    day = np.clip(np.searchsorted(cum_weight, target, side="right") - 1, lo_o, np.maximum(hi_o - 1, lo_o))
    firsts = first_order_here(state, m)
    starts = np.cumsum(c64) - c64
    first_rows = starts[firsts]
    day[first_rows] = state.join[firsts]

    pref = state.channel[cust]
    channel = np.where(rng.random(n) < _P_PREFERRED_CHANNEL, pref, choose(rng, CHANNEL_POPULARITY, n))
    in_store = channel == STORE_CHANNEL
    u = uniform_codes(rng, n)
    hour = np.where(in_store, sampler_table(tuple(HOURS_STORE))[u], sampler_table(tuple(HOURS_ONLINE))[u])
    if m.month == 11:
        # Singles' Day opens at midnight and a good part of the day's online orders land in that hour.
        _, _, dom = civil(epoch0 + day)
        rush = (dom == 11) & ~in_store & (rng.random(n) < 0.25)
        hour = np.where(rush, 0, hour)
    local = wall_clock(rng, epoch0 + day, hour)

    # Extracts list orders in time order and ids were handed out in that order.
    order = time_order(local)
    local, cust, channel, in_store = local[order], cust[order], channel[order], in_store[order]

    category = np.where(
        rng.random(n) < _P_FAVOURITE_CATEGORY, state.favourite[cust], choose(rng, CATEGORY_POPULARITY, n)
    )
    cny = state.value[cust] * np.exp(rng.normal(0.0, _ORDER_SIGMA, n)) * CATEGORY_PRICE[category]
    cents = _price_points(rng, cny)
    cur = state.currency[cust]
    fx = np.array([FX_UNITS_PER_USD[c] for c in currency_names]) / FX_UNITS_PER_USD["CNY"]
    cents = np.where(cur == 0, cents, np.maximum(np.rint(cents * fx[cur]), 1)).astype(np.int64)

    r = rng.random(n)
    status = np.where(r < 0.03, 1, np.where(r < 0.05, 2, 0))  # completed, cancelled, refunded
    partial = (status == 0) & (rng.random(n) < 0.04)
    refund = np.where(status == 2, cents, 0)
    part = np.floor(cents * rng.uniform(0.1, 0.9, n)).astype(np.int64)
    refund = np.where(partial, np.clip(part, 1, cents - 1), refund)

    store = np.where(rng.random(n) < _P_HOME_STORE, state.home_store[cust], rng.integers(0, N_STORES, n))
    style = choose(rng, np.array([1 - _P_TS_OFFSET - _P_TS_UTC, _P_TS_OFFSET, _P_TS_UTC]), n)

    values = run.values
    cols: dict[str, pa.Array] = {
        "order_id": sequential_ids("O", first_id, n, id_width),
        "customer_id": fixed(run.cid[cust]),
        "order_ts": values.timestamps(local, style),
        "amount": values.money(cents),
        "currency": pick(currency_names, cur),
        "status": pick(_STATUSES, status),
        # The POS export leaves "no refund" empty while the online shop writes 0: both reach the lake.
        "refunded_amount": null_where(
            pc.if_else(pa.array(refund > 0), values.money(refund), values.zero),
            (refund == 0) & (in_store | (channel == MINI_PROGRAM_CHANNEL)),
        ),
        "category": pick(CATEGORIES, category),
        "channel": pick(CHANNELS, channel),
        "store_id": null_where(fixed(prefixed_ids("S", store + 1, 3)), ~in_store),
    }
    resent = dirty_orders(run, cols, local, cents)
    table = pa.table(cols)
    if resent is not None and resent.num_rows:
        table = pa.concat_tables([table, resent])
    return table, n


def _price_points(rng: np.random.Generator, cny: np.ndarray) -> np.ndarray:
    """Cents, with the usual retail endings (.00, .99, .90) on most prices."""
    exact = np.maximum(np.rint(cny * 100), 100).astype(np.int64)
    whole = np.maximum(np.rint(cny), 1).astype(np.int64) * 100
    r = rng.random(cny.size)
    return np.where(r < 0.35, whole, np.where(r < 0.6, whole - 1, np.where(r < 0.7, whole - 10, exact)))
