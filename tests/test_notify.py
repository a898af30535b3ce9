"""ui/notify: alerts reach a real notification daemon (dunst on a private bus), failures don't."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import select
import subprocess
import sys
import threading
import time
import types
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from claude_pulse.core.alerts import (
    Alert,
    AlertMemory,
    AlertSettings,
    evaluate,
    login_failed_alert,
    reauth_alert,
)
from claude_pulse.core.usage import Usage, Window
from claude_pulse.ui.notify import (
    DesktopNotifier,
    LazyNotifier,
    LogNotifier,
    make_notifier,
    name_desktop_entry,
    on_notification_click,
)
from support.fixtures_dbus import NotificationDaemon
from support.helpers import require_program, wait_until

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)


def _session_alert(utilization: float) -> Alert:
    usage = Usage(session=Window(utilization, NOW + timedelta(hours=2)), weekly=None)
    alerts, _ = evaluate(usage, AlertMemory(), AlertSettings(), NOW)
    assert len(alerts) == 1
    return alerts[0]


@pytest.fixture
def desktop() -> Iterator[DesktopNotifier]:
    notifier = DesktopNotifier()
    yield notifier
    notifier.close()


@pytest.mark.notify
@pytest.mark.parametrize(
    ("alert", "summary", "urgency"),
    [
        pytest.param(
            _session_alert(82), "You've used 80% of your session limit", "normal", id="80-normal"
        ),
        pytest.param(
            _session_alert(91), "Warning: 90% of session limit used", "normal", id="90-normal"
        ),
        pytest.param(
            _session_alert(97), "Critical: Almost at session limit", "critical", id="95-critical"
        ),
        pytest.param(
            reauth_alert(), "Claude Pulse needs you to log in again", "critical", id="reauth"
        ),
    ],
)
def test_alert_arrives_at_dunst(
    notification_daemon: NotificationDaemon,
    desktop: DesktopNotifier,
    alert: Alert,
    summary: str,
    urgency: str,
) -> None:
    desktop.notify(alert)
    desktop.close()  # waits for the pending send

    [received] = notification_daemon.wait_for(1)
    assert received == {
        "summary": summary,
        "body": alert.body,
        "appname": "Claude Pulse",
        "urgency": urgency,
    }


def _watch_notify_calls(address: str) -> subprocess.Popen[str]:
    """dbus-monitor printing every Notify call on the bus, once it is listening."""
    monitor = subprocess.Popen(
        [require_program("dbus-monitor"), "--address", address,
         "type='method_call',interface='org.freedesktop.Notifications',member='Notify'"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    assert monitor.stdout is not None
    ready, _, _ = select.select([monitor.stdout], [], [], 10)
    assert ready, "dbus-monitor did not start"
    monitor.stdout.readline()  # its own NameAcquired signal: it is monitoring now
    return monitor


@pytest.mark.notify
def test_a_click_on_the_notification_runs_on_click(
    notification_daemon: NotificationDaemon, desktop: DesktopNotifier
) -> None:
    """dunst's default action (what a left click on the notification does) reaches us."""
    clicked = threading.Event()
    threads: list[str] = []

    def on_click() -> None:
        threads.append(threading.current_thread().name)
        clicked.set()

    desktop.on_click = on_click
    desktop.notify(reauth_alert())
    env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": notification_daemon.address}

    def displayed() -> bool:
        out = subprocess.run(["dunstctl", "count", "displayed"], env=env, capture_output=True,
                             text=True, timeout=10, check=True)
        return out.stdout.strip() == "1"

    wait_until(displayed, 5, "dunst to show the notification")
    subprocess.run(["dunstctl", "action", "0"], env=env, timeout=10, check=True)
    assert clicked.wait(5), "the click did not reach the notifier"
    assert threads == ["claude-pulse-notify"]  # the notifier's thread: the app must hand over


def test_lazy_notifier_hands_on_click_to_the_real_one() -> None:
    class Real(LogNotifier):
        on_click: object = None

    real = Real()
    lazy = LazyNotifier(lambda: real)
    assert on_notification_click(lazy, print)
    assert real.on_click is None  # nothing built before the first alert
    lazy.notify(reauth_alert())
    assert real.on_click is print
    assert not on_notification_click(LogNotifier(), print)  # the log has nothing to click


