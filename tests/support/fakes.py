"""Stand-ins for the seams the poller takes: a settable clock, a scheduler, a notifier.

Time only moves when a test moves it (or fires a timer), so schedules can be asserted exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from claude_pulse.core.alerts import Alert

__all__ = ["Clock", "FakeScheduler", "RecordingNotifier"]


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now


class FakeScheduler:
    """Pending timers in a list; `fire_next` moves the clock to the earliest and runs it."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.timers: list[tuple[datetime, int, Callable[[], None]]] = []
        self._seq = 0

    def call_later(self, delay_s: float, fn: Callable[[], None]) -> Callable[[], None]:
        self._seq += 1
        entry = (self.clock.now + timedelta(seconds=delay_s), self._seq, fn)
        self.timers.append(entry)
        return lambda: self.timers.remove(entry) if entry in self.timers else None

    def next_delay(self) -> float | None:
        if not self.timers:
            return None
        return (min(self.timers)[0] - self.clock.now).total_seconds()

    def fire_next(self) -> None:
        entry = min(self.timers)
        self.timers.remove(entry)
        self.clock.now = max(self.clock.now, entry[0])
        entry[2]()


class RecordingNotifier:
    def __init__(self) -> None:
        self.sent: list[Alert] = []

    def notify(self, alert: Alert) -> None:
        self.sent.append(alert)
