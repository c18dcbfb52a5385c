"""Deterministic generator of a realistic demo landing zone (orders, profiles, events).

The files are what an upstream extract would drop for the ingest step: a few time-zone spellings, a
sprinkling of realistic defects when asked for, and a spend distribution that makes every membership tier
appear. Everything is vectorised with numpy and pyarrow so that a million customers over two years (about
twenty million orders) fits in well under a minute; the same arguments always produce byte-identical files.

Layout written under ``out_dir``::

    orders/orders_YYYY-MM.{csv,parquet}      one file per calendar month of the window (local time)
    profiles/profiles.{csv,parquet}          or profiles_0001, profiles_0002, ... above 2,000,000 rows
    events/events_YYYY-MM.{csv,parquet}
    orders/orders_YYYY-MM-DD.{csv,parquet}   with generate_next_days: one more day of orders per file

Formats: ``csv`` and ``parquet-text`` hold every column as text (a missing value is an empty field in CSV and
a null in Parquet, which readers that treat an empty CSV field as NULL see alike; CSV quotes only values
that need it, RFC 4180). ``parquet`` is typed as real exports are: decimal(18, 2) amounts, timestamps with
a time zone (UTC), dates, a boolean opt-in, text ids. One seed gives the same data in every format.

With ``dirty_rate`` R, exactly floor(R x rows) of the rows of every file are bad (so never more than R of a
file, however small), spread evenly over the kinds the format can hold (schema.py): negative amounts, an
order id re-sent later with another amount, timestamps in 2099, unknown currencies, missing customer ids,
refunds above the amount or negative, unknown statuses; profiles without customer id; events without
customer id. Text also holds amounts, timestamps and sign-up dates that
do not parse; typed Parquet cannot, and has sign-up dates and event times in 2099 instead. Only the
duplicates add rows; the others replace clean rows.

Modules: ``landing`` (entry point), ``next_days`` (daily orders files after the window), ``customers``
(population and behaviour), ``orders``, ``profiles`` and ``events`` (one table each), ``dirty`` (bad rows),
``catalogue`` (categories, channels, cities, currencies), ``seasonality`` and ``dates`` (when), ``sampling``
and ``text`` (fast draws and string columns), ``values`` (text or typed values), ``writing``.
"""

from tierflow.generate.catalogue import CATEGORIES, CHANNELS, FX_UNITS_PER_USD
from tierflow.generate.events import EVENT_TYPES
from tierflow.generate.landing import MAX_DIRTY_RATE, GenerateReport, generate_landing
from tierflow.generate.next_days import generate_next_days

# A copy for reading: the profiles module reads its own, so patch tierflow.generate.profiles to change it.
from tierflow.generate.profiles import PROFILES_PER_FILE
from tierflow.generate.schema import (
    DIRTY_KINDS,
    EVENT_DIRTY_KINDS,
    EVENTS_COLUMNS,
    ORDER_DIRTY_KINDS,
    ORDERS_COLUMNS,
    PROFILE_DIRTY_KINDS,
    PROFILES_COLUMNS,
    TEXT_DIRTY_KINDS,
    TYPED_DIRTY_KINDS,
)
from tierflow.generate.writing import FORMATS

__all__ = [
    "CATEGORIES",
    "CHANNELS",
    "DIRTY_KINDS",
    "EVENTS_COLUMNS",
    "EVENT_DIRTY_KINDS",
    "EVENT_TYPES",
    "FORMATS",
    "FX_UNITS_PER_USD",
    "MAX_DIRTY_RATE",
    "ORDERS_COLUMNS",
    "ORDER_DIRTY_KINDS",
    "PROFILES_COLUMNS",
    "PROFILES_PER_FILE",
    "PROFILE_DIRTY_KINDS",
    "TEXT_DIRTY_KINDS",
    "TYPED_DIRTY_KINDS",
    "GenerateReport",
    "generate_landing",
    "generate_next_days",
]
