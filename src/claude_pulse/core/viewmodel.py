"""What the Deep Dive window and the tray icon show, as plain values computed from an `AppStatus`.

Every text a user reads is made here ("Resets in 2h 13m", "Over Budget", "Offline"), so the
renderers only place and paint, and every state's wording is tested without a display. Times are
shown in the local zone; `tz` lets tests pin it.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from claude_pulse.core.gauge import (
    AMBER,
    BLUE,
    GREEN,
    RED,
    Color,
    Level,
    level_for,
)
from claude_pulse.core.pace import (
    SESSION_WINDOW,
    WEEK_WINDOW,
    elapsed_percent,
    is_over_budget,
    time_left,
)
from claude_pulse.core.status import AppStatus, Phase
from claude_pulse.core.usage import ExtraUsage, Window

__all__ = [
    "TOOLTIP_MAX",
    "Action",
    "Banner",
    "ChartView",
    "DeepDiveView",
    "LimitRow",
    "SessionView",
    "TrayView",
    "WeeklyView",
    "deep_dive_view",
    "format_age",
    "format_duration",
    "format_money",
    "format_percent",
    "tray_view",
]

TOOLTIP_MAX = 127  # Windows cuts tray tooltips at 128 characters including the NUL
DASH = "–"

# Kinds already shown by the gauge and the pace bar; the limits list shows the others.
_MAIN_KINDS = frozenset({"session", "weekly_all"})
_CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


class Action(enum.Enum):
    """A button a banner offers; the value is its label."""

    LOG_IN = "Log in"
    RETRY = "Retry"


@dataclass(frozen=True)
class Banner:
    title: str
    detail: str | None = None
    action: Action | None = None
    accent: Color = BLUE


@dataclass(frozen=True)
class ChartView:
    """A window's usage over time, for `ui.chart.render_usage_chart`."""

    points: tuple[tuple[datetime, float], ...]
    start: datetime
    end: datetime
    now: datetime


@dataclass(frozen=True)
class SessionView:
    percent_text: str  # "42%", "104%" (server value), "–" when unknown
    usage_fraction: float  # utilization / 100, may exceed 1; 0 when unknown
    elapsed_fraction: float  # 0-1 of the 5-hour window; 0 when unknown
    resets_text: str  # "Resets in 2h 13m"
    level: Level
    forecast_text: str | None  # None: no line
    has_data: bool
    chart: ChartView | None = None  # None until the history has two samples of this window


@dataclass(frozen=True)
class WeeklyView:
    percent_text: str
    used_fraction: float  # may exceed 1; 0 when unknown
    elapsed_fraction: float | None  # None: no marker
    pill_text: str | None  # "On Track" / "Over Budget"; None when it cannot be judged
    pill_color: Color | None
    used_text: str  # "68% used"
    elapsed_text: str  # "55% of week elapsed"
    resets_text: str  # "Resets in 3d 4h"
    forecast_text: str | None
    has_data: bool
    chart: ChartView | None = None


@dataclass(frozen=True)
class LimitRow:
    label: str  # "Opus (weekly)"
    percent_text: str
    fraction: float


@dataclass(frozen=True)
class DeepDiveView:
    phase: Phase
    session: SessionView
    weekly: WeeklyView
    banner: Banner | None  # None only when all is well
    stale: bool
    account: str | None
    last_refresh_text: str  # "Last refresh 14:05"
    limits: tuple[LimitRow, ...]  # empty unless model limits are switched on
    extra_usage_text: str | None  # "Extra usage $408.43 of $10.00"
    alerts_enabled: bool


@dataclass(frozen=True)
class TrayView:
    text: str  # "42", "100", "!" (needs you), "–" (unknown)
    level: Level
    greyed: bool
    fraction: float | None  # session utilization / 100, for a ring
    tooltip_lines: tuple[str, ...]

    @property
    def tooltip(self) -> str:
        return "\n".join(self.tooltip_lines)


# --- formatting -------------------------------------------------------------------------------


def format_duration(td: timedelta) -> str:
    """A countdown, coarsest two units, rounded down: "3d 4h", "2h 13m", "45m", "<1m"."""
    seconds = int(td.total_seconds())
    if seconds < 60:
        return "<1m"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if days:
        return f"{days}d {hours % 24}h"
    if hours:
        return f"{hours}h {minutes % 60}m"
    return f"{minutes}m"


def format_age(td: timedelta) -> str:
    """How old something is: "just now", "12 min ago", "2h 5m ago"."""
    seconds = td.total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    return f"{format_duration(td)} ago"


def format_percent(value: float | None) -> str:
    """Whole percent, rounded down so "100%" only shows once the limit is really reached."""
    if value is None:
        return DASH
    return f"{max(0, math.floor(value))}%"


def _clock(moment: datetime, now: datetime, tz: tzinfo | None) -> str:
    """"14:05" today; "Fri 14:05" on another day."""
    local, today = moment.astimezone(tz), now.astimezone(tz)
    if local.date() == today.date():
        return local.strftime("%H:%M")
    return local.strftime("%a %H:%M")


