"""Deterministic generator of a realistic demo landing zone (orders, profiles, events).

The files are what an upstream extract would drop for the ingest step: text columns only, a few time-zone
spellings, a sprinkling of realistic defects when asked for, and a spend distribution that makes every
membership tier appear. Everything is vectorised with numpy and pyarrow so that a million customers over
two years (about twenty million orders) fits in well under a minute; the same arguments always produce
byte-identical files.

Layout written under ``out_dir``::

    orders/orders_YYYY-MM.{csv,parquet}      one file per calendar month of the window (local time)
    profiles/profiles.{csv,parquet}          or profiles_0001, profiles_0002, ... above 2,000,000 rows
    events/events_YYYY-MM.{csv,parquet}

Every column is text. A missing value is an empty field in CSV and a null in Parquet, so that readers
which treat an empty CSV field as NULL (DuckDB, pandas) see the same thing in both formats. CSV quotes only
values that need it (RFC 4180).

With ``dirty_rate`` R, about R of the rows of every file are bad, spread evenly over the kinds in
DIRTY_KINDS: amounts that do not parse or are negative, an order id re-sent later with another amount,
timestamps in 2099 or unparseable, unknown currencies, missing customer ids, refunds above the amount or
negative, unknown statuses; profiles without customer id or with an impossible sign-up date; events without
customer id or with an unparseable timestamp. Only the duplicates add rows; the others replace clean rows.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

__all__ = [
    "DIRTY_KINDS",
    "EVENTS_COLUMNS",
    "ORDERS_COLUMNS",
    "PROFILES_COLUMNS",
    "GenerateReport",
    "generate_landing",
]

ORDERS_COLUMNS: tuple[str, ...] = (
    "order_id",
    "customer_id",
    "order_ts",
    "amount",
    "currency",
    "status",
    "refunded_amount",
    "category",
    "channel",
    "store_id",
)
PROFILES_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "signup_date",
    "birth_date",
    "gender",
    "region",
    "city",
    "occupation",
    "interests",
    "email",
    "phone",
    "marketing_opt_in",
)
EVENTS_COLUMNS: tuple[str, ...] = ("event_id", "customer_id", "event_ts", "event_type")

ORDER_DIRTY_KINDS: tuple[str, ...] = (
    "orders.unparseable_amount",
    "orders.negative_amount",
    "orders.duplicate_order_conflict",
    "orders.future_timestamp",
    "orders.unparseable_timestamp",
    "orders.unknown_currency",
    "orders.missing_customer_id",
    "orders.bad_refund",
    "orders.bad_status",
)
PROFILE_DIRTY_KINDS: tuple[str, ...] = ("profiles.missing_customer_id", "profiles.unparseable_date")
EVENT_DIRTY_KINDS: tuple[str, ...] = ("events.missing_customer_id", "events.unparseable_timestamp")
DIRTY_KINDS: tuple[str, ...] = ORDER_DIRTY_KINDS + PROFILE_DIRTY_KINDS + EVENT_DIRTY_KINDS

# Units per USD, as in the fx_rates seed; only these currencies can be converted downstream.
FX_UNITS_PER_USD: dict[str, float] = {
    "USD": 1.0,
    "CNY": 7.2,
    "HKD": 7.8,
    "EUR": 0.92,
    "GBP": 0.79,
    "JPY": 150.0,
    "SGD": 1.35,
}
MAX_DIRTY_RATE = 0.5
PROFILES_PER_FILE = 2_000_000

# Home currency, then two foreign ones (cross-border shoppers pay in their own currency).
_CURRENCY_SHARES = np.array([0.96, 0.025, 0.015])

# Asia/Shanghai has had no daylight saving since 1991, so a fixed offset converts local wall time exactly.
_POLICY_UTC_OFFSET_S = 8 * 3600
_DAY_S = 86_400
_EPOCH = date(1970, 1, 1)

# Share of orders whose timestamp carries an explicit +08:00 offset, and of those written in UTC ("Z").
_P_TS_OFFSET = 0.05
_P_TS_UTC = 0.02

# --- customers -------------------------------------------------------------------------------------------
# Calibrated so that, over 730 days and whatever the end date, about 50% / 31% / 13% / 6.5% of the
# customers with any order land below 1,000 / 1,000-5,000 / 5,000-10,000 / at least 10,000 CNY of net spend
# in the last 365 days (37% / 39% / 16% / 8% of those who ordered in that year): the tier thresholds of the
# default policy. Change these together and re-check the shares.
_P_PROSPECT = 0.03  # profile, never ordered
# Half of the customer base joined within the last two years; a short window mostly shows existing
# customers, a long one mostly customers who joined during it.
_JOIN_HALF_LIFE_DAYS = 730.0
_P_NO_PROFILE = 0.01  # ordering customers whose profile never reached the CRM extract
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
_ORDER_SIGMA = 0.6  # order-to-order spread for one customer
_P_FAVOURITE_CATEGORY = 0.6
_P_PREFERRED_CHANNEL = 0.7
_P_HOME_STORE = 0.85

CATEGORIES: tuple[str, ...] = (
    "apparel",
    "beauty",
    "electronics",
    "groceries",
    "home",
    "sports",
    "toys",
    "books",
)
_CATEGORY_POPULARITY = np.array([0.22, 0.14, 0.10, 0.18, 0.12, 0.10, 0.06, 0.08])
_CATEGORY_PRICE = np.array([1.0, 0.9, 2.6, 0.45, 1.3, 1.1, 0.8, 0.35])

CHANNELS: tuple[str, ...] = ("store", "web", "app", "mini_program")
_CHANNEL_POPULARITY = np.array([0.30, 0.20, 0.33, 0.17])
_N_STORES = 40

# (city, region, population weight, stores, spend factor): tier-1 cities spend a little more per basket.
_CITIES: tuple[tuple[str, str, float, int, float], ...] = (
    ("Shanghai", "East China", 12.0, 5, 1.25),
    ("Hangzhou", "East China", 6.0, 3, 1.1),
    ("Nanjing", "East China", 4.0, 2, 1.0),
    ("Suzhou", "East China", 4.0, 2, 1.05),
    ("Xiamen", "East China", 2.0, 0, 1.0),
    ("Beijing", "North China", 11.0, 5, 1.25),
    ("Tianjin", "North China", 4.0, 2, 0.95),
    ("Shijiazhuang", "North China", 2.0, 1, 0.85),
    ("Guangzhou", "South China", 8.0, 4, 1.1),
    ("Shenzhen", "South China", 8.0, 4, 1.2),
    ("Nanning", "South China", 2.0, 1, 0.85),
    ("Wuhan", "Central China", 5.0, 2, 0.95),
    ("Changsha", "Central China", 3.0, 1, 0.9),
    ("Zhengzhou", "Central China", 3.0, 1, 0.85),
    ("Chengdu", "Southwest", 6.0, 2, 1.0),
    ("Chongqing", "Southwest", 5.0, 2, 0.9),
    ("Kunming", "Southwest", 2.0, 1, 0.85),
    ("Xi'an", "Northwest", 3.0, 1, 0.9),
    ("Lanzhou", "Northwest", 1.0, 0, 0.8),
    ("Urumqi", "Northwest", 1.0, 0, 0.8),
    ("Shenyang", "Northeast", 3.0, 1, 0.85),
    ("Harbin", "Northeast", 2.0, 0, 0.8),
    ("Dalian", "Northeast", 2.0, 0, 0.9),
)

# Spellings as they arrive from the CRM's free-text field; a mapping seed normalises them downstream.
_OCCUPATIONS: tuple[tuple[str | None, float], ...] = (
    ("Software Engineer", 6.0),
    ("software engineer ", 2.0),
    ("Software engineer", 1.0),
    ("Engineer", 4.0),
    ("engineer", 1.0),
    ("Teacher", 6.0),
    ("teacher", 2.0),
    ("Nurse", 3.0),
    ("Doctor", 2.0),
    ("doctor", 0.5),
    ("Student", 8.0),
    ("student", 3.0),
    ("Student ", 1.0),
    ("Retired", 5.0),
    ("retired", 1.0),
    ("Sales", 5.0),
    ("sales", 1.0),
    ("Civil servant", 4.0),
    ("civil servant", 1.0),
    ("Self-employed", 4.0),
    ("self employed", 1.0),
    ("Designer", 3.0),
    ("Accountant", 3.0),
    ("Manager", 4.0),
    ("Homemaker", 2.0),
    (None, 12.0),
)
_INTERESTS: tuple[str, ...] = (
    "running",
    "cooking",
    "travel",
    "photography",
    "reading",
    "gaming",
    "fitness",
    "music",
    "fashion",
    "skincare",
    "gardening",
    "tech",
)
_INTEREST_BASE_P = np.array([0.18, 0.22, 0.30, 0.12, 0.15, 0.14, 0.16, 0.20, 0.14, 0.12, 0.06, 0.12])
# The interest that goes with each favourite category (same order as CATEGORIES).
_CATEGORY_INTEREST = np.array([8, 9, 11, 1, 10, 0, 5, 4])
_PHONE_PREFIXES = np.array(
    [
        130,
        131,
        132,
        133,
        135,
        136,
        137,
        138,
        139,
        150,
        151,
        152,
        155,
        156,
        158,
        159,
        176,
        177,
        180,
        181,
        182,
        186,
        187,
        188,
        189,
    ]
)
_EMAIL_DOMAINS: tuple[str, ...] = ("example.com", "example.cn", "example.net", "example.org")

EVENT_TYPES: tuple[str, ...] = ("sign_in", "referral", "review", "activity", "share")
_EVENT_BROWSE_P = np.array([0.62, 0.04, 0.0, 0.24, 0.10])
_EVENT_AFTER_ORDER_P = np.array([0.35, 0.03, 0.45, 0.10, 0.07])
_EVENTS_PER_ACTIVE_MONTH = 1.5
_EVENTS_PER_ORDER = 0.6

# Orders by local hour: quiet at night, a lunch peak and a larger evening peak online.
_HOURS_ONLINE = np.array(
    [
        1.4,
        0.7,
        0.35,
        0.2,
        0.15,
        0.2,
        0.5,
        1.2,
        2.0,
        3.0,
        4.0,
        5.0,
        6.0,
        5.2,
        4.2,
        3.8,
        4.0,
        4.5,
        5.0,
        6.2,
        7.2,
        6.8,
        4.8,
        2.6,
    ]
)
# Shops open 10:00-22:00.
_HOURS_STORE = np.array(
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3.0, 4.5, 6.0, 5.5, 4.5, 4.5, 5.0, 5.5, 6.5, 7.0, 6.5, 4.0, 0, 0]
)
_DOW_FACTOR = np.array([0.92, 0.9, 0.94, 0.96, 1.05, 1.2, 1.15])  # Monday first

# Chinese New Year's Day (first day of the lunar year).
_CNY_DATES: dict[int, date] = {
    2015: date(2015, 2, 19),
    2016: date(2016, 2, 8),
    2017: date(2017, 1, 28),
    2018: date(2018, 2, 16),
    2019: date(2019, 2, 5),
    2020: date(2020, 1, 25),
    2021: date(2021, 2, 12),
    2022: date(2022, 2, 1),
    2023: date(2023, 1, 22),
    2024: date(2024, 2, 10),
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
    2028: date(2028, 1, 26),
    2029: date(2029, 2, 13),
    2030: date(2030, 2, 3),
    2031: date(2031, 1, 23),
    2032: date(2032, 2, 11),
    2033: date(2033, 1, 31),
    2034: date(2034, 2, 19),
    2035: date(2035, 2, 8),
}

_BAD_AMOUNTS: tuple[str, ...] = ("12.3.4", "abc", "N/A", "1,234.56", "¥88.00", "--")
_BAD_TIMESTAMPS: tuple[str, ...] = (
    "2024-13-45 25:00:00",
    "yesterday",
    "0000-00-00 00:00:00",
    "2025-02-30 10:15:00",
    "not a date",
)
_BAD_CURRENCIES: tuple[str, ...] = ("XYZ", "ZZZ", "XXX")
_BAD_STATUSES: tuple[str, ...] = ("shipped?", "unknown", "pending", "SHIPPED")
_BAD_DATES: tuple[str, ...] = ("2024-02-30", "2023-02-29", "2025-04-31", "2024-00-10")
_FUTURE_YEAR = 2099

_OUTPUT_FILE = re.compile(r"^(orders_\d{4}-\d{2}|events_\d{4}-\d{2}|profiles(_\d{4})?)\.(csv|parquet)$")


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


@dataclass(frozen=True)
class _Month:
    year: int
    month: int
    lo: int  # first window day index of the month (inclusive)
    hi: int  # window day index after the month's last day (exclusive)

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True)
class _Customers:
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


# --- public entry point ----------------------------------------------------------------------------------


def generate_landing(
    out_dir: Path,
    *,
    customers: int,
    days: int,
    seed: int,
    end: date,
    fmt: Literal["csv", "parquet"] = "csv",
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
    _validate(customers=customers, days=days, seed=seed, end=end, fmt=fmt, dirty_rate=dirty_rate, currency=currency)
    if isinstance(end, datetime):
        end = end.date()
    say = progress or (lambda _msg: None)
    out_dir = Path(out_dir)
    dirs = {name: out_dir / name for name in ("orders", "profiles", "events")}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
        _remove_earlier_output(d)

    rng = np.random.default_rng(seed)
    start = end - timedelta(days=days - 1)
    epoch0 = (start - _EPOCH).days
    months = _months(start, end)
    currencies = _currency_mix(currency)
    cum_weight = np.concatenate(([0.0], np.cumsum(_season_weights(start, end))))

    state = _draw_customers(rng, customers, days)
    prospects = int(np.count_nonzero(state.churn <= state.join))
    say(f"customers: {customers:,} ({prospects:,} prospects) over {days} days {start} .. {end}")

    # Counts first, so that id widths and who-has-a-profile are known before any file is written.
    order_counts, event_counts = _draw_counts(rng, state, months, cum_weight)
    total_orders = int(sum(int(c.sum(dtype=np.int64)) for c in order_counts))
    total_events = int(sum(int(c.sum(dtype=np.int64)) for c in event_counts))
    has_orders = np.zeros(customers, dtype=bool)
    for oc in order_counts:
        has_orders |= oc > 0

    dirty = dict.fromkeys(DIRTY_KINDS, 0)
    cid_width = max(7, len(str(customers)))
    cid = _prefixed_ids("C", np.arange(1, customers + 1, dtype=np.int64), cid_width)
    order_width = max(8, len(str(total_orders)))
    event_width = max(9, len(str(total_events)))
    next_order = next_event = 1
    order_rows = event_rows = 0
    writer = _Writer(fmt)
    try:
        profile_rows = _write_profiles(
            rng, state, has_orders, cid, epoch0, end, dirty_rate, dirty, dirs["profiles"], writer, say
        )
        for mi, m in enumerate(months):
            table, n_clean = _month_orders(
                rng,
                state,
                m,
                order_counts[mi],
                cum_weight,
                epoch0,
                cid,
                next_order,
                order_width,
                currencies,
                dirty_rate,
                dirty,
            )
            next_order += n_clean
            order_rows += table.num_rows
            writer.write(table, dirs["orders"] / f"orders_{m.label}")
            say(f"orders {m.label}: {table.num_rows:,} rows")

            table, n_clean = _month_events(
                rng,
                state,
                m,
                event_counts[mi],
                order_counts[mi],
                epoch0,
                cid,
                next_event,
                event_width,
                dirty_rate,
                dirty,
            )
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
        dirty_rows={kind: count for kind, count in dirty.items() if count},
        files=writer.files,
        seconds=seconds,
    )


def _validate(*, customers: int, days: int, seed: int, end: date, fmt: str, dirty_rate: float, currency: str) -> None:
    if isinstance(customers, bool) or not isinstance(customers, int | np.integer) or customers < 1:
        raise ValueError(f"customers must be an integer >= 1, got {customers!r}")
    if isinstance(days, bool) or not isinstance(days, int | np.integer) or days < 1:
        raise ValueError(f"days must be an integer >= 1, got {days!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not isinstance(end, date):
        raise ValueError(f"end must be a date, got {end!r}")
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"format must be 'csv' or 'parquet', got {fmt!r}")
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


def _remove_earlier_output(folder: Path) -> None:
    # Both formats go: a stale Parquet file next to fresh CSV files would be ingested as well.
    for path in folder.iterdir():
        if path.is_file() and _OUTPUT_FILE.match(path.name):
            path.unlink()


# --- calendar ----------------------------------------------------------------------------------------------


def _months(start: date, end: date) -> list[_Month]:
    out: list[_Month] = []
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        first = date(y, m, 1)
        nxt = date(y + (m == 12), m % 12 + 1, 1)
        lo = max((first - start).days, 0)
        hi = min((nxt - start).days, (end - start).days + 1)
        out.append(_Month(y, m, lo, hi))
        y, m = nxt.year, nxt.month
    return out


def _season_weights(start: date, end: date) -> np.ndarray:
    """Relative order volume per window day, normalised to a mean of 1 over the year ending at `end`."""
    ref_start = end - timedelta(days=364)
    lo = min(start, ref_start)
    w = _raw_season(lo, end)
    ref = w[(ref_start - lo).days :]
    return w[(start - lo).days :] / ref.mean()


def _raw_season(start: date, end: date) -> np.ndarray:
    days = np.arange((start - _EPOCH).days, (end - _EPOCH).days + 1, dtype=np.int64)
    _, mo, dd = _civil(days)
    w = _DOW_FACTOR[(days + 3) % 7].copy()  # 1970-01-01 was a Thursday

    promo = np.ones(days.size)

    def boost(mask: np.ndarray, factor: float) -> None:
        np.maximum(promo, np.where(mask, factor, 1.0), out=promo)

    # Singles' Day: pre-sales from 11-01, the day itself several times a normal day, a tail on 11-12.
    boost((mo == 11) & (dd >= 1) & (dd <= 10), 1.6)
    boost((mo == 11) & (dd == 11), 7.0)
    boost((mo == 11) & (dd == 12), 1.8)
    # 618 (JD's mid-year festival) with its run-up.
    boost((mo == 6) & (dd >= 1) & (dd <= 17), 1.35)
    boost((mo == 6) & (dd == 18), 4.5)
    boost((mo == 12) & (dd == 12), 3.0)
    boost((mo == 5) & (dd == 20), 1.5)  # "520", a popular gifting day
    boost((mo == 2) & (dd == 14), 1.4)
    boost((mo == 12) & (dd >= 20) & (dd <= 24), 1.3)
    for year in range(start.year, end.year + 1):
        nov1 = date(year, 11, 1)
        black_friday = nov1 + timedelta(days=(4 - nov1.weekday()) % 7 + 21)
        bf = (black_friday - _EPOCH).days
        boost(days == bf, 2.8)
        boost(days == bf + 3, 1.8)  # Cyber Monday
        cny = (_CNY_DATES.get(year, date(year, 2, 5)) - _EPOCH).days
        # Stocking up before the Spring Festival, then a lull while shops and couriers rest.
        boost((days >= cny - 21) & (days < cny - 7), 1.6)
        boost((days >= cny - 7) & (days < cny - 1), 2.2)
    for year in range(start.year, end.year + 1):
        cny = (_CNY_DATES.get(year, date(year, 2, 5)) - _EPOCH).days
        promo = np.where((days >= cny - 1) & (days <= cny + 5), 0.55, promo)
    return w * promo


def _civil(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month, day) of days since 1970-01-01."""
    if days.size > 4096:
        # Many rows, few distinct days: convert the range once and look the rows up.
        first = int(days.min())
        span = int(days.max()) - first + 1
        if span * 4 < days.size:
            y, mo, d = _civil(np.arange(first, first + span, dtype=np.int64))
            at = days - first
            return y[at], mo[at], d[at]
    d = days.astype("datetime64[D]")
    months = d.astype("datetime64[M]")
    year = d.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (d - months.astype("datetime64[D]")).astype(np.int64) + 1
    return year, month, day


