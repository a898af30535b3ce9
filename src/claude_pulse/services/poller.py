"""The poller's driver: performs the effects that `core.polling.step` decides.

Thread contract: every public method runs on the UI (main) thread. Network calls run on one
worker thread; their results come back through `post`, which the UI supplies (Tk: an event on
the main loop). There is exactly one timer at a time, armed through the `Scheduler` seam, so an
idle app sleeps until the next poll — no polling loop.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from claude_pulse.core import polling
from claude_pulse.core.alerts import AlertSettings, evaluate, reauth_alert
from claude_pulse.core.forecast import Trend
from claude_pulse.core.status import AppStatus
from claude_pulse.errors import CredentialsError, PulseError
from claude_pulse.services.fetch import fetch_usage_now

if TYPE_CHECKING:
    from claude_pulse.services.alert_memory import AlertMemoryStore
    from claude_pulse.services.snapshot import Snapshot
    from claude_pulse.ui.notify import Notifier
    from claude_pulse.wiring import Services

__all__ = ["Poller", "Scheduler"]

log = logging.getLogger(__name__)

Cancel = Callable[[], None]


class Scheduler(Protocol):
    def call_later(self, delay_s: float, fn: Callable[[], None]) -> Cancel:
        """Run `fn` on the UI thread after `delay_s` seconds; returns a cancel function."""
        ...


class Poller:
    def __init__(
        self,
        services: Services,
        *,
        scheduler: Scheduler,
        post: Callable[[Callable[[], None]], None],
        on_status: Callable[[AppStatus], None],
        notifier: Notifier,
        alert_memory: AlertMemoryStore | None = None,
        policy: polling.PollPolicy | None = None,
        alerts_enabled: Callable[[], bool] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._services = services
        self._scheduler = scheduler
        self._post = post
        self._on_status = on_status
        self._notifier = notifier
        self._memory_store = alert_memory
        self._memory = alert_memory.load() if alert_memory else None
        self._policy = policy or polling.PollPolicy(
            base_interval_s=float(services.config.poll_interval_seconds)
        )
        self._alerts_enabled = alerts_enabled or (lambda: services.config.notifications_enabled)
        self._rng = rng or random.Random()  # jitter only; not security-relevant  # noqa: S311
        self._model = polling.PollModel()
        self._cancel_timer: Cancel | None = None
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._stopped = False

    # ---- public API (UI thread) ----

    @property
    def status(self) -> AppStatus:
        return self._model.status

    def start(self) -> None:
        services = self._services
        try:
            logged_in = services.credentials.load() is not None
        except CredentialsError as exc:
            log.warning("%s", exc)
            logged_in = False
        now = services.clock()
        event = polling.Start(
            logged_in=logged_in,
            snapshot=services.snapshots.load(),
            cooldown_until=services.gate.cooldown_until(now),
            account=services.tokens.email if logged_in else None,
        )
        self._dispatch(event)

    def stop(self) -> None:
        self._stopped = True
        self._cancel()
        if self._worker is not None:
            self._jobs.put(None)
            self._worker.join(timeout=5)

    def refresh_now(self) -> str | None:
        """Poll now; returns a message instead when a cooldown forbids it."""
        return self._dispatch(polling.RefreshNow())

    def set_window_visible(self, visible: bool) -> None:
        self._dispatch(polling.WindowVisible(visible))

    def login_started(self) -> None:
        self._dispatch(polling.LoginStarted())

    def login_failed(self, message: str) -> None:
        self._dispatch(polling.LoginFailed(message))

    def logged_in(self) -> None:
        self._services.gate.clear_cooldown()  # a new token has a new rate-limit bucket
        self._dispatch(polling.LoggedIn(self._services.tokens.email))

    def logged_out(self, message: str | None = None) -> None:
        self._dispatch(polling.LoggedOut(message))

    # ---- internals ----

    def _dispatch(self, event: polling.Event) -> str | None:
        if self._stopped:
            return None
        before = self._model.status
        self._model, effects = polling.step(self._model, event, self._services.clock(),
                                            self._policy)
        refused = None
        for effect in effects:
            if isinstance(effect, polling.Fetch):
                self._submit_fetch()
            elif isinstance(effect, polling.ScheduleAt):
                self._arm(effect.when)
            elif isinstance(effect, polling.CancelTimer):
                self._cancel()
            elif isinstance(effect, polling.Refused):
                refused = effect.message
            elif isinstance(effect, polling.NotifyReauth):
                self._notifier.notify(reauth_alert())
        if isinstance(event, polling.FetchOk):
            self._run_alerts(event.snapshot)
        if self._model.status != before:
            self._on_status(self._model.status)
        return refused

    def _arm(self, when: datetime) -> None:
        self._cancel()
        delay = max(0.0, (when - self._services.clock()).total_seconds())
        self._cancel_timer = self._scheduler.call_later(delay, self._on_timer)

    def _cancel(self) -> None:
        if self._cancel_timer is not None:
            self._cancel_timer()
            self._cancel_timer = None

    def _on_timer(self) -> None:
        self._cancel_timer = None
        self._dispatch(polling.Timer())

    def _submit_fetch(self) -> None:
        if self._worker is None:
            self._worker = threading.Thread(target=self._work, name="pulse-fetch", daemon=True)
            self._worker.start()
        self._jobs.put(self._fetch_job)

    def _work(self) -> None:
        # Blocks in get() between jobs: an idle worker costs nothing.
        while (job := self._jobs.get()) is not None:
            job()

    def _fetch_job(self) -> None:
        event: polling.Event
        try:
            snapshot = fetch_usage_now(self._services)
            assert snapshot is not None  # no spacing asked for
            event = polling.FetchOk(snapshot, *self._trends(snapshot))
        except PulseError as exc:
            log.info("fetch failed: %s", exc)
            event = polling.FetchFailed(exc, self._rng.random())
        except Exception as exc:
            log.exception("unexpected error while fetching usage")
            event = polling.FetchFailed(PulseError(f"unexpected error: {exc.__class__.__name__}"),
                                        self._rng.random())
        self._post(lambda: self._deliver(event))

    def _deliver(self, event: polling.Event) -> None:
        self._dispatch(event)

    def _trends(self, snapshot: Snapshot) -> tuple[Trend, Trend]:
        try:
            return self._services.trends(snapshot.usage, self._services.clock())
        except Exception:  # charts and forecasts are niceties: never lose the numbers over them
            log.warning("could not read the usage history", exc_info=True)
            return Trend(), Trend()

    def _run_alerts(self, snapshot: Snapshot) -> None:
        if self._memory is None or self._memory_store is None:
            return
        config = self._services.config
        settings = AlertSettings(
            enabled=self._alerts_enabled(),
            thresholds=config.notification_thresholds,
        )
        alerts, memory = evaluate(snapshot.usage, self._memory, settings, self._services.clock())
        if memory != self._memory:
            self._memory = memory
            try:
                self._memory_store.save(memory)
            except OSError:
                log.warning("could not save alert memory", exc_info=True)
        for alert in alerts:
            self._notifier.notify(alert)
