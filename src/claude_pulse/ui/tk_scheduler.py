"""The poller's `Scheduler` on Tk, and the one way other threads reach the Tk main thread.

Tk owns the main thread (design.md §4). Everything else — the pystray thread, the fetch worker,
the login worker, signal handlers — hands work to it with `post(fn)`: the function goes into a
queue and the main loop is woken to drain it. No timer runs while idle (feasibility.md §6: an
`after(100)` loop costs ~0.35 % of a core forever).

How the main loop is woken:

* POSIX: one byte written to a non-blocking socketpair whose read end Tk watches with
  `createfilehandler`. Writing never blocks and never calls into Tcl from a foreign thread, so a
  thread that posts cannot deadlock with a main thread that is waiting for it (the xorg tray
  backend makes the main thread wait for the tray thread on every icon update). The same socket
  is Python's `signal.set_wakeup_fd`, so SIGTERM/SIGINT wake Tk at once and their Python handlers
  run right away (Python runs signal handlers only while it executes bytecode).
* Windows (no `createfilehandler`): `event_generate("<<PulseWake>>", when="tail")`, which
  tkinter marshals to the main thread. It raises before `mainloop()` starts (feasibility.md §3),
  so posts are only queued until the loop has started and drained once then. Ctrl-C in a
  console needs the interpreter to run now and then: only while a console is attached (and
  signal handlers are installed) a one-second `after()` heartbeat does that, and it drains the
  queue, so a wake-up lost to a busy main thread (`event_generate` raises when the main thread
  is not in its loop) is recovered within a second. Without a console — pythonw, start at
  login, the normal case — there is no Ctrl-C and no heartbeat: idle means idle.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import signal
import socket
import sys
import threading
import tkinter as tk
from collections.abc import Callable, Iterable
from types import FrameType

from claude_pulse.ui.main_loop import run_callback

__all__ = ["TkScheduler"]

log = logging.getLogger(__name__)

Cancel = Callable[[], None]
WAKE_EVENT = "<<PulseWake>>"
# Tcl's `after` takes a signed 32-bit millisecond count; cap far below it (a day).
_MAX_DELAY_MS = 24 * 3600 * 1000
_WINDOWS_SIGNAL_HEARTBEAT_MS = 1000


def _watch(root: tk.Tk, sock: socket.socket, callback: Callable[[object, int], None]) -> None:
    if sys.platform != "win32":  # Tk has no file handlers on Windows
        root.tk.createfilehandler(sock, tk.READABLE, callback)


def _unwatch(root: tk.Tk, sock: socket.socket) -> None:
    if sys.platform != "win32":
        root.tk.deletefilehandler(sock)


class _Timer:
    """One `after()` that can be cancelled from any thread, before or after it is armed."""

    def __init__(self, owner: TkScheduler, ms: int, fn: Callable[[], None]) -> None:
        self._owner, self._ms, self._fn = owner, ms, fn
        self._after_id: str | None = None
        self._cancelled = False

    def arm(self) -> None:
        if not self._cancelled and not self._owner._closed:
            self._after_id = self._owner._root.after(self._ms, self._fire)

    def _fire(self) -> None:
        self._after_id = None
        if not self._cancelled:
            self._owner._run(self._fn)

    def cancel(self) -> None:
        # From another thread the flag alone suffices: `_fire` checks it on the main thread.
        self._cancelled = True
        after_id, self._after_id = self._after_id, None
        if after_id is not None and self._owner._on_main_thread() and not self._owner._closed:
            with contextlib.suppress(tk.TclError):
                self._owner._root.after_cancel(after_id)


class TkScheduler:
    """`call_later` and `post` for one Tk root. Create it on the main thread, before mainloop."""

    def __init__(self, root: tk.Tk, *, wake_socket: bool | None = None) -> None:
        """`wake_socket=False` forces the event_generate path (tests run it on Linux too)."""
        self._tk: tk.Tk | None = root  # dropped by close(), see there
        self._main_thread = threading.get_ident()
        self._jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._closed = False
        self._loop_started = False
        self._old_handlers: dict[int, object] = {}
        self._old_wakeup_fd: int | None = None
        self._heartbeat: str | None = None
        self._reader: socket.socket | None = None
        self._writer: socket.socket | None = None
        if wake_socket is None:
            wake_socket = sys.platform != "win32" and hasattr(root.tk, "createfilehandler")
        if wake_socket:
            self._reader, self._writer = socket.socketpair()
            self._reader.setblocking(False)
            self._writer.setblocking(False)
            _watch(root, self._reader, self._on_readable)
        else:
            root.bind(WAKE_EVENT, lambda _e: self._drain())
        # Runs as soon as mainloop() turns; from then on event_generate is safe to use.
        root.after_idle(self._on_loop_started)

    @property
    def _root(self) -> tk.Tk:
        if self._tk is None:
            raise RuntimeError("the scheduler is closed")
        return self._tk

    # ---- Scheduler protocol ----

    def call_later(self, delay_s: float, fn: Callable[[], None]) -> Cancel:
        """Run `fn` on the main thread after `delay_s` seconds; returns a cancel function.

        May be called from any thread; the cancel function too.
        """
        timer = _Timer(self, min(_MAX_DELAY_MS, max(0, round(delay_s * 1000))), fn)
        if self._on_main_thread():
            timer.arm()
        else:
            self.post(timer.arm)
        return timer.cancel

    def post(self, fn: Callable[[], None]) -> None:
        """Run `fn` on the Tk main thread soon. Safe from any thread; never blocks on POSIX."""
        if self._closed:
            return
        self._jobs.put(fn)
        self._wake()

    # ---- signals ----

    def handle_signals(
        self, on_signal: Callable[[int], None],
        signals: Iterable[signal.Signals] = (signal.SIGINT, signal.SIGTERM),
        *, console: bool | None = None,
    ) -> None:
        """Route the given signals to `on_signal(signum)`, run on the main loop.

        Call on the main thread. `close()` restores the previous handlers. `console` says
        whether a console (the only source of Ctrl-C on Windows) is attached; None asks the OS.
        """
        def handler(signum: int, _frame: FrameType | None) -> None:
            # Running between two bytecodes of the main thread: only queue the work.
            self.post(lambda: on_signal(signum))

        for sig in signals:
            with contextlib.suppress(ValueError, OSError):  # not available on this platform
                self._old_handlers[sig] = signal.signal(sig, handler)
        if self._writer is not None:
            self._old_wakeup_fd = signal.set_wakeup_fd(
                self._writer.fileno(), warn_on_full_buffer=False
            )
        else:
            if console is None:
                from claude_pulse.platform import console as console_mod

                console = console_mod.has_console()
            if console:
                self._heartbeat = self._root.after(_WINDOWS_SIGNAL_HEARTBEAT_MS, self._beat)

    def _beat(self) -> None:
        # event_generate path with a console: gives Python a chance to run a pending Ctrl-C
        # handler, and runs any post whose wake-up was lost.
        self._heartbeat = self._root.after(_WINDOWS_SIGNAL_HEARTBEAT_MS, self._beat)
        self._drain()

    # ---- lifecycle ----

    def close(self) -> None:
        """Stop accepting posts, restore signal handling and release the wake socket."""
        if self._closed:
            return
        self._closed = True
        if self._heartbeat is not None:
            with contextlib.suppress(tk.TclError):
                self._root.after_cancel(self._heartbeat)
        if self._old_wakeup_fd is not None:
            signal.set_wakeup_fd(self._old_wakeup_fd)
        for sig, old in self._old_handlers.items():
            signal.signal(sig, old)  # type: ignore[arg-type]
        self._old_handlers.clear()
        if self._reader is not None:
            with contextlib.suppress(tk.TclError):
                _unwatch(self._root, self._reader)
            self._reader.close()
        if self._writer is not None:
            self._writer.close()
        # Threads that outlive the app (a stuck fetch, a tray loop) may hold `post` until they
        # end. They must not hold the Tk interpreter too: if its last reference died on such a
        # thread, Tcl would abort the process ("async handler deleted by the wrong thread").
        self._tk = None

    # ---- internals ----

    def _on_main_thread(self) -> bool:
        return threading.get_ident() == self._main_thread

    def _wake(self) -> None:
        if self._writer is not None:
            try:
                self._writer.send(b"\0")
            except (BlockingIOError, InterruptedError):
                pass  # the buffer is full of wake bytes already: Tk will wake
            except OSError:
                pass  # closed during shutdown
        elif self._loop_started:
            try:
                if self._on_main_thread():
                    self._root.after_idle(self._drain)
                else:
                    self._root.event_generate(WAKE_EVENT, when="tail")
            except (RuntimeError, tk.TclError):
                pass  # the main loop has ended: nothing will run any more

    def _on_loop_started(self) -> None:
        self._loop_started = True
        self._drain()

    def _on_readable(self, _sock: object, _mask: int) -> None:
        assert self._reader is not None
        with contextlib.suppress(BlockingIOError, InterruptedError):
            while self._reader.recv(4096):
                pass
        self._drain()

    def _drain(self) -> None:
        while not self._closed:
            try:
                fn = self._jobs.get_nowait()
            except queue.Empty:
                return
            self._run(fn)

    def _run(self, fn: Callable[[], None]) -> None:
        run_callback(fn)