def _currency_mix(home: str) -> list[str]:
    """The run's currencies, in the order of _CURRENCY_SHARES: the home currency and two foreign ones."""
    return [home, *[c for c in ("USD", "HKD", "CNY") if c != home][:2]]


# --- customers ---------------------------------------------------------------------------------------------


def _draw_customers(rng: np.random.Generator, n: int, days: int) -> _Customers:
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
    city_w = np.array([c[2] for c in _CITIES])
    city = rng.choice(len(_CITIES), n, p=city_w / city_w.sum())
    city_factor = np.array([c[4] for c in _CITIES])
    value = _VALUE_MEDIAN_CNY * np.exp(rng.normal(0.0, _VALUE_SIGMA, n)) * city_factor[city]
    engagement = rng.gamma(1.5, _EVENTS_PER_ACTIVE_MONTH / 1.5, n)
    favourite = rng.choice(len(CATEGORIES), n, p=_CATEGORY_POPULARITY)
    channel = rng.choice(len(CHANNELS), n, p=_CHANNEL_POPULARITY)

    stores_per_city = np.array([c[3] for c in _CITIES])
    first_store = np.concatenate(([0], np.cumsum(stores_per_city)[:-1]))
    u = rng.random(n)
    local = first_store[city] + np.floor(u * stores_per_city[city]).astype(np.int64)
    # Cities without a shop: those customers shop wherever they travel.
    home_store = np.where(stores_per_city[city] > 0, local, rng.integers(0, _N_STORES, n))
    currency = rng.choice(3, n, p=_CURRENCY_SHARES)
    return _Customers(
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


def _active_span(state: _Customers, m: _Month) -> tuple[np.ndarray, np.ndarray]:
    lo = np.maximum(state.join, m.lo)
    hi = np.maximum(np.minimum(state.churn, m.hi), lo)
    return lo, hi


def _first_order_here(state: _Customers, m: _Month) -> np.ndarray:
    return state.new & (state.join >= m.lo) & (state.join < m.hi)


def _draw_counts(
    rng: np.random.Generator, state: _Customers, months: list[_Month], cum_weight: np.ndarray
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Orders and events per customer for every month (uint16 arrays, one per month)."""
    orders: list[np.ndarray] = []
    for m in months:
        lo, hi = _active_span(state, m)
        lam = state.rate * (cum_weight[hi] - cum_weight[lo])
        orders.append(np.minimum(rng.poisson(lam) + _first_order_here(state, m), 60_000).astype(np.uint16))

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
        lo, hi = _active_span(state, m)
        lam = state.engagement * (hi - lo) / 30.4 + _EVENTS_PER_ORDER * np.minimum(oc, 4)
        events.append(np.minimum(rng.poisson(lam), 60_000).astype(np.uint16))
    return orders, events


# --- string building -------------------------------------------------------------------------------------
# Strings are assembled as fixed-width byte matrices and handed to Arrow without a per-row Python step:
# a boolean mask picks the bytes that belong to each value, row by row, which also lets numbers be
# right-aligned in the matrix and still come out without padding.


# "00".."99" as little-endian uint16 words: one table lookup writes two digits.
_PAIRS = np.array([[48 + i // 10, 48 + i % 10] for i in range(100)], dtype=np.uint8).view("<u2").ravel()


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded ASCII digits of non-negative integers as an (n, width) uint8 matrix.

    Two digits per division, in 32-bit arithmetic when the values allow: the divisions are the cost.
    """
    pairs = (width + 1) // 2
    words = np.empty((values.size, pairs), dtype="<u2")
    wide = values.size > 0 and int(values.max()) >= 2**32
    v = values.astype(np.int64 if wide else np.uint32, copy=True)
    hundred = v.dtype.type(100)
    for k in range(pairs - 1, -1, -1):
        q = v // hundred
        words[:, k] = _PAIRS[v - q * hundred]
        v = q
    out = words.view(np.uint8)
    return out[:, 1:] if width % 2 else out


def _pair(values: np.ndarray) -> np.ndarray:
    """Two ASCII digits of values 0..99 as an (n, 2) uint8 matrix."""
    return _PAIRS[values].view(np.uint8).reshape(-1, 2)


def _fixed(mat: np.ndarray) -> pa.Array:
    n, w = mat.shape
    offsets = np.arange(0, (n + 1) * w, w, dtype=np.int64)
    return _string_array(n, offsets, np.ascontiguousarray(mat).reshape(-1))


def _ragged(mat: np.ndarray, mask: np.ndarray) -> pa.Array:
    offsets = np.zeros(mat.shape[0] + 1, dtype=np.int64)
    np.cumsum(mask.sum(axis=1), out=offsets[1:])
    return _string_array(mat.shape[0], offsets, mat[mask])


def _string_array(n: int, offsets: np.ndarray, data: np.ndarray) -> pa.Array:
    # One column of one month would need ~80 million orders to pass Arrow's 2 GiB string limit.
    if offsets[-1] >= 2**31:
        raise ValueError("a single month holds more than 2 GiB of text in one column; use fewer customers")
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data)])


