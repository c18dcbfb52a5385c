"""When people shop: relative order volume by day of the year (weekdays, festivals) and by hour of the day."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from tierflow.generate.dates import EPOCH, civil

# Orders by local hour: quiet at night, a lunch peak and a larger evening peak online.
HOURS_ONLINE = np.array(
    [
        [1.4, 0.7, 0.35, 0.2, 0.15, 0.2, 0.5, 1.2, 2.0, 3.0, 4.0, 5.0],  # 00:00-11:59
        [6.0, 5.2, 4.2, 3.8, 4.0, 4.5, 5.0, 6.2, 7.2, 6.8, 4.8, 2.6],  # 12:00-23:59
    ]
).ravel()
# Shops open 10:00-22:00.
HOURS_STORE = np.array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3.0, 4.5, 6.0, 5.5, 4.5, 4.5, 5.0, 5.5, 6.5, 7.0, 6.5, 4.0, 0, 0])
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


def season_weights(start: date, end: date) -> np.ndarray:
    """Relative order volume per window day, normalised to a mean of 1 over the year ending at `end`."""
    ref_start = end - timedelta(days=364)
    lo = min(start, ref_start)
    w = _raw_season(lo, end)
    ref = w[(ref_start - lo).days :]
    return w[(start - lo).days :] / ref.mean()


def _spring_festival(year: int) -> int:
    """Day number of Chinese New Year; outside the table, early February is close enough for a demo."""
    return (_CNY_DATES.get(year, date(year, 2, 5)) - EPOCH).days


def _raw_season(start: date, end: date) -> np.ndarray:
    days = np.arange((start - EPOCH).days, (end - EPOCH).days + 1, dtype=np.int64)
    _, mo, dd = civil(days)
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
    years = range(start.year, end.year + 1)
    for year in years:
        nov1 = date(year, 11, 1)
        black_friday = nov1 + timedelta(days=(4 - nov1.weekday()) % 7 + 21)
        bf = (black_friday - EPOCH).days
        boost(days == bf, 2.8)
        boost(days == bf + 3, 1.8)  # Cyber Monday
        cny = _spring_festival(year)
        # Stocking up before the Spring Festival, then a lull while shops and couriers rest.
        boost((days >= cny - 21) & (days < cny - 7), 1.6)
        boost((days >= cny - 7) & (days < cny - 1), 2.2)
    # The lull overrides every boost, so it goes on only once they all have.
    for year in years:
        cny = _spring_festival(year)
        promo = np.where((days >= cny - 1) & (days <= cny + 5), 0.55, promo)
    return w * promo
