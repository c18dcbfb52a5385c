"""The contract of the landing files with the ingest step: column order per file and the kinds of bad rows.

Ingest and its tests key off these names, so they are the only part of the generator that is public.
"""

from __future__ import annotations

from tierflow.ingest.inputs import INPUTS

# Exactly the columns ingest knows, in the contract's order (required first).
ORDERS_COLUMNS: tuple[str, ...] = INPUTS["orders"].known_columns
PROFILES_COLUMNS: tuple[str, ...] = INPUTS["profiles"].known_columns
EVENTS_COLUMNS: tuple[str, ...] = INPUTS["events"].known_columns

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
PROFILE_DIRTY_KINDS: tuple[str, ...] = (
    "profiles.missing_customer_id",
    "profiles.unparseable_date",
    "profiles.future_date",
)
EVENT_DIRTY_KINDS: tuple[str, ...] = (
    "events.missing_customer_id",
    "events.unparseable_timestamp",
    "events.future_timestamp",
)
# Report order: the order in which a quarantine summary lists them.
DIRTY_KINDS: tuple[str, ...] = ORDER_DIRTY_KINDS + PROFILE_DIRTY_KINDS + EVENT_DIRTY_KINDS

# What each encoding can hold. Text holds anything, and keeps the kinds it always had; a typed column cannot
# hold a value that does not parse, so typed Parquet has future dates and times where text has garbage.
_TYPED_ONLY = ("profiles.future_date", "events.future_timestamp")
_TEXT_ONLY = (
    "orders.unparseable_amount",
    "orders.unparseable_timestamp",
    "profiles.unparseable_date",
    "events.unparseable_timestamp",
)
TEXT_DIRTY_KINDS: tuple[str, ...] = tuple(k for k in DIRTY_KINDS if k not in _TYPED_ONLY)
TYPED_DIRTY_KINDS: tuple[str, ...] = tuple(k for k in DIRTY_KINDS if k not in _TEXT_ONLY)
