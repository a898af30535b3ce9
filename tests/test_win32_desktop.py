"""Logoff, shutdown and a second launch on Windows (issue 13 item 6), simulated on Linux.

* pystray's win32 window procedure answers 0 to every message it has no handler for; for
  `WM_QUERYENDSESSION` that means "don't end the session". The fake icon below runs the same
  dispatch as `pystray._win32._dispatcher` over the same handler table the real `Tray` fills.
* A second launch calls `AllowSetForegroundWindow` for the running copy's pid (ctypes' windll
  replaced by a recorder answering as Windows does).
* The Tk heartbeat on the event_generate path (Windows' wake-up, forced with
  `wake_socket=False`) runs only with a console and recovers a lost wake-up.
"""

from __future__ import annotations

import ctypes
import os
import queue
import sys
import threading
import time
import tkinter as tk
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from claude_pulse.home import Home
from claude_pulse.platform import console as console_mod
from claude_pulse.platform.instance import SingleInstance
from claude_pulse.ui.tk_scheduler import TkScheduler
from claude_pulse.ui.tray import MenuEntry, Tray
from test_app import pending_timers, run_loop
from test_no_console import FakeFunction

WM_QUERYENDSESSION = 0x0011
WM_ENDSESSION = 0x0016
WM_STOP = 0x0410  # pystray's private "stop the loop" message (WM_USER + 10)

# ---- pystray's win32 backend, as far as the message loop goes ------------------------------------


class FakeWin32Icon:
    """`pystray._win32.Icon`'s loop: one thread, handlers looked up per message, 0 otherwise."""

    HAS_MENU = True

    def __init__(self, name: str, icon: Image.Image, title: str, menu: Any) -> None:
        self.name, self.icon, self.title, self.menu = name, icon, title, menu
        self._messages: queue.Queue[tuple[int, int, int, queue.Queue[int]]] = queue.Queue()
        # The stock table: display change, stop, tray callbacks, explorer restart.
        self._message_handlers: dict[int, Callable[[int, int], Any]] = {
            0x007E: lambda _w, _l: None, WM_STOP: self._on_stop,
            0x0400 + 0x0011: lambda _w, _l: None, 0xC000: lambda _w, _l: None}
        self._running = False

    def run(self) -> None:
        self._running = True
        while self._running:
            message, wparam, lparam, answer = self._messages.get()
            # pystray 0.19.5 _dispatcher: `int(handlers.get(uMsg, lambda w, l: 0)(w, l) or 0)`
            answer.put(int(self._message_handlers.get(message, lambda _w, _l: 0)(wparam, lparam)
                           or 0))

    def send(self, message: int, wparam: int = 0, lparam: int = 0) -> queue.Queue[int]:
        """What SendMessage does: the loop answers on its own thread; read the answer later."""
        answer: queue.Queue[int] = queue.Queue()
        self._messages.put((message, wparam, lparam, answer))
        return answer

    def stop(self) -> None:
        self.send(WM_STOP)

    def update_menu(self) -> None:
        pass

    def _on_stop(self, _wparam: int, _lparam: int) -> None:
        self._running = False


FakeWin32Icon.__module__ = "pystray._win32"


