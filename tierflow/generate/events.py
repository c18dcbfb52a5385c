"""One month of app and web events (sign-ins, reviews, shares, ...) of the customers active in it."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from tierflow.generate.context import Run
from tierflow.generate.customers import month_rows
from tierflow.generate.dates import Month
from tierflow.generate.dirty import dirty_events
from tierflow.generate.sampling import choose, time_order, wall_clock
from tierflow.generate.seasonality import HOURS_ONLINE
from tierflow.generate.text import fixed, pick, sequential_ids

EVENT_TYPES: tuple[str, ...] = ("sign_in", "referral", "review", "activity", "share")
# Mix of event types for customers who only browse that month, and for those who also ordered.
_EVENT_BROWSE_P = np.array([0.62, 0.04, 0.0, 0.24, 0.10])
_EVENT_AFTER_ORDER_P = np.array([0.35, 0.03, 0.45, 0.10, 0.07])


def month_events(
    run: Run,
    m: Month,
    counts: np.ndarray,
    order_counts: np.ndarray,
    first_id: int,
    id_width: int,
) -> tuple[pa.Table, int]:
    """The events file of month `m` (ids from `first_id` on) and how many clean events it holds."""
    rng = run.rng
    cust, lo_e, hi_e = month_rows(run.customers, m, counts)
    n = cust.size
    # Events are spread evenly over the customer's active days (only customers with active days draw any).
    span = np.maximum(hi_e - lo_e, 1)
    day = lo_e + np.floor(rng.random(n) * span).astype(np.int64)
    hour = choose(rng, HOURS_ONLINE, n)
    local = wall_clock(rng, run.epoch0 + day, hour)
    order = time_order(local)
    local, cust = local[order], cust[order]
    buyer = order_counts[cust] > 0
    etype = np.where(buyer, choose(rng, _EVENT_AFTER_ORDER_P, n), choose(rng, _EVENT_BROWSE_P, n))

    cols: dict[str, pa.Array] = {
        "event_id": sequential_ids("E", first_id, n, id_width),
        "customer_id": fixed(run.cid[cust]),
        "event_ts": run.values.timestamps(local),
        "event_type": pick(EVENT_TYPES, etype),
    }
    dirty_events(run, cols, local)
    return pa.table(cols), n
