"""What the Deep Dive window and the tray icon show, as plain values computed from an `AppStatus`.

Every text a user reads is made here ("Resets in 2h 13m", "Over budget", "Offline") from the
shared formatters of `core.format`, so the renderers only place and paint, and every state's
wording is tested without a display. Times are shown in the local zone; `tz` lets tests pin it,
`hour24` is the `clock_format` setting.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from claude_pulse.core.format import (
    DASH,
    ON_TRACK,
    OVER_BUDGET,
    TOOLTIP_MAX,
    WindowState,
    age,
    clip_tooltip,
    clock_time,
    locked_phrase,
    login_expiry,
    money,
    percent,
    resets_phrase,
    window_state,
)
from claude_pulse.core.gauge import (
    AMBER,
    BLUE,
    GREEN,
    RED,
    Color,
    Level,
    level_for,
)
from claude_pulse.core.pace import SESSION_WINDOW, WEEK_WINDOW, elapsed_percent, is_over_budget
from claude_pulse.core.status import AppStatus, Phase
from claude_pulse.core.usage import ExtraUsage, Window

if TYPE_CHECKING:
    from claude_pulse.core.snapshot import Snapshot

__all__ = [
    "LOGIN_CHOICE",
    "LOG_OUT_QUESTION",
    "Action",
    "Banner",
    "ChartView",
    "DeepDiveView",
    "LimitRow",
    "LoginOption",
    "SessionView",
    "TrayView",
    "WeeklyView",
    "banner",
    "deep_dive_view",
    "login_failure_reason",
    "tray_view",
]

# Kinds already shown by the gauge and the pace bar; the limits list shows the others.
_MAIN_KINDS = frozenset({"session", "weekly_all"})


class Action(enum.Enum):
    """A button a banner offers; the value is its label."""

    LOG_IN = "Log in"
    RETRY = "Try again"
    USE_CLAUDE_CODE = "Use Claude Code's login"


@dataclass(frozen=True)
class LoginOption:
    """One way to sign in, with one sentence on what it means (the first-run choice)."""

    action: Action
    label: str
    sentence: str


# Offered when Claude Code's login is on this computer (issue 14): ours, or Claude Code's.
LOGIN_CHOICE = (
    LoginOption(Action.LOG_IN, "Log in with your browser",
                "Claude Pulse gets a login of its own from claude.ai and keeps it fresh."),
    LoginOption(Action.USE_CLAUDE_CODE, "Use Claude Code's login (read-only)",
                "Reads the login Claude Code already has here and never changes it. When it "
                "expires, open Claude Code once and it renews it."),
)

# Log out asks first (issue 15 item 6), in the window: the question and what it means.
LOG_OUT_QUESTION = ("Log out of Claude Pulse?", "Your numbers stop until you log in again.")


@dataclass(frozen=True)
class Banner:
    title: str
    detail: str | None = None
    action: Action | None = None
    accent: Color = BLUE


@dataclass(frozen=True)
class ChartView:
    """A window's usage over time, for `ui.render.chart.render_usage_chart`."""

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
    pill_text: str | None  # "On track" / "Over budget"; None when it cannot be judged
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
    # Where the numbers came from and how old they are: "From Claude Code · just now",
    # "From Anthropic · 12 min ago"; from an hour "… · 14:05"; "No numbers yet".
    last_refresh_text: str
    limits: tuple[LimitRow, ...]  # empty unless model limits are switched on
    extra_usage_text: str | None  # "Extra usage $408.43 of $10.00"
    alerts_enabled: bool
    login_text: str | None = None  # "Login renews until 29 Dec"; None when unknown
    # Whether there is history to chart; the charts themselves are None while collapsed.
    has_charts: bool = False
    charts_shown: bool = True


@dataclass(frozen=True)
class TrayView:
    text: str  # "42", "104" (as the server sent it), "!" (needs you), "–" (unknown)
    level: Level
    greyed: bool
    fraction: float | None  # session utilization / 100
    tooltip_lines: tuple[str, ...]
    week_fraction: float | None = None  # weekly utilization / 100, may exceed 1; None: unknown
    week_level: Level = Level.NORMAL
    week_elapsed: float | None = None  # 0-1 of the week gone; None: unknown
    needs_action: bool = False  # log in (again): the user must act, not just wait
    menu_lines: tuple[str, ...] = ()  # the first menu lines, for trays without tooltips

    @property
    def tooltip(self) -> str:
        return "\n".join(self.tooltip_lines)