@pytest.fixture
def fake_pystray(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    module = types.ModuleType("pystray")
    module.Icon = FakeWin32Icon  # type: ignore[attr-defined]
    module.Menu = type("Menu", (), {"SEPARATOR": object(),  # type: ignore[attr-defined]
                                    "__init__": lambda self, *items: None})
    module.MenuItem = lambda *a, **k: (a, k)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pystray", module)
    return module


class MainThread:
    """The app's side: posts run here; quitting stops the tray, as DesktopApp._shutdown does."""

    def __init__(self) -> None:
        self.jobs: queue.Queue[Callable[[], None]] = queue.Queue()
        self.quit_at: float | None = None
        self.tray: Tray | None = None

    def post(self, fn: Callable[[], None]) -> None:
        self.jobs.put(fn)

    def quit(self) -> None:
        self.quit_at = time.monotonic()

    def run_until_quit(self, timeout: float, shutdown_takes: float) -> None:
        deadline = time.monotonic() + timeout
        while self.quit_at is None and time.monotonic() < deadline:
            try:
                self.jobs.get(timeout=0.05)()
            except queue.Empty:
                continue
        if self.quit_at is not None and self.tray is not None:
            time.sleep(shutdown_takes)  # the poller finishing its write
            self.tray.stop()


@pytest.fixture
def win32_tray(fake_pystray: types.ModuleType) -> Iterator[tuple[Tray, MainThread]]:
    main = MainThread()
    tray = Tray(post=main.post, entries=[MenuEntry("Quit", main.quit)],
                on_session_end=main.quit)
    main.tray = tray
    tray.start(lambda size: Image.new("RGBA", (size, size)), "Claude Pulse")
    assert tray.backend == "win32"
    try:
        yield tray, main
    finally:
        tray.stop()


def test_stock_pystray_answers_0_to_query_end_session_which_blocks_logoff(
        fake_pystray: types.ModuleType) -> None:
    icon = FakeWin32Icon("x", Image.new("RGBA", (1, 1)), "", None)
    loop = threading.Thread(target=icon.run, daemon=True)
    loop.start()
    assert icon.send(WM_QUERYENDSESSION).get(timeout=2) == 0  # the defect we fix
    icon.stop()
    loop.join(2)


def test_query_end_session_is_answered_true(fake_pystray: types.ModuleType) -> None:
    main = MainThread()
    tray = Tray(post=main.post, entries=[MenuEntry("Quit", main.quit)])
    tray.start(lambda size: Image.new("RGBA", (size, size)), "Claude Pulse")
    try:
        icon: Any = tray._icon
        assert icon.send(WM_QUERYENDSESSION, 0, 0).get(timeout=2) == 1
        assert icon.send(WM_QUERYENDSESSION, 0, 0x80000000).get(timeout=2) == 1  # LOGOFF
        assert main.jobs.empty() and main.quit_at is None  # asking is not ending
    finally:
        tray.stop()


def test_end_session_quits_and_answers_once_the_shutdown_reached_the_tray(
        win32_tray: tuple[Tray, MainThread]) -> None:
    tray, main = win32_tray
    icon: Any = tray._icon
    sent = time.monotonic()
    answer = icon.send(WM_ENDSESSION, 1, 0)
    main.run_until_quit(timeout=5, shutdown_takes=0.5)
    assert answer.get(timeout=5) == 0
    answered = time.monotonic()
    assert main.quit_at is not None and main.quit_at - sent < 1
    # Windows may end the process as soon as the handler returns: not before the shutdown.
    assert answered - main.quit_at >= 0.45
    assert not tray.running  # the tray loop ended (WM_STOP after the answer)


def test_end_session_cancelled_by_another_program_keeps_running(
        win32_tray: tuple[Tray, MainThread]) -> None:
    tray, main = win32_tray
    icon: Any = tray._icon
    assert icon.send(WM_ENDSESSION, 0, 0).get(timeout=2) == 0
    main.run_until_quit(timeout=0.3, shutdown_takes=0)
    assert main.quit_at is None and tray.running


def test_end_session_waits_bounded_when_the_shutdown_hangs() -> None:
    from claude_pulse.ui import tray_win32

    stopping = threading.Event()
    quits: list[bool] = []
    handlers = tray_win32.session_end_handlers(lambda: quits.append(True), stopping,
                                               wait_s=0.3)
    started = time.monotonic()
    assert handlers[WM_ENDSESSION](1, 0) == 0
    assert 0.25 <= time.monotonic() - started < 2 and quits == [True]


# ---- second launch: the running copy may take the foreground -------------------------------------


def fake_windll(allow: FakeFunction) -> Any:
    user32 = types.SimpleNamespace(AllowSetForegroundWindow=allow)
    return types.SimpleNamespace(user32=user32)


def test_a_second_launch_lets_the_running_copy_take_the_foreground(
        pulse_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    allow = FakeFunction(1)
    seen: list[tuple[str, int]] = []
    first = SingleInstance(Home(pulse_home),
                           lambda message: seen.append((message, len(allow.calls))))
    assert first.acquire()
    try:
        monkeypatch.setattr(sys, "platform", "win32")  # after the listener exists
        monkeypatch.setattr(ctypes, "windll", fake_windll(allow), raising=False)
        second = SingleInstance(Home(pulse_home), lambda _m: None)
        assert second.notify_running("show", timeout_s=5)
    finally:
        monkeypatch.undo()
        first.release()
    assert allow.calls[0] == (os.getpid(),)  # the pid the running copy recorded
    assert seen == [("show", 1)]  # allowed before the running copy got "show"


def test_a_refused_foreground_still_shows_the_window(pulse_home: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from claude_pulse.platform.instance import allow_foreground

    refuse = FakeFunction(0)  # FALSE: this launch is not the foreground process itself
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(ctypes, "windll", fake_windll(refuse), raising=False)
    assert allow_foreground(4242) is False and refuse.calls == [(4242,)]
    for bad in (None, "4242", True, 0, -1):
        assert allow_foreground(bad) is False
    assert refuse.calls == [(4242,)]


# ---- the heartbeat on Windows' wake-up path ------------------------------------------------------


@pytest.mark.gui
def test_without_a_console_nothing_ticks(
        root: tk.Tk, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console_mod, "has_console", lambda: False)  # pythonw: no console
    sched = TkScheduler(root, wake_socket=False)
    sched.handle_signals(lambda _n: None)
    sched.call_later(0.3, root.quit)
    assert run_loop(root, 5)
    assert pending_timers(root) == ()  # idle means idle
    sched.close()


@pytest.mark.gui
def test_with_a_console_the_heartbeat_recovers_a_lost_wake_up(
        root: tk.Tk, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console_mod, "has_console", lambda: True)
    sched = TkScheduler(root, wake_socket=False)
    sched.handle_signals(lambda _n: None)
    ran: list[float] = []

    def lose_the_wake_up(*_args: Any, **_kwargs: Any) -> None:
        # What tkinter raises when the main thread is not in its loop at that moment.
        raise RuntimeError("main thread is not in main loop")

    def worker() -> None:
        time.sleep(0.2)
        monkeypatch.setattr(root, "event_generate", lose_the_wake_up)
        posted = time.monotonic()
        sched.post(lambda: (ran.append(time.monotonic() - posted), root.quit()))

    threading.Thread(target=worker).start()
    assert run_loop(root, 5), "the post was never run"
    assert ran and ran[0] < 1.5  # within a heartbeat
    assert len(pending_timers(root)) == 1  # the heartbeat itself, while a console is there
    sched.close()
    assert pending_timers(root) == ()