@pytest.mark.notify
def test_notifications_name_our_desktop_entry(
    notification_daemon: NotificationDaemon, desktop: DesktopNotifier
) -> None:
    monitor = _watch_notify_calls(notification_daemon.address)
    try:
        desktop.notify(_session_alert(82))
        desktop.close()
        notification_daemon.wait_for(1)
    finally:
        monitor.terminate()
        seen, _ = monitor.communicate(timeout=5)
    assert "You've used 80% of your session limit" in seen
    # The hints dict (a{sv}) carries desktop-entry = "claude-pulse", beside the urgency.
    assert re.search(r'string "desktop-entry"\s+variant\s+string "claude-pulse"', seen), seen


def test_desktop_entry_hint_follows_an_old_servers_string_hints() -> None:
    calls: list[tuple[object, ...]] = []

    class Interface:
        async def call_notify(self, *args: object) -> int:
            calls.append(args)
            return 1

    class DBusBackend:
        async def _init_dbus(self) -> Interface:
            return Interface()

    notifier = types.SimpleNamespace(_backend=DBusBackend())
    assert name_desktop_entry(notifier, "claude-pulse")
    interface = asyncio.run(notifier._backend._init_dbus())
    asyncio.run(interface.call_notify("Claude Pulse", 0, "", "t", "m", [], {"urgency": "1"}, -1))
    assert calls[0][6] == {"urgency": "1", "desktop-entry": "claude-pulse"}  # a{ss}
    assert calls[0][:6] == ("Claude Pulse", 0, "", "t", "m", []) and calls[0][7] == -1
    # Other backends (WinRT, macOS) have no _init_dbus: nothing to do.
    assert not name_desktop_entry(types.SimpleNamespace(_backend=object()), "claude-pulse")


@pytest.mark.notify
def test_several_alerts_arrive_in_order(
    notification_daemon: NotificationDaemon, desktop: DesktopNotifier
) -> None:
    alerts = [_session_alert(82), login_failed_alert("Login timed out after 300 s.")]
    for alert in alerts:
        desktop.notify(alert)
    desktop.close()

    received = notification_daemon.wait_for(2)
    assert [r["summary"] for r in received] == [a.title for a in alerts]


def _dead_bus(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    monkeypatch = request.getfixturevalue("monkeypatch")
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path / 'gone.sock'}")


