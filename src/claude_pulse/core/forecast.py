"""Where usage is heading, from the recent burn rate (issue 7).

The rule, in full (the tests in `tests/test_forecast.py` pin each case):

1. Only points of the *current* window count: after its start (`resets_at - length`) and after
   the last drop in the data (a drop means a reset the server's `resets_at` may not show yet).
   Points after `now` (clock skew) are ignored.
2. Already at or above 100% (the window's value or a point) → `hits_limit_at` is the first time
   a point of this window was at or above 100, or `now` when no point shows it.
3. Otherwise the burn rate is the least-squares slope, in percentage points per hour, of the
   points in the last `lookback` (60 min by default). It needs at least 2 points spanning at
   least `min_span` (10 min); with less there is no forecast (None). A negative slope (noise,
   an undetected reset) counts as 0: usage within a window never goes down.
4. From the newest point, the slope is projected forward; if it reaches 100% before
   `resets_at`, that moment (never earlier than `now`) is `hits_limit_at`, else None.

The rate describes "the last hour", so one busy burst moves the forecast quickly and an idle hour
clears it: this is "at this pace", not a prediction of the user's day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from claude_pulse.core.format import clock_time
from claude_pulse.core.pace import SESSION_WINDOW, WEEK_WINDOW
from claude_pulse.core.usage import Window

__all__ = [
    "DEFAULT_LOOKBACK",
    "MIN_SPAN",
    "Forecast",
    "Trend",
    "burn_rate",
    "current_window_points",
    "describe",
    "forecast",
]

DEFAULT_LOOKBACK = timedelta(minutes=60)
MIN_SPAN = timedelta(minutes=10)
LIMIT = 100.0
# A fall of more than this between two samples is a reset, not rounding noise.
_RESET_DROP = 1.0

Point = tuple[datetime, float]


@dataclass(frozen=True)
class Forecast:
    """`hits_limit_at` is None when the current pace does not reach 100% before the reset."""

    hits_limit_at: datetime | None
    rate_per_hour: float | None  # percentage points per hour over the recent past


@dataclass(frozen=True)
class Trend:
    """One window's recorded samples and the forecast made from them."""

    points: tuple[Point, ...] = ()
    forecast: Forecast | None = None


def forecast(
    points: Sequence[Point],
    window: Window | None,
    now: datetime,
    *,
    length: timedelta | None = None,
    lookback: timedelta = DEFAULT_LOOKBACK,
    min_span: timedelta = MIN_SPAN,
) -> Forecast | None:
    """The forecast for one window, or None when there is too little to say anything.

    `points` are (time, percent) samples of this window, any order. `length` is the window's
    length (5 h or 7 days); when omitted it is guessed from how far away the reset is, which is
    harmless because a reset also shows in the data as a drop (rule 1).
    """
    if window is None or window.resets_at is None:
        return None
    if length is None:
        length = WEEK_WINDOW if window.resets_at - now > SESSION_WINDOW else SESSION_WINDOW
    current = current_window_points(points, window.resets_at - length, now)
    rate = burn_rate(current, now, lookback=lookback, min_span=min_span)

    over = [t for t, value in current if value >= LIMIT]
    if over or (window.utilization is not None and window.utilization >= LIMIT):
        return Forecast(over[0] if over else now, rate)
    if rate is None:
        return None
    if rate <= 0.0:
        return Forecast(None, rate)
    last_t, last_value = current[-1]
    hours = (LIMIT - last_value) / rate
    # Compared as hours first: a very slow burn would overflow a timedelta (issue #16 item 2).
    if hours >= (window.resets_at - last_t).total_seconds() / 3600:
        return Forecast(None, rate)
    return Forecast(max(last_t + timedelta(hours=hours), now), rate)


def current_window_points(points: Sequence[Point], start: datetime, now: datetime) -> list[Point]:
    """Sorted points after `start` and up to `now`, from the last reset seen in the data on."""
    kept = sorted((t, v) for t, v in points if start <= t <= now)
    for i in range(len(kept) - 1, 0, -1):
        if kept[i][1] < kept[i - 1][1] - _RESET_DROP:
            return kept[i:]
    return kept


def burn_rate(
    points: Sequence[Point],
    now: datetime,
    *,
    lookback: timedelta = DEFAULT_LOOKBACK,
    min_span: timedelta = MIN_SPAN,
) -> float | None:
    """Least-squares slope (points per hour, never negative) of the points in the lookback.

    None with fewer than 2 points or when they span less than `min_span`.
    """
    recent = [(t, v) for t, v in points if now - lookback <= t <= now]
    if len(recent) < 2:
        return None
    first = min(t for t, _ in recent)
    if max(t for t, _ in recent) - first < min_span:
        return None
    xs = [(t - first).total_seconds() / 3600.0 for t, _ in recent]
    ys = [v for _, v in recent]
    mean_x = sum(xs) / len(xs)
    mean_y = sum(ys) / len(ys)
    sxx = sum((x - mean_x) ** 2 for x in xs)
    if sxx == 0.0:
        return None
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    return max(0.0, sxy / sxx)


def describe(forecast: Forecast | None, tz: tzinfo | None = None, *,
             now: datetime | None = None, hour24: bool = True) -> str:
    """One sentence for the window and `status`.

    `tz` is where the time is shown (None: the system's local zone). With `now`, a time already
    past reads "Reached 100% at …", and a time on another day gets its weekday ("Tue 14:35").
    """
    if forecast is None:
        return "Not enough recent data for a forecast"
    when = forecast.hits_limit_at
    if when is None:
        return "Won't hit the limit before it resets"
    shown = clock_time(when, now, tz, hour24=hour24)
    if now is not None and when <= now:
        return f"Reached 100% at {shown}"
    return f"At this pace you reach 100% at {shown}"
