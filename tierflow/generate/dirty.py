"""Bad rows: which rows of a table go bad, and what is wrong with them.

Exactly floor(`dirty_rate` x rows) of the rows of every table are picked and spread evenly over the table's
dirty kinds that the file format can hold (see schema.py); each picked row gets one defect (kinds never stack
on a row). Only re-sent orders add rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from tierflow.generate.context import Run
from tierflow.generate.dates import in_year, wall_clock_in_year
from tierflow.generate.schema import EVENT_DIRTY_KINDS, ORDER_DIRTY_KINDS, PROFILE_DIRTY_KINDS
from tierflow.generate.text import pick_uniform, replace_rows

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


def _plan(run: Run, n_rows: int, kinds: Sequence[str]) -> dict[str, np.ndarray]:
    """Distinct row indices (ascending) per kind; every kind gets its fair share of floor(rate * n_rows)."""
    rng, dirty = run.rng, run.dirty
    empty = {k: np.empty(0, dtype=np.int64) for k in kinds}
    kinds = [k for k in kinds if k in run.values.dirty_kinds]
    if run.dirty_rate <= 0 or n_rows == 0:
        return empty
    # Exactly floor(rate x rows), not a random count: a small file must never get a share of bad rows above
    # the rate (a binomial count gave a 31-row file 2 bad rows, 6.45%, over the quarantine gate's 5%). Rounded
    # first so that float error cannot drop a row (100 x 0.29 is 28.999…).
    k_total = min(math.floor(round(n_rows * run.dirty_rate, 9)), n_rows)
    rows = rng.choice(n_rows, k_total, replace=False) if k_total else np.empty(0, dtype=np.int64)
    # Cycle through the kinds from a running counter so even small files show every kind once there are
    # enough bad rows in the whole landing zone.
    offset = sum(dirty[k] for k in kinds)
    kind_of = (offset + np.arange(k_total)) % len(kinds)
    plan = dict(empty)
    for i, k in enumerate(kinds):
        plan[k] = np.sort(rows[kind_of == i]).astype(np.int64)
        dirty[k] += int(plan[k].size)
    return plan


def dirty_orders(run: Run, cols: dict[str, pa.Array], local: np.ndarray, cents: np.ndarray) -> pa.Table | None:
    """Spoil rows of an orders table in place; returns the conflicting re-sends to append, if any.

    `local` and `cents` are the clean wall-clock seconds and amounts of the rows.
    """
    n = cents.size
    plan = _plan(run, n, ORDER_DIRTY_KINDS)
    if run.dirty_rate <= 0 or not n:
        return None
    rng, values = run.rng, run.values
    idx = plan["orders.unparseable_amount"]
    cols["amount"] = replace_rows(cols["amount"], idx, pick_uniform(rng, _BAD_AMOUNTS, idx.size))
    idx = plan["orders.negative_amount"]
    cols["amount"] = replace_rows(cols["amount"], idx, values.money(-cents[idx]))
    idx = plan["orders.future_timestamp"]
    cols["order_ts"] = replace_rows(
        cols["order_ts"], idx, values.timestamps(wall_clock_in_year(local[idx], _FUTURE_YEAR))
    )
    idx = plan["orders.unparseable_timestamp"]
    cols["order_ts"] = replace_rows(cols["order_ts"], idx, pick_uniform(rng, _BAD_TIMESTAMPS, idx.size))
    idx = plan["orders.unknown_currency"]
    cols["currency"] = replace_rows(cols["currency"], idx, pick_uniform(rng, _BAD_CURRENCIES, idx.size))
    idx = plan["orders.missing_customer_id"]
    cols["customer_id"] = replace_rows(cols["customer_id"], idx, None)
    idx = plan["orders.bad_refund"]
    over = np.rint(cents[idx] * rng.uniform(1.2, 2.0, idx.size)).astype(np.int64) + 1
    negative = -rng.integers(100, 5000, idx.size)
    cols["refunded_amount"] = replace_rows(
        cols["refunded_amount"], idx, values.money(np.where(rng.random(idx.size) < 0.5, over, negative))
    )
    idx = plan["orders.bad_status"]
    cols["status"] = replace_rows(cols["status"], idx, pick_uniform(rng, _BAD_STATUSES, idx.size))

    # A conflicting re-send: the same order later in the extract with another amount.
    idx = plan["orders.duplicate_order_conflict"]
    take = pa.array(idx)
    dup = {name: arr.take(take) for name, arr in cols.items()}
    changed = np.rint(cents[idx] * rng.uniform(1.05, 1.6, idx.size)).astype(np.int64) + 1
    dup["amount"] = values.money(changed)
    order = np.argsort(rng.random(idx.size))
    return pa.table({name: arr.take(pa.array(order)) for name, arr in dup.items()})


def dirty_profiles(run: Run, cols: dict[str, pa.Array], signup: np.ndarray) -> None:
    """Spoil rows of a profiles table in place; `signup` holds the clean sign-up days of its rows."""
    plan = _plan(run, signup.size, PROFILE_DIRTY_KINDS)
    cols["customer_id"] = replace_rows(cols["customer_id"], plan["profiles.missing_customer_id"], None)
    idx = plan["profiles.unparseable_date"]
    cols["signup_date"] = replace_rows(cols["signup_date"], idx, pick_uniform(run.rng, _BAD_DATES, idx.size))
    idx = plan["profiles.future_date"]
    cols["signup_date"] = replace_rows(cols["signup_date"], idx, run.values.dates(in_year(signup[idx], _FUTURE_YEAR)))


def dirty_events(run: Run, cols: dict[str, pa.Array], local: np.ndarray) -> None:
    """Spoil rows of an events table in place; `local` holds the clean wall-clock seconds of its rows."""
    plan = _plan(run, local.size, EVENT_DIRTY_KINDS)
    cols["customer_id"] = replace_rows(cols["customer_id"], plan["events.missing_customer_id"], None)
    idx = plan["events.unparseable_timestamp"]
    cols["event_ts"] = replace_rows(cols["event_ts"], idx, pick_uniform(run.rng, _BAD_TIMESTAMPS, idx.size))
    idx = plan["events.future_timestamp"]
    future = run.values.timestamps(wall_clock_in_year(local[idx], _FUTURE_YEAR))
    cols["event_ts"] = replace_rows(cols["event_ts"], idx, future)