def _bus_without_daemon(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    request.getfixturevalue("session_bus")


@pytest.mark.notify
@pytest.mark.parametrize(
    "setup",
    [
        pytest.param(_dead_bus, id="no-bus"),
        pytest.param(_bus_without_daemon, id="bus-without-daemon"),
    ],
)
def test_failed_send_is_logged_not_raised(
    setup: object,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    desktop: DesktopNotifier,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert callable(setup)
    setup(tmp_path, request)
    alert = _session_alert(82)

    started = time.monotonic()
    desktop.notify(alert)  # must neither raise nor wait for the bus
    assert time.monotonic() - started < 0.5
    desktop.close()

    ours = [r for r in caplog.records if r.name == "claude_pulse.ui.notify"]
    assert any(
        r.levelno == logging.WARNING and "not shown" in r.getMessage() and alert.title
        in r.getMessage() for r in ours
    ), [r.getMessage() for r in ours]


@pytest.mark.notify
def test_recovers_when_the_daemon_appears_later(
    session_bus: str, request: pytest.FixtureRequest, desktop: DesktopNotifier
) -> None:
    # First send: the bus is there but nobody owns org.freedesktop.Notifications yet.
    desktop.notify(_session_alert(82))
    deadline = time.monotonic() + 5
    while desktop._pending and time.monotonic() < deadline:
        time.sleep(0.02)

    daemon: NotificationDaemon = request.getfixturevalue("notification_daemon")
    desktop.notify(_session_alert(97))
    desktop.close()

    assert [r["summary"] for r in daemon.wait_for(1)] == ["Critical: Almost at session limit"]


def test_close_stops_the_thread_and_later_alerts_are_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    before = {t.name for t in threading.enumerate()}
    notifier = DesktopNotifier()
    assert "claude-pulse-notify" in {t.name for t in threading.enumerate()} - before
    notifier.close()
    notifier.close()  # idempotent
    assert "claude-pulse-notify" not in {t.name for t in threading.enumerate()} - before

    notifier.notify(_session_alert(82))
    assert "notifier closed" in caplog.text


def test_make_notifier_prefers_desktop_notifications() -> None:
    notifier = make_notifier()

    assert isinstance(notifier, DesktopNotifier)
    notifier.close()


def test_make_notifier_falls_back_to_the_log(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "desktop_notifier", None)  # import now raises ImportError

    notifier = make_notifier()

    assert isinstance(notifier, LogNotifier)
    assert "alerts go to the log" in caplog.text


@pytest.mark.parametrize(
    ("alert", "expected"),
    [
        pytest.param(
            _session_alert(82),
            "alert (normal): You've used 80% of your session limit - 82% used · resets in 2h",
            id="threshold",
        ),
        pytest.param(
            reauth_alert(), "alert (critical): Claude Pulse needs you to log in again", id="reauth"
        ),
    ],
)
def test_log_notifier_logs_at_info(
    alert: Alert, expected: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="claude_pulse.ui.notify")
    notifier = LogNotifier()

    notifier.notify(alert)
    notifier.close()

    [record] = caplog.records
    assert record.levelno == logging.INFO
    assert record.getMessage().startswith(expected)



def test_lazy_notifier_builds_nothing_until_the_first_alert() -> None:
    built: list[LogNotifier] = []

    def build() -> LogNotifier:
        built.append(LogNotifier())
        return built[-1]

    lazy = LazyNotifier(build)
    assert not lazy.built and built == []
    lazy.notify(_session_alert(82))
    lazy.notify(_session_alert(91))
    assert lazy.built and len(built) == 1
    lazy.close()


# ---- Windows: the AppUserModelID (desktop-notifier's winrt backend, simulated) ----------------


def test_windows_toasts_use_an_app_id_without_spaces_and_the_display_name(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """desktop-notifier 6.x registers HKCU\\...\\AppUserModelId\\<app_name> with DisplayName
    <app_name>; Microsoft says the id must not contain spaces."""
    import types

    made: list[str] = []
    registered: list[tuple[str, str]] = []

    class WinRTBackend:
        def __init__(self, app_name: str) -> None:
            self.app_id = app_name  # an unpackaged app: the given name is the id
            registered.append((app_name, app_name))  # what register_hkey does in __init__

    class FakeDesktopNotifier:
        def __init__(self, app_name: str, app_icon: object = None) -> None:
            made.append(app_name)
            self._backend = WinRTBackend(app_name)

    package = types.ModuleType("desktop_notifier")
    package.DesktopNotifier = FakeDesktopNotifier  # type: ignore[attr-defined]
    package.Icon = lambda path: path  # type: ignore[attr-defined]
    winrt = types.ModuleType("desktop_notifier.backends.winrt")
    winrt.register_hkey = (  # type: ignore[attr-defined]
        lambda app_id, app_name, app_icon=None: registered.append((app_id, app_name)))
    monkeypatch.setitem(sys.modules, "desktop_notifier", package)
    monkeypatch.setitem(sys.modules, "desktop_notifier.backends",
                        types.ModuleType("desktop_notifier.backends"))
    monkeypatch.setitem(sys.modules, "desktop_notifier.backends.winrt", winrt)
    monkeypatch.setattr(sys, "platform", "win32")
    notifier = DesktopNotifier()
    try:
        assert made == ["ClaudePulse"]
        # The key is named after the id; its DisplayName ends up "Claude Pulse".
        assert registered[-1] == ("ClaudePulse", "Claude Pulse")
        assert all(" " not in app_id for app_id, _ in registered)
    finally:
        monkeypatch.undo()
        notifier.close()


# ---- an idle tray loads no asyncio (issue 19 item 3) ------------------------------------------

_IDLE_THEN_ALERT = """
import sys
import claude_pulse.app  # the desktop app, as the tray process imports it
from claude_pulse.core.alerts import Alert, Urgency
from claude_pulse.home import Home
from claude_pulse.services.settings import Settings
from claude_pulse.wiring import Services

from pathlib import Path
home = Home(Path(sys.argv[1]))
services = Services(home, Settings(home.config))
notifier = services.notifier
print("idle", "asyncio" in sys.modules, flush=True)
notifier.notify(Alert("session:80", "Session at 80%", "resets in 2 h", Urgency.NORMAL, "session"))
print("alerted", "asyncio" in sys.modules, flush=True)
getattr(notifier, "close", lambda: None)()
"""


def test_idle_desktop_app_has_no_asyncio_until_the_first_alert(tmp_path: Path) -> None:
    # asyncio is ~29 modules and ~2 MB resident; an idle tray never alerts, so must not load it.
    env = {k: v for k, v in os.environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    out = subprocess.run(
        [sys.executable, "-c", _IDLE_THEN_ALERT, str(tmp_path / "home")],
        env=env, capture_output=True, text=True, timeout=60, check=True,
    ).stdout.split("\n")
    assert out[:2] == ["idle False", "alerted True"]
