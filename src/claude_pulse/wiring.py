"""The composition root for everything below the GUI.

`Services` builds each collaborator once, on first use, from the home folder, the config and the
real clock/transport. Nothing else in the package constructs its own collaborators; tests build
`Services` with a fake clock or point the config at the fake server. The desktop app (`app.py`)
adds the GUI on top of one of these.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Literal

from claude_pulse import config as config_mod
from claude_pulse.home import Home
from claude_pulse.services.snapshot import SnapshotStore

if TYPE_CHECKING:
    from claude_pulse.core.forecast import Trend
    from claude_pulse.core.usage import Usage, Window
    from claude_pulse.services.credentials import CredentialStore
    from claude_pulse.services.gate import RequestGate
    from claude_pulse.services.history import HistoryStore
    from claude_pulse.services.http import HttpTransport
    from claude_pulse.services.snapshot import Snapshot
    from claude_pulse.services.tokens import TokenManager
    from claude_pulse.services.usage_client import UsageClient

__all__ = ["Services", "utc_now"]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Services:
    home: Home
    config: config_mod.Config
    config_problems: tuple[str, ...] = ()
    config_file_valid: bool = True
    clock: Callable[[], datetime] = field(default=utc_now)

    @classmethod
    def from_environment(cls, *, verbose: bool = False, command: str = "tray",
                         log: bool = True) -> Services:
        home = Home.from_env()
        home.ensure()
        if log:
            def configure_logging() -> None:
                from claude_pulse.platform.logs import configure

                configure(home.logs, verbose=verbose, filename=_log_name(command))

            if command == "statusline" and not verbose:
                _LogOnFirstRecord.install(configure_logging)
            else:
                configure_logging()
        loaded = config_mod.load(home.config)
        return cls(home, loaded.config, loaded.problems, loaded.file_is_valid)

    @cached_property
    def transport(self) -> HttpTransport:
        from claude_pulse.services.http import UrllibTransport

        return UrllibTransport()

    @cached_property
    def gate(self) -> RequestGate:
        # Imported here: filelock costs ~17 ms, and `statusline` with a fresh cache never needs it.
        from claude_pulse.services.gate import RequestGate, hourly_ceiling

        return RequestGate(self.home.gate, self.home.gate_lock,
                           hourly_ceiling(self.config.poll_interval_seconds))

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

        manager = TokenManager(
            self.credentials, self.transport, self.config, clock=self.clock,
            lock_path=self.home.credentials_lock,
        )
        # A refreshed token gets a fresh rate-limit bucket (protocol.md §3.6).
        manager.on_refresh.append(self.gate.clear_cooldown)
        return manager

    @cached_property
    def history(self) -> HistoryStore:
        from claude_pulse.services.history import HistoryStore

        return HistoryStore(self.home.history)

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

    @cached_property
    def usage_client(self) -> UsageClient:
        from claude_pulse.services.usage_client import UsageClient

        return UsageClient(self.transport, self.config, self.tokens)


class _LogOnFirstRecord(logging.Handler):
    """Stands in for the real handlers until something is logged.

    `statusline` runs many times a minute and almost never logs; setting up the rotating file
    and the redaction filter up front cost ~7 ms of its ~60 ms (docs/performance.md).
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


def _log_name(command: str) -> str:
    # The tray app and CLI commands log to separate files, so a busy statusline cannot rotate
    # the tray app's history away.
    return "claude-pulse.log" if command == "tray" else "cli.log"
