"""Retries with exponential backoff for failures that may pass on their own (a database that is restarting, a
network blip). Only errors the caller marks as transient are retried: a quality-gate block or bad input
would fail the same way again, so they never are."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def with_backoff(
    action: Callable[[], T],
    *,
    transient: type[BaseException] | tuple[type[BaseException], ...],
    attempts: int,
    base_seconds: float,
    log: Callable[[str], None] = lambda _: None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call `action` up to `attempts` times, waiting base, 2×base, 4×base … seconds after each transient
    failure; the last failure is raised with the number of attempts added to its message."""
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except transient as exc:
            if attempt == attempts:
                raise type(exc)(f"{exc} (after {attempts} attempt{'s' if attempts > 1 else ''})") from None
            wait = base_seconds * 2 ** (attempt - 1)
            log(f"attempt {attempt} of {attempts} failed: {exc}; retrying in {wait:g} s")
            sleep(wait)
    raise AssertionError("unreachable")