def _prefixed_ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    mat = np.empty((numbers.size, len(prefix) + width), dtype=np.uint8)
    mat[:, : len(prefix)] = np.frombuffer(prefix.encode(), dtype=np.uint8)
    mat[:, len(prefix) :] = _digits(numbers, width)
    return mat


_POW10 = 10 ** np.arange(1, 19, dtype=np.int64)


def _money(cents: np.ndarray) -> pa.Array:
    """Decimal text with two places, e.g. 1234.50 or -35.00."""
    cents = np.asarray(cents, dtype=np.int64)
    units, frac = np.divmod(np.abs(cents), 100)
    width = len(str(int(units.max()))) if units.size else 1
    ndig = 1 + np.searchsorted(_POW10, units, side="right")
    mat = np.empty((cents.size, width + 4), dtype=np.uint8)
    mat[:, 0] = ord("-")
    mat[:, 1 : width + 1] = _digits(units, width)
    mat[:, width + 1] = ord(".")
    mat[:, width + 2 :] = _digits(frac, 2)
    mask = np.ones(mat.shape, dtype=bool)
    mask[:, 0] = cents < 0
    mask[:, 1 : width + 1] = np.arange(width)[None, :] >= (width - ndig)[:, None]
    return _ragged(mat, mask)


def _ts_matrix(secs: np.ndarray, year: np.ndarray | None = None) -> np.ndarray:
    """`YYYY-MM-DD HH:MM:SS` bytes for wall-clock seconds since 1970; `year` overrides the year."""
    days, sod = np.divmod(secs, _DAY_S)
    y, mo, d = _civil(days)
    if year is not None:
        y = year
        d = np.where((mo == 2) & (d == 29), 28, d)  # 29 Feb does not exist in most overriding years
    hh, rest = np.divmod(sod.astype(np.int32), 3600)
    mm, ss = np.divmod(rest, 60)
    mat = np.empty((secs.size, 19), dtype=np.uint8)
    mat[:, 0:4] = _digits(y, 4)
    mat[:, [4, 7]] = ord("-")
    mat[:, 10] = ord(" ")
    mat[:, [13, 16]] = ord(":")
    for pos, part in ((5, mo), (8, d), (11, hh), (14, mm), (17, ss)):
        mat[:, pos : pos + 2] = _pair(part)
    return mat