def format_money(cents: float, currency: str) -> str:
    """An amount in minor units (cents), as the usage endpoint reports it: "$408.43"."""
    amount = f"{cents / 100:,.2f}"
    symbol = _CURRENCY_SYMBOLS.get(currency.upper())
    return f"{symbol}{amount}" if symbol else f"{amount} {currency}"


# --- Deep Dive --------------------------------------------------------------------------------


def deep_dive_view(
    status: AppStatus,
    now: datetime,
    *,
    alerts_enabled: bool,
    show_model_limits: bool,
    tz: tzinfo | None = None,
) -> DeepDiveView:
    """Everything the window shows for `status` at `now`."""
    snap = status.snapshot
    usage = snap.usage if snap else None
    session = _session(usage.session if usage else None, status, now, tz)
    weekly = _weekly(usage.weekly if usage else None, status, now, tz)
    limits: tuple[LimitRow, ...] = ()
    if usage and show_model_limits:
        limits = tuple(
            LimitRow(lim.label, format_percent(lim.utilization), _fraction(lim.utilization))
            for lim in usage.limits
            if lim.kind not in _MAIN_KINDS
        )
    refreshed = _clock(snap.fetched_at, now, tz) if snap else DASH
    return DeepDiveView(
        phase=status.phase,
        session=session,
        weekly=weekly,
        banner=_banner(status, now, tz),
        stale=status.is_stale,
        account=status.account,
        last_refresh_text=f"Last refresh {refreshed}",
        limits=limits,
        extra_usage_text=_extra_text(usage.extra if usage else None),
        alerts_enabled=alerts_enabled,
    )


def _fraction(percent: float | None) -> float:
    return 0.0 if percent is None else max(0.0, percent) / 100


def _resets_text(resets_at: datetime | None, now: datetime, tz: tzinfo | None) -> str:
    left = time_left(resets_at, now)
    if resets_at is None or left is None:
        return "Reset time unknown"
    if left <= timedelta(0):
        # Old numbers from before a reset: say so rather than count down from zero.
        return f"Reset at {_clock(resets_at, now, tz)}"
    return f"Resets in {format_duration(left)}"


def _forecast_text(
    status: AppStatus, which: str, window: Window, now: datetime, tz: tzinfo | None
) -> str | None:
    forecast = status.session_forecast if which == "session" else status.weekly_forecast
    if forecast is None or window.utilization is None or window.utilization >= 100:
        return None  # nothing known, or the limit is already reached
    hits = forecast.hits_limit_at
    if hits is None or (window.resets_at is not None and hits >= window.resets_at):
        return "Won't hit the limit before it resets"
    return f"At this pace you reach 100% at {_clock(max(hits, now), now, tz)}"


def _chart(points: tuple[tuple[datetime, float], ...], window: Window, length: timedelta,
           now: datetime) -> ChartView | None:
    if window.resets_at is None:
        return None
    start = window.resets_at - length
    shown = tuple(p for p in points if start <= p[0] <= now)
    return ChartView(shown, start, window.resets_at, now) if len(shown) >= 2 else None


def _session(
    window: Window | None, status: AppStatus, now: datetime, tz: tzinfo | None
) -> SessionView:
    if window is None:
        text = "No data yet" if status.snapshot is None else "No session data"
        return SessionView(DASH, 0.0, 0.0, text, Level.NORMAL, None, has_data=False)
    elapsed = elapsed_percent(window.resets_at, SESSION_WINDOW, now)
    return SessionView(
        percent_text=format_percent(window.utilization),
        usage_fraction=_fraction(window.utilization),
        elapsed_fraction=(elapsed or 0.0) / 100,
        resets_text=_resets_text(window.resets_at, now, tz),
        level=level_for(window.utilization),
        forecast_text=_forecast_text(status, "session", window, now, tz),
        has_data=window.utilization is not None,
        chart=_chart(status.session_history, window, SESSION_WINDOW, now),
    )


def _weekly(
    window: Window | None, status: AppStatus, now: datetime, tz: tzinfo | None
) -> WeeklyView:
    if window is None:
        text = "No data yet" if status.snapshot is None else "No weekly data"
        return WeeklyView(DASH, 0.0, None, None, None, text, "", "", None, has_data=False)
    used = window.utilization
    elapsed = elapsed_percent(window.resets_at, WEEK_WINDOW, now)
    pill_text: str | None = None
    pill_color: Color | None = None
    if used is not None and elapsed is not None:
        over = is_over_budget(used, elapsed)
        pill_text, pill_color = ("Over Budget", RED) if over else ("On Track", GREEN)
    return WeeklyView(
        percent_text=format_percent(used),
        used_fraction=_fraction(used),
        elapsed_fraction=None if elapsed is None else elapsed / 100,
        pill_text=pill_text,
        pill_color=pill_color,
        used_text=f"{format_percent(used)} used",
        elapsed_text=(
            "Week elapsed unknown" if elapsed is None else f"{math.floor(elapsed)}% of week elapsed"
        ),
        resets_text=_resets_text(window.resets_at, now, tz),
        forecast_text=_forecast_text(status, "weekly", window, now, tz),
        has_data=used is not None,
        chart=_chart(status.weekly_history, window, WEEK_WINDOW, now),
    )


