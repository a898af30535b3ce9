"""The shared request gate: one record, in the home folder, of every usage request.

The usage endpoint allows a client that is not Claude Code roughly 28-30 requests per trailing
hour (research/protocol-2026-update.md), and the tray app, `status`, `statusline` and Refresh
now may all run at once. So every process asks this gate before calling the usage endpoint,
under a file lock:

* **429 cooldown**: after a 429 nobody calls until max(Retry-After, 300 s) + 15 min has passed
  (20 min after `Retry-After: 0`, 75 min after `Retry-After: 3600`): most blocks that lapsed
  were renewed within 15 minutes when a client called again at once. Cooldowns in a row (a 429
  during the probation hour after the last one) double each time — 20, 40, 80 min … at most
  6 h — and the count starts over after a clean probation hour. A token refresh or a new login
  no longer ends a cooldown: the `Retry-After: 3600` block can hold the whole account, so a
  fresh token does not escape it (research/protocol-2026-update.md).
* **Probation**: for the hour after a cooldown ends, at least `PROBATION_SPACING_S` (360 s)
  between requests.
* **Hourly budget**: at most `max_requests_per_hour` (default 20) usage requests in any rolling
  hour, all processes together. At the default 180 s poll the tray alone uses the whole budget
  (3600 / 180 = 20), so `statusline` and `status` share the tray's numbers instead of adding
  their own. Past the budget the gate refuses with `BudgetExhausted` and says when the next
  request is allowed (`next_allowed`), which the tray plans around. The probation spacing is
  refused the same way.
* **Spacing** (optional): a caller such as `statusline` may ask "only if nobody fetched in the last
  N seconds", which makes concurrent callers share one fetch instead of each making their own.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from claude_pulse.atomic import read_json, write_json_atomic
from claude_pulse.core.format import clock_time
from claude_pulse.errors import BudgetExhausted, CooldownActive, StorageError

__all__ = [
    "COOLDOWN_MIN_S",
    "DEFAULT_BUDGET",
    "PROBATION_S",
    "PROBATION_SPACING_S",
    "GateBusy",
    "GateState",
    "RequestGate",
    "cooldown_seconds",
]

log = logging.getLogger(__name__)

DEFAULT_BUDGET = 20  # config.Config.max_requests_per_hour's default
COOLDOWN_MIN_S = 300.0
# Added to every cooldown: 20 of 35 blocks that lapsed were renewed within 900 s of their
# deadline, each for another hour (claude-swap's RETRY_AFTER_MARGIN_S).
COOLDOWN_MARGIN_S = 900.0
# No cooldown lasts longer, however long Retry-After or the run of 429s: a broken header must
# not silence the app for days.
COOLDOWN_MAX_S = 6 * 3600.0
PROBATION_S = 3600.0  # after a cooldown ends
PROBATION_SPACING_S = 360.0  # between requests during probation: 10 an hour at most
_HOUR = 3600.0


def cooldown_seconds(retry_after: float | None, strikes: int = 0) -> float:
    """The cooldown after a 429: max(Retry-After, 300 s) + 15 min, doubled for each cooldown
    in a row before it (`strikes`), at most 6 h. `Retry-After: 0` (seen in the wild) gives
    20 minutes."""
    hint = retry_after if retry_after and retry_after > 0 else 0.0
    base = min(COOLDOWN_MAX_S, max(COOLDOWN_MIN_S, hint) + COOLDOWN_MARGIN_S)
    return float(min(COOLDOWN_MAX_S, base * 2 ** min(strikes, 16)))


@dataclass
class GateState:
    requests: list[float] = field(default_factory=list)  # epoch seconds, last hour only
    cooldown_until: float = 0.0
    probation_until: float = 0.0  # the hour after the cooldown: requests spaced out
    strikes: int = 0  # cooldowns in a row (each 429 during a probation hour adds one)

    @classmethod
    def from_json(cls, data: Any) -> GateState:
        if not isinstance(data, dict):
            return cls()
        reqs = data.get("requests", [])
        strikes = data.get("strikes", 0)
        return cls(
            [float(r) for r in reqs if _is_number(r)] if isinstance(reqs, list) else [],
            _number(data.get("cooldown_until")),
            _number(data.get("probation_until")),
            min(int(strikes), 16) if _is_number(strikes) and strikes > 0 else 0,
        )

    def to_json(self) -> dict[str, Any]:
        return {"requests": self.requests, "cooldown_until": self.cooldown_until,
                "probation_until": self.probation_until, "strikes": self.strikes}


class GateBusy(StorageError):
    """Another process held the gate's lock for longer than the caller would wait."""


