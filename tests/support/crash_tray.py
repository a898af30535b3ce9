"""A tray app without the GUI, for tests/test_concurrency.py: the real Poller on a real timer.

    CLAUDE_PULSE_HOME=... python tests/support/crash_tray.py MAX_SECONDS

Builds `Services.from_environment()` as the tray app does, runs the `Poller` with a threading
scheduler whose callbacks run on this (the "UI") thread, presses "Refresh now" every second like
an impatient user, and prints one JSON line per status change: {"phase", "message"}. Exits 0
when its stdin closes (the test decides how long the run lasts) or after MAX_SECONDS.
"""

from __future__ import annotations

import json
import queue
import sys
import threading
import time
from collections.abc import Callable

from claude_pulse.core.alerts import Alert
from claude_pulse.core.status import AppStatus
from claude_pulse.wiring import Services


class ThreadScheduler:
    def __init__(self, post: Callable[[Callable[[], None]], None]) -> None:
        self._post = post

    def call_later(self, delay_s: float, fn: Callable[[], None]) -> Callable[[], None]:
        timer = threading.Timer(delay_s, self._post, args=(fn,))
        timer.daemon = True
        timer.start()
        return timer.cancel


class QuietNotifier:
    def notify(self, alert: Alert) -> None:
        print(f"alert {alert.key}", file=sys.stderr, flush=True)  # stdout is status lines only


def show(status: AppStatus) -> None:
    print(json.dumps({"phase": status.phase.name, "message": status.message}), flush=True)


def main(seconds: float) -> int:
    ui: queue.Queue[Callable[[], None]] = queue.Queue()
    stopped = threading.Event()

    def stop_at_eof() -> None:
        sys.stdin.read()
        stopped.set()
        ui.put(lambda: None)  # wake the loop

    threading.Thread(target=stop_at_eof, daemon=True).start()
    services = Services.from_environment(command="tray", notifier=QuietNotifier())
    poller = services.poller(scheduler=ThreadScheduler(ui.put), post=ui.put, on_status=show)
    poller.start()
    deadline = time.monotonic() + seconds
    next_press = time.monotonic() + 1.0
    while (now := time.monotonic()) < deadline and not stopped.is_set():
        if now >= next_press:
            poller.refresh_now()
            next_press = now + 1.0
        try:
            job = ui.get(timeout=max(0.01, min(next_press, deadline) - now))
        except queue.Empty:
            continue
        job()
    poller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(float(sys.argv[1])))
