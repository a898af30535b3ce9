"""The composition root: the one place that builds collaborators.

`Services` builds each part once, on first use, from the home folder, the live `Settings` and the
real clock, transport, browser, notifier and start-at-login backend. Nothing else in the package
constructs its own collaborators: the commands, the desktop app, the demo, tests and bench all
ask a `Services`. Tests and bench replace a part by passing it to the constructor
(`Services(home, transport=..., usage_client=..., poll_policy=...)`); every part built from it
then uses the replacement.

Lower layers never see this object: each part gets exactly the narrow things it uses (a
`ConfigSource`, a fetcher, a token source).
"""

from __future__ import annotations

import contextlib
import logging
import random
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from claude_pulse.errors import ConfigError
from claude_pulse.home import Home
from claude_pulse.services.settings import Settings
from claude_pulse.services.snapshot import SnapshotStore

if TYPE_CHECKING:
    from claude_pulse.config import Config
    from claude_pulse.core.forecast import Trend
    from claude_pulse.core.http import HttpResponse, HttpTransport
    from claude_pulse.core.polling import PollPolicy
    from claude_pulse.core.snapshot import Snapshot
    from claude_pulse.core.status import AppStatus
    from claude_pulse.core.tokens import TokenSet
    from claude_pulse.core.usage import Usage, Window
    from claude_pulse.platform.autostart import AppMenuEntry, Autostart
    from claude_pulse.platform.footprint import Piece
    from claude_pulse.services.alert_memory import AlertMemoryStore
    from claude_pulse.services.claude_code import ClaudeCodeLogin, SelectedLogin
    from claude_pulse.services.credentials import CredentialStore
    from claude_pulse.services.fetch import UsageFetcher, UsageSource
    from claude_pulse.services.gate import RequestGate
    from claude_pulse.services.history import HistoryStore
    from claude_pulse.services.login import LoginSession
    from claude_pulse.services.poller import Notifier, Poller, Scheduler, Worker
    from claude_pulse.services.tokens import TokenManager
    from claude_pulse.services.usage_client import Profile, UsageClient

