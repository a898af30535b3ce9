"""Simulated time: the demo's account on an accelerated clock, and a loop for simulations.

`SimulatedLoop` is a clock plus a heap of timers that jumps from one due callback to the next, so
hours of the real poller, gate and commands run in seconds (tests/test_request_budget.py,
bench/requests.py). The rest of this module is the demo's simulated account.

`claude-pulse --demo` serves this account from the in-package fake server and gives the app the
same simulated clock, so the countdowns, the pace maths and the usage all agree. By default one
real second is two simulated minutes (`CLAUDE_PULSE_DEMO_SPEED` = simulated seconds per real
second, default 120), and the story of the first two minutes is:

* the demo starts 3 h 18 min into a 5-hour session at 73 %; usage climbs 100 % per 4.5 h, so
  the session crosses 80 % after 18 simulated minutes (9 real seconds), 90 % after 45 min
  (23 s), 95 % after 59 min (29 s), 100 % after 72 min (36 s), and tops out at 103 % (over the
  limit, as real accounts in overage show);
* the session resets after 102 min (51 s) and climbs again from 0 %;
* the week starts half elapsed at 49 % used ("On track"); every session point adds 0.1 weekly
  points, so the week goes "Over budget" after about 40 min (20 s).

Everything is a pure function of the simulated time (`usage_at`), so it is tested without
sleeping; the wall clock enters only through `SimulatedClock`.
"""

from __future__ import annotations

import heapq
import itertools
import math
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

__all__ = [
    "DEFAULT_SPEED",
    "SPEED_ENV",
    "Scenario",
    "SimulatedAccount",
    "SimulatedClock",
    "SimulatedLoop",
    "speed_from_env",
]

SPEED_ENV = "CLAUDE_PULSE_DEMO_SPEED"
DEFAULT_SPEED = 120.0  # one real second = two simulated minutes
MAX_SPEED = 3600.0
SESSION = timedelta(hours=5)
WEEK = timedelta(days=7)


def speed_from_env(environ: Mapping[str, str] | None = None) -> float:
    """`CLAUDE_PULSE_DEMO_SPEED` if it is a number from 1 to 3600, else the default."""
    env = os.environ if environ is None else environ
    try:
        speed = float(env.get(SPEED_ENV, ""))
    except ValueError:
        return DEFAULT_SPEED
    return speed if math.isfinite(speed) and 1.0 <= speed <= MAX_SPEED else DEFAULT_SPEED


class SimulatedClock:
    """A UTC clock that starts at `start` and runs `speed` times faster than real time."""

    def __init__(self, start: datetime, speed: float = DEFAULT_SPEED, *,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self.start = start
        self.speed = speed
        self._monotonic = monotonic
        self._t0 = monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=(self._monotonic() - self._t0) * self.speed)


class SimulatedLoop:
    """A UTC clock that stands still until `run_until` moves it to the next due callback.

    It is the poller's `Scheduler` (`call_later`), its `post`, and its `Worker` (a job runs at
    the current simulated time, after whatever is already due): the whole app on one thread,
    in simulated time. Callbacks run in time order, ties in the order they were added.
    """

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self.now = start
        self._heap: list[tuple[datetime, int, Callable[[], None]]] = []
        self._seq = itertools.count()

    def __call__(self) -> datetime:
        return self.now

    def timestamp(self) -> float:
        """Epoch seconds, for clocks that want them (the fake server's)."""
        return self.now.timestamp()

    def at(self, when: datetime, fn: Callable[[], None]) -> Callable[[], None]:
        """Run `fn` at `when` (now, if that has passed); returns a cancel function."""
        cancelled = False

        def run() -> None:
            if not cancelled:
                fn()

        def cancel() -> None:
            nonlocal cancelled
            cancelled = True

        heapq.heappush(self._heap, (max(when, self.now), next(self._seq), run))
        return cancel

    def call_later(self, delay_s: float, fn: Callable[[], None]) -> Callable[[], None]:
        return self.at(self.now + timedelta(seconds=delay_s), fn)

    def post(self, fn: Callable[[], None]) -> None:
        self.at(self.now, fn)

    def submit(self, job: Callable[[], None]) -> None:
        self.post(job)

    def stop(self) -> None:
        """Nothing runs in the background, so there is nothing to stop."""

    def run_until(self, end: datetime) -> None:
        while self._heap and self._heap[0][0] <= end:
            when, _, fn = heapq.heappop(self._heap)
            self.now = when
            fn()
        self.now = max(self.now, end)


