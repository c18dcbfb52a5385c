"""The customer population and its behaviour: who joins and churns when, how often and how much they buy,
and how many orders and events each customer has in every month of the window."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tierflow.generate.catalogue import (
    CATEGORIES,
    CATEGORY_POPULARITY,
    CHANNEL_POPULARITY,
    CHANNELS,
    CITIES,
    CURRENCY_SHARES,
    N_STORES,
)
from tierflow.generate.dates import Month

# Calibrated so that, over 730 days and whatever the end date, about 50% / 31% / 13% / 6.5% of the
# customers with any order land below 1,000 / 1,000-5,000 / 5,000-10,000 / at least 10,000 CNY of net spend
# in the last 365 days (37% / 39% / 16% / 8% of those who ordered in that year): the tier thresholds of the
# default policy. Change these together (and ORDER_SIGMA in orders.py) and re-check the shares.
_P_PROSPECT = 0.03  # profile, never ordered
# Half of the customer base joined within the last two years; a short window mostly shows existing
# customers, a long one mostly customers who joined during it.
_JOIN_HALF_LIFE_DAYS = 730.0
# Two segments: regulars buy on a steady cadence and stay; casual buyers come now and then and drift off.
# A single heavy-tailed population would put too many customers in the top tier and too few in Gold.
_P_REGULAR = 0.42
_REGULAR_RATE_MEAN = 0.09  # orders per ordinary day
_REGULAR_RATE_SHAPE = 4.0  # gamma shape: large => similar cadence across regulars
_REGULAR_LIFETIME_DAYS = 2500.0  # mean of the exponential time to churn
_CASUAL_RATE_MEAN = 0.018
_CASUAL_RATE_SHAPE = 0.8
_CASUAL_LIFETIME_DAYS = 1000.0
_VALUE_MEDIAN_CNY = 175.0
_VALUE_SIGMA = 0.3  # customer-to-customer spread of basket value

_EVENTS_PER_ACTIVE_MONTH = 1.5
_EVENTS_PER_ORDER = 0.6
# Counts are stored as uint16 per customer and month.
_MAX_PER_MONTH = 60_000


@dataclass(frozen=True)
class Customers:
    """Per-customer state, one array element per customer, indexed by customer number - 1."""

    join: np.ndarray  # window day of the first possible order (0 for customers from before the window)
    churn: np.ndarray  # window day after the last possible order; == join for prospects
    new: np.ndarray  # joined inside the window: their first order falls on the sign-up day
    signup_day: np.ndarray  # window day index of sign-up (negative: before the window)
    rate: np.ndarray  # orders per day on an ordinary day
    value: np.ndarray  # median basket value in CNY
    engagement: np.ndarray  # app/web events per active month
    favourite: np.ndarray  # category index
    channel: np.ndarray  # preferred channel index
    home_store: np.ndarray
    city: np.ndarray
    currency: np.ndarray  # index into the currency list of the run


def draw_customers(rng: np.random.Generator, n: int, days: int) -> Customers:
    prospect = rng.random(n) < _P_PROSPECT
    pre = (rng.random(n) < 0.5 ** (days / _JOIN_HALF_LIFE_DAYS)) & ~prospect
    new = ~pre & ~prospect
    join = np.where(pre, 0, rng.integers(0, days, n)).astype(np.int64)
    regular = rng.random(n) < _P_REGULAR
    mean_life = np.where(regular, _REGULAR_LIFETIME_DAYS, _CASUAL_LIFETIME_DAYS)
    lifetime = np.ceil(rng.exponential(1.0, n) * mean_life).astype(np.int64) + 1
    churn = np.minimum(join + lifetime, days)
    churn = np.where(prospect, join, churn)
    # Regulars signed up up to four years before the window; new customers on the day of their first
    # order or a few days before it.
    head_start = np.where(rng.random(n) < 0.7, 0, rng.geometric(0.15, n))
    signup_day = np.where(pre, -rng.integers(1, 4 * 365, n), join - head_start)
    signup_day = np.where(prospect, rng.integers(-4 * 365, days, n), signup_day)

    shape = np.where(regular, _REGULAR_RATE_SHAPE, _CASUAL_RATE_SHAPE)
    rate = rng.gamma(shape, 1.0, n) / shape * np.where(regular, _REGULAR_RATE_MEAN, _CASUAL_RATE_MEAN)
    city_w = np.array([c.weight for c in CITIES])
    city = rng.choice(len(CITIES), n, p=city_w / city_w.sum())
    city_factor = np.array([c.spend for c in CITIES])
    value = _VALUE_MEDIAN_CNY * np.exp(rng.normal(0.0, _VALUE_SIGMA, n)) * city_factor[city]
    engagement = rng.gamma(1.5, _EVENTS_PER_ACTIVE_MONTH / 1.5, n)
    favourite = rng.choice(len(CATEGORIES), n, p=CATEGORY_POPULARITY)
    channel = rng.choice(len(CHANNELS), n, p=CHANNEL_POPULARITY)

    stores_per_city = np.array([c.stores for c in CITIES])
    first_store = np.concatenate(([0], np.cumsum(stores_per_city)[:-1]))
    u = rng.random(n)
    local = first_store[city] + np.floor(u * stores_per_city[city]).astype(np.int64)
    # Cities without a shop: those customers shop wherever they travel.
    home_store = np.where(stores_per_city[city] > 0, local, rng.integers(0, N_STORES, n))
    currency = rng.choice(3, n, p=CURRENCY_SHARES)
    return Customers(
        join=join,
        churn=churn,
        new=new,
        signup_day=signup_day,
        rate=rate,
        value=value,
        engagement=engagement,
        favourite=favourite,
        channel=channel,
        home_store=home_store,
        city=city,
        currency=currency,
    )


def active_span(state: Customers, m: Month) -> tuple[np.ndarray, np.ndarray]:
    """Per customer, the window days [lo, hi) of `m` on which they can order (empty: lo == hi)."""
    lo = np.maximum(state.join, m.lo)
    hi = np.maximum(np.minimum(state.churn, m.hi), lo)
    return lo, hi


def first_order_here(state: Customers, m: Month) -> np.ndarray:
    """Customers whose first order, on the day they join, falls in `m`."""
    return state.new & (state.join >= m.lo) & (state.join < m.hi)


def month_rows(state: Customers, m: Month, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The customer of each of the month's rows (counts[i] rows for customer i, in customer order) and that
    customer's active span [lo, hi) in the month."""
    cust = np.repeat(np.arange(counts.size, dtype=np.int64), counts.astype(np.int64))
    lo, hi = active_span(state, m)
    return cust, lo[cust], hi[cust]


