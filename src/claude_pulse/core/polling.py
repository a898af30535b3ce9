"""The poller's decisions as a pure function: `step(model, event, now) -> (model, effects)`.

The driver (`services.poller`) performs the effects — fetch on the worker thread, arm the one
timer, notify — and feeds results back as events. Keeping the decisions here makes every row of
the error table (spec §6, design.md §2) a table test with no threads, clocks or sockets.

Schedule, with base = `poll_interval_seconds` (default 180 s, the same with the window open):

* success: next poll after `base` ±10 %; when neither the session nor the weekly value has moved
  for 10 minutes the interval stretches to max(base, min(2*base, 900 s)), and after 30 minutes
  to max(base, 900 s) (the rule of the old 60 s base, scaled by three). It snaps back to `base`
  as soon as a value moves or the window is shown.
* never earlier than the shared gate allows (`not_before`: the hourly request budget, all
  processes together); a poll the budget turns away is quietly moved to when it fits.
* 5xx / bad body: back-off 30 s, 60, 120, 240, 480, then 900 s cap; each delay jittered ±20 %.
* offline (DNS, refused, reset, timeout): 30 s, 60, 120, then every 300 s; jittered ±20 %.
* 429: no request until the shared cooldown ends (max(Retry-After, 300 s) + 15 min, longer for
  429s in a row; `services.gate`), then at least 360 s apart for an hour (the gate's
  `not_before` again).
* log in again / signed out: no requests at all until a login.

Claude Code's feed (issue 14): `claude-pulse statusline` saves the numbers Claude Code hands it
as the shared snapshot (source "claude-code") and pokes the tray (`FeedSeen`). While such a
snapshot is younger than `base`, the feed is live: the tray shows it and asks Anthropic nothing,
except one full request (per-model limits, extra usage, the login check) every
`feed_full_every_s` (30 min). A poll on schedule takes the feed instead of asking
(`Fetch.feed_within_s`); the timer is armed for when the feed snapshot turns `base` old, and if
nothing newer has come by then the feed has gone quiet and normal polling resumes. What is shown
is the feed's two windows over the last full answer's per-model limits and extra usage, so a
feed snapshot never takes those away.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from claude_pulse.core.forecast import Trend
from claude_pulse.core.format import age, clock_time
from claude_pulse.core.status import AppStatus, Phase
from claude_pulse.errors import (
    AuthError,
    BudgetExhausted,
    CooldownActive,
    CredentialsError,
    NetworkError,
    NotLoggedIn,
    PulseError,
)

__all__ = [
    "FEED_SOURCE",
    "CancelTimer",
    "Effect",
    "Event",
    "FeedSeen",
    "Fetch",
    "FetchFailed",
    "FetchOk",
    "LoggedIn",
    "LoggedOut",
    "LoginFailed",
    "LoginStarted",
    "NotifyReauth",
    "PollModel",
    "PollPolicy",
    "RefreshNow",
    "Refused",
    "ScheduleAt",
    "SettingsChanged",
    "Start",
    "Timer",
    "WindowVisible",
    "step",
]

if TYPE_CHECKING:
    from claude_pulse.core.snapshot import Snapshot

FEED_SOURCE = "claude-code"  # `Snapshot.source` of numbers from Claude Code's status-line feed


@dataclass(frozen=True)
class PollPolicy:
    base_interval_s: float = 180.0
    idle_after_s: float = 600.0  # values unchanged this long: stretch
    deep_idle_after_s: float = 1800.0
    stretch_cap_s: float = 900.0
    server_backoff_s: tuple[float, ...] = (30.0, 60.0, 120.0, 240.0, 480.0, 900.0)
    offline_backoff_s: tuple[float, ...] = (30.0, 60.0, 120.0, 300.0)
    jitter: float = 0.2  # ±20 % on retries
    # ±10 % on polls: processes started together (login, a reboot) drift apart instead of
    # calling in step; the budget's gate keeps any hour from going over.
    success_jitter: float = 0.1
    # While Claude Code's feed is live, a full request (per-model limits, extra usage, the
    # login check) at most this often.
    feed_full_every_s: float = 1800.0

    def success_delay(self, unchanged_for: timedelta, window_visible: bool,
                      jitter_draw: float = 0.5) -> float:
        """The next poll's delay; `jitter_draw` is uniform in [0, 1) (0.5: none)."""
        base = self.base_interval_s
        idle = unchanged_for.total_seconds()
        if window_visible or idle < self.idle_after_s:
            delay = base
        elif idle < self.deep_idle_after_s:
            delay = max(base, min(2 * base, self.stretch_cap_s))
        else:
            delay = max(base, self.stretch_cap_s)
        return delay * (1 - self.success_jitter + 2 * self.success_jitter * jitter_draw)

    def failure_delay(self, offline: bool, failures: int, jitter_draw: float) -> float:
        """Delay before retry number `failures` (1-based); `jitter_draw` is uniform in [0, 1)."""
        table = self.offline_backoff_s if offline else self.server_backoff_s
        delay = table[min(failures, len(table)) - 1]
        return delay * (1 - self.jitter + 2 * self.jitter * jitter_draw)


