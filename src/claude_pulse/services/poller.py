"""The poller's driver: performs the effects that `core.polling.step` decides.

Thread contract: every public method runs on the UI (main) thread. Network calls run on one
worker thread; their results come back through `post`, which the UI supplies (Tk: an event on
the main loop). There is exactly one timer at a time, armed through the `Scheduler` seam, so an
idle app sleeps until the next poll — no polling loop. While a fetch runs, a second one watches
it: a fetch still running at its deadline (`fetch_deadline_for`) counts as failed (offline
back-off, numbers stale) and its answer, should it come later, is dropped — so nothing, however
stuck, keeps the poll "in flight" and blocks later polls or Refresh now.

Claude Code's feed: `statusline` pokes the tray after it saved new numbers from the feed
(`platform.poke`, over the single-instance socket); `feed_updated` reads the shared snapshot on
the worker and hands it to `core.polling` as `FeedSeen`. No timer watches the file: between
pokes the app sleeps as before.

Settings are read when used: the poll policy at every event, the alert settings at every
answer. Each wake-up (a timer, Refresh now, the window opening) first asks the settings to
notice a hand-edited `config.json`; a changed interval re-plans the timer already armed.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import random
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from claude_pulse.core import polling
from claude_pulse.core.alerts import Alert, AlertSettings, evaluate, reauth_alert
from claude_pulse.core.forecast import Trend
from claude_pulse.core.status import AppStatus
from claude_pulse.errors import CooldownActive, NetworkError, PulseError

if TYPE_CHECKING:
    from claude_pulse.config import Config
    from claude_pulse.core.snapshot import Snapshot
    from claude_pulse.core.usage import Usage
    from claude_pulse.services.alert_memory import AlertMemoryStore
    from claude_pulse.services.settings import Subscriber

__all__ = [
    "Account",
    "FetchWorker",
    "Fetcher",
    "LiveSettings",
    "Notifier",
    "Poller",
    "Scheduler",
    "Worker",
    "fetch_deadline_for",
    "policy_for",
]

log = logging.getLogger(__name__)

Cancel = Callable[[], None]


class Scheduler(Protocol):
    def call_later(self, delay_s: float, fn: Callable[[], None]) -> Cancel:
        """Run `fn` on the UI thread after `delay_s` seconds; returns a cancel function."""
        ...


class Worker(Protocol):
    """Where the network calls run: `FetchWorker` (one thread), or a simulated loop (bench)."""

    def submit(self, job: Callable[[], None]) -> None: ...

    def stop(self) -> None: ...


class FetchWorker:
    """One daemon thread, started on the first job, blocked in `get()` between jobs."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def submit(self, job: Callable[[], None]) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="pulse-fetch", daemon=True)
            self._thread.start()
        self._jobs.put(job)

    def stop(self) -> None:
        if self._thread is not None:
            self._jobs.put(None)
            self._thread.join(timeout=5)

    def _work(self) -> None:
        # Blocks in get() between jobs: an idle worker costs nothing.
        while (job := self._jobs.get()) is not None:
            job()


class Notifier(Protocol):
    def notify(self, alert: Alert) -> None:
        """Show `alert`. Returns quickly and never raises."""


class Fetcher(Protocol):
    """`services.fetch.UsageFetcher`, as the poller uses it."""

    def fetch(self, *, min_spacing_s: float | None = None) -> Snapshot | None: ...

    def last(self) -> Snapshot | None: ...

    def cooldown_until(self, now: datetime) -> datetime | None: ...

    def refusal(self, now: datetime) -> CooldownActive | None: ...

    def next_allowed(self, now: datetime) -> datetime: ...


class Account(Protocol):
    """`services.tokens.TokenManager`, as the poller uses it."""

    def logged_in(self) -> bool: ...

    @property
    def email(self) -> str | None: ...

    @property
    def login_expires_at(self) -> datetime | None: ...


