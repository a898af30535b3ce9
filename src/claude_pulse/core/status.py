"""What the app knows right now, as one immutable value the UI renders.

The poller produces a new `AppStatus` after every event; the tray icon, the Deep Dive window and
the tooltip are pure functions of it (see `core.viewmodel`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from claude_pulse.core.forecast import Forecast
    from claude_pulse.core.snapshot import Snapshot

__all__ = ["AppStatus", "Phase"]


class Phase(enum.Enum):
    SIGNED_OUT = enum.auto()  # no credentials; the user has to log in
    LOGGING_IN = enum.auto()  # browser opened, waiting for the callback
    LOGIN_FAILED = enum.auto()  # timeout / denied / port busy: offer Retry
    LOADING = enum.auto()  # first fetch under way, nothing to show yet
    OK = enum.auto()  # fresh numbers
    RATE_LIMITED = enum.auto()  # 429 or hourly ceiling: last numbers, stale, next try shown
    SERVER_ERROR = enum.auto()  # 5xx / bad body: backing off, last numbers stale
    OFFLINE = enum.auto()  # no network: last numbers stale, retrying calmly
    REAUTH = enum.auto()  # refresh token rejected or scope missing: log in again


@dataclass(frozen=True)
class AppStatus:
    phase: Phase
    snapshot: Snapshot | None = None  # last good numbers (may be stale)
    next_try: datetime | None = None  # when the next request is planned
    message: str | None = None  # one line for the user about the current problem
    account: str | None = None  # email, when known
    login_expires_at: datetime | None = None  # when the login itself ends, when known
    session_forecast: Forecast | None = None
    weekly_forecast: Forecast | None = None
    # Recorded (time, percent) samples of the current windows, for the charts.
    session_history: tuple[tuple[datetime, float], ...] = ()
    weekly_history: tuple[tuple[datetime, float], ...] = ()

    @property
    def is_stale(self) -> bool:
        """The numbers on screen are not fresh (an error since the last good fetch)."""
        return self.phase not in (Phase.OK, Phase.LOADING) and self.snapshot is not None
