"""What every table builder of one run shares: the random stream, the customers and the dirty-row tally."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tierflow.generate.customers import Customers
from tierflow.generate.values import ValueColumns


@dataclass(frozen=True)
class Run:
    # One stream for the whole run, drawn from in a fixed order: that order is what makes output repeatable.
    rng: np.random.Generator
    customers: Customers
    epoch0: int  # day number (since 1970) of window day 0
    cid: np.ndarray  # customer id bytes, one row per customer
    dirty_rate: float
    dirty: dict[str, int]  # bad rows so far per kind, updated as tables are built
    values: ValueColumns  # amounts, timestamps, dates and flags as text or typed, per the file format
