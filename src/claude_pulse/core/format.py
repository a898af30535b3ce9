"""Every number, duration and time a user reads, formatted in one place, the same on every surface.

* Durations come in two forms, chosen per surface on purpose: **long** ("2h 13m", "3d 4h") where
  there is room — the window, the tooltip, `status`, notifications — and **compact** ("2h13m",
  "3d4h") for Claude Code's status line, where every character counts. Both round down and drop
  a zero second unit ("2h", not "2h 0m").
* Percents round **down** everywhere, so "100%" appears only once the limit is really reached
  and 94.6 never reads as "95%" beside a 95% alert that has not fired. Values above 100 are
  shown as the server sent them ("104%").
* Clock times follow the `clock_format` setting (24 h "14:05", or 12 h "2:05 PM"), with the
  weekday when the moment is on another day ("Fri 14:05").
* `window_state` is the one answer to "is this window's number current?": a window whose reset
  time has passed holds the previous window's number, so no surface shows it as current usage.

Pure: `now` and the time zone are parameters.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

# The pieces the status line uses too live in core.line (standard library only, for its fast
# path): one definition, re-exported here for every other surface.
from claude_pulse.core.line import (
    DASH,
    WindowState,
    age,
    clock_time,
    duration,
    percent,
    resets_phrase,
    window_state,
)

__all__ = [
    "DASH",
    "LOGIN_WARN_BEFORE",
    "ON_TRACK",
    "OVER_BUDGET",
    "TOOLTIP_MAX",
    "WindowState",
    "age",
    "clip_tooltip",
    "clock_time",
    "days_left",
    "duration",
    "locked_phrase",
    "login_expiry",
    "money",
    "percent",
    "resets_phrase",
    "window_state",
]

OVER_BUDGET = "Over budget"
ON_TRACK = "On track"
TOOLTIP_MAX = 127  # Windows cuts tray tooltips at 128 characters including the NUL
_CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


def money(minor: float, currency: str, decimal_places: int = 2) -> str:
    """An amount in minor units as the usage endpoint reports it, with `decimal_places` digits
    to the unit (2: cents → "$408.43"; 0: "¥408")."""
    amount = f"{minor / 10 ** decimal_places:,.{decimal_places}f}"
    symbol = _CURRENCY_SYMBOLS.get(currency.upper())
    return f"{symbol}{amount}" if symbol else f"{amount} {currency}"


def locked_phrase(reason: str) -> str:
    """"locked (spend limit reached)"; just "locked" when that is all the server said."""
    return "locked" if reason == "locked" else f"locked ({reason})"


# Month names without the locale (%b differs by locale and may not be ASCII).
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# From this close to the end the login's expiry is a countdown, and the app warns.
LOGIN_WARN_BEFORE = timedelta(days=3)


def login_expiry(expires_at: datetime, now: datetime, tz: tzinfo | None = None) -> str:
    """"Login renews until 29 Dec" while more than 3 days are left, then "Login expires in
    2 days" / "in 1 day" / "in 5h 10m", and "Login expired". `tz` None: the local zone."""
    left = expires_at - now
    if left <= timedelta(0):
        return "Login expired"
    if left > LOGIN_WARN_BEFORE:
        local = expires_at.astimezone(tz)
        return f"Login renews until {local.day} {_MONTHS[local.month - 1]}"
    return f"Login expires in {days_left(left)}"


def days_left(left: timedelta) -> str:
    """"3 days", "1 day", or under a day "5h 10m" (rounded down)."""
    if left >= timedelta(days=1):
        days = left.days
        return f"{days} day" if days == 1 else f"{days} days"
    return duration(left)


def clip_tooltip(lines: list[str], limit: int = TOOLTIP_MAX) -> tuple[str, ...]:
    """Drop the first (title) line first, then cut the end, to stay within `limit` characters."""
    if len("\n".join(lines)) > limit and len(lines) > 1:
        lines = lines[1:]
    text = "\n".join(lines)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return tuple(text.split("\n"))
