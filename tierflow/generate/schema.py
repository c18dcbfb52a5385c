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
PROFILE_DIRTY_KINDS: tuple[str, ...] = ("profiles.missing_customer_id", "profiles.unparseable_date")
EVENT_DIRTY_KINDS: tuple[str, ...] = ("events.missing_customer_id", "events.unparseable_timestamp")
# Report order: the order in which a quarantine summary lists them.
DIRTY_KINDS: tuple[str, ...] = ORDER_DIRTY_KINDS + PROFILE_DIRTY_KINDS + EVENT_DIRTY_KINDS