# ---- events (inputs) ----

@dataclass(frozen=True)
class Start:
    logged_in: bool
    snapshot: Snapshot | None = None
    cooldown_until: datetime | None = None
    account: str | None = None
    login_expires_at: datetime | None = None


@dataclass(frozen=True)
class Timer:
    pass


@dataclass(frozen=True)
class RefreshNow:
    # What the shared gate would answer now (a cooldown, the spent budget), if anything.
    refusal: CooldownActive | None = None
    hour24: bool = True  # the user's clock format, for a refusal's "next request at …"


@dataclass(frozen=True)
class FetchOk:
    snapshot: Snapshot
    session: Trend = field(default_factory=Trend)
    weekly: Trend = field(default_factory=Trend)
    jitter_draw: float = 0.5
    # The earliest time the shared gate lets the next request through (None: any time).
    not_before: datetime | None = None


@dataclass(frozen=True)
class FetchFailed:
    error: PulseError
    jitter_draw: float = 0.5
    not_before: datetime | None = None


@dataclass(frozen=True)
class FeedSeen:
    """`statusline` saved a new snapshot from Claude Code's feed (read after its poke)."""

    snapshot: Snapshot
    session: Trend = field(default_factory=Trend)
    weekly: Trend = field(default_factory=Trend)


@dataclass(frozen=True)
class WindowVisible:
    visible: bool


@dataclass(frozen=True)
class LoginStarted:
    pass


@dataclass(frozen=True)
class LoginFailed:
    message: str


@dataclass(frozen=True)
class LoggedIn:
    account: str | None = None
    login_expires_at: datetime | None = None


@dataclass(frozen=True)
class LoggedOut:
    message: str | None = None


@dataclass(frozen=True)
class SettingsChanged:
    """The policy passed to `step` is not the one the armed timer was planned with."""


Event = (Start | Timer | RefreshNow | FetchOk | FetchFailed | FeedSeen | WindowVisible
         | LoginStarted | LoginFailed | LoggedIn | LoggedOut | SettingsChanged)


# ---- effects (outputs) ----

@dataclass(frozen=True)
class Fetch:
    # A poll on schedule takes another process's answer younger than this instead of asking
    # again (the status line, `status`); None: ask the server (Refresh now, a new login).
    share_within_s: float | None = None
    # Claude Code's feed younger than this is taken instead of a request; None: a full answer
    # is due (or wanted), so do not.
    feed_within_s: float | None = None


@dataclass(frozen=True)
class ScheduleAt:
    when: datetime


@dataclass(frozen=True)
class CancelTimer:
    pass


@dataclass(frozen=True)
class Refused:
    message: str


@dataclass(frozen=True)
class NotifyReauth:
    message: str


Effect = Fetch | ScheduleAt | CancelTimer | Refused | NotifyReauth


@dataclass(frozen=True)
class PollModel:
    status: AppStatus = field(default_factory=lambda: AppStatus(Phase.SIGNED_OUT))
    in_flight: bool = False
    failures: int = 0
    unchanged_since: datetime | None = None
    window_visible: bool = False
    # The last answer from Anthropic (any process's): its per-model limits and extra usage stay
    # on screen under the feed's numbers.
    details: Snapshot | None = None
    # When the next request to Anthropic is due while the feed is live; None: at once.
    full_due: datetime | None = None


_IDLE_PHASES = (Phase.SIGNED_OUT, Phase.LOGGING_IN, Phase.LOGIN_FAILED, Phase.REAUTH)