def _clock(moment: datetime, now: datetime, tz: tzinfo | None, hour24: bool) -> str:
    return clock_time(moment, now, tz, hour24=hour24)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


# --- Deep Dive --------------------------------------------------------------------------------


def deep_dive_view(
    status: AppStatus,
    now: datetime,
    *,
    alerts_enabled: bool,
    show_model_limits: bool,
    tz: tzinfo | None = None,
    hour24: bool = True,
    show_charts: bool = True,
) -> DeepDiveView:
    """Everything the window shows for `status` at `now`; `show_charts` False collapses the
    usage charts (the `show_charts` setting)."""
    snap = status.snapshot
    usage = snap.usage if snap else None
    session = _session(usage.session if usage else None, status, now, tz, hour24)
    weekly = _weekly(usage.weekly if usage else None, status, now, tz, hour24)
    has_charts = session.chart is not None or weekly.chart is not None
    if not show_charts:
        session = dataclasses.replace(session, chart=None)
        weekly = dataclasses.replace(weekly, chart=None)
    limits: tuple[LimitRow, ...] = ()
    if usage:
        # A per-model limit above the week binds first: shown even with model limits off.
        binding = usage.binding_limit()
        limits = tuple(
            LimitRow(lim.label, percent(lim.utilization), _fraction(lim.utilization))
            for lim in usage.limits
            if lim.kind not in _MAIN_KINDS and (show_model_limits or lim is binding)
        )
    return DeepDiveView(
        phase=status.phase,
        session=session,
        weekly=weekly,
        banner=banner(status, now, tz=tz, hour24=hour24),
        stale=status.is_stale,
        account=status.account,
        last_refresh_text=_numbers_from(snap, now, tz, hour24),
        limits=limits,
        extra_usage_text=_extra_text(usage.extra if usage else None),
        alerts_enabled=alerts_enabled,
        has_charts=has_charts,
        charts_shown=show_charts,
        login_text=None if status.login_expires_at is None
        else login_expiry(status.login_expires_at, now, tz),
    )


# `Snapshot.source` in the window's words. The feed's numbers are Claude Code's even where the
# per-model limits under them came from the last full answer (core.polling).
_SOURCE_NAMES = {"claude-code": "Claude Code", "api": "Anthropic"}


def _numbers_from(snap: Snapshot | None, now: datetime, tz: tzinfo | None = None,
                 hour24: bool = True) -> str:
    """"From Claude Code · just now": where the numbers on screen came from, and when."""
    if snap is None:
        return "No numbers yet"
    name = _SOURCE_NAMES.get(snap.source, snap.source)
    return f"From {name} · {_refreshed(snap.fetched_at, now, tz, hour24)}"


def _refreshed(at: datetime, now: datetime, tz: tzinfo | None, hour24: bool) -> str:
    # How long ago while that is the useful answer; after an hour the time says more.
    if now - at < timedelta(hours=1):
        return age(max(timedelta(0), now - at))
    return _clock(at, now, tz, hour24)


def _fraction(percent: float | None) -> float:
    return 0.0 if percent is None else max(0.0, percent) / 100


def _forecast_text(status: AppStatus, which: str, window: Window, now: datetime,
                   tz: tzinfo | None, hour24: bool) -> str | None:
    forecast = status.session_forecast if which == "session" else status.weekly_forecast
    if forecast is None or window.utilization is None or window.utilization >= 100:
        return None  # nothing known, or the limit is already reached
    if window_state(window, now) is not WindowState.LIVE:
        return None
    hits = forecast.hits_limit_at
    if hits is None or (window.resets_at is not None and hits >= window.resets_at):
        return "Won't hit the limit before it resets"
    return f"At this pace you reach 100% at {_clock(max(hits, now), now, tz, hour24)}"


def _chart(points: tuple[tuple[datetime, float], ...], window: Window, length: timedelta,
           now: datetime) -> ChartView | None:
    if window.resets_at is None:
        return None
    start = window.resets_at - length
    shown = tuple(p for p in points if start <= p[0] <= now)
    return ChartView(shown, start, window.resets_at, now) if len(shown) >= 2 else None


