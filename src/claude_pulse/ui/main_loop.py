"""The main thread's loop until Tk is needed: timers, posts and signals without importing Tk.

An idle tray never shows a window, and on Windows, gtk and appindicator not even a Tk menu, yet
Tk (the library, a root window, its fonts) is ~13 MB of its memory (docs/performance.md). So the
app starts on this loop and builds Tk only when the Deep Dive window or the xorg popup menu first
opens. `MainLoop` keeps `TkScheduler`'s contract (`call_later`, `post` from any thread,
`handle_signals`) and then `hand_over()`s to a `TkScheduler`: from that moment every call goes
there, pending timers are re-armed on Tk with the time they have left, queued posts run there in
order, and `run()` returns so that the app can enter Tk's `mainloop()`.

Idle means idle, as with Tk: the loop sleeps in `select()` on one end of a socketpair with a
timeout only when a timer is armed. A post writes one byte to the other end (never blocks, never
calls into a foreign thread's state). The same socket is Python's `signal.set_wakeup_fd`, so
SIGTERM/SIGINT (Windows: Ctrl-C in a console) wake the loop at once and their Python handlers run
right away. Windows' `select()` takes sockets, and `set_wakeup_fd` a socket handle there.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import select
import signal
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Protocol

__all__ = ["MainLoop", "TkHandover", "run_callback"]

log = logging.getLogger(__name__)

Cancel = Callable[[], None]


class TkHandover(Protocol):
    """What `MainLoop` hands over to: `ui.tk_scheduler.TkScheduler`."""

    def call_later(self, delay_s: float, fn: Callable[[], None]) -> Cancel: ...

    def post(self, fn: Callable[[], None]) -> None: ...

    def handle_signals(self, on_signal: Callable[[int], None],
                       signals: Iterable[signal.Signals] = ...) -> None: ...

    def close(self) -> None: ...


class _Timer:
    """One `call_later`: fires on this loop, or on Tk's once handed over; cancellable anywhere."""

    def __init__(self, owner: MainLoop, deadline: float, fn: Callable[[], None]) -> None:
        self.owner, self.deadline, self.fn = owner, deadline, fn
        self.cancelled = False
        self.moved: Cancel | None = None  # Tk's cancel, after the handover

    def cancel(self) -> None:
        self.cancelled = True
        moved = self.moved
        if moved is not None:
            moved()
        elif not self.owner._on_main_thread():
            # The loop may be asleep until this timer's deadline: it must not wake for nothing.
            self.owner._wake()

    def fire(self) -> None:
        if not self.cancelled:
            self.fn()


