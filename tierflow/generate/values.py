"""How the value columns of a landing file are written: amounts, timestamps, dates and flags as text (CSV and
text Parquet), or typed (Parquet as real exports write it: decimal amounts, timestamps with a time zone, dates
and booleans). Ids and other words are text in every format.

Both encodings take the same numbers and draw nothing from the random stream, so one seed gives the same
orders, customers and days in every format.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

import numpy as np
import pyarrow as pa

from tierflow.generate.dates import POLICY_UTC_OFFSET_S
from tierflow.generate.schema import TEXT_DIRTY_KINDS, TYPED_DIRTY_KINDS
from tierflow.generate.text import date_matrix, fixed, money, pick, spelled_timestamps, ts_matrix

MONEY = pa.decimal128(18, 2)
INSTANT = pa.timestamp("us", tz="UTC")


class ValueColumns(Protocol):
    # The dirty kinds this encoding can hold, e.g. no unparseable amount in a decimal column.
    dirty_kinds: tuple[str, ...]
    # What "no refund" looks like where a source writes 0 rather than leaving the field empty.
    zero: pa.Scalar

    def money(self, cents: np.ndarray) -> pa.Array: ...

    def timestamps(self, local: np.ndarray, style: np.ndarray | None = None) -> pa.Array:
        """Wall-clock seconds in the policy zone; `style` picks a text spelling (see spelled_timestamps)."""
        ...

    def dates(self, days: np.ndarray) -> pa.Array: ...

    def flags(self, values: np.ndarray) -> pa.Array: ...


class TextValues:
    dirty_kinds = TEXT_DIRTY_KINDS
    zero = pa.scalar("0")

    def money(self, cents: np.ndarray) -> pa.Array:
        return money(cents)

    def timestamps(self, local: np.ndarray, style: np.ndarray | None = None) -> pa.Array:
        return fixed(ts_matrix(local)) if style is None else spelled_timestamps(local, style)

    def dates(self, days: np.ndarray) -> pa.Array:
        return fixed(date_matrix(days))

    def flags(self, values: np.ndarray) -> pa.Array:
        return pick(("true", "false"), (~values).astype(np.int64))


class TypedValues:
    dirty_kinds = TYPED_DIRTY_KINDS
    zero = pa.scalar(Decimal("0.00"), MONEY)

    def money(self, cents: np.ndarray) -> pa.Array:
        # A decimal128 value is its unscaled integer (the cents) in 16 little-endian bytes, sign-extended.
        cents = np.asarray(cents, dtype=np.int64)
        words = np.empty((cents.size, 2), dtype="<i8")
        words[:, 0] = cents
        words[:, 1] = cents >> 63
        return pa.Array.from_buffers(MONEY, cents.size, [None, pa.py_buffer(words)])

    def timestamps(self, local: np.ndarray, style: np.ndarray | None = None) -> pa.Array:
        # Every text spelling names the same instant, so a typed column has no styles.
        micros = (np.asarray(local, dtype=np.int64) - POLICY_UTC_OFFSET_S) * 1_000_000
        return pa.Array.from_buffers(INSTANT, micros.size, [None, pa.py_buffer(micros)])

    def dates(self, days: np.ndarray) -> pa.Array:
        values = np.asarray(days).astype(np.int32)
        return pa.Array.from_buffers(pa.date32(), values.size, [None, pa.py_buffer(values)])

    def flags(self, values: np.ndarray) -> pa.Array:
        return pa.array(values, pa.bool_())


def value_columns(fmt: str) -> ValueColumns:
    return TypedValues() if fmt == "parquet" else TextValues()