__all__ = ["Services", "demo_services", "utc_now"]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Services:
    def __init__(
        self,
        home: Home,
        settings: Settings | None = None,
        *,
        clock: Callable[[], datetime] = utc_now,
        transport: HttpTransport | None = None,
        usage_client: UsageSource | None = None,
        poll_policy: Callable[[Config], PollPolicy] | None = None,
        open_browser: Callable[[str], bool] | None = None,
        autostart: Autostart | None = None,
        notifier: Notifier | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.home = home
        self._rng = rng  # the poller's back-off jitter
        self.settings = settings if settings is not None else Settings(home.config)
        self.clock = clock
        self._transport = transport
        self._usage_client = usage_client
        self._poll_policy = poll_policy
        self._open_browser = open_browser
        self._autostart = autostart
        self._notifier = notifier

    @classmethod
    def from_environment(
        cls,
        *,
        verbose: bool = False,
        command: str = "tray",
        log: bool = True,
        open_browser: Callable[[str], bool] | None = None,
        autostart: Autostart | None = None,
        notifier: Notifier | None = None,
    ) -> Services:
        """The real thing, for `command` (its log file; lazy logging, `_LAZY_LOGGING`). Tests
        of the desktop app replace the parts that would reach the user's desktop."""
        home = Home.from_env()
        home.ensure()
        if log:
            def configure_logging() -> None:
                from claude_pulse.platform.logs import configure

                configure(home.logs, verbose=verbose, filename=_log_name(command))

            if command in _LAZY_LOGGING and not verbose:
                _LogOnFirstRecord.install(configure_logging)
            else:
                configure_logging()
        return cls(home, Settings(home.config), open_browser=open_browser, autostart=autostart,
                   notifier=notifier)

    @classmethod
    def outside_home(cls) -> Services:
        """For commands that work outside the home folder (`uninstall` may delete it, `logout`
        works even in one the others refuse): the folder is neither created, nor checked, nor
        logged into, and its config is not read."""
        return cls(Home.from_env(), Settings(None))

    # ---- below the GUI ----

    @cached_property
    def transport(self) -> HttpTransport:
        if self._transport is not None:
            return self._transport
        return _TransportOnFirstRequest()

    @cached_property
    def gate(self) -> RequestGate:
        # Imported here: filelock costs ~17 ms, and `statusline` with a fresh cache never needs it.
        from claude_pulse.services.gate import RequestGate

        settings = self.settings
        return RequestGate(self.home.gate, self.home.gate_lock,
                           lambda: settings.current().max_requests_per_hour,
                           hour24=lambda: settings.current().hour24)

    @cached_property
    def snapshots(self) -> SnapshotStore:
        return SnapshotStore(self.home.snapshot)

    @cached_property
    def credentials(self) -> CredentialStore:
        from claude_pulse.services.credentials import CredentialStore

        return CredentialStore(self.home.credentials)

    @cached_property
    def tokens(self) -> TokenManager:
        from claude_pulse.services.tokens import TokenManager

        # No hook on refresh: a new token no longer ends a 429 cooldown (services.gate).
        return TokenManager(
            self.credentials, self.transport, self.settings.current, clock=self.clock,
            lock_path=self.home.credentials_lock,
        )

    @cached_property
    def claude_code(self) -> ClaudeCodeLogin:
        """Claude Code's own login, read-only (`login_source: "claude-code"`)."""
        from claude_pulse.services.claude_code import ClaudeCodeLogin

        return ClaudeCodeLogin.for_environment(self.clock)

    @cached_property
    def login(self) -> SelectedLogin:
        """The login the settings choose: every usage and profile request uses it."""
        from claude_pulse.services.claude_code import SelectedLogin

        return SelectedLogin(self.settings.current, lambda: self.tokens, self.claude_code,
                             clock=self.clock)

    @cached_property
    def history(self) -> HistoryStore:
        from claude_pulse.services.history import HistoryStore

        return HistoryStore(self.home.history)

    @cached_property
    def usage_client(self) -> UsageClient:
        from claude_pulse.services.usage_client import UsageClient

        gate, clock = self.gate, self.clock

        def retried(what: str) -> None:
            if what == "usage":  # the budget counts usage requests, the retry too
                gate.note_request(clock())

        return UsageClient(self.transport, self.settings.current, self.login, on_retry=retried)

    @cached_property
    def fetcher(self) -> UsageFetcher:
        """One usage fetch for every caller: gate, request, shared snapshot, history."""
        from claude_pulse.services.fetch import UsageFetcher

        client = self._usage_client if self._usage_client is not None else self.usage_client
        return UsageFetcher(self.gate, client, self.snapshots, clock=self.clock,
                            on_snapshot=self.record_history)

    @cached_property
    def alert_memory(self) -> AlertMemoryStore:
        from claude_pulse.services.alert_memory import AlertMemoryStore

        return AlertMemoryStore(self.home.alerts)

    def trends(self, usage: Usage, now: datetime) -> tuple[Trend, Trend]:
        """Each window's recorded samples and forecast (SQLite: call off the UI thread)."""
        from claude_pulse.core.forecast import Trend, forecast
        from claude_pulse.core.pace import SESSION_WINDOW, WEEK_WINDOW

        def one(kind: Literal["session", "weekly"], window: Window | None,
                length: timedelta) -> Trend:
            if window is None or window.resets_at is None:
                return Trend()
            # At most ~1,000 samples per window: plenty for a chart and the forecast.
            points = tuple(self.history.points(kind, since=window.resets_at - length,
                                               bucket_s=length.total_seconds() / 1000))
            return Trend(points, forecast(points, window, now, length=length))

        return (one("session", usage.session, SESSION_WINDOW),
                one("weekly", usage.weekly, WEEK_WINDOW))

    def record_history(self, snapshot: Snapshot) -> None:
        """Add a snapshot to the usage history; history is a nicety, so failures only log."""
        try:
            self.history.record(snapshot.fetched_at, snapshot.usage, snapshot.source)
        except Exception:
            logging.getLogger(__name__).warning("could not record usage history", exc_info=True)

    def close(self) -> None:
        """Close the files kept open (the history database), e.g. before the home is deleted."""
        history = self.__dict__.get("history")  # only if it was ever opened
        if history is not None:
            history.close()

    def login_session(
        self,
        *,
        timeout: float | None = None,
        manual: bool = False,
        read_code: Callable[[str], str] | None = None,
        on_url: Callable[[str], None] | None = None,
        open_browser: Callable[[str], bool] | None = None,
        confirm_switch: Callable[[str, str], bool] | None = None,
    ) -> LoginSession:
        """A browser login that saves into our credentials; `open_browser` overrides ours;
        `confirm_switch(old, new)` is asked before another account's login replaces ours."""
        from claude_pulse.services.login import DEFAULT_LOGIN_TIMEOUT_S, LoginSession

        def profile(tokens: TokenSet) -> Profile:
            return self.usage_client.fetch_profile(tokens)

        return LoginSession(
            self.settings.current, self.credentials, self.transport,
            open_browser=open_browser or self.open_browser,
            profile=profile,
            on_saved=self._own_login_saved,
            timeout=timeout or DEFAULT_LOGIN_TIMEOUT_S,
            manual=manual,
            read_code=read_code,
            on_url=on_url,
            confirm_switch=confirm_switch,
            clock=self.clock,
        )

    def _own_login_saved(self) -> None:
        # No cooldown is cleared: a Retry-After: 3600 block can hold the whole account, so a new
        # token would only collect another 429 (issue 18, services.gate).
        # Logging in with the browser chooses our own login; Claude Code's is left as it was.
        if self.settings.current().login_source != "pulse":
            try:
                self.settings.update(login_source="pulse")
            except (ConfigError, OSError) as exc:
                logging.getLogger(__name__).warning("could not switch login_source: %s", exc)

    @property
    def open_browser(self) -> Callable[[str], bool]:
        if self._open_browser is not None:
            return self._open_browser
        from claude_pulse.platform.browser import open_system_browser

        return open_system_browser

    # ---- for the desktop app ----

    @cached_property
    def notifier(self) -> Notifier:
        if self._notifier is not None:
            return self._notifier
        from claude_pulse.platform.autostart import icon_path
        from claude_pulse.ui.notify import LazyNotifier, make_notifier

        icon = icon_path()
        # Built on the first alert: desktop-notifier costs ~4.6 MB and a thread at rest.
        return LazyNotifier(lambda: make_notifier(icon=icon))

    @cached_property
    def autostart(self) -> Autostart:
        if self._autostart is not None:
            return self._autostart
        from claude_pulse.platform.autostart import autostart_for_platform

        return autostart_for_platform()

    @cached_property
    def app_menu(self) -> AppMenuEntry:
        from claude_pulse.platform.autostart import app_menu_entry

        return app_menu_entry()

    @cached_property
    def footprint(self) -> list[Piece]:
        """What the app put outside its home folder (for `uninstall`)."""
        from claude_pulse.platform.footprint import footprint_for_platform
        from claude_pulse.ui.notify import APP_NAME, windows_app_id

        # The toast registration: "ClaudePulse" now, the display name in 0.1.0.
        app_ids = (windows_app_id(APP_NAME), APP_NAME)
        return footprint_for_platform(app_ids=app_ids)

    def poller(
        self,
        *,
        scheduler: Scheduler,
        post: Callable[[Callable[[], None]], None],
        on_status: Callable[[AppStatus], None],
        worker: Worker | None = None,
    ) -> Poller:
        """The tray app's poller; its timers and results go through `scheduler` and `post`,
        its fetches through `worker` (default: its own thread)."""
        from claude_pulse.services.poller import Poller, policy_for

        return Poller(
            fetcher=self.fetcher,
            account=self.login,
            settings=self.settings,
            trends=self.trends,
            clock=self.clock,
            scheduler=scheduler,
            post=post,
            on_status=on_status,
            notifier=self.notifier,
            alert_memory=self.alert_memory,
            policy=self._poll_policy or policy_for,
            rng=self._rng,
            worker=worker,
        )


# The demo server is on loopback, so it may be polled far more often than Anthropic's endpoint
# (config.MIN_POLL_INTERVAL_S does not apply); the floor keeps the CPU calm.
DEMO_POLL_FLOOR_S = 3.0
# At most this many polls per simulated hour, under the largest hourly budget the demo's config
# sets (services.gate), so the budget is never the thing the demo shows.
_DEMO_POLLS_PER_SIM_HOUR = 60


@contextlib.contextmanager
def demo_services(folder: Path, *, speed: float) -> Iterator[Services]:
    """The whole app pointed at a simulated account on the in-package fake server.

    `folder` is an empty temporary home: nothing of the user's is read or written. The browser
    leg of the login is followed in-process and "Start at login" changes nothing on the system.
    """
    from claude_pulse import config as config_mod
    from claude_pulse.core.polling import PollPolicy
    from claude_pulse.fake.anthropic import FakeAnthropic
    from claude_pulse.fake.demo import MemoryAutostart, follow_login_redirects
    from claude_pulse.fake.simulation import SimulatedAccount, SimulatedClock

    home = Home(folder)
    home.ensure()
    clock = SimulatedClock(datetime.now(timezone.utc), speed)
    account = SimulatedAccount(clock.start, clock=clock)
    fake = FakeAnthropic(usage=account, email="demo@claude-pulse.invalid").start()
    try:
        config_mod.update(home.config, **fake.config_overrides(), callback_port=0,
                          max_requests_per_hour=config_mod.MAX_REQUESTS_PER_HOUR)
        # Poll intervals are measured on the simulated clock but waited in real time.
        interval = max(DEMO_POLL_FLOOR_S, 3600.0 / (_DEMO_POLLS_PER_SIM_HOUR * speed))
        services = Services(
            home, Settings(home.config), clock=clock,
            open_browser=follow_login_redirects,
            autostart=MemoryAutostart(),
            poll_policy=lambda config: PollPolicy(base_interval_s=interval),
        )
        try:
            yield services
        finally:
            services.close()  # the caller deletes `folder`: Windows refuses while files are open
    finally:
        fake.stop()


# Commands that run often and log nothing when all is well (issue 19): the log handlers are set
# up on the first record, not at start.
_LAZY_LOGGING = frozenset({"statusline", "status"})


class _LogOnFirstRecord(logging.Handler):
    """Stands in for the real handlers until something is logged.

    `statusline` runs many times a minute and almost never logs; setting up the rotating file
    and the redaction filter up front cost ~7 ms of its ~60 ms (docs/performance.md). `status`
    (scripts, prompts) logs nothing on success either.
    """

    def __init__(self, configure: Callable[[], None]) -> None:
        super().__init__(logging.INFO)
        self._configure = configure

    @classmethod
    def install(cls, configure: Callable[[], None]) -> None:
        root = logging.getLogger()
        root.setLevel(logging.INFO)
        root.addHandler(cls(configure))

    def emit(self, record: logging.LogRecord) -> None:
        root = logging.getLogger()
        root.removeHandler(self)
        self._configure()
        for handler in root.handlers:
            if record.levelno >= handler.level:
                handler.handle(record)


class _TransportOnFirstRequest:
    """The stdlib transport, imported when the first request is sent (issue 19 item 2).

    urllib.request, http.client, ssl and email are ~15 ms of a command's start; a `status` or
    `statusline` that answers from the snapshot, a cooldown or a spent budget sends nothing.
    """

    def __init__(self) -> None:
        import threading

        self._real: HttpTransport | None = None
        self._lock = threading.Lock()  # the tray's fetch worker and a login may race to it

    def request(self, method: str, url: str, *, headers: Mapping[str, str],
                body: bytes | None = None, timeout: float) -> HttpResponse:
        with self._lock:
            if self._real is None:
                from claude_pulse.services.http import UrllibTransport

                self._real = UrllibTransport()
            real = self._real
        return real.request(method, url, headers=headers, body=body, timeout=timeout)


def _log_name(command: str) -> str:
    # The tray app and CLI commands log to separate files, so a busy statusline cannot rotate
    # the tray app's history away.
    return "claude-pulse.log" if command == "tray" else "cli.log"
