"""Retries with exponential backoff for failures that may pass on their own (a database that is restarting, a
network blip). Only errors the caller marks as transient are retried: a quality-gate block or bad input
would fail the same way again, so they never are."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def backoff_seconds(attempt: int, base: float, cap: float = float("inf")) -> float:
    """The wait after failed attempt number `attempt` (from 1): base, 2×base, 4×base …, at most `cap`."""
    return min(cap, base * 2 ** (attempt - 1))


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
    for attempt in range(1, attempts):
        try:
            return action()
        except transient as exc:
            wait = backoff_seconds(attempt, base_seconds)
            log(f"attempt {attempt} of {attempts} failed: {exc}; retrying in {wait:g} s")
            sleep(wait)
    try:
        return action()
    except transient as exc:
        raise type(exc)(f"{exc} (after {attempts} attempt{'s' if attempts > 1 else ''})") from None