def _current(window: Window, now: datetime) -> float | None:
    """The window's number if it is current; a window whose reset passed holds the last one's."""
    return window.utilization if window_state(window, now) is WindowState.LIVE else None


def _session(window: Window | None, status: AppStatus, now: datetime, tz: tzinfo | None,
             hour24: bool) -> SessionView:
    if window is None:
        text = "No data yet" if status.snapshot is None else "No session data"
        return SessionView(DASH, 0.0, 0.0, text, Level.NORMAL, None, has_data=False)
    used = _current(window, now)
    elapsed = elapsed_percent(window.resets_at, SESSION_WINDOW, now)
    return SessionView(
        percent_text=percent(used),
        usage_fraction=_fraction(used),
        elapsed_fraction=(elapsed or 0.0) / 100,
        # The ring has room for one word; the reason goes on the wide line under it.
        resets_text="Locked" if window.locked_reason is not None
        else _resets_text(window, now, tz, hour24),
        level=_level(window, used),
        forecast_text=_resets_text(window, now, tz, hour24) if window.locked_reason is not None
        else _forecast_text(status, "session", window, now, tz, hour24),
        has_data=used is not None,
        chart=_chart(status.session_history, window, SESSION_WINDOW, now),
    )


def _weekly(window: Window | None, status: AppStatus, now: datetime, tz: tzinfo | None,
            hour24: bool) -> WeeklyView:
    if window is None:
        text = "No data yet" if status.snapshot is None else "No weekly data"
        return WeeklyView(DASH, 0.0, None, None, None, text, "", "", None, has_data=False)
    used = _current(window, now)
    elapsed = elapsed_percent(window.resets_at, WEEK_WINDOW, now)
    pill_text: str | None = None
    pill_color: Color | None = None
    if window.locked_reason is not None:
        pill_text, pill_color = "Locked", RED
    elif used is not None and elapsed is not None:
        over = is_over_budget(used, elapsed)
        pill_text, pill_color = (OVER_BUDGET, RED) if over else (ON_TRACK, GREEN)
    return WeeklyView(
        percent_text=percent(used),
        used_fraction=_fraction(used),
        elapsed_fraction=None if elapsed is None else elapsed / 100,
        pill_text=pill_text,
        pill_color=pill_color,
        used_text=f"{percent(used)} used",
        elapsed_text=(
            "Week elapsed unknown" if elapsed is None else f"{percent(elapsed)} of week elapsed"
        ),
        resets_text=_resets_text(window, now, tz, hour24),
        forecast_text=_forecast_text(status, "weekly", window, now, tz, hour24),
        has_data=used is not None,
        chart=_chart(status.weekly_history, window, WEEK_WINDOW, now),
    )


def _resets_text(window: Window, now: datetime, tz: tzinfo | None, hour24: bool) -> str:
    """"Resets in 2h 13m", or "Locked (spend limit reached) · resets in 2h 13m"."""
    text = resets_phrase(window, now, tz, hour24=hour24)
    if window.locked_reason is not None:
        text = f"{locked_phrase(window.locked_reason)} · {text}"
    return _capital(text)


def _level(window: Window | None, used: float | None) -> Level:
    # A locked window cannot be used, whatever its number says.
    return level_for(100.0 if window is not None and window.locked_reason else used)


def _extra_text(extra: ExtraUsage | None) -> str | None:
    if extra is None or not extra.enabled or extra.used_cents is None:
        return None
    places = extra.decimal_places
    used = money(extra.used_cents, extra.currency, places)
    if extra.monthly_limit_cents is None:
        return f"Extra usage {used} · no limit"
    return f"Extra usage {used} of {money(extra.monthly_limit_cents, extra.currency, places)}"


def _ago_and_next(status: AppStatus, now: datetime, tz: tzinfo | None, hour24: bool,
                  verb: str) -> str | None:
    """"Showing numbers from 12 min ago. Trying again at 14:05." (each sentence only when
    known)."""
    parts = []
    if status.snapshot is not None:
        parts.append(f"Showing numbers from {age(now - status.snapshot.fetched_at)}.")
    if status.next_try is not None:
        parts.append(f"{verb} at {_clock(status.next_try, now, tz, hour24)}.")
    return " ".join(parts) or None


