"""Limit alerts (spec §5.5) as a pure function: usage + memory + settings + now -> alerts.

`evaluate` never does I/O; the caller persists the returned `AlertMemory` (services/alert_memory)
and hands the alerts to a notifier (ui/notify). The rules:

* **Window identity.** A window is known by its `resets_at`, but the server's value jitters by
  microseconds to seconds between responses. So a *new* window is: `resets_at` moved later by more
  than `NEW_WINDOW_SHIFT` (30 min), or the remembered `resets_at` has passed. Otherwise it is the
  same window and the remembered value follows the server's latest one.
* **Thresholds** (config, default 80/90/95; the weekly window may have its own) fire once per
  window. When several are crossed at once only the highest one is shown (one notification, not
  three) and the lower ones are marked fired too. Above 100% counts as above every threshold.
* **Time-aware** (off by default): a threshold below `TIME_AWARE_BELOW` (90%) fires only while
  usage runs ahead of the window's elapsed time (80% used with 85% of the window gone is fine);
  it may fire later, when usage gets ahead. 90% and up always fire.
* **Reset alert** when a new window replaces one that had crossed the lowest threshold, unless the
  new window is itself already at or above that threshold ("full capacity" would be false), or
  the old window ended more than a whole window length ago (a restart the next day is not news).
* **Pace warning** (can be switched off) when the week is over budget
  (`core.pace.is_over_budget`), at most once per `PACE_REPEAT` (24 h), and never in the first
  `PACE_GRACE_PERCENT` (2%) of the week: by the spec's formula one message right after the reset
  is "over budget" (1% used / 0.1% elapsed), which is noise, not a pace.
* **Disabled** settings show nothing, but the memory still advances, so switching alerts back on
  does not replay crossings that happened meanwhile.
* **Per-model limits** (`weekly_scoped` in `limits[]`, issue #18 item 5) get the weekly
  window's thresholds and reset alerts ("You've used 90% of your weekly Fable limit"): such a
  cap can bind while the week looks fine. Each is remembered by its id.
* **Login expiry** (issue #18 item 4): one notification when the login has 3 days left and one
  when it has 1 day left ("Your Claude Pulse login expires in 3 days"), each once per login (a
  new login, i.e. another end time, starts over); starting late shows only the most urgent one.
* Unknown utilization (`None`), a missing window, or a window whose `resets_at` has already passed
  (stale data, clock skew) leave that window's memory alone and show nothing for it.

`now` must be timezone-aware, like every time the usage parser returns.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from claude_pulse.core.format import OVER_BUDGET, days_left, duration, percent
from claude_pulse.core.pace import SESSION_WINDOW, WEEK_WINDOW, elapsed_percent, is_over_budget
from claude_pulse.core.usage import Usage, Window

__all__ = [
    "DEFAULT_THRESHOLDS",
    "KIND_LOGGED_IN",
    "KIND_LOGIN_EXPIRY",
    "KIND_LOGIN_FAILED",
    "KIND_PACE",
    "KIND_REAUTH",
    "KIND_RESET",
    "KIND_THRESHOLD",
    "LOGIN_WARNINGS",
    "NEW_WINDOW_SHIFT",
    "PACE_GRACE_PERCENT",
    "PACE_REPEAT",
    "TIME_AWARE_BELOW",
    "Alert",
    "AlertMemory",
    "AlertSettings",
    "Urgency",
    "WindowMemory",
    "evaluate",
    "logged_in_alert",
    "login_failed_alert",
    "reauth_alert",
]

DEFAULT_THRESHOLDS: tuple[int, ...] = (80, 90, 95)
NEW_WINDOW_SHIFT = timedelta(minutes=30)
PACE_REPEAT = timedelta(hours=24)
PACE_GRACE_PERCENT = 2.0
TIME_AWARE_BELOW = 90
# From this threshold up the alert is critical (spec: "Critical: Almost at session limit" at 95).
CRITICAL_FROM = 95

KIND_THRESHOLD = "threshold"
KIND_RESET = "reset"
KIND_PACE = "pace"
KIND_REAUTH = "reauth"
KIND_LOGIN_FAILED = "login_failed"
KIND_LOGIN_EXPIRY = "login_expiry"
# (name, how long before the login's end); Claude Code itself warns 3 days ahead.
LOGIN_WARNINGS: tuple[tuple[str, timedelta], ...] = (("3d", timedelta(days=3)),
                                                     ("1d", timedelta(days=1)))
KIND_LOGGED_IN = "logged_in"

_MEMORY_VERSION = 1
_WINDOWS = (("session", SESSION_WINDOW), ("weekly", WEEK_WINDOW))


class Urgency(Enum):
    NORMAL = "normal"
    CRITICAL = "critical"


@dataclass(frozen=True)
class Alert:
    """One notification to show. `key` names it stably (e.g. "session:80") for logs and tests."""

    key: str
    title: str
    body: str
    urgency: Urgency
    kind: str


@dataclass(frozen=True)
class AlertSettings:
    """`enabled` is the Limit Alerts setting; thresholds in percent (`weekly_thresholds` None:
    the same as the session's)."""

    enabled: bool = True
    thresholds: tuple[int, ...] = DEFAULT_THRESHOLDS
    weekly_thresholds: tuple[int, ...] | None = None
    pace: bool = True
    time_aware: bool = False

    def for_window(self, name: str) -> tuple[int, ...]:
        if name == "weekly" and self.weekly_thresholds is not None:
            return tuple(sorted(set(self.weekly_thresholds)))
        return tuple(sorted(set(self.thresholds)))


@dataclass(frozen=True)
class WindowMemory:
    """What we know of one window: its last seen reset time and the thresholds already fired."""

    resets_at: datetime | None = None
    fired: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class AlertMemory:
    """Everything `evaluate` must remember between polls and across restarts."""

    session: WindowMemory | None = None
    weekly: WindowMemory | None = None
    last_pace_warning: datetime | None = None
    models: dict[str, WindowMemory] = field(default_factory=dict)  # by Limit.id
    # The login end the warnings below belong to, and the LOGIN_WARNINGS names already shown.
    login_expires_at: datetime | None = None
    login_warned: frozenset[str] = field(default_factory=frozenset)

    def to_json(self) -> dict[str, Any]:
        windows: dict[str, Any] = {}
        for name, _ in _WINDOWS:
            mem: WindowMemory | None = getattr(self, name)
            if mem is not None:
                windows[name] = _window_json(mem)
        return {
            "version": _MEMORY_VERSION,
            "windows": windows,
            "models": {key: _window_json(mem) for key, mem in sorted(self.models.items())},
            "last_pace_warning": _iso(self.last_pace_warning),
            "login": {"expires_at": _iso(self.login_expires_at),
                      "warned": sorted(self.login_warned)},
        }

    @classmethod
    def from_json(cls, raw: Any) -> AlertMemory:
        """The inverse of `to_json`. Raises ValueError naming what is wrong with the shape."""
        if not isinstance(raw, dict):
            raise ValueError("alert memory is not a JSON object")
        if raw.get("version") != _MEMORY_VERSION:
            raise ValueError(f"alert memory has unknown version {raw.get('version')!r}")
        windows = raw.get("windows", {})
        if not isinstance(windows, dict):
            raise ValueError("alert memory: windows is not an object")
        parsed: dict[str, WindowMemory | None] = {}
        for name, _ in _WINDOWS:
            item = windows.get(name)
            parsed[name] = None if item is None else _window_memory(item, f"windows.{name}")
        models = raw.get("models", {})  # absent in files of older versions
        if not isinstance(models, dict):
            raise ValueError("alert memory: models is not an object")
        login = raw.get("login", {})  # absent in files of older versions
        if not isinstance(login, dict):
            raise ValueError("alert memory: login is not an object")
        warned = login.get("warned", [])
        if not isinstance(warned, list) or not all(isinstance(x, str) for x in warned):
            raise ValueError("alert memory: login.warned is not a list of names")
        return cls(
            session=parsed["session"],
            weekly=parsed["weekly"],
            last_pace_warning=_parse_time(raw.get("last_pace_warning"), "last_pace_warning"),
            models={str(k): _window_memory(v, f"models.{k}") for k, v in models.items()},
            login_expires_at=_parse_time(login.get("expires_at"), "login.expires_at"),
            login_warned=frozenset(warned),
        )


def _window_json(mem: WindowMemory) -> dict[str, Any]:
    return {"resets_at": _iso(mem.resets_at), "fired": sorted(mem.fired)}


def _window_memory(item: Any, where: str) -> WindowMemory:
    if not isinstance(item, dict):
        raise ValueError(f"alert memory: {where} is not an object")
    fired = item.get("fired", [])
    if not isinstance(fired, list) or not all(_is_int(x) for x in fired):
        raise ValueError(f"alert memory: {where}.fired is not a list of integers")
    return WindowMemory(_parse_time(item.get("resets_at"), f"{where}.resets_at"),
                        frozenset(fired))


def evaluate(
    usage: Usage, memory: AlertMemory, settings: AlertSettings, now: datetime, *,
    login_expires_at: datetime | None = None,
) -> tuple[list[Alert], AlertMemory]:
    """The alerts to show for this response, and the memory to keep for the next one.
    `login_expires_at`: when the login itself ends, if known."""
    alerts: list[Alert] = []
    windows: dict[str, WindowMemory | None] = {}
    for name, length in _WINDOWS:
        window: Window | None = getattr(usage, name)
        found, windows[name] = _evaluate_window(
            name, name, length, window, getattr(memory, name), settings.for_window(name),
            settings.time_aware, now,
        )
        alerts.extend(found)
    # A limit missing from one answer keeps its memory until its window is over, so it does not
    # fire again when it comes back.
    models = {key: mem for key, mem in memory.models.items()
              if mem.resets_at is None or mem.resets_at > now}
    for limit in usage.limits:
        if limit.kind != "weekly_scoped":
            continue
        found, mem = _evaluate_window(
            f"model:{limit.model or limit.label}", f"weekly {limit.model or limit.label}",
            WEEK_WINDOW, Window(limit.utilization, limit.resets_at), memory.models.get(limit.id),
            settings.for_window("weekly"), settings.time_aware, now,
        )
        alerts.extend(found)
        if mem is not None:
            models[limit.id] = mem
    # Resets first: they describe what already happened, thresholds what is happening now.
    alerts.sort(key=lambda a: a.kind != KIND_RESET)

    last_pace = memory.last_pace_warning
    pace = _pace_alert(usage.weekly, last_pace, now) if settings.pace else None
    if pace is not None:
        alerts.append(pace)
        last_pace = now

    login_alert, login_end, warned = _login_alert(login_expires_at, memory, now)
    if login_alert is not None:
        alerts.append(login_alert)

    new_memory = AlertMemory(windows["session"], windows["weekly"], last_pace, models, login_end,
                             warned)
    return (alerts if settings.enabled else []), new_memory


def _login_alert(expires_at: datetime | None, memory: AlertMemory,
                 now: datetime) -> tuple[Alert | None, datetime | None, frozenset[str]]:
    if expires_at is None:
        return None, memory.login_expires_at, memory.login_warned
    warned = memory.login_warned if expires_at == memory.login_expires_at else frozenset()
    left = expires_at - now
    if left <= timedelta(0):
        return None, expires_at, warned  # over: the refresh's invalid_grant says the rest
    due = [name for name, before in LOGIN_WARNINGS if left <= before]
    if not due or set(due) <= warned:
        return None, expires_at, warned
    alert = Alert(
        key=f"login:{due[-1]}",
        title=f"Your Claude Pulse login expires in {days_left(left)}",
        body="Log in again to keep your numbers coming.",
        urgency=Urgency.CRITICAL if due[-1] == LOGIN_WARNINGS[-1][0] else Urgency.NORMAL,
        kind=KIND_LOGIN_EXPIRY,
    )
    return alert, expires_at, warned | set(due)


def reauth_alert() -> Alert:
    """Shown when the refresh token is rejected: nothing works until the user logs in."""
    return Alert(
        key="auth:reauth",
        title="Claude Pulse needs you to log in again",
        body="Your sign-in is no longer accepted. Open Claude Pulse to log in.",
        urgency=Urgency.CRITICAL,
        kind=KIND_REAUTH,
    )


def logged_in_alert(email: str | None) -> Alert:
    """Shown when a login finished while the window was closed: which account it was, so a
    login nobody expected (another local user's code in our callback) is seen."""
    who = f"Logged in as {email}." if email else \
        "Logged in; Anthropic did not say which account."
    return Alert(
        key="auth:logged_in",
        title="Claude Pulse is logged in",
        body=f"{who} Not you? Log out from the tray menu.",
        urgency=Urgency.NORMAL,
        kind=KIND_LOGGED_IN,
    )


def login_failed_alert(reason: str) -> Alert:
    """Shown when a browser login did not complete; `reason` is a user-facing error message."""
    line = " ".join(reason.split()) or "The login did not complete."
    if len(line) > 200:
        line = line[:199] + "…"
    return Alert(
        key="auth:login_failed",
        title="Claude Pulse login failed",
        body=line,
        urgency=Urgency.NORMAL,
        kind=KIND_LOGIN_FAILED,
    )


def _evaluate_window(
    name: str,
    phrase: str,  # "session", "weekly", "weekly Fable": how titles name the limit
    length: timedelta,
    window: Window | None,
    mem: WindowMemory | None,
    thresholds: tuple[int, ...],
    time_aware: bool,
    now: datetime,
) -> tuple[list[Alert], WindowMemory | None]:
    if window is None or window.utilization is None:
        return [], mem
    used = window.utilization
    resets_at = window.resets_at
    if resets_at is not None and resets_at <= now:
        # This describes a window that is already over; its numbers tell us nothing new, and
        # taking it as a new window would re-fire on every poll until fresh data arrives.
        return [], mem

    alerts: list[Alert] = []
    if mem is None:
        mem = WindowMemory(resets_at)
    elif _is_new_window(mem.resets_at, resets_at, now):
        if _reset_is_news(mem, used, thresholds, length, now):
            alerts.append(_reset(name, phrase, used, resets_at, now))
        mem = WindowMemory(resets_at)
    elif resets_at is not None:
        # Same window: follow the server's latest value so slow drift never looks like a reset.
        mem = replace(mem, resets_at=resets_at)

    ahead = is_over_budget(used, elapsed_percent(resets_at, length, now))
    crossed = frozenset(t for t in thresholds if used >= t
                        and (not time_aware or t >= TIME_AWARE_BELOW or ahead))
    if crossed:
        top = max(crossed)
        if top not in mem.fired:
            alerts.append(_threshold(name, phrase, top, used, resets_at, now))
        # Lower thresholds count as fired too, also those time-awareness held back.
        mem = replace(mem, fired=mem.fired | crossed | {t for t in thresholds if t <= top})
    return alerts, mem


def _is_new_window(previous: datetime | None, current: datetime | None, now: datetime) -> bool:
    if previous is None:
        return False  # nothing to compare with: adopt the current value as this window's
    if now >= previous:
        return True
    return current is not None and current - previous > NEW_WINDOW_SHIFT


def _reset_is_news(
    mem: WindowMemory, used: float, thresholds: Iterable[int], length: timedelta, now: datetime
) -> bool:
    lowest = min(thresholds, default=None)
    if lowest is None or not any(t >= lowest for t in mem.fired):
        return False
    if used >= lowest:
        return False
    ended = mem.resets_at
    return ended is None or now - ended <= length


def _pace_alert(weekly: Window | None, last: datetime | None, now: datetime) -> Alert | None:
    if weekly is None or weekly.utilization is None or weekly.resets_at is None:
        return None
    if weekly.resets_at <= now:
        return None
    elapsed = elapsed_percent(weekly.resets_at, WEEK_WINDOW, now)
    if elapsed is None or elapsed < PACE_GRACE_PERCENT:
        return None
    if not is_over_budget(weekly.utilization, elapsed):
        return None
    # A remembered time in the future means the clock was moved back; do not let it mute us.
    if last is not None and last <= now and now - last < PACE_REPEAT:
        return None
    return Alert(
        key="weekly:pace",
        title="You're using messages faster than usual this week",
        body=f"{OVER_BUDGET}: {percent(weekly.utilization)} used with {percent(elapsed)} of "
             "the week elapsed",
        urgency=Urgency.NORMAL,
        kind=KIND_PACE,
    )


def _threshold_title(limit: str, threshold: int) -> str:
    # Spec §5.5 gives the texts for 80/90/95 (session); other values get the nearest wording.
    if threshold == 95:
        return f"Critical: Almost at {limit} limit"
    if threshold >= 100:
        return f"Critical: {_first_up(limit)} limit reached"
    if threshold > 95:
        return f"Critical: {threshold}% of {limit} limit used"
    if threshold >= 90 and limit in ("session", "weekly"):
        return f"Warning: {threshold}% of {limit} limit used"
    return f"You've used {threshold}% of your {limit} limit"


def _first_up(text: str) -> str:
    return text[:1].upper() + text[1:]  # "weekly Fable" -> "Weekly Fable", not "Weekly fable"


def _threshold(
    name: str, phrase: str, threshold: int, used: float, resets_at: datetime | None,
    now: datetime
) -> Alert:
    return Alert(
        key=f"{name}:{threshold}",
        title=_threshold_title(phrase, threshold),
        body=_status_line(used, resets_at, now),
        urgency=Urgency.CRITICAL if threshold >= CRITICAL_FROM else Urgency.NORMAL,
        kind=KIND_THRESHOLD,
    )


def _reset(name: str, phrase: str, used: float, resets_at: datetime | None,
           now: datetime) -> Alert:
    return Alert(
        key=f"{name}:reset",
        title=f"{_first_up(phrase)} limit cleared – Full capacity restored",
        body=_status_line(used, resets_at, now),
        urgency=Urgency.NORMAL,
        kind=KIND_RESET,
    )


def _status_line(used: float, resets_at: datetime | None, now: datetime) -> str:
    line = f"{percent(used)} used"
    if resets_at is not None:
        line += f" · resets in {duration(resets_at - now)}"
    return line


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_time(value: Any, where: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"alert memory: {where} is not a time string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"alert memory: {where} is not an ISO 8601 time") from exc
    if parsed.tzinfo is None:
        raise ValueError(f"alert memory: {where} has no time zone")
    return parsed


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
