"""Where usage is heading, from the recent burn rate (issue 7)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["Forecast"]


@dataclass(frozen=True)
class Forecast:
    """`hits_limit_at` is None when the current pace does not reach 100% before the reset."""

    hits_limit_at: datetime | None
    rate_per_hour: float | None  # percentage points per hour over the recent past
