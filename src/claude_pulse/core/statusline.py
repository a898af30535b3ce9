"""The `statusline` text for a parsed usage answer, and its few fixed lines.

What the line says, and Claude Code's feed with its sanity checks, are defined in `core.line`
(standard library only, so `fastline` can print the same line without loading `core.usage`);
this module gives them the `Usage` face the full path and the other surfaces use.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any

from claude_pulse.core.format import clock_time
from claude_pulse.core.line import (
    MAX_FEED_PERCENT,
    NO_DATA,
    OFFLINE,
    PREFIX,
    format_windows,
    from_claude_code,
)
from claude_pulse.core.line import line_facts as _line_facts
from claude_pulse.core.usage import Usage

__all__ = [
    "MAX_FEED_PERCENT",
    "NO_DATA",
    "OFFLINE",
    "PREFIX",
    "format_line",
    "from_claude_code",
    "line_facts",
    "problem_line",
    "rate_limited_line",
]

def format_line(usage: Usage, now: datetime, *, stale_age: timedelta | None = None,
                next_request: datetime | None = None, tz: tzinfo | None = None,
                hour24: bool = True) -> str:
    """The status line for `usage` at `now`; `stale_age` adds ``(stale …)``, and
    `next_request` (with it) ``, next 14:05``."""
    return format_windows(usage.session, usage.weekly, _binding(usage), now, stale_age=stale_age,
                          next_request=next_request, tz=tz, hour24=hour24)


def line_facts(usage: Usage) -> dict[str, Any] | None:
    """What `format_line` reads of `usage`, for `snapshot.json`'s ``"line"`` key: the fast
    path (`core.line.saved_line`) prints from it without this module's parser."""
    return _line_facts(usage.session, usage.weekly, _binding(usage))


def _binding(usage: Usage) -> tuple[str, float | None] | None:
    limit = usage.binding_limit()
    return None if limit is None else (limit.model or limit.label, limit.utilization)


def rate_limited_line(until: datetime, tz: tzinfo | None = None, *, hour24: bool = True) -> str:
    """No cached numbers during a 429 cooldown: say when we will try again."""
    return f"{PREFIX}: rate-limited until {clock_time(until, tz=tz, hour24=hour24)}"


def problem_line(reason: str) -> str:
    """A short hint for a failure with no cached numbers to show (`reason` is a few words)."""
    return f"{PREFIX}: {reason}"