def step(
    model: PollModel, event: Event, now: datetime, policy: PollPolicy
) -> tuple[PollModel, list[Effect]]:
    """Apply one event. Never raises; every branch returns the whole new model."""
    status = model.status
    if isinstance(event, Start):
        model, effects = _start(model, event, now, policy)
        return _with_login_end(model, event.login_expires_at), effects
    if isinstance(event, (Timer, RefreshNow)):
        if status.phase in _IDLE_PHASES or model.in_flight:
            return model, []
        if isinstance(event, RefreshNow):
            refused = _refused(event, status, now)
            if refused is not None and event.refusal is not None:
                # What another process learnt (a 429, the budget spent) applies here too.
                model, effects = _failed(model, FetchFailed(event.refusal), now, policy)
                return model, [*effects, refused]
            if refused is not None:
                return model, [refused]
            return _fetch(model), [Fetch()]
        return _fetch(model), [_scheduled_fetch(model, now, policy)]
    if isinstance(event, (FetchOk, FeedSeen)):
        if event.snapshot.source == FEED_SOURCE:
            model, effects = _fed(model, event, now, policy)
        elif isinstance(event, FetchOk):
            model, effects = _fetched(model, event, now, policy)
        else:
            return model, []  # only the feed pokes
        status = replace(model.status, session_forecast=event.session.forecast,
                         weekly_forecast=event.weekly.forecast,
                         session_history=event.session.points,
                         weekly_history=event.weekly.points)
        return replace(model, status=status), effects
    if isinstance(event, FetchFailed):
        return _failed(model, event, now, policy)
    if isinstance(event, WindowVisible):
        return _window(model, event.visible, now, policy)
    if isinstance(event, LoginStarted):
        return replace(model, status=replace(status, phase=Phase.LOGGING_IN, message=None,
                                             next_try=None)), [CancelTimer()]
    if isinstance(event, LoginFailed):
        return replace(model, status=replace(status, phase=Phase.LOGIN_FAILED,
                                             message=event.message, next_try=None)), []
    if isinstance(event, LoggedIn):
        new_status = AppStatus(Phase.LOADING, status.snapshot, account=event.account,
                               login_expires_at=event.login_expires_at)
        # Maybe another account: its own limits come with the fetch.
        return replace(model, status=new_status, failures=0, in_flight=True, details=None,
                       full_due=None), [Fetch()]
    if isinstance(event, LoggedOut):
        return PollModel(AppStatus(Phase.SIGNED_OUT, message=event.message),
                         window_visible=model.window_visible), [CancelTimer()]
    if isinstance(event, SettingsChanged):
        return _replan(model, now, policy)
    raise AssertionError(f"unknown event {event!r}")  # pragma: no cover


def _start(model: PollModel, event: Start, now: datetime,
           policy: PollPolicy) -> tuple[PollModel, list[Effect]]:
    snap = event.snapshot
    if not event.logged_in:
        return replace(model, status=AppStatus(Phase.SIGNED_OUT, snap)), []
    if event.cooldown_until is not None and event.cooldown_until > now:
        status = AppStatus(Phase.RATE_LIMITED, snap, event.cooldown_until,
                           "Rate-limited by Anthropic", event.account)
        return replace(model, status=status, full_due=event.cooldown_until), \
            [ScheduleAt(event.cooldown_until)]
    if snap is not None:
        due = snap.fetched_at + timedelta(seconds=policy.base_interval_s)
        if due > now and snap.source == FEED_SOURCE:
            # Claude Code's numbers: shown at once; the full answer (per-model limits, extra
            # usage, the login check) is the one request the feed leaves us.
            status = AppStatus(Phase.OK, snap, account=event.account)
            return replace(model, status=status, unchanged_since=now, in_flight=True), \
                [_scheduled_fetch(model, now, policy)]
        if due > now:
            # Another process fetched moments ago: show it and poll when it ages out.
            status = AppStatus(Phase.OK, snap, due, account=event.account)
            return replace(_with_details(model, snap, policy), status=status,
                           unchanged_since=now), [ScheduleAt(due)]
    status = AppStatus(Phase.LOADING, snap, account=event.account)
    return replace(model, status=status, in_flight=True), [_scheduled_fetch(model, now, policy)]


def _with_login_end(model: PollModel, login_expires_at: datetime | None) -> PollModel:
    return replace(model, status=replace(model.status, login_expires_at=login_expires_at))


def _fetch(model: PollModel) -> PollModel:
    return replace(model, in_flight=True)


def _scheduled_fetch(model: PollModel, now: datetime, policy: PollPolicy) -> Fetch:
    full = model.full_due is None or model.full_due <= now
    return Fetch(share_within_s=policy.base_interval_s / 2,
                 feed_within_s=None if full else policy.base_interval_s)


