"""Time and pace math for the two windows (spec §5.3-5.4), as pure functions of `now`."""

from __future__ import annotations

from datetime import datetime, timedelta

__all__ = [
    "SESSION_WINDOW",
    "WEEK_WINDOW",
    "elapsed_percent",
    "is_over_budget",
]

SESSION_WINDOW = timedelta(hours=5)
WEEK_WINDOW = timedelta(days=7)


def elapsed_percent(resets_at: datetime | None, window: timedelta, now: datetime) -> float | None:
    """How much of the window has passed, 0-100; None when the reset time is unknown.

    A reset time already in the past (stale data, clock skew) reads as 100: the window is over.
    One more than a window away reads as 0.
    """
    if resets_at is None:
        return None
    remaining = (resets_at - now).total_seconds()
    elapsed = window.total_seconds() - remaining
    return max(0.0, min(100.0, elapsed / window.total_seconds() * 100.0))


def is_over_budget(used_percent: float | None, elapsed: float | None) -> bool:
    """True when usage runs ahead of time: used / elapsed > 1 (spec §5.4).

    At 0% elapsed any usage at all is ahead of time. Unknown values are never over budget.
    """
    if used_percent is None or elapsed is None:
        return False
    if elapsed <= 0:
        return used_percent > 0
    return used_percent / elapsed > 1.0