# Why a login did not finish, in words, from the login's own message (services.login, oauth).
_LOGIN_REASONS = (
    (("kept the login",), "You kept the login that was saved; nothing was changed."),
    (("cancel",), "You cancelled it."),
    (("timed out", "timeout", "no answer"), "No answer came back from the browser in time."),
    (("denied", "declined", "access_denied"), "The login was declined in the browser."),
    (("port", "listen"), "Another program is using the port the login needs."),
    # before "code was": a pasted or returned code the server refused (CodeRefused)
    (("code was refused", "invalid_grant"),
     "The login code was refused: it was mistyped, too old or already used."),
    (("no code", "code was"), "No code was entered."),
    (("state", "did not match"), "The answer did not belong to this login, so it was refused."),
)


def login_failure_reason(message: str | None) -> str:
    """A plain sentence for why the login did not finish (no codes, no commands)."""
    text = (message or "").lower()
    for needles, reason in _LOGIN_REASONS:
        if any(n in text for n in needles):
            return reason
    return "Something went wrong on the way back from the browser."


def banner(status: AppStatus, now: datetime, *, tz: tzinfo | None = None,
           hour24: bool = True) -> Banner | None:
    """What needs saying about `status`, in plain words with at most one action; None when all
    is well. The one source of these words: the window's banner and the tray's notifications.

    Server trouble and being offline are amber and say whose problem it is; nothing here shows
    an error code, a technical term or a terminal command.
    """
    phase = status.phase
    if phase is Phase.OK:
        return None
    if phase is Phase.SIGNED_OUT:
        return Banner("You're not logged in", "Log in with your Claude account to see your "
                      "limits.", Action.LOG_IN, BLUE)
    if phase is Phase.LOGGING_IN:
        return Banner("Finish logging in in your browser",
                      "This window updates by itself when you are done.", None, BLUE)
    if phase is Phase.LOGIN_FAILED:
        return Banner("The login didn't finish", login_failure_reason(status.message),
                      Action.RETRY, AMBER)
    if phase is Phase.LOADING:
        return Banner("Loading your limits…", None, None, BLUE)
    if phase is Phase.REAUTH:
        if any(word in (status.message or "").lower() for word in ("scope", "permission")):
            return Banner("Log in again", "This login is not allowed to read your usage. "
                          "Logging in again fixes it.", Action.LOG_IN, AMBER)
        return Banner("Your login has expired", "Log in again to keep seeing your limits.",
                      Action.LOG_IN, AMBER)
    if phase is Phase.OFFLINE:
        return Banner("You're offline", _ago_and_next(status, now, tz, hour24, "Trying again"),
                      None, AMBER)
    if phase is Phase.RATE_LIMITED:
        return Banner("Anthropic asked us to slow down",
                      _ago_and_next(status, now, tz, hour24, "Next update"), None, AMBER)
    # SERVER_ERROR: their side, said so; what we do about it.
    detail = " ".join(p for p in ("The problem is on their side.",
                                  _ago_and_next(status, now, tz, hour24, "Trying again")) if p)
    return Banner("Anthropic's servers are having trouble", detail, None, AMBER)


# --- tray -------------------------------------------------------------------------------------

_NEEDS_USER = frozenset({Phase.SIGNED_OUT, Phase.LOGIN_FAILED, Phase.REAUTH})
# Three digits fill a 16 px icon; a value past this is shown as the cap (never seen so far).
_MAX_TRAY_NUMBER = 999


