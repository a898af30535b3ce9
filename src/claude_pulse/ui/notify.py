"""Delivering alerts: desktop notifications through desktop-notifier, or the log as a fallback.

desktop-notifier speaks WinRT toasts on Windows, the freedesktop DBus API on Linux and the
Notification Center on macOS, and is asyncio-based. `DesktopNotifier` therefore owns one private
event loop in a daemon thread; `notify()` only submits a coroutine to it
(`asyncio.run_coroutine_threadsafe`) and returns at once. The loop sleeps in `run_forever` while
idle, so there is no polling. A send that fails (no session bus, no notification daemon, a daemon
that hangs) is logged with the alert's text and swallowed: notifications must never disturb
polling. desktop-notifier swallows backend errors itself, so success is detected through its
`on_dispatched` callback, which it calls only after the platform accepted the notification.

A click on a notification (its body: the freedesktop "default" action, a toast's activation)
runs the notifier's `on_click` — the tray app opens its window there. It runs on the notifier's
loop thread, so the handler must only hand the work to the UI thread.

On Windows toasts belong to an AppUserModelID, registered under
``HKCU\\Software\\Classes\\AppUserModelId\\ClaudePulse`` with the display name "Claude Pulse".

asyncio is imported only inside `DesktopNotifier` (built on the first alert, see `LazyNotifier`):
its ~29 modules and ~2 MB are not loaded by an idle tray that never alerts.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from claude_pulse.core.alerts import Alert, Urgency
from claude_pulse.platform.autostart._linux import DESKTOP_ID

if TYPE_CHECKING:
    import asyncio

__all__ = ["APP_NAME", "DesktopNotifier", "LazyNotifier", "LogNotifier", "Notifier",
           "make_notifier", "name_desktop_entry", "on_notification_click", "windows_app_id"]

log = logging.getLogger(__name__)

APP_NAME = "Claude Pulse"
# A daemon that owns the bus name but never answers must not pile up sends forever.
SEND_TIMEOUT_S = 10.0


class Notifier(Protocol):
    def notify(self, alert: Alert) -> None:
        """Show `alert`. Returns quickly and never raises."""


class LogNotifier:
    """The fallback: writes each alert to the log at INFO."""

    def notify(self, alert: Alert) -> None:
        log.info("alert (%s): %s - %s", alert.urgency.value, alert.title, alert.body)

    def close(self) -> None:
        """Nothing to release; present so callers can close any notifier alike."""


class DesktopNotifier:
    """Native desktop notifications on a private asyncio loop thread.

    Raises ImportError (or the backend's error) from the constructor when desktop-notifier cannot
    start on this system; `make_notifier` turns that into the log fallback.
    """

    def __init__(
        self,
        app_name: str = APP_NAME,
        icon: Path | None = None,
        *,
        send_timeout: float = SEND_TIMEOUT_S,
    ) -> None:
        # Imported here: asyncio and dbus-fast (or WinRT), which the CLI paths and an idle tray
        # never need.
        import asyncio

        import desktop_notifier

        self._dn: Any = desktop_notifier
        self._app_name = app_name
        self._icon = None if icon is None else desktop_notifier.Icon(path=icon)
        self._send_timeout = send_timeout
        # What a click on one of our notifications does (loop thread; see the module docstring).
        self.on_click: Callable[[], None] | None = None
        self._backend: Any = self._new_backend()
        self._pending: set[concurrent.futures.Future[None]] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._send_lock: asyncio.Lock | None = None  # created on the loop's own thread
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._run, name="claude-pulse-notify", daemon=True
        )
        self._thread.start()

    def notify(self, alert: Alert) -> None:
        import asyncio

        coro = self._send(alert)
        try:
            with self._lock:
                if self._closed:
                    coro.close()
                    log.warning("notifier closed; not shown: %s - %s", alert.title, alert.body)
                    return
                future = asyncio.run_coroutine_threadsafe(coro, self._loop)
                self._pending.add(future)
            future.add_done_callback(self._done)
        except Exception:
            coro.close()  # never scheduled; closing avoids a "never awaited" warning
            log.warning(
                "cannot queue notification: %s - %s", alert.title, alert.body, exc_info=True
            )

    def close(self, timeout: float = 2.0) -> None:
        """Let pending sends finish (up to `timeout` s), drop the connection, stop the thread."""
        import asyncio

        with self._lock:
            if self._closed:
                return
            self._closed = True
            pending = list(self._pending)
        if pending:
            concurrent.futures.wait(pending, timeout=timeout)
        try:
            shutdown = asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
            shutdown.result(timeout=timeout)
        except Exception:
            log.debug("notifier shutdown was not clean", exc_info=True)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self._loop.close()

    def _run(self) -> None:
        import asyncio

        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    def _new_backend(self) -> Any:
        if sys.platform != "win32":
            notifier = self._dn.DesktopNotifier(app_name=self._app_name, app_icon=self._icon)
            name_desktop_entry(notifier, DESKTOP_ID)
            return notifier
        # desktop-notifier files Windows toasts under its app_name as the AppUserModelID and
        # registers that same string as the display name. Microsoft says an id must not contain
        # spaces: use `ClaudePulse` as the id, then give it the display name "Claude Pulse".
        app_id = windows_app_id(self._app_name)
        notifier = self._dn.DesktopNotifier(app_name=app_id, app_icon=self._icon)
        if getattr(notifier._backend, "app_id", None) == app_id:  # not a packaged app's own id
            try:
                from desktop_notifier.backends.winrt import register_hkey

                register_hkey(app_id=app_id, app_name=self._app_name, app_icon=self._icon)
            except Exception:
                log.warning("could not register the notification display name", exc_info=True)
        return notifier

    async def _send(self, alert: Alert) -> None:
        import asyncio

        dispatched = False

        def on_dispatched() -> None:
            nonlocal dispatched
            dispatched = True

        dn = self._dn
        urgency = dn.Urgency.Critical if alert.urgency is Urgency.CRITICAL else dn.Urgency.Normal
        notification = dn.Notification(
            title=alert.title, message=alert.body, urgency=urgency, on_dispatched=on_dispatched,
            on_clicked=self._clicked if self.on_click is not None else None,
        )
        if self._send_lock is None:
            self._send_lock = asyncio.Lock()
        # One send at a time: the DBus backend connects lazily, and two concurrent first sends
        # would each open a bus connection and leak one. It also keeps alerts in order.
        async with self._send_lock:
            try:
                await asyncio.wait_for(
                    self._backend.send_notification(notification), self._send_timeout
                )
            except Exception as exc:
                log.warning("notification not shown (%s): %s - %s", exc, alert.title, alert.body)
                await self._reconnect()
                return
            if not dispatched:
                # desktop-notifier logged the cause; say which alert the user missed.
                log.warning("notification not shown: %s - %s", alert.title, alert.body)
                await self._reconnect()

    def _clicked(self) -> None:
        handler = self.on_click
        log.debug("notification clicked")
        if handler is not None:
            try:
                handler()
            except Exception:
                log.warning("the notification click failed", exc_info=True)

    async def _reconnect(self) -> None:
        # After a failure the backend may hold a half-open bus connection (bus gone, or connected
        # but the daemon missing); a fresh backend connects again on the next send.
        old, self._backend = self._backend, self._new_backend()
        await _disconnect(old)

    async def _shutdown(self) -> None:
        import asyncio

        await _disconnect(self._backend)
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _done(self, future: concurrent.futures.Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)
        if not future.cancelled() and future.exception() is not None:
            log.warning("notification failed", exc_info=future.exception())


async def _disconnect(notifier: Any) -> None:
    import asyncio

    # The DBus backend keeps its dbus-fast MessageBus in `_backend.bus`; other backends have none.
    bus = getattr(getattr(notifier, "_backend", None), "bus", None)
    if bus is None or not getattr(bus, "connected", False):
        return
    with contextlib.suppress(Exception):
        bus.disconnect()
        await asyncio.wait_for(bus.wait_for_disconnect(), 1.0)


def name_desktop_entry(notifier: Any, desktop_id: str) -> bool:
    """DBus: add the ``desktop-entry`` hint (our app-menu entry's id) to every notification.

    With it a desktop shows our alerts under the app's name and icon and groups them (GNOME and
    KDE use it to find the app). desktop-notifier 6.x builds the hints inside its DBus backend
    and has no way to add one, so we wrap ``call_notify`` on the proxy interface its
    ``_init_dbus`` returns; the hints are argument 7 of Notify (``a{sv}``, or ``a{ss}`` for old
    servers, which desktop-notifier picks and we follow). Returns False for other backends.
    """
    backend: Any = getattr(notifier, "_backend", None)
    init_dbus = getattr(backend, "_init_dbus", None)
    if init_dbus is None:
        return False

    async def init_with_hint() -> Any:
        interface = await init_dbus()
        call_notify = interface.call_notify

        async def notify(*args: Any, **kwargs: Any) -> Any:
            if len(args) > 6 and isinstance(args[6], dict) and args[6]:
                hints = dict(args[6])
                if isinstance(hints.get("urgency"), str):  # the a{ss} flavour
                    hints["desktop-entry"] = desktop_id
                else:
                    from dbus_fast.signature import Variant

                    hints["desktop-entry"] = Variant("s", desktop_id)
                args = (*args[:6], hints, *args[7:])
            return await call_notify(*args, **kwargs)

        interface.call_notify = notify
        return interface

    backend._init_dbus = init_with_hint
    return True


class LazyNotifier:
    """Builds the real notifier on the first alert.

    desktop-notifier brings asyncio, dbus-fast and a loop thread: about 4.6 MB of resident
    memory and a thread (bench/memory.py), for alerts that come a few times a week.
    """

    def __init__(self, build: Callable[[], Notifier]) -> None:
        self._build = build
        self._real: Notifier | None = None
        self.on_click: Callable[[], None] | None = None  # given to the real one

    @property
    def built(self) -> bool:
        return self._real is not None

    def notify(self, alert: Alert) -> None:
        if self._real is None:
            self._real = self._build()
        on_notification_click(self._real, self.on_click)
        self._real.notify(alert)

    def close(self) -> None:
        close = getattr(self._real, "close", None)
        if close is not None:
            close()


@runtime_checkable
class Clickable(Protocol):
    on_click: Callable[[], None] | None


def on_notification_click(notifier: object, handler: Callable[[], None] | None) -> bool:
    """Make a click on `notifier`'s notifications run `handler`; False if it has no clicks
    (the log fallback)."""
    if not isinstance(notifier, Clickable):
        return False
    notifier.on_click = handler
    return True


def windows_app_id(app_name: str) -> str:
    """The AppUserModelID for a display name: no spaces (Microsoft's rule), e.g. ClaudePulse."""
    return "".join(app_name.split())


def make_notifier(icon: Path | None = None) -> Notifier:
    """Desktop notifications when desktop-notifier can start here, else the log (with a warning)."""
    try:
        return DesktopNotifier(icon=icon)
    except Exception as exc:
        log.warning("desktop notifications are unavailable (%s); alerts go to the log", exc)
        return LogNotifier()