class MainLoop:
    """`call_later`, `post` and signals for the main thread, until `hand_over()` to Tk.

    Create it, `run()` it and `close()` it on the main thread; `post`, `call_later`, the cancel
    functions and `stop()` are safe from any thread.
    """

    def __init__(self, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._main_thread = threading.get_ident()
        self._lock = threading.Lock()  # the queue, the timers and the switch to Tk
        self._jobs: deque[Callable[[], None]] = deque()
        self._timers: list[tuple[float, int, _Timer]] = []
        self._order = itertools.count()  # equal deadlines keep their order
        self._tk: TkHandover | None = None
        self._stopped = False
        self._closed = False
        self._on_signal: Callable[[int], None] | None = None
        self._signals: tuple[signal.Signals, ...] = ()
        self._old_handlers: dict[int, object] = {}
        self._old_wakeup_fd: int | None = None
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self.wakeups = 0  # how often `select()` returned (tests: idle stays at 0)

    @property
    def handed_over(self) -> bool:
        return self._tk is not None

    # ---- Scheduler protocol ----

    def call_later(self, delay_s: float, fn: Callable[[], None]) -> Cancel:
        """Run `fn` on the main thread after `delay_s` seconds; returns a cancel function."""
        with self._lock:
            tk = self._tk
            if tk is None:
                timer = _Timer(self, self._monotonic() + max(0.0, delay_s), fn)
                heapq.heappush(self._timers, (timer.deadline, next(self._order), timer))
        if tk is not None:
            return tk.call_later(delay_s, fn)
        if not self._on_main_thread():
            self._wake()  # the loop may be asleep with a later (or no) deadline
        return timer.cancel

    def post(self, fn: Callable[[], None]) -> None:
        """Run `fn` on the main thread soon. Safe from any thread; never blocks."""
        with self._lock:
            if self._closed:
                return
            tk = self._tk
            if tk is None:
                self._jobs.append(fn)
        if tk is not None:
            tk.post(fn)
        else:
            self._wake()

    # ---- signals ----

    def handle_signals(
        self, on_signal: Callable[[int], None],
        signals: Iterable[signal.Signals] = (signal.SIGINT, signal.SIGTERM),
    ) -> None:
        """Route the given signals to `on_signal(signum)` on the main loop (and on Tk's after
        the handover). Call on the main thread; `close()` restores the previous handlers."""
        self._on_signal = on_signal
        self._signals = tuple(signals)

        def handler(signum: int, _frame: FrameType | None) -> None:
            # Between two bytecodes of the main thread: only queue the work.
            self.post(lambda: on_signal(signum))

        for sig in self._signals:
            with contextlib.suppress(ValueError, OSError):  # not available on this platform
                self._old_handlers[sig] = signal.signal(sig, handler)
        self._old_wakeup_fd = signal.set_wakeup_fd(self._writer.fileno(),
                                                   warn_on_full_buffer=False)

    # ---- the loop ----

    def run(self) -> None:
        """Run timers and posts until `stop()` or `hand_over()`; main thread only."""
        while not self._stopped and self._tk is None:
            with self._lock:
                while self._timers and self._timers[0][2].cancelled:
                    heapq.heappop(self._timers)  # a cancelled timer must not wake the loop
                timeout = None
                if self._timers:
                    timeout = max(0.0, self._timers[0][0] - self._monotonic())
                busy = bool(self._jobs)
            if not busy:
                with contextlib.suppress(InterruptedError):
                    select.select([self._reader], [], [], timeout)
                self.wakeups += 1
                self._empty_wake_socket()
            self._run_due()

    def stop(self) -> None:
        """Make `run()` return (the app quits); from any thread."""
        self._stopped = True
        self._wake()

    def hand_over(self, tk: TkHandover) -> None:
        """From now on Tk runs everything: call on the main thread, then enter Tk's mainloop
        once `run()` has returned. Timers keep the time they have left; posts keep their order.
        """
        with self._lock:
            if self._tk is not None or self._closed:
                return
            self._tk = tk
            now = self._monotonic()
            timers, self._timers = self._timers, []
            jobs, self._jobs = self._jobs, deque()
            # Inside the lock: a post racing with this one lands on Tk after these.
            for fn in jobs:
                tk.post(fn)
            for deadline, _, timer in sorted(timers):
                if not timer.cancelled:
                    timer.moved = tk.call_later(max(0.0, deadline - now), timer.fire)
        if self._on_signal is not None:
            # Tk's scheduler takes the signals (and the wake-up fd) over; its close() puts ours
            # back, and ours then the originals.
            tk.handle_signals(self._on_signal, self._signals)
        self._wake()

    def close(self) -> None:
        """Stop accepting posts, close Tk's scheduler (if handed over), restore signals."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            tk = self._tk
            self._jobs.clear()
            self._timers.clear()
        if tk is not None:
            tk.close()
        if self._old_wakeup_fd is not None:
            signal.set_wakeup_fd(self._old_wakeup_fd)
        for sig, old in self._old_handlers.items():
            signal.signal(sig, old)  # type: ignore[arg-type]
        self._old_handlers.clear()
        self._reader.close()
        self._writer.close()

    # ---- internals ----

    def _on_main_thread(self) -> bool:
        return threading.get_ident() == self._main_thread

    def _wake(self) -> None:
        try:
            self._writer.send(b"\0")
        except (BlockingIOError, InterruptedError):
            pass  # the buffer is full of wake bytes already: the loop will wake
        except OSError:
            pass  # closed during shutdown

    def _empty_wake_socket(self) -> None:
        with contextlib.suppress(BlockingIOError, InterruptedError, OSError):
            while self._reader.recv(4096):
                pass

    def _run_due(self) -> None:
        # Posts first (in order), then the timers whose time has come; each batch is taken under
        # the lock and run outside it, so a callback may post or arm again.
        while not self._stopped and self._tk is None:
            with self._lock:
                if self._jobs:
                    fn: Callable[[], None] | None = self._jobs.popleft()
                elif self._timers and self._timers[0][0] <= self._monotonic():
                    fn = heapq.heappop(self._timers)[2].fire
                else:
                    fn = None
            if fn is None:
                return
            run_callback(fn)


def run_callback(fn: Callable[[], None]) -> None:
    """Run one main-loop callback (this loop's and TkScheduler's)."""
    try:
        fn()
    except Exception:
        # One broken callback must not stop the app; it is a bug, so log it loudly.
        log.exception("error in a main-loop callback")