def _with_details(model: PollModel, snap: Snapshot, policy: PollPolicy) -> PollModel:
    """An answer from Anthropic: keep its details; the next full one is due in 30 minutes."""
    return replace(model, details=snap,
                   full_due=snap.fetched_at + timedelta(seconds=policy.feed_full_every_s))


def _over_details(feed: Snapshot, details: Snapshot | None) -> Snapshot:
    """The feed's windows over the last full answer's per-model limits and extra usage (the
    feed has neither); a window the feed lacks keeps the full answer's."""
    if details is None:
        return feed
    usage, known = feed.usage, details.usage
    merged = replace(known, session=usage.session if usage.session is not None
                     else known.session,
                     weekly=usage.weekly if usage.weekly is not None else known.weekly,
                     problems=())
    return replace(feed, usage=merged)


def _values(snap: Snapshot | None) -> tuple[float | None, float | None]:
    if snap is None:
        return (None, None)
    usage = snap.usage
    return (usage.session.utilization if usage.session else None,
            usage.weekly.utilization if usage.weekly else None)


def _fetched(model: PollModel, event: FetchOk, now: datetime,
             policy: PollPolicy) -> tuple[PollModel, list[Effect]]:
    snap = event.snapshot
    # Recovering from an error counts as movement: we have not been watching, so start over.
    moved = (model.unchanged_since is None or model.status.phase is not Phase.OK
             or _values(model.status.snapshot) != _values(snap))
    unchanged_since = now if moved else model.unchanged_since
    assert unchanged_since is not None
    delay = policy.success_delay(now - unchanged_since, model.window_visible, event.jitter_draw)
    # From when the numbers were fetched: another process's shared answer may be a little older.
    when = _not_before(min(now, snap.fetched_at) + timedelta(seconds=delay), event.not_before)
    status = replace(model.status, phase=Phase.OK, snapshot=snap, next_try=when, message=None)
    new = replace(_with_details(model, snap, policy), status=status, in_flight=False, failures=0,
                  unchanged_since=unchanged_since)
    return new, [ScheduleAt(when)]


def _fed(model: PollModel, event: FetchOk | FeedSeen, now: datetime,
         policy: PollPolicy) -> tuple[PollModel, list[Effect]]:
    """Numbers from Claude Code's feed: the answer to a poll (`FetchOk`) or a poke."""
    status, snap = model.status, event.snapshot
    answer = isinstance(event, FetchOk)
    shown = status.snapshot
    newer_shown = shown is not None and shown.fetched_at >= snap.fetched_at
    if newer_shown and not answer:
        return model, []  # seen already (two pokes for one save), or older than what we show
    if newer_shown and shown is not None and shown.source == FEED_SOURCE:
        snap = shown  # a poke during the poll brought newer numbers than its answer
    merged = _over_details(snap, model.details)
    moved = model.unchanged_since is None or _values(shown) != _values(merged)
    model = replace(model, unchanged_since=now if moved else model.unchanged_since,
                    in_flight=model.in_flight and not answer)
    if status.phase in _IDLE_PHASES or model.in_flight:
        # Signed out, a login to renew, a fetch under way: new numbers, nothing else changes.
        return replace(model, status=replace(status, snapshot=merged)), []
    full_due = model.full_due
    if answer and (full_due is None or full_due <= now):
        # A full answer was due, but another process had just asked and the shared snapshot
        # is the feed's: ask once the shared spacing lets the request through.
        full_due = now + timedelta(seconds=policy.base_interval_s / 2)
    when = _feed_plan(snap, full_due, now, policy)
    status = replace(status, phase=Phase.OK, snapshot=merged, next_try=when, message=None)
    # `failures` stays: the next request that fails backs off from where the last one left.
    return replace(model, status=status, full_due=full_due), [ScheduleAt(when)]


def _feed_plan(feed: Snapshot, full_due: datetime | None, now: datetime,
               policy: PollPolicy) -> datetime:
    """The next wake-up while the feed is live: when it turns quiet (`base` old), or the full
    request, whichever is first; never in the past (a timer a moment early must not spin)."""
    quiet = feed.fetched_at + timedelta(seconds=policy.base_interval_s)
    when = quiet if full_due is None else min(quiet, full_due)
    return max(when, now + _MIN_WAKE)


_MIN_WAKE = timedelta(seconds=1)