@dataclass(frozen=True)
class Scenario:
    """The account's story. Percentages are the server's (may exceed 100)."""

    into_session: timedelta = timedelta(hours=3, minutes=18)  # where the demo starts
    session_rate: float = 100.0 / 4.5  # session points per simulated hour
    session_cap: float = 103.0
    week_elapsed: float = 0.5  # fraction of the week gone at the start
    weekly_start: float = 49.0
    weekly_share: float = 0.1  # weekly points per session point
    opus_share: float = 0.3  # the Opus weekly limit, as a share of the weekly value


class SimulatedAccount:
    """Usage answers (the usage endpoint's JSON) for a scenario, at any simulated time."""

    def __init__(self, start: datetime, scenario: Scenario | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.start = start
        self.scenario = scenario or Scenario()
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        self._lock = threading.Lock()
        s = self.scenario
        self.session_origin = start - s.into_session  # the first session window's start
        self.week_origin = start - WEEK * s.week_elapsed

    def __call__(self) -> dict[str, Any]:
        """The answer now (the fake server calls this from its handler threads)."""
        with self._lock:
            return self.usage_at(self._clock())

    # ---- the pure model ----

    def session_at(self, now: datetime) -> tuple[float, datetime]:
        """Session utilization and its reset time."""
        index, into = self._session_position(now)
        return self._session_value(into), self.session_origin + SESSION * (index + 1)

    def weekly_at(self, now: datetime) -> tuple[float, datetime]:
        """Weekly utilization and its reset time."""
        weeks = max(0, math.floor((now - self.week_origin) / WEEK))
        week_start = self.week_origin + WEEK * weeks
        if now < self.start:
            # Before the demo began (a history for charts): a steady climb from the week's
            # start to where the story starts.
            share = max(0.0, (now - self.week_origin) / (self.start - self.week_origin))
            return self.scenario.weekly_start * share, week_start + WEEK
        used = self._total_session(now) - self._total_session(max(week_start, self.start))
        base = self.scenario.weekly_start if weeks == 0 else 0.0
        value = base + self.scenario.weekly_share * used
        return min(100.0, value), week_start + WEEK

    def usage_at(self, now: datetime) -> dict[str, Any]:
        session, session_reset = self.session_at(now)
        weekly, weekly_reset = self.weekly_at(now)
        opus = weekly * self.scenario.opus_share
        return {
            "five_hour": _window(session, session_reset),
            "seven_day": _window(weekly, weekly_reset),
            "seven_day_opus": _window(opus, weekly_reset),
            "seven_day_sonnet": None,
            "seven_day_oauth_apps": None,
            "extra_usage": {"is_enabled": False, "monthly_limit": None, "used_credits": None,
                            "utilization": None},
        }

    def _session_position(self, now: datetime) -> tuple[int, timedelta]:
        since = now - self.session_origin
        index = max(0, math.floor(since / SESSION))
        return index, since - SESSION * index

    def _session_value(self, into: timedelta) -> float:
        hours = into.total_seconds() / 3600
        return min(self.scenario.session_cap, max(0.0, self.scenario.session_rate * hours))

    def _total_session(self, now: datetime) -> float:
        """Session points used since the first window began (completed windows at their cap)."""
        index, into = self._session_position(now)
        return index * self._session_value(SESSION) + self._session_value(into)


def _window(utilization: float, resets_at: datetime) -> dict[str, Any]:
    # The server sends whole numbers as floats, and times with microseconds and an offset.
    return {"utilization": float(math.floor(utilization)), "resets_at": resets_at.isoformat()}