def tray_view(status: AppStatus, now: datetime, *, tz: tzinfo | None = None,
              hour24: bool = True) -> TrayView:
    """The tray icon, its tooltip and the menu's first lines."""
    snap = status.snapshot
    session = snap.usage.session if snap else None
    weekly = snap.usage.weekly if snap else None
    used = _current(session, now) if session else None
    week = _current(weekly, now) if weekly else None
    needs_action = status.phase in _NEEDS_USER
    greyed = status.phase is not Phase.OK or used is None
    if needs_action:
        text = "!"  # not the grey number of "offline": there is something to do
    elif used is not None:
        text = str(min(_MAX_TRAY_NUMBER, max(0, math.floor(used))))
    else:
        text = DASH

    # The window banner's title, so the tray never words a state differently (issue 15).
    said = banner(status, now, tz=tz, hour24=hour24)
    note = said.title if said is not None else None
    aged = note
    if note and snap is not None and status.is_stale:
        aged = f"{note} · numbers from {age(now - snap.fetched_at)}"
    lines = ["Claude Pulse"]
    for name, window in (("Session", session), ("Weekly", weekly)):
        line = _tooltip_line(name, window, now, tz, hour24)
        if line:
            lines.append(line)
    menu = [line for line in (_menu_session_line(session, now, tz, hour24),
                              _menu_week_line(weekly, now, tz, hour24)) if line]
    binding = snap.usage.binding_limit() if snap else None
    if binding is not None:
        # It binds before the weekly limit, so it is news whether model limits are shown or not.
        lines.append(f"{binding.label} {percent(binding.utilization)}")
        menu.append(f"{binding.model or binding.label} {percent(binding.utilization)}")
    if aged:
        menu.append(aged)
    week_elapsed = elapsed_percent(weekly.resets_at, WEEK_WINDOW, now) if weekly else None
    return TrayView(
        text=text,
        level=_level(session, used),
        greyed=greyed,
        fraction=None if used is None else max(0.0, used) / 100,
        tooltip_lines=_fit_tooltip(lines, aged, note),
        week_fraction=None if week is None else max(0.0, week) / 100,
        week_level=level_for(week),
        week_elapsed=None if week_elapsed is None or week is None else week_elapsed / 100,
        needs_action=needs_action,
        menu_lines=tuple(menu),
    )


def _fit_tooltip(lines: list[str], aged: str | None, note: str | None) -> tuple[str, ...]:
    """Windows keeps 127 characters: the title line goes first, then the numbers' age, and
    only then is the end cut (so the state's own words are not cut mid-word)."""
    candidates = [[*lines, aged], [*lines[1:], aged], [*lines[1:], note]]
    for candidate in candidates:
        shown = [line for line in candidate if line]
        if len("\n".join(shown)) <= TOOLTIP_MAX:
            return tuple(shown)
    return clip_tooltip([line for line in candidates[-1] if line])


def _window_line(name: str, window: Window | None, now: datetime, tz: tzinfo | None,
                 hour24: bool, details: Callable[[Window], list[str]]) -> str | None:
    """"<name> 42% · <details>"; "<name> reset at 14:05" once it passed; None when unknown."""
    state = window_state(window, now)
    if window is None or state is WindowState.UNKNOWN:
        return None
    if state is WindowState.RESET_PASSED:
        return f"{name} {resets_phrase(window, now, tz, hour24=hour24)}"
    locked = [] if window.locked_reason is None else [locked_phrase(window.locked_reason)]
    return " · ".join([f"{name} {percent(window.utilization)}", *locked, *details(window)])


def _menu_session_line(window: Window | None, now: datetime, tz: tzinfo | None,
                       hour24: bool) -> str | None:
    """"Session 42% · resets 14:05" (a clock time: a menu is read once, not watched)."""
    def details(w: Window) -> list[str]:
        return [] if w.resets_at is None else [f"resets {_clock(w.resets_at, now, tz, hour24)}"]

    return _window_line("Session", window, now, tz, hour24, details)


def _menu_week_line(window: Window | None, now: datetime, tz: tzinfo | None,
                    hour24: bool) -> str | None:
    """"Week 68% · on track", "Week 71% · over budget"."""
    def details(w: Window) -> list[str]:
        elapsed = elapsed_percent(w.resets_at, WEEK_WINDOW, now)
        if elapsed is None:
            return [] if w.resets_at is None else \
                [f"resets {_clock(w.resets_at, now, tz, hour24)}"]
        return [(OVER_BUDGET if is_over_budget(w.utilization, elapsed) else ON_TRACK).lower()]

    return _window_line("Week", window, now, tz, hour24, details)


def _tooltip_line(name: str, window: Window | None, now: datetime, tz: tzinfo | None,
                  hour24: bool) -> str | None:
    """"Session 42% · resets in 2h 13m", "Weekly 68% · resets in 3d 4h · Over budget",
    "Session reset at 14:05"."""
    def details(w: Window) -> list[str]:
        parts = [] if w.resets_at is None else [resets_phrase(w, now, tz, hour24=hour24)]
        if name == "Weekly" and is_over_budget(w.utilization,
                                               elapsed_percent(w.resets_at, WEEK_WINDOW, now)):
            parts.append(OVER_BUDGET)
        return parts

    return _window_line(name, window, now, tz, hour24, details)
