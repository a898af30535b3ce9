"""The shared request gate: one record, in the home folder, of every usage request.

The usage endpoint allows a client that is not Claude Code roughly 28-30 requests per trailing
hour (research/protocol-2026-update.md), and the tray app, `status`, `statusline` and Refresh
now may all run at once. So every process asks this gate before calling the usage endpoint,
under a file lock:

* **429 cooldown**: after a 429 nobody calls until max(Retry-After, 300 s) has passed.
* **Hourly budget**: at most `max_requests_per_hour` (default 20) usage requests in any rolling
  hour, all processes together. At the default 180 s poll the tray alone uses the whole budget
  (3600 / 180 = 20), so `statusline` and `status` share the tray's numbers instead of adding
  their own. Past the budget the gate refuses with `BudgetExhausted` and says when the next
  request is allowed (`next_allowed`), which the tray plans around.
* **Spacing** (optional): a caller such as `statusline` may ask "only if nobody fetched in the last
  N seconds", which makes concurrent callers share one fetch instead of each making their own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from claude_pulse.atomic import read_json, write_json_atomic
from claude_pulse.errors import BudgetExhausted, CooldownActive, StorageError

__all__ = [
    "COOLDOWN_MIN_S",
    "DEFAULT_BUDGET",
    "GateState",
    "RequestGate",
    "cooldown_seconds",
]

log = logging.getLogger(__name__)

DEFAULT_BUDGET = 20  # config.Config.max_requests_per_hour's default
COOLDOWN_MIN_S = 300.0
# Retry-After values beyond this are treated as this: a broken header must not silence the app
# for days, and a fresh token (after refresh or login) gets a fresh bucket anyway.
COOLDOWN_MAX_S = 6 * 3600.0
_HOUR = 3600.0


def cooldown_seconds(retry_after: float | None) -> float:
    """max(Retry-After, 300 s), capped; `retry-after: 0` (seen in the wild) means 300 s."""
    hint = retry_after if retry_after and retry_after > 0 else 0.0
    return min(COOLDOWN_MAX_S, max(COOLDOWN_MIN_S, hint))


@dataclass
class GateState:
    requests: list[float] = field(default_factory=list)  # epoch seconds, last hour only
    cooldown_until: float = 0.0

    @classmethod
    def from_json(cls, data: Any) -> GateState:
        if not isinstance(data, dict):
            return cls()
        reqs = data.get("requests", [])
        until = data.get("cooldown_until", 0.0)
        return cls(
            [float(r) for r in reqs if isinstance(r, (int, float))] if isinstance(reqs, list)
            else [],
            float(until) if isinstance(until, (int, float)) else 0.0,
        )

    def to_json(self) -> dict[str, Any]:
        return {"requests": self.requests, "cooldown_until": self.cooldown_until}


class RequestGate:
    def __init__(self, path: Path, lock_path: Path,
                 budget: Callable[[], int] = lambda: DEFAULT_BUDGET) -> None:
        self.path = path
        self._lock = FileLock(str(lock_path), timeout=10, mode=0o600)
        self._budget = budget  # read at each request: the setting may change meanwhile

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

    def acquire(self, now: datetime, min_spacing_s: float | None = None) -> bool:
        """Reserve one usage request now.

        Returns False when `min_spacing_s` is given and another request happened within it (the
        caller should use the shared snapshot instead). Raises CooldownActive during a 429
        cooldown, BudgetExhausted when the hour's budget is spent.
        """
        t = now.timestamp()
        with self._locked():
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

    def _refusal(self, state: GateState, t: float) -> CooldownActive | None:
        if state.cooldown_until > t:
            until = _dt(state.cooldown_until)
            return CooldownActive(
                f"rate-limited by Anthropic; next request at {_local(until)}", until)
        recent = _recent(state.requests, t)
        budget = self.budget
        if len(recent) >= budget:
            # The request that must leave the rolling hour before one more fits.
            until = _dt(recent[len(recent) - budget] + _HOUR)
            return BudgetExhausted(
                f"request budget ({budget} per hour) used up; next request at {_local(until)}",
                until)
        return None

    def note_rate_limited(self, now: datetime, retry_after: float | None) -> datetime:
        """Start (or extend) the shared cooldown after a 429; returns when it ends."""
        until = now.timestamp() + cooldown_seconds(retry_after)
        try:
            with self._locked():
                state = self._read()
                state.cooldown_until = max(state.cooldown_until, until)
                self._write(state)
                return _dt(state.cooldown_until)
        except StorageError as exc:  # this process still honours the cooldown
            log.warning("%s", exc)
            return _dt(until)

    def clear_cooldown(self) -> None:
        """A new token gets a new rate-limit bucket (protocol.md §3.6): forget the cooldown."""
        try:
            with self._locked():
                state = self._read()
                if state.cooldown_until:
                    state.cooldown_until = 0.0
                    self._write(state)
        except StorageError as exc:
            log.warning("%s", exc)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            self._lock.acquire()
        except Timeout:
            raise StorageError(
                f"Another Claude Pulse process has held {self._lock.lock_file} for "
                f"{self._lock.timeout:g} s; try again shortly (or end that process)."
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


def _recent(requests: list[float], t: float) -> list[float]:
    """The requests of the rolling hour up to `t` (a little ahead too: clocks of processes
    differ by the time a fetch takes)."""
    return sorted(r for r in requests if t - _HOUR < r <= t + 60)


def _dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=timezone.utc)


def _local(when: datetime) -> str:
    return when.astimezone().strftime("%H:%M")


