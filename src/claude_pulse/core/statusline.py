"""The `statusline` text, and Claude Code's status-line JSON turned into a usage answer.

The line, e.g. ``5h 42% · resets 1h12m · 7d 68% ▲``:

* ``5h N%`` — the session window, rounded down as every surface does (`core.format`); then
  ``resets XhYm`` (time left in the compact form, rounded down; ``<1m`` in the last minute). A
  window whose reset time has passed shows ``5h reset``: its number belongs to the previous
  window.
* ``7d N%`` — the weekly window, followed by ``▲`` when it is over budget (used % above elapsed
  % of the week, as in the tray) and by nothing when on track: the line stays short in the
  normal case and the arrow stands out when it matters.
* ``locked`` after a window's number when the server says it is locked (``locked_reason``).
* ``Fable 100%`` when a per-model weekly limit is above the weekly window: it binds first.
* A window the server did not send, or sent with a null value, is left out.
* ``(stale 12m)`` at the end when the numbers are cached ones we could not refresh; the age is
  how old the numbers are. During a 429 cooldown or with the hourly request budget spent it
  also says when the next request may go: ``(stale 12m, next 14:05)``.

Claude Code's feed (design.md §3): a JSON object on stdin which, for subscribers and after the
session's first API response, carries ``rate_limits.five_hour``/``seven_day`` with
``used_percentage`` (number) and ``resets_at`` (Unix epoch seconds). It is converted to the usage
endpoint's own shape so the snapshot file and the parser stay the same for every source.

The feed is sanity-checked (issue #18 item 6): an entry whose ``used_percentage`` is not a number
in 0-1000, or whose ``resets_at`` is not a time within the window's length (+1 day) of now, is
ignored — a real Claude Code release once put the epoch time into ``used_percentage``
(claude-code #52326).
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

from claude_pulse.core.format import WindowState, age, clock_time, percent, resets_phrase
from claude_pulse.core.format import window_state as state_of
from claude_pulse.core.pace import SESSION_WINDOW, WEEK_WINDOW, elapsed_percent, is_over_budget
from claude_pulse.core.usage import Usage, parse_timestamp
from claude_pulse.errors import BadResponse

__all__ = [
    "NO_DATA",
    "OFFLINE",
    "PREFIX",
    "format_line",
    "from_claude_code",
    "problem_line",
    "rate_limited_line",
]

PREFIX = "Claude Pulse"
OFFLINE = f"{PREFIX}: offline"
NO_DATA = f"{PREFIX}: no usage data yet"
_SEP = " · "
OVER_BUDGET = "▲"

# The two windows Claude Code reports: the usage endpoint's name for each, and its length.
_FEED_KEYS = {"five_hour": ("five_hour", SESSION_WINDOW), "seven_day": ("seven_day", WEEK_WINDOW)}
# The highest used_percentage taken as real (overage goes past 100, never this far).
MAX_FEED_PERCENT = 1000.0
_SLACK = timedelta(days=1)
# Epoch values above this are taken as milliseconds (year 5138 in seconds), in case a version
# of Claude Code ever sends JavaScript's Date.now() style.
_MS_THRESHOLD = 1e11


def from_claude_code(text: str | bytes, now: datetime | None = None) -> dict[str, Any] | None:
    """The usage-endpoint-shaped dict from Claude Code's stdin JSON, or None.

    None when the input is not a JSON object, has no ``rate_limits``, or neither window passes
    the sanity checks (with `now`, also the reset time's). Never raises: bad input just means
    "use the cache".
    """
    try:
        payload = json.loads(text)
    except (ValueError, TypeError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    limits = payload.get("rate_limits") if isinstance(payload, dict) else None
    if not isinstance(limits, dict):
        return None
    out: dict[str, Any] = {}
    for feed_key, (server_key, length) in _FEED_KEYS.items():
        window = limits.get(feed_key)
        if not isinstance(window, dict):
            continue
        used = window.get("used_percentage")
        if isinstance(used, bool) or not isinstance(used, (int, float)) or \
                not 0 <= used <= MAX_FEED_PERCENT:  # also false for NaN
            continue
        raw_reset = window.get("resets_at")
        resets = _epoch_to_iso(raw_reset)
        if raw_reset is not None and (resets is None or not _plausible(resets, length, now)):
            continue
        out[server_key] = {"utilization": float(used), "resets_at": resets}
    return out or None


def _plausible(resets: str, length: timedelta, now: datetime | None) -> bool:
    if now is None:
        return True
    when = datetime.fromisoformat(resets)
    return abs(when - now) <= length + _SLACK


def _epoch_to_iso(value: Any) -> str | None:
    if isinstance(value, str):  # not what Claude Code sends today, but cheap to accept
        try:
            parsed = parse_timestamp(value)
        except BadResponse:
            return None
        return parsed.isoformat() if parsed else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    seconds = value / 1000.0 if value > _MS_THRESHOLD else float(value)
    try:
        return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat()
    except (OverflowError, OSError, ValueError):
        return None


def format_line(usage: Usage, now: datetime, *, stale_age: timedelta | None = None,
                next_request: datetime | None = None, tz: tzinfo | None = None,
                hour24: bool = True) -> str:
    """The status line for `usage` at `now`; `stale_age` adds ``(stale …)``, and
    `next_request` (with it) ``, next 14:05``."""
    parts: list[str] = []
    for name, window in (("5h", usage.session), ("7d", usage.weekly)):
        state = state_of(window, now)
        if window is None or state is WindowState.UNKNOWN:
            continue
        if state is WindowState.RESET_PASSED:
            parts.append(f"{name} {resets_phrase(window, now, compact=True)}")
            continue
        text = f"{name} {percent(window.utilization)}"
        if window.locked_reason is not None:
            text += " locked"
        if name == "7d":
            elapsed = elapsed_percent(window.resets_at, WEEK_WINDOW, now)
            if is_over_budget(window.utilization, elapsed):
                text += f" {OVER_BUDGET}"
            parts.append(text)
            continue
        parts.append(text)
        if window.resets_at is not None:
            parts.append(resets_phrase(window, now, compact=True))
    binding = usage.binding_limit()
    if binding is not None:  # a per-model cap above the week binds first
        parts.append(f"{binding.model or binding.label} {percent(binding.utilization)}")
    if not parts:
        return NO_DATA
    line = _SEP.join(parts)
    if stale_age is not None:
        nxt = "" if next_request is None else \
            f", next {clock_time(next_request, now, tz=tz, hour24=hour24)}"
        line += f" (stale {age(stale_age, compact=True)}{nxt})"
    return line


def rate_limited_line(until: datetime, tz: tzinfo | None = None, *, hour24: bool = True) -> str:
    """No cached numbers during a 429 cooldown: say when we will try again."""
    return f"{PREFIX}: rate-limited until {clock_time(until, tz=tz, hour24=hour24)}"


def problem_line(reason: str) -> str:
    """A short hint for a failure with no cached numbers to show (`reason` is a few words)."""
    return f"{PREFIX}: {reason}"