class LiveSettings(Protocol):
    """`services.settings.Settings`, as the poller uses it."""

    def current(self) -> Config: ...

    def check(self) -> bool: ...

    def subscribe(self, fn: Subscriber) -> Callable[[], None]: ...


def policy_for(config: Config) -> polling.PollPolicy:
    return polling.PollPolicy(base_interval_s=float(config.poll_interval_seconds))


def fetch_deadline_for(config: Config) -> float:
    """How long one fetch may take: a refresh — ours, or waiting for another process's, which
    `TokenManager` bounds at the token deadline + LOCK_MARGIN_S — and two usage requests (the
    retry after a 401), each within its own deadline."""
    from claude_pulse.services.tokens import LOCK_MARGIN_S  # filelock: only the tray gets here

    return config.token_timeout_seconds + LOCK_MARGIN_S + 2 * config.usage_timeout_seconds


class Poller:
    def __init__(
        self,
        *,
        fetcher: Fetcher,
        account: Account,
        settings: LiveSettings,
        trends: Callable[[Usage, datetime], tuple[Trend, Trend]],
        clock: Callable[[], datetime],
        scheduler: Scheduler,
        post: Callable[[Callable[[], None]], None],
        on_status: Callable[[AppStatus], None],
        notifier: Notifier,
        alert_memory: AlertMemoryStore | None = None,
        policy: Callable[[Config], polling.PollPolicy] = policy_for,
        rng: random.Random | None = None,
        worker: Worker | None = None,
        fetch_deadline: Callable[[Config], float] = fetch_deadline_for,
    ) -> None:
        self._fetcher = fetcher
        self._account = account
        self._settings = settings
        self._trends_of = trends
        self._clock = clock
        self._scheduler = scheduler
        self._post = post
        self._on_status = on_status
        self._notifier = notifier
        self._memory_store = alert_memory
        self._memory = alert_memory.load() if alert_memory else None
        self._policy_for = policy
        self._unsubscribe = settings.subscribe(self._settings_changed)
        self._rng = rng or random.Random()  # jitter only; not security-relevant  # noqa: S311
        self._model = polling.PollModel()
        self._cancel_timer: Cancel | None = None
        self._worker = worker or FetchWorker()
        self._stopped = False
        self._fetch_deadline_of = fetch_deadline
        self._fetch_id = 0  # the fetch whose answer is awaited; others' answers are dropped
        self._cancel_watchdog: Cancel | None = None
        self._feed_queued = threading.Event()  # a read of the feed is waiting for the worker

    # ---- public API (UI thread) ----

    @property
    def status(self) -> AppStatus:
        return self._model.status

    def start(self) -> None:
        logged_in = self._account.logged_in()
        now = self._clock()
        event = polling.Start(
            logged_in=logged_in,
            snapshot=self._fetcher.last(),
            cooldown_until=self._fetcher.cooldown_until(now),
            account=self._account.email if logged_in else None,
            login_expires_at=self._account.login_expires_at if logged_in else None,
        )
        self._dispatch(event)

    def stop(self) -> None:
        self._stopped = True
        self._unsubscribe()
        self._cancel()
        self._unwatch()
        self._worker.stop()

    def refresh_now(self) -> str | None:
        """Poll now; returns a message instead when a cooldown forbids it."""
        self._settings.check()
        return self._dispatch(polling.RefreshNow(self._fetcher.refusal(self._clock()),
                                                 hour24=self._settings.current().hour24))

    def set_window_visible(self, visible: bool) -> None:
        if visible:
            self._settings.check()
        self._dispatch(polling.WindowVisible(visible))

    def feed_updated(self) -> None:
        """`statusline` saved new numbers from Claude Code's feed: show them (read off the UI
        thread, with their history; pokes while a read waits are one read)."""
        if self._stopped or self._feed_queued.is_set():
            return
        self._feed_queued.set()
        self._worker.submit(self._feed_job)

    def login_started(self) -> None:
        self._dispatch(polling.LoginStarted())

    def login_failed(self, message: str) -> None:
        self._dispatch(polling.LoginFailed(message))

    def logged_in(self) -> None:
        self._dispatch(polling.LoggedIn(self._account.email, self._account.login_expires_at))

    def logged_out(self, message: str | None = None) -> None:
        self._dispatch(polling.LoggedOut(message))

    # ---- internals ----

    def _dispatch(self, event: polling.Event) -> str | None:
        if self._stopped:
            return None
        before = self._model.status
        policy = self._policy_for(self._settings.current())
        self._model, effects = polling.step(self._model, event, self._clock(), policy)
        refused = None
        for effect in effects:
            if isinstance(effect, polling.Fetch):
                self._submit_fetch(effect)
            elif isinstance(effect, polling.ScheduleAt):
                self._arm(effect.when)
            elif isinstance(effect, polling.CancelTimer):
                self._cancel()
            elif isinstance(effect, polling.Refused):
                refused = effect.message
            elif isinstance(effect, polling.NotifyReauth):
                self._notifier.notify(reauth_alert())
        if isinstance(event, polling.FetchOk):
            self._follow_login_end()
        shown = self._model.status.snapshot
        new_feed = isinstance(event, polling.FeedSeen) and shown != before.snapshot
        if shown is not None and (isinstance(event, polling.FetchOk) or new_feed):
            self._run_alerts(shown)  # a feed's numbers come with the last full answer's limits
        if self._model.status != before:
            self._on_status(self._model.status)
        return refused

    def _arm(self, when: datetime) -> None:
        self._cancel()
        delay = max(0.0, (when - self._clock()).total_seconds())
        self._cancel_timer = self._scheduler.call_later(delay, self._on_timer)

    def _cancel(self) -> None:
        if self._cancel_timer is not None:
            self._cancel_timer()
            self._cancel_timer = None

    def _on_timer(self) -> None:
        self._cancel_timer = None
        self._settings.check()  # may re-plan (and re-arm) first
        if self._cancel_timer is None:
            self._dispatch(polling.Timer())

    def _settings_changed(self, old: Config, new: Config) -> None:
        if self._policy_for(old) != self._policy_for(new):
            log.info("poll interval now %d s", new.poll_interval_seconds)
            self._dispatch(polling.SettingsChanged())

    def _submit_fetch(self, fetch: polling.Fetch) -> None:
        self._fetch_id += 1
        fetch_id = self._fetch_id
        deadline = self._fetch_deadline_of(self._settings.current())
        self._unwatch()
        self._cancel_watchdog = self._scheduler.call_later(
            deadline, lambda: self._overdue(fetch_id, deadline))
        self._worker.submit(lambda: self._fetch_job(fetch_id, fetch))

    def _overdue(self, fetch_id: int, deadline: float) -> None:
        self._cancel_watchdog = None
        if fetch_id != self._fetch_id or not self._model.in_flight:
            return
        self._fetch_id += 1  # its answer, whenever it comes, is no longer awaited
        log.warning("usage check still running after %g s; treated as failed", deadline)
        error = NetworkError(f"The usage check did not finish within {deadline:g} s.",
                             "timeout")
        self._dispatch(polling.FetchFailed(error, self._rng.random()))

    def _unwatch(self) -> None:
        if self._cancel_watchdog is not None:
            self._cancel_watchdog()
            self._cancel_watchdog = None

    def _fetch_job(self, fetch_id: int, fetch: polling.Fetch) -> None:
        event: polling.Event
        try:
            snapshot = self._fetch_or_share(fetch.share_within_s, fetch.feed_within_s)
            event = polling.FetchOk(snapshot, *self._trends(snapshot), self._rng.random(),
                                    self._not_before())
        except PulseError as exc:
            log.info("fetch failed: %s", exc)
            event = polling.FetchFailed(exc, self._rng.random(), self._not_before())
        except Exception as exc:
            log.exception("unexpected error while fetching usage")
            event = polling.FetchFailed(PulseError(f"unexpected error: {exc.__class__.__name__}"),
                                        self._rng.random())
        self._post(lambda: self._deliver(fetch_id, event))

    def _fetch_or_share(self, within_s: float | None, feed_within_s: float | None) -> Snapshot:
        """Claude Code's feed from the last `feed_within_s` seconds, a new answer, or another
        process's from the last `within_s` seconds (the status line without Claude Code's feed,
        `status`): all but the new answer cost no request."""
        if feed_within_s is not None:
            shared = self._fetcher.last()
            if shared is not None and shared.source == polling.FEED_SOURCE and \
                    (self._clock() - shared.fetched_at).total_seconds() < feed_within_s:
                return shared
        if within_s is not None:
            fresh = self._fetcher.fetch(min_spacing_s=within_s)
            if fresh is not None:
                return fresh
            shared = self._fetcher.last()
            if shared is not None and \
                    (self._clock() - shared.fetched_at).total_seconds() < within_s:
                return shared
            # That request failed, or its answer is not in yet: ask ourselves.
        snapshot = self._fetcher.fetch()
        assert snapshot is not None  # no spacing asked for
        return snapshot

    def _feed_job(self) -> None:
        self._feed_queued.clear()  # a poke from now on reads again: it may be newer than this
        event: polling.FeedSeen | None = None
        try:
            shared = self._fetcher.last()
            if shared is not None and shared.source == polling.FEED_SOURCE:
                event = polling.FeedSeen(shared, *self._trends(shared))
        except Exception:  # the poke is a hint: the next poll reads the file again
            log.warning("could not read Claude Code's numbers", exc_info=True)
        if event is not None:
            seen = event

            def deliver() -> None:
                self._dispatch(seen)

            self._post(deliver)

    def _not_before(self) -> datetime | None:
        # Plan the next poll where the shared budget has room, instead of being turned away.
        try:
            return self._fetcher.next_allowed(self._clock())
        except Exception:  # a hint only: the gate still decides at the next request
            log.warning("could not read the request record", exc_info=True)
            return None

    def _deliver(self, fetch_id: int, event: polling.Event) -> None:
        if fetch_id != self._fetch_id:
            log.info("an answer came after its fetch was given up; dropped")
            return
        self._unwatch()
        self._dispatch(event)

    def _trends(self, snapshot: Snapshot) -> tuple[Trend, Trend]:
        try:
            return self._trends_of(snapshot.usage, self._clock())
        except Exception:  # charts and forecasts are niceties: never lose the numbers over them
            log.warning("could not read the usage history", exc_info=True)
            return Trend(), Trend()

    def _follow_login_end(self) -> None:
        # A refresh may have brought the login's end since start (the first one after an
        # upgrade does): read it again after each good fetch, so the window and the 3-day and
        # 1-day warnings never wait for a restart. One small file read per poll.
        end = self._account.login_expires_at
        status = self._model.status
        if end is not None and end != status.login_expires_at:
            self._model = dataclasses.replace(
                self._model, status=dataclasses.replace(status, login_expires_at=end))

    def _run_alerts(self, snapshot: Snapshot) -> None:
        if self._memory is None or self._memory_store is None:
            return
        config = self._settings.current()
        settings = AlertSettings(
            enabled=config.notifications_enabled,
            thresholds=config.notification_thresholds,
            weekly_thresholds=config.weekly_notification_thresholds,
            pace=config.pace_alerts,
            time_aware=config.time_aware_alerts,
        )
        alerts, memory = evaluate(snapshot.usage, self._memory, settings, self._clock(),
                                  login_expires_at=self._model.status.login_expires_at)
        if memory != self._memory:
            self._memory = memory
            try:
                self._memory_store.save(memory)
            except OSError:
                log.warning("could not save alert memory", exc_info=True)
        for alert in alerts:
            self._notifier.notify(alert)