def _failed(model: PollModel, event: FetchFailed, now: datetime,
            policy: PollPolicy) -> tuple[PollModel, list[Effect]]:
    error, status = event.error, model.status
    base = replace(model, in_flight=False)
    if isinstance(error, BudgetExhausted) and status.phase is Phase.OK and \
            error.until <= now + timedelta(seconds=policy.base_interval_s):
        # Our own budget, not the server (another process took the hour's last request), and
        # room comes within an interval: the numbers stay recent, so poll quietly when it does.
        until = max(error.until, now)
        return replace(base, status=replace(status, next_try=until), full_due=until), \
            [ScheduleAt(until)]
    if isinstance(error, CooldownActive):
        until = max(error.until, now)
        new = replace(status, phase=Phase.RATE_LIMITED, next_try=until, message=str(error))
        return replace(base, status=new, full_due=until), [ScheduleAt(until)]
    if isinstance(error, (NotLoggedIn, CredentialsError)):
        new = AppStatus(Phase.SIGNED_OUT, status.snapshot, message=str(error))
        return replace(base, status=new, failures=0), [CancelTimer()]
    if isinstance(error, AuthError):
        new = replace(status, phase=Phase.REAUTH, next_try=None, message=str(error))
        effects: list[Effect] = [CancelTimer()]
        if status.phase is not Phase.REAUTH:
            effects.append(NotifyReauth(str(error)))
        return replace(base, status=new, failures=0), effects
    offline = isinstance(error, NetworkError)
    failures = model.failures + 1
    when = now + timedelta(seconds=policy.failure_delay(offline, failures, event.jitter_draw))
    when = _not_before(when, event.not_before)
    phase = Phase.OFFLINE if offline else Phase.SERVER_ERROR
    new = replace(status, phase=phase, next_try=when, message=str(error))
    # The back-off holds while the feed is live too: the feed's timer does not ask earlier.
    return replace(base, status=new, failures=failures, full_due=when), [ScheduleAt(when)]


def _window(model: PollModel, visible: bool, now: datetime,
            policy: PollPolicy) -> tuple[PollModel, list[Effect]]:
    model = replace(model, window_visible=visible)
    status = model.status
    if not visible or status.phase is not Phase.OK or model.in_flight or status.snapshot is None:
        return model, []
    # Snap back from a stretched interval: the user is looking, so numbers should be current.
    due = status.snapshot.fetched_at + timedelta(seconds=policy.base_interval_s)
    if status.next_try is not None and status.next_try <= due:
        return model, []
    if due <= now:
        return _fetch(model), [_scheduled_fetch(model, now, policy)]
    return replace(model, status=replace(status, next_try=due)), [ScheduleAt(due)]


def _replan(model: PollModel, now: datetime,
            policy: PollPolicy) -> tuple[PollModel, list[Effect]]:
    # A new poll interval applies to the poll already planned, not only to the one after it.
    # Back-offs and cooldowns keep their own times: they answer the server, not the setting.
    status = model.status
    if status.phase is not Phase.OK or model.in_flight or status.snapshot is None \
            or model.unchanged_since is None:
        return model, []
    if status.snapshot.source == FEED_SOURCE:
        when = _feed_plan(status.snapshot, model.full_due, now, policy)
    else:
        delay = policy.success_delay(now - model.unchanged_since, model.window_visible)
        when = status.snapshot.fetched_at + timedelta(seconds=delay)
    if when == status.next_try:
        return model, []
    if when <= now:
        return _fetch(model), [_scheduled_fetch(model, now, policy)]
    return replace(model, status=replace(status, next_try=when)), [ScheduleAt(when)]


def _not_before(when: datetime, not_before: datetime | None) -> datetime:
    return max(when, not_before) if not_before is not None else when


def _refused(event: RefreshNow, status: AppStatus, now: datetime) -> Refused | None:
    """Refresh now during a cooldown or with the budget spent: say why, how old the numbers
    on screen are, and when the next request may go (no request is sent)."""
    until: datetime | None = None
    reason = ""
    if event.refusal is not None and event.refusal.until > now:
        until, reason = event.refusal.until, str(event.refusal)
    elif status.phase is Phase.RATE_LIMITED and status.next_try is not None \
            and status.next_try > now:
        until = status.next_try
        reason = f"rate-limited: next request at {clock_time(until, hour24=event.hour24)}"
    if until is None:
        return None
    shown = status.snapshot
    if shown is not None:
        reason += f" (showing numbers from {age(now - shown.fetched_at)})"
    return Refused(reason[:1].upper() + reason[1:])