def _date_matrix(days: np.ndarray) -> np.ndarray:
    y, mo, d = _civil(days)
    mat = np.empty((days.size, 10), dtype=np.uint8)
    mat[:, [4, 7]] = ord("-")
    mat[:, 0:4] = _digits(y, 4)
    mat[:, 5:7] = _pair(mo)
    mat[:, 8:10] = _pair(d)
    return mat


def _order_timestamps(local: np.ndarray, style: np.ndarray) -> pa.Array:
    """style 0: local wall time, 1: local with +08:00, 2: the same instant in UTC with Z."""
    mat = np.zeros((local.size, 25), dtype=np.uint8)
    mat[:, :19] = _ts_matrix(local)
    off = style == 1
    utc = style == 2
    mat[off, 10] = ord("T")
    mat[off, 19:25] = np.frombuffer(b"+08:00", dtype=np.uint8)
    if utc.any():
        mat[utc, :19] = _ts_matrix(local[utc] - _POLICY_UTC_OFFSET_S)
        mat[utc, 10] = ord("T")
        mat[utc, 19] = ord("Z")
    lengths = np.where(off, 25, np.where(utc, 20, 19))
    return _ragged(mat, np.arange(25)[None, :] < lengths[:, None])


def _pick(choices: Sequence[str | None], idx: np.ndarray) -> pa.Array:
    return pa.array(list(choices), type=pa.string()).take(pa.array(idx))


