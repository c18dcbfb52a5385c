"""The CRM profile extract: one row per customer who reached the CRM, with demographics and contact details.

Split into numbered files above PROFILES_PER_FILE rows.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tierflow.generate.catalogue import CITIES
from tierflow.generate.context import Run
from tierflow.generate.dates import EPOCH
from tierflow.generate.dirty import dirty_profiles
from tierflow.generate.sampling import choose
from tierflow.generate.text import digits, fixed, null_where, pick, pick_uniform
from tierflow.generate.writing import Writer

PROFILES_PER_FILE = 2_000_000

_HOUSEHOLD_EVERY = 12  # one customer pair in this many shares a household (pooled when the policy says so)
_P_NO_PROFILE = 0.01  # ordering customers whose profile never reached the CRM extract

# Spellings as they arrive from the CRM's free-text field; a mapping seed normalises them downstream.
_OCCUPATIONS: tuple[tuple[str | None, float], ...] = (
    ("Software Engineer", 6.0),
    ("software engineer ", 2.0),
    ("Software engineer", 1.0),
    ("Engineer", 4.0),
    ("engineer", 1.0),
    ("Teacher", 6.0),
    ("teacher", 2.0),
    ("Nurse", 3.0),
    ("Doctor", 2.0),
    ("doctor", 0.5),
    ("Student", 8.0),
    ("student", 3.0),
    ("Student ", 1.0),
    ("Retired", 5.0),
    ("retired", 1.0),
    ("Sales", 5.0),
    ("sales", 1.0),
    ("Civil servant", 4.0),
    ("civil servant", 1.0),
    ("Self-employed", 4.0),
    ("self employed", 1.0),
    ("Designer", 3.0),
    ("Accountant", 3.0),
    ("Manager", 4.0),
    ("Homemaker", 2.0),
    (None, 12.0),
)
_INTERESTS: tuple[str, ...] = (
    "running",
    "cooking",
    "travel",
    "photography",
    "reading",
    "gaming",
    "fitness",
    "music",
    "fashion",
    "skincare",
    "gardening",
    "tech",
)
_INTEREST_BASE_P = np.array([0.18, 0.22, 0.30, 0.12, 0.15, 0.14, 0.16, 0.20, 0.14, 0.12, 0.06, 0.12])
# The interest that goes with each favourite category (same order as CATEGORIES).
_CATEGORY_INTEREST = np.array([8, 9, 11, 1, 10, 0, 5, 4])
# Mainland mobile prefixes: +86 1xx.
_PHONE_PREFIXES = np.array(
    [
        130,
        131,
        132,
        133,
        135,
        136,
        137,
        138,
        139,
        150,
        151,
        152,
        155,
        156,
        158,
        159,
        176,
        177,
        180,
        181,
        182,
        186,
        187,
        188,
        189,
    ]
)
_EMAIL_DOMAINS: tuple[str, ...] = ("example.com", "example.cn", "example.net", "example.org")


def write_profiles(
    run: Run,
    has_orders: np.ndarray,
    end: date,
    folder: Path,
    writer: Writer,
    say: Callable[[str], None],
) -> int:
    """Write the profile files into `folder`; returns the number of rows written."""
    n = has_orders.size
    missing = has_orders & (run.rng.random(n) < _P_NO_PROFILE)
    rows = np.flatnonzero(~missing)
    chunks = max(1, -(-rows.size // PROFILES_PER_FILE))
    written = 0
    for i in range(chunks):
        part = rows[i * PROFILES_PER_FILE : (i + 1) * PROFILES_PER_FILE]
        table = _profiles_table(run, part, end)
        name = "profiles" if chunks == 1 else f"profiles_{i + 1:04d}"
        writer.write(table, folder / name)
        written += table.num_rows
        say(f"{name}: {table.num_rows:,} rows")
    return written


@functools.lru_cache(maxsize=1)
def _interest_lists() -> list[str | None]:
    """The `;`-joined interests for every bit set over _INTERESTS (4,096 strings, built once)."""
    return [
        ";".join(name for j, name in enumerate(_INTERESTS) if code >> j & 1) or None
        for code in range(1 << len(_INTERESTS))
    ]


def _households(number: np.ndarray, signup: pa.Array) -> dict[str, pa.Array]:
    """Every twelfth pair of neighbouring customers shares a household, since the later signup.

    Derived from the customer number, not drawn, so adding households left every other generated value as it was.
    """
    pair = number // 2
    alone = pair % _HOUSEHOLD_EVERY != 0
    household = pc.binary_join_element_wise("hh", pc.cast(pa.array(pair), pa.string()), "")
    return {"household_id": null_where(household, alone), "household_since": null_where(signup, alone)}


def _profiles_table(run: Run, rows: np.ndarray, end: date) -> pa.Table:
    """Profiles of the customers `rows` (customer number - 1), as of `end`."""
    rng, state = run.rng, run.customers
    n = rows.size
    end_day = (end - EPOCH).days
    age_years = np.clip(16 + rng.gamma(2.2, 8.0, n), 16.05, 79.9)
    birth = end_day - np.floor(age_years * 365.25).astype(np.int64)
    gender = choose(rng, np.array([0.52, 0.43, 0.05]), n)
    occ_w = np.array([w for _, w in _OCCUPATIONS])
    occupation = choose(rng, occ_w, n)

    p = np.broadcast_to(_INTEREST_BASE_P, (n, _INTEREST_BASE_P.size)).copy()
    p[np.arange(n), _CATEGORY_INTEREST[state.favourite[rows]]] += 0.35
    bits = rng.random(p.shape) < p
    interest_code = bits.astype(np.int64) @ (1 << np.arange(_INTEREST_BASE_P.size, dtype=np.int64))

    number = rows + 1
    email = pc.binary_join_element_wise(
        "user",
        pc.cast(pa.array(number), pa.string()),
        "@",
        pick_uniform(rng, _EMAIL_DOMAINS, n),
        "",
    )
    phone = np.empty((n, 17), dtype=np.uint8)
    phone[:] = np.frombuffer(b"+86 1xx xxxx xxxx", dtype=np.uint8)
    phone[:, 4:7] = digits(_PHONE_PREFIXES[rng.integers(0, _PHONE_PREFIXES.size, n)], 3)
    rest = digits(rng.integers(0, 100_000_000, n), 8)
    phone[:, 8:12] = rest[:, :4]
    phone[:, 13:17] = rest[:, 4:]

    city = state.city[rows]
    signup = run.epoch0 + state.signup_day[rows]
    values = run.values
    signup_dates = values.dates(signup)
    cols: dict[str, pa.Array] = {
        "customer_id": fixed(run.cid[rows]),
        "signup_date": signup_dates,
        "birth_date": null_where(values.dates(birth), rng.random(n) < 0.04),
        "gender": pick(("F", "M", None), gender),
        "region": pick([c.region for c in CITIES], city),
        "city": pick([c.name for c in CITIES], city),
        "occupation": pick([o for o, _ in _OCCUPATIONS], occupation),
        "interests": pick(_interest_lists(), interest_code),
        "email": null_where(email, rng.random(n) < 0.06),
        "phone": null_where(fixed(phone), rng.random(n) < 0.08),
        "marketing_opt_in": values.flags(rng.random(n) < 0.55),
        **_households(number, signup_dates),
    }
    dirty_profiles(run, cols, signup)
    return pa.table(cols)
