"""Text columns built without a per-row Python step.

Strings are assembled as fixed-width byte matrices and handed to Arrow as buffers: a boolean mask picks the
bytes that belong to each value, row by row, which also lets numbers be right-aligned in the matrix and still
come out without padding. Ids and words are text in every format; in CSV and text Parquet so are amounts,
timestamps and dates (see values.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tierflow.generate.dates import DAY_S, POLICY_UTC_OFFSET_S, civil

# "00".."99" as little-endian uint16 words: one table lookup writes two digits.
_PAIRS = np.array([[48 + i // 10, 48 + i % 10] for i in range(100)], dtype=np.uint8).view("<u2").ravel()
_POW10 = 10 ** np.arange(1, 19, dtype=np.int64)


def digits(values: np.ndarray, width: int) -> np.ndarray:
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


def fixed(mat: np.ndarray) -> pa.Array:
    """One string per row of `mat`, all of its bytes."""
    n, w = mat.shape
    offsets = np.arange(0, (n + 1) * w, w, dtype=np.int64)
    return _string_array(n, offsets, np.ascontiguousarray(mat).reshape(-1))


def ragged(mat: np.ndarray, mask: np.ndarray) -> pa.Array:
    """One string per row of `mat`, the bytes where `mask` is set."""
    offsets = np.zeros(mat.shape[0] + 1, dtype=np.int64)
    np.cumsum(mask.sum(axis=1), out=offsets[1:])
    return _string_array(mat.shape[0], offsets, mat[mask])


def _string_array(n: int, offsets: np.ndarray, data: np.ndarray) -> pa.Array:
    # One column of one month would need ~80 million orders to pass Arrow's 2 GiB string limit.
    if offsets[-1] >= 2**31:
        raise ValueError("a single month holds more than 2 GiB of text in one column; use fewer customers")
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data)])


def prefixed_ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """`prefix` followed by zero-padded `numbers`, e.g. C0000042, as a byte matrix."""
    mat = np.empty((numbers.size, len(prefix) + width), dtype=np.uint8)
    mat[:, : len(prefix)] = np.frombuffer(prefix.encode(), dtype=np.uint8)
    mat[:, len(prefix) :] = digits(numbers, width)
    return mat


def sequential_ids(prefix: str, first: int, n: int, width: int) -> pa.Array:
    """`n` consecutive ids from number `first` on."""
    return fixed(prefixed_ids(prefix, first + np.arange(n, dtype=np.int64), width))


def money(cents: np.ndarray) -> pa.Array:
    """Decimal text with two places, e.g. 1234.50 or -35.00."""
    cents = np.asarray(cents, dtype=np.int64)
    units, frac = np.divmod(np.abs(cents), 100)
    width = len(str(int(units.max()))) if units.size else 1
    ndig = 1 + np.searchsorted(_POW10, units, side="right")
    mat = np.empty((cents.size, width + 4), dtype=np.uint8)
    mat[:, 0] = ord("-")
    mat[:, 1 : width + 1] = digits(units, width)
    mat[:, width + 1] = ord(".")
    mat[:, width + 2 :] = digits(frac, 2)
    mask = np.ones(mat.shape, dtype=bool)
    mask[:, 0] = cents < 0
    mask[:, 1 : width + 1] = np.arange(width)[None, :] >= (width - ndig)[:, None]
    return ragged(mat, mask)


def ts_matrix(secs: np.ndarray) -> np.ndarray:
    """`YYYY-MM-DD HH:MM:SS` bytes for wall-clock seconds since 1970."""
    days, sod = np.divmod(secs, DAY_S)
    y, mo, d = civil(days)
    hh, rest = np.divmod(sod.astype(np.int32), 3600)
    mm, ss = np.divmod(rest, 60)
    mat = np.empty((secs.size, 19), dtype=np.uint8)
    mat[:, 0:4] = digits(y, 4)
    mat[:, [4, 7]] = ord("-")
    mat[:, 10] = ord(" ")
    mat[:, [13, 16]] = ord(":")
    for pos, part in ((5, mo), (8, d), (11, hh), (14, mm), (17, ss)):
        mat[:, pos : pos + 2] = _pair(part)
    return mat


def spelled_timestamps(local: np.ndarray, style: np.ndarray) -> pa.Array:
    """Wall-clock seconds as text, spelled per row as `style` says: 0 local wall time, 1 local with +08:00,
    2 the same instant in UTC with Z."""
    mat = np.zeros((local.size, 25), dtype=np.uint8)
    mat[:, :19] = ts_matrix(local)
    off = style == 1
    utc = style == 2
    mat[off, 10] = ord("T")
    mat[off, 19:25] = np.frombuffer(b"+08:00", dtype=np.uint8)
    if utc.any():
        mat[utc, :19] = ts_matrix(local[utc] - POLICY_UTC_OFFSET_S)
        mat[utc, 10] = ord("T")
        mat[utc, 19] = ord("Z")
    lengths = np.where(off, 25, np.where(utc, 20, 19))
    return ragged(mat, np.arange(25)[None, :] < lengths[:, None])


def date_matrix(days: np.ndarray) -> np.ndarray:
    """`YYYY-MM-DD` bytes for days since 1970."""
    y, mo, d = civil(days)
    mat = np.empty((days.size, 10), dtype=np.uint8)
    mat[:, [4, 7]] = ord("-")
    mat[:, 0:4] = digits(y, 4)
    mat[:, 5:7] = _pair(mo)
    mat[:, 8:10] = _pair(d)
    return mat


def pick(choices: Sequence[str | None], idx: np.ndarray) -> pa.Array:
    """choices[idx] as a string column (a None choice is a null)."""
    return pa.array(list(choices), type=pa.string()).take(pa.array(idx))


def pick_uniform(rng: np.random.Generator, choices: Sequence[str | None], n: int) -> pa.Array:
    """`n` of `choices`, equally likely."""
    return pick(choices, rng.integers(0, len(choices), n))


def null_where(arr: pa.Array, mask: np.ndarray) -> pa.Array:
    if not mask.any():
        return arr
    return pc.if_else(pa.array(mask), pa.scalar(None, arr.type), arr)


def replace_rows(arr: pa.Array, idx: np.ndarray, values: pa.Array | None) -> pa.Array:
    """`arr` with rows `idx` (ascending) replaced by `values` in order, or by nulls."""
    if idx.size == 0:
        return arr
    mask = np.zeros(len(arr), dtype=bool)
    mask[idx] = True
    if values is None:
        return null_where(arr, mask)
    return pc.replace_with_mask(arr, pa.array(mask), values)