def _null_where(arr: pa.Array, mask: np.ndarray) -> pa.Array:
    if not mask.any():
        return arr
    return pc.if_else(pa.array(mask), pa.scalar(None, pa.string()), arr)


def _replace(arr: pa.Array, idx: np.ndarray, values: pa.Array | None) -> pa.Array:
    """`arr` with rows `idx` (ascending) replaced by `values` in order, or by nulls."""
    if idx.size == 0:
        return arr
    mask = np.zeros(len(arr), dtype=bool)
    mask[idx] = True
    if values is None:
        return _null_where(arr, mask)
    return pc.replace_with_mask(arr, pa.array(mask), values)


_SAMPLER_BITS = 16


@functools.lru_cache(maxsize=64)
def _sampler_table(weights: tuple[float, ...]) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    grid = (np.arange(1 << _SAMPLER_BITS) + 0.5) / (1 << _SAMPLER_BITS)
    table = np.searchsorted(np.cumsum(w) / w.sum(), grid, side="right")
    return np.minimum(table, w.size - 1).astype(np.int64)


def _choose(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    """Draw n category indices; a 65,536-entry inverse-CDF table is several times faster than searchsorted
    and 1/65,536 is far finer than any share this generator needs."""
    table = _sampler_table(tuple(float(x) for x in weights))
    return table[rng.integers(0, 1 << _SAMPLER_BITS, n, dtype=np.uint16)]


def _time_order(local: np.ndarray) -> np.ndarray:
    """Stable permutation sorting `local`: sorting one packed int64 beats argsort by about 2x."""
    if local.size == 0:
        return np.empty(0, dtype=np.int64)
    key = (local - local.min()) << 32 | np.arange(local.size, dtype=np.int64)
    key.sort()
    return key & 0xFFFFFFFF


# --- dirty rows --------------------------------------------------------------------------------------------


def _dirty_plan(
    rng: np.random.Generator, n_rows: int, rate: float, kinds: Sequence[str], dirty: dict[str, int]
) -> dict[str, np.ndarray]:
    """Distinct row indices (ascending) per kind; every kind gets its fair share of about rate * n_rows."""
    if rate <= 0 or n_rows == 0:
        return {k: np.empty(0, dtype=np.int64) for k in kinds}
    k_total = min(int(rng.binomial(n_rows, rate)), n_rows)
    rows = rng.choice(n_rows, k_total, replace=False) if k_total else np.empty(0, dtype=np.int64)
    # Cycle through the kinds from a running counter so even small files show every kind once there are
    # enough bad rows in the whole landing zone.
    offset = sum(dirty[k] for k in kinds)
    kind_of = (offset + np.arange(k_total)) % len(kinds)
    plan = {}
    for i, k in enumerate(kinds):
        plan[k] = np.sort(rows[kind_of == i]).astype(np.int64)
        dirty[k] += int(plan[k].size)
    return plan


# --- orders ------------------------------------------------------------------------------------------------


def _month_orders(
    rng: np.random.Generator,
    state: _Customers,
    m: _Month,
    counts: np.ndarray,
    cum_weight: np.ndarray,
    epoch0: int,
    cid: np.ndarray,
    first_id: int,
    id_width: int,
    currency_names: list[str],
    dirty_rate: float,
    dirty: dict[str, int],
) -> tuple[pa.Table, int]:
    n_cust = counts.size
    c64 = counts.astype(np.int64)
    cust = np.repeat(np.arange(n_cust, dtype=np.int64), c64)
    n = cust.size
    lo, hi = _active_span(state, m)
    lo_o, hi_o = lo[cust], hi[cust]

    # Day: inverse CDF of the seasonal weight over each customer's active days this month.
    base = cum_weight[lo_o]
    target = base + rng.random(n) * (cum_weight[hi_o] - base)
    day = np.clip(np.searchsorted(cum_weight, target, side="right") - 1, lo_o, np.maximum(hi_o - 1, lo_o))
    firsts = _first_order_here(state, m)
    starts = np.cumsum(c64) - c64
    first_rows = starts[firsts]
    day[first_rows] = state.join[firsts]

    pref = state.channel[cust]
    channel = np.where(rng.random(n) < _P_PREFERRED_CHANNEL, pref, _choose(rng, _CHANNEL_POPULARITY, n))
    in_store = channel == 0
    u = rng.integers(0, 1 << _SAMPLER_BITS, n, dtype=np.uint16)
    hour = np.where(in_store, _sampler_table(tuple(_HOURS_STORE))[u], _sampler_table(tuple(_HOURS_ONLINE))[u])
    if m.month == 11:
        # Singles' Day opens at midnight and a good part of the day's online orders land in that hour.
        _, _, dom = _civil(epoch0 + day)
        rush = (dom == 11) & ~in_store & (rng.random(n) < 0.25)
        hour = np.where(rush, 0, hour)
    local = (epoch0 + day) * _DAY_S + hour * 3600 + rng.integers(0, 3600, n)

    # Extracts list orders in time order and ids were handed out in that order.
    order = _time_order(local)
    local, cust, channel, in_store = local[order], cust[order], channel[order], in_store[order]

    category = np.where(
        rng.random(n) < _P_FAVOURITE_CATEGORY, state.favourite[cust], _choose(rng, _CATEGORY_POPULARITY, n)
    )
    cny = state.value[cust] * np.exp(rng.normal(0.0, _ORDER_SIGMA, n)) * _CATEGORY_PRICE[category]
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

    store = np.where(rng.random(n) < _P_HOME_STORE, state.home_store[cust], rng.integers(0, _N_STORES, n))
    style = _choose(rng, np.array([1 - _P_TS_OFFSET - _P_TS_UTC, _P_TS_OFFSET, _P_TS_UTC]), n)

    cols: dict[str, pa.Array] = {
        "order_id": _fixed(_prefixed_ids("O", first_id + np.arange(n, dtype=np.int64), id_width)),
        "customer_id": _fixed(cid[cust]),
        "order_ts": _order_timestamps(local, style),
        "amount": _money(cents),
        "currency": _pick(currency_names, cur),
        "status": _pick(("completed", "cancelled", "refunded"), status),
        # The POS export leaves "no refund" empty while the online shop writes 0: both reach the lake.
        "refunded_amount": _null_where(
            pc.if_else(pa.array(refund > 0), _money(refund), pa.scalar("0")),
            (refund == 0) & (in_store | (channel == 3)),
        ),
        "category": _pick(CATEGORIES, category),
        "channel": _pick(CHANNELS, channel),
        "store_id": _null_where(_fixed(_prefixed_ids("S", store + 1, 3)), ~in_store),
    }

    plan = _dirty_plan(rng, n, dirty_rate, ORDER_DIRTY_KINDS, dirty)
    extra = None
    if dirty_rate > 0 and n:
        extra = _dirty_orders(rng, cols, plan, local, cents)
    table = pa.table(cols)
    if extra is not None and extra.num_rows:
        table = pa.concat_tables([table, extra])
    return table, n


def _price_points(rng: np.random.Generator, cny: np.ndarray) -> np.ndarray:
    """Cents, with the usual retail endings (.00, .99, .90) on most prices."""
    exact = np.maximum(np.rint(cny * 100), 100).astype(np.int64)
    whole = np.maximum(np.rint(cny), 1).astype(np.int64) * 100
    r = rng.random(cny.size)
    return np.where(r < 0.35, whole, np.where(r < 0.6, whole - 1, np.where(r < 0.7, whole - 10, exact)))


def _dirty_orders(
    rng: np.random.Generator,
    cols: dict[str, pa.Array],
    plan: dict[str, np.ndarray],
    local: np.ndarray,
    cents: np.ndarray,
) -> pa.Table:
    # The rows of every kind are distinct, so mutations never stack on one row.
    idx = plan["orders.unparseable_amount"]
    cols["amount"] = _replace(cols["amount"], idx, _pick(_BAD_AMOUNTS, rng.integers(0, len(_BAD_AMOUNTS), idx.size)))
    idx = plan["orders.negative_amount"]
    cols["amount"] = _replace(cols["amount"], idx, _money(-cents[idx]))
    idx = plan["orders.future_timestamp"]
    cols["order_ts"] = _replace(cols["order_ts"], idx, _fixed(_ts_matrix(local[idx], np.full(idx.size, _FUTURE_YEAR))))
    idx = plan["orders.unparseable_timestamp"]
    cols["order_ts"] = _replace(
        cols["order_ts"], idx, _pick(_BAD_TIMESTAMPS, rng.integers(0, len(_BAD_TIMESTAMPS), idx.size))
    )
    idx = plan["orders.unknown_currency"]
    cols["currency"] = _replace(
        cols["currency"], idx, _pick(_BAD_CURRENCIES, rng.integers(0, len(_BAD_CURRENCIES), idx.size))
    )
    idx = plan["orders.missing_customer_id"]
    cols["customer_id"] = _replace(cols["customer_id"], idx, None)
    idx = plan["orders.bad_refund"]
    over = np.rint(cents[idx] * rng.uniform(1.2, 2.0, idx.size)).astype(np.int64) + 1
    negative = -rng.integers(100, 5000, idx.size)
    cols["refunded_amount"] = _replace(
        cols["refunded_amount"], idx, _money(np.where(rng.random(idx.size) < 0.5, over, negative))
    )
    idx = plan["orders.bad_status"]
    cols["status"] = _replace(cols["status"], idx, _pick(_BAD_STATUSES, rng.integers(0, len(_BAD_STATUSES), idx.size)))

    # A conflicting re-send: the same order later in the extract with another amount.
    idx = plan["orders.duplicate_order_conflict"]
    take = pa.array(idx)
    dup = {name: arr.take(take) for name, arr in cols.items()}
    changed = np.rint(cents[idx] * rng.uniform(1.05, 1.6, idx.size)).astype(np.int64) + 1
    dup["amount"] = _money(changed)
    order = np.argsort(rng.random(idx.size))
    return pa.table({name: arr.take(pa.array(order)) for name, arr in dup.items()})


# --- events ------------------------------------------------------------------------------------------------


def _month_events(
    rng: np.random.Generator,
    state: _Customers,
    m: _Month,
    counts: np.ndarray,
    order_counts: np.ndarray,
    epoch0: int,
    cid: np.ndarray,
    first_id: int,
    id_width: int,
    dirty_rate: float,
    dirty: dict[str, int],
) -> tuple[pa.Table, int]:
    c64 = counts.astype(np.int64)
    cust = np.repeat(np.arange(counts.size, dtype=np.int64), c64)
    n = cust.size
    lo, hi = _active_span(state, m)
    lo_e, hi_e = lo[cust], hi[cust]
    # Events are spread evenly over the customer's active days (only customers with active days draw any).
    span = np.maximum(hi_e - lo_e, 1)
    day = lo_e + np.floor(rng.random(n) * span).astype(np.int64)
    hour = _choose(rng, _HOURS_ONLINE, n)
    local = (epoch0 + day) * _DAY_S + hour * 3600 + rng.integers(0, 3600, n)
    order = _time_order(local)
    local, cust = local[order], cust[order]
    buyer = order_counts[cust] > 0
    etype = np.where(buyer, _choose(rng, _EVENT_AFTER_ORDER_P, n), _choose(rng, _EVENT_BROWSE_P, n))

    cols: dict[str, pa.Array] = {
        "event_id": _fixed(_prefixed_ids("E", first_id + np.arange(n, dtype=np.int64), id_width)),
        "customer_id": _fixed(cid[cust]),
        "event_ts": _fixed(_ts_matrix(local)),
        "event_type": _pick(EVENT_TYPES, etype),
    }
    plan = _dirty_plan(rng, n, dirty_rate, EVENT_DIRTY_KINDS, dirty)
    cols["customer_id"] = _replace(cols["customer_id"], plan["events.missing_customer_id"], None)
    idx = plan["events.unparseable_timestamp"]
    cols["event_ts"] = _replace(
        cols["event_ts"], idx, _pick(_BAD_TIMESTAMPS, rng.integers(0, len(_BAD_TIMESTAMPS), idx.size))
    )
    return pa.table(cols), n


# --- profiles ----------------------------------------------------------------------------------------------


def _write_profiles(
    rng: np.random.Generator,
    state: _Customers,
    has_orders: np.ndarray,
    cid: np.ndarray,
    epoch0: int,
    end: date,
    dirty_rate: float,
    dirty: dict[str, int],
    folder: Path,
    writer: _Writer,
    say: Callable[[str], None],
) -> int:
    n = has_orders.size
    missing = has_orders & (rng.random(n) < _P_NO_PROFILE)
    rows = np.flatnonzero(~missing)
    chunks = max(1, -(-rows.size // PROFILES_PER_FILE))
    written = 0
    for i in range(chunks):
        part = rows[i * PROFILES_PER_FILE : (i + 1) * PROFILES_PER_FILE]
        table = _profiles_table(rng, state, part, cid, epoch0, end, dirty_rate, dirty)
        name = "profiles" if chunks == 1 else f"profiles_{i + 1:04d}"
        writer.write(table, folder / name)
        written += table.num_rows
        say(f"{name}: {table.num_rows:,} rows")
    return written


@functools.lru_cache(maxsize=1)
def _interest_lists() -> list[str | None]:
    """The `;`-joined interests for every bit set over _INTERESTS (4,096 strings, built once)."""
    return [
        ";".join(name for j, name in enumerate(_INTERESTS) if code >> j & 1) or None
        for code in range(1 << len(_INTERESTS))
    ]


def _profiles_table(
    rng: np.random.Generator,
    state: _Customers,
    rows: np.ndarray,
    cid: np.ndarray,
    epoch0: int,
    end: date,
    dirty_rate: float,
    dirty: dict[str, int],
) -> pa.Table:
    n = rows.size
    end_day = (end - _EPOCH).days
    age_years = np.clip(16 + rng.gamma(2.2, 8.0, n), 16.05, 79.9)
    birth = end_day - np.floor(age_years * 365.25).astype(np.int64)
    gender = _choose(rng, np.array([0.52, 0.43, 0.05]), n)
    occ_w = np.array([w for _, w in _OCCUPATIONS])
    occupation = _choose(rng, occ_w, n)

    p = np.broadcast_to(_INTEREST_BASE_P, (n, _INTEREST_BASE_P.size)).copy()
    p[np.arange(n), _CATEGORY_INTEREST[state.favourite[rows]]] += 0.35
    bits = rng.random(p.shape) < p
    interest_code = bits.astype(np.int64) @ (1 << np.arange(_INTEREST_BASE_P.size, dtype=np.int64))
    lookup = _interest_lists()

    number = rows + 1
    email = pc.binary_join_element_wise(
        "user",
        pc.cast(pa.array(number), pa.string()),
        "@",
        _pick(_EMAIL_DOMAINS, rng.integers(0, len(_EMAIL_DOMAINS), n)),
        "",
    )
    phone = np.empty((n, 17), dtype=np.uint8)
    phone[:] = np.frombuffer(b"+86 1xx xxxx xxxx", dtype=np.uint8)
    phone[:, 4:7] = _digits(_PHONE_PREFIXES[rng.integers(0, _PHONE_PREFIXES.size, n)], 3)
    rest = _digits(rng.integers(0, 100_000_000, n), 8)
    phone[:, 8:12] = rest[:, :4]
    phone[:, 13:17] = rest[:, 4:]

    city = state.city[rows]
    cols: dict[str, pa.Array] = {
        "customer_id": _fixed(cid[rows]),
        "signup_date": _fixed(_date_matrix(epoch0 + state.signup_day[rows])),
        "birth_date": _null_where(_fixed(_date_matrix(birth)), rng.random(n) < 0.04),
        "gender": _pick(("F", "M", None), gender),
        "region": _pick([c[1] for c in _CITIES], city),
        "city": _pick([c[0] for c in _CITIES], city),
        "occupation": _pick([o for o, _ in _OCCUPATIONS], occupation),
        "interests": _pick(lookup, interest_code),
        "email": _null_where(email, rng.random(n) < 0.06),
        "phone": _null_where(_fixed(phone), rng.random(n) < 0.08),
        "marketing_opt_in": _pick(("true", "false"), (rng.random(n) >= 0.55).astype(np.int64)),
    }
    plan = _dirty_plan(rng, n, dirty_rate, PROFILE_DIRTY_KINDS, dirty)
    cols["customer_id"] = _replace(cols["customer_id"], plan["profiles.missing_customer_id"], None)
    idx = plan["profiles.unparseable_date"]
    cols["signup_date"] = _replace(
        cols["signup_date"], idx, _pick(_BAD_DATES, rng.integers(0, len(_BAD_DATES), idx.size))
    )
    return pa.table(cols)


# --- writing -----------------------------------------------------------------------------------------------


_CSV_SPECIAL = (b",", b'"', b"\r", b"\n")
_CSV_PLAIN = pa_csv.WriteOptions(include_header=False, quoting_style="none", batch_size=65_536)
_CSV_QUOTED = pa_csv.WriteOptions(include_header=False, quoting_style="needed", batch_size=65_536)


def _write_csv(table: pa.Table, path: Path) -> None:
    """RFC 4180 CSV that quotes only the values that need it.

    Arrow's "needed" style quotes every string and its "none" style refuses values with a comma or a quote,
    so rows holding such a value (only ever a dirty one, e.g. an amount of 1,234.56) are written as short
    quoted runs between long unquoted ones.
    """
    special = np.zeros(table.num_rows, dtype=bool)
    for column in table.columns:
        for chunk in column.chunks:
            data = chunk.buffers()[2]
            if data is None or not any(ch in data.to_pybytes() for ch in _CSV_SPECIAL):
                continue
            hits = pc.fill_null(pc.match_substring_regex(column, r'[,"\r\n]'), False)
            special |= hits.to_numpy(zero_copy_only=False)
            break
    with pa.OSFile(str(path), "wb") as sink:
        sink.write((",".join(table.column_names) + "\n").encode())
        if not special.any():
            pa_csv.write_csv(table, sink, _CSV_PLAIN)
            return
        bounds = np.concatenate(([0], np.flatnonzero(np.diff(special.astype(np.int8))) + 1, [table.num_rows]))
        for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            pa_csv.write_csv(table.slice(lo, hi - lo), sink, _CSV_QUOTED if special[lo] else _CSV_PLAIN)


class _Writer:
    """Writes files on one background thread: Arrow's writers release the GIL, so on two cores the next
    month is generated while the previous one is written. At most two tables wait, to bound memory."""

    def __init__(self, fmt: Literal["csv", "parquet"]) -> None:
        self.fmt = fmt
        self.files: list[Path] = []
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tierflow-generate")
        self._pending: list[Future[None]] = []

    def write(self, table: pa.Table, stem: Path) -> None:
        path = stem.with_name(f"{stem.name}.{self.fmt}")
        while len(self._pending) >= 2:
            self._pending.pop(0).result()
        self._pending.append(self._pool.submit(self._write, table, path))
        self.files.append(path)

    def _write(self, table: pa.Table, path: Path) -> None:
        if self.fmt == "csv":
            _write_csv(table, path)
        else:
            pq.write_table(table, path, compression="zstd")

    def close(self) -> None:
        """Wait for every write; re-raises the first failure."""
        try:
            for future in self._pending:
                future.result()
        finally:
            self._pending.clear()
            self._pool.shutdown(wait=True)