def _extra_text(extra: ExtraUsage | None) -> str | None:
    if extra is None or not extra.enabled or extra.used_cents is None:
        return None
    used = format_money(extra.used_cents, extra.currency)
    if extra.monthly_limit_cents is None:
        return f"Extra usage {used} · no limit"
    return f"Extra usage {used} of {format_money(extra.monthly_limit_cents, extra.currency)}"


def _stale_detail(status: AppStatus, now: datetime, tz: tzinfo | None, verb: str) -> str | None:
    """"Showing numbers from 12 min ago · retrying at 14:05" (parts only when known)."""
    parts = []
    if status.snapshot is not None:
        parts.append(f"Showing numbers from {format_age(now - status.snapshot.fetched_at)}")
    if status.next_try is not None:
        parts.append(f"{verb} at {_clock(status.next_try, now, tz)}")
    text = " · ".join(parts)
    return text[:1].upper() + text[1:] if text else None


def _banner(status: AppStatus, now: datetime, tz: tzinfo | None) -> Banner | None:
    phase = status.phase
    if phase is Phase.OK:
        return None
    if phase is Phase.SIGNED_OUT:
        return Banner("Not signed in", "Log in to see your limits", Action.LOG_IN, BLUE)
    if phase is Phase.LOGGING_IN:
        return Banner("Waiting for login…", "Finish signing in in your browser", None, BLUE)
    if phase is Phase.LOGIN_FAILED:
        detail = status.message or "The login did not finish"
        return Banner("Login failed", detail, Action.RETRY, RED)
    if phase is Phase.LOADING:
        return Banner("Loading…", "Fetching your limits from Anthropic", None, BLUE)
    if phase is Phase.REAUTH:
        detail = status.message or "Your login has expired"
        return Banner("Log in again", detail, Action.LOG_IN, AMBER)
    if phase is Phase.OFFLINE:
        return Banner("Offline", _stale_detail(status, now, tz, "retrying"), None, AMBER)
    if phase is Phase.RATE_LIMITED:
        return Banner("Rate-limited", _stale_detail(status, now, tz, "next try"), None, AMBER)
    # SERVER_ERROR: the message (if any) says what the server did, the rest what we do about it.
    parts = (status.message, _stale_detail(status, now, tz, "retrying"))
    return Banner("Server error", " · ".join(p for p in parts if p) or None, None, RED)


# --- tray -------------------------------------------------------------------------------------

_TRAY_NOTES = {
    Phase.SIGNED_OUT: "Not signed in",
    Phase.LOGGING_IN: "Waiting for login…",
    Phase.LOGIN_FAILED: "Login failed",
    Phase.LOADING: "Loading…",
    Phase.REAUTH: "Log in again",
    Phase.OFFLINE: "Offline",
    Phase.RATE_LIMITED: "Rate-limited",
    Phase.SERVER_ERROR: "Server error",
}
_NEEDS_USER = frozenset({Phase.SIGNED_OUT, Phase.LOGIN_FAILED, Phase.REAUTH})


def tray_view(status: AppStatus, now: datetime) -> TrayView:
    """The tray icon and its tooltip."""
    snap = status.snapshot
    session = snap.usage.session if snap else None
    used = session.utilization if session else None
    greyed = status.phase is not Phase.OK or used is None
    if used is not None:
        text = str(min(100, max(0, math.floor(used))))
    elif status.phase in _NEEDS_USER:
        text = "!"
    else:
        text = DASH

    lines = ["Claude Pulse"]
    if session is not None and used is not None:
        line = f"Session {format_percent(used)}"
        left = time_left(session.resets_at, now)
        if left is not None and left > timedelta(0):
            line += f" · resets in {format_duration(left)}"
        lines.append(line)
    weekly = snap.usage.weekly if snap else None
    if weekly is not None and weekly.utilization is not None:
        line = f"Weekly {format_percent(weekly.utilization)}"
        left = time_left(weekly.resets_at, now)
        if left is not None and left > timedelta(0):
            line += f" · resets in {format_duration(left)}"
        lines.append(line)
    note = _TRAY_NOTES.get(status.phase)
    if note:
        if snap is not None and status.is_stale:
            note += f" · numbers from {format_age(now - snap.fetched_at)}"
        lines.append(note)
    return TrayView(
        text=text,
        level=level_for(used),
        greyed=greyed,
        fraction=None if used is None else max(0.0, used) / 100,
        tooltip_lines=_fit_tooltip(lines),
    )


def _fit_tooltip(lines: list[str]) -> tuple[str, ...]:
    """Drop the title line first, then cut the end, to stay within Windows' limit."""
    if len("\n".join(lines)) > TOOLTIP_MAX and len(lines) > 1:
        lines = lines[1:]
    text = "\n".join(lines)
    if len(text) > TOOLTIP_MAX:
        text = text[: TOOLTIP_MAX - 1] + "…"
    return tuple(text.split("\n"))