def draw_counts(
    rng: np.random.Generator, state: Customers, months: list[Month], cum_weight: np.ndarray
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Orders and events per customer for every month (uint16 arrays, one per month)."""
    orders: list[np.ndarray] = []
    for m in months:
        lo, hi = active_span(state, m)
        lam = state.rate * (cum_weight[hi] - cum_weight[lo])
        orders.append(np.minimum(rng.poisson(lam) + first_order_here(state, m), _MAX_PER_MONTH).astype(np.uint16))

    # A customer from before the window who happens to draw no order at all would look like a prospect;
    # prospects are a separate, deliberate few percent. Customers still around buy at least once a year,
    # so over a year or more each of them gets one order somewhere in their active span (placed on the
    # seasonal curve like any other order of that month); shorter windows keep a matching share idle.
    total = np.zeros(state.rate.size, dtype=np.int64)
    for oc in orders:
        total += oc
    days = months[-1].hi
    idle = np.flatnonzero((total == 0) & (state.churn > state.join) & (rng.random(total.size) * 365 < days))
    if idle.size:
        span = state.churn[idle] - state.join[idle]
        day = state.join[idle] + np.floor(rng.random(idle.size) * span).astype(np.int64)
        month_of = np.searchsorted(np.array([m.lo for m in months]), day, side="right") - 1
        for mi in range(len(months)):
            orders[mi][idle[month_of == mi]] += 1

    events: list[np.ndarray] = []
    for m, oc in zip(months, orders, strict=True):
        lo, hi = active_span(state, m)
        lam = state.engagement * (hi - lo) / 30.4 + _EVENTS_PER_ORDER * np.minimum(oc, 4)
        events.append(np.minimum(rng.poisson(lam), _MAX_PER_MONTH).astype(np.uint16))
    return orders, events
