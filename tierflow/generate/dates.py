"""Day arithmetic: the calendar months a window spans and the civil dates of day numbers.

Days are int64 counts since 1970-01-01 throughout, so whole columns convert with numpy in one step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

DAY_S = 86_400
EPOCH = date(1970, 1, 1)
# The generator writes wall-clock times of the default policy's zone, Asia/Shanghai: no daylight saving since
# 1991, so a fixed offset converts local wall time to UTC exactly.
POLICY_UTC_OFFSET_S = 8 * 3600


@dataclass(frozen=True)
class Month:
    year: int
    month: int
    lo: int  # first window day index of the month (inclusive)
    hi: int  # window day index after the month's last day (exclusive)

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def window_months(start: date, end: date) -> list[Month]:
    """The calendar months from `start` to `end`, clipped to the window (one landing file each)."""
    out: list[Month] = []
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        first = date(y, m, 1)
        nxt = date(y + (m == 12), m % 12 + 1, 1)
        lo = max((first - start).days, 0)
        hi = min((nxt - start).days, (end - start).days + 1)
        out.append(Month(y, m, lo, hi))
        y, m = nxt.year, nxt.month
    return out


def civil(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month, day) of days since 1970-01-01."""
    if days.size > 4096:
        # Many rows, few distinct days: convert the range once and look the rows up.
        first = int(days.min())
        span = int(days.max()) - first + 1
        if span * 4 < days.size:
            y, mo, d = civil(np.arange(first, first + span, dtype=np.int64))
            at = days - first
            return y[at], mo[at], d[at]
    d = days.astype("datetime64[D]")
    months = d.astype("datetime64[M]")
    year = d.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (d - months.astype("datetime64[D]")).astype(np.int64) + 1
    return year, month, day


def in_year(days: np.ndarray, year: int) -> np.ndarray:
    """The same month and day in `year` (29 February becomes the 28th), as days since 1970-01-01."""
    _, mo, d = civil(days)
    d = np.where((mo == 2) & (d == 29), 28, d)
    months = np.asarray((year - 1970) * 12 + mo - 1, dtype="datetime64[M]")
    return months.astype("datetime64[D]").astype(np.int64) + d - 1


def wall_clock_in_year(secs: np.ndarray, year: int) -> np.ndarray:
    """Wall-clock seconds since 1970 moved to the same moment of the same day in `year`."""
    days, sod = np.divmod(secs, DAY_S)
    return in_year(days, year) * DAY_S + sod