class RequestGate:
    def __init__(self, path: Path, lock_path: Path,
                 budget: Callable[[], int] = lambda: DEFAULT_BUDGET,
                 hour24: Callable[[], bool] = lambda: True) -> None:
        self.path = path
        self._lock = FileLock(str(lock_path), timeout=10, mode=0o600)
        self._budget = budget  # read at each request: the setting may change meanwhile
        self._hour24 = hour24  # the `clock_format` setting, for the times it says

    @property
    def budget(self) -> int:
        return self._budget()

    def peek(self) -> GateState:
        """The record as it is now (no lock; for display)."""
        return self._read()

    def cooldown_until(self, now: datetime) -> datetime | None:
        until = self._read().cooldown_until
        return _dt(until) if until > now.timestamp() else None

    def refusal(self, now: datetime) -> CooldownActive | None:
        """What `acquire` would refuse with now, or None (no lock: a hint for planning)."""
        return self._refusal(self._read(), now.timestamp())

    def next_allowed(self, now: datetime) -> datetime:
        """The earliest time a request would be let through (`now` if it would be now)."""
        refused = self.refusal(now)
        return max(now, refused.until) if refused is not None else now

    def acquire(self, now: datetime, min_spacing_s: float | None = None, *,
                wait_s: float | None = None) -> bool:
        """Reserve one usage request now.

        Returns False when `min_spacing_s` is given and another request happened within it (the
        caller should use the shared snapshot instead); with `wait_s`, also when another process
        holds the lock for longer than that (the status line must not hang for the lock's 10 s).
        Raises CooldownActive during a 429 cooldown, BudgetExhausted when the hour's budget is
        spent.
        """
        try:
            return self._acquire(now, min_spacing_s, wait_s)
        except GateBusy as exc:
            if wait_s is None:
                raise
            log.info("%s", exc)
            return False

    def _acquire(self, now: datetime, min_spacing_s: float | None,
                 wait_s: float | None) -> bool:
        t = now.timestamp()
        with self._locked(wait_s):
            state = self._read()
            refused = self._refusal(state, t)
            if refused is not None:
                raise refused
            state.requests = _recent(state.requests, t)
            if min_spacing_s is not None and state.requests and \
                    t - state.requests[-1] < min_spacing_s:
                return False
            state.requests.append(t)
            self._write(state)
        return True

    def cooldown(self, until: datetime, now: datetime) -> CooldownActive:
        """The refusal a 429 cooldown until `until` gives (the one wording, for the 429 itself
        and for every request refused during it)."""
        return CooldownActive(
            f"rate-limited by Anthropic; next request at {self._at(until, now)}", until)

    def _at(self, until: datetime, now: datetime) -> str:
        # "14:05" or "2:05 PM" (the clock_format setting); "Fri 14:05" when not today.
        return clock_time(until, now, hour24=self._hour24())

    def _refusal(self, state: GateState, t: float) -> CooldownActive | None:
        def at(until: datetime) -> str:
            return self._at(until, _dt(t))

        if state.cooldown_until > t:
            return self.cooldown(_dt(state.cooldown_until), _dt(t))
        recent = _recent(state.requests, t)
        refusals = []
        if t < state.probation_until and recent and t - recent[-1] < PROBATION_SPACING_S:
            until = _dt(recent[-1] + PROBATION_SPACING_S)
            refusals.append(BudgetExhausted(
                f"one request per {PROBATION_SPACING_S / 60:g} min for an hour after a 429; "
                f"next request at {at(until)}", until))
        budget = self.budget
        if len(recent) >= budget:
            # The request that must leave the rolling hour before one more fits.
            until = _dt(recent[len(recent) - budget] + _HOUR)
            refusals.append(BudgetExhausted(
                f"request budget ({budget} per hour) used up; next request at {at(until)}",
                until))
        return max(refusals, key=lambda r: r.until, default=None)

    def note_request(self, now: datetime) -> None:
        """Count a request the gate did not let through itself (the one retry after a refresh:
        it is sent whatever the budget says, but the hour's count must include it)."""
        try:
            with self._locked():
                state = self._read()
                state.requests = [*_recent(state.requests, now.timestamp()), now.timestamp()]
                self._write(state)
        except StorageError as exc:
            log.warning("%s", exc)

    def note_rate_limited(self, now: datetime, retry_after: float | None) -> datetime:
        """Start (or extend) the shared cooldown after a 429; returns when it ends."""
        t = now.timestamp()
        try:
            with self._locked():
                state = self._read()
                _start_cooldown(state, t, retry_after)
                self._write(state)
                return _dt(state.cooldown_until)
        except StorageError as exc:  # this process still honours the cooldown
            log.warning("%s", exc)
            return _dt(t + cooldown_seconds(retry_after))

    @contextmanager
    def _locked(self, wait_s: float | None = None) -> Iterator[None]:
        waited = self._lock.timeout if wait_s is None else wait_s
        try:
            self._lock.acquire(timeout=waited)
        except Timeout:
            raise GateBusy(
                f"Another Claude Pulse process has held {self._lock.lock_file} for "
                f"{waited:g} s; try again shortly (or end that process)."
            ) from None
        except OSError as exc:  # the lock file cannot be created (read-only home, …)
            raise StorageError(
                f"Cannot lock {self._lock.lock_file} ({exc.strerror or exc}); check that the "
                "folder is writable."
            ) from None
        try:
            yield
        finally:
            self._lock.release()

    def _read(self) -> GateState:
        try:
            return GateState.from_json(read_json(self.path))
        except FileNotFoundError:
            return GateState()
        except (OSError, ValueError) as exc:
            log.warning("request record %s unreadable (%s); starting a new one", self.path, exc)
            return GateState()

    def _write(self, state: GateState) -> None:
        # Best effort: a record we cannot save (disk full, a file in use) must not turn a
        # request into an error; the next write catches up.
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_json_atomic(self.path, state.to_json())
        except OSError as exc:
            log.warning("could not save the request record %s (%s)", self.path,
                        exc.strerror or exc)


def _start_cooldown(state: GateState, t: float, retry_after: float | None) -> None:
    if t < state.cooldown_until:
        # A request that passed the gate before another process recorded the 429: the same
        # block, not a new one.
        strikes = max(0, state.strikes - 1)
    elif t < state.probation_until:
        strikes = state.strikes  # blocked again within the hour: wait longer this time
    else:
        strikes = 0  # a clean hour since the last cooldown (or none ever): start over
    until = t + cooldown_seconds(retry_after, strikes)
    state.cooldown_until = max(state.cooldown_until, until)
    state.probation_until = state.cooldown_until + PROBATION_S
    state.strikes = strikes + 1


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _number(v: Any) -> float:
    return float(v) if _is_number(v) else 0.0


def _recent(requests: list[float], t: float) -> list[float]:
    """The requests of the rolling hour up to `t` (a little ahead too: clocks of processes
    differ by the time a fetch takes)."""
    return sorted(r for r in requests if t - _HOUR < r <= t + 60)


def _dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=timezone.utc)


