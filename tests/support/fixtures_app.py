"""Fixtures: the desktop app in the test's own process, on the test's X display.

`in_process_services(**parts)` builds the app's `Services` from the environment (the fake
server's config.json), with an in-memory autostart and a log-only notifier unless the test passes
its own parts. `in_process_app(services, **options)` builds a `DesktopApp` on pystray's xorg
backend without the single-instance lock. `Driver(app).run(script)` runs the app's main loop on
this (the main) thread while `script` drives it from another, through `Driver.on_main`.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from support.helpers import wait_until

__all__ = ["in_process_app", "in_process_services"]


class Driver:
    """Runs a DesktopApp on the main thread; a test thread drives it through `on_main`."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.error: BaseException | None = None

    def on_main(self, fn: Callable[[], Any], timeout: float = 5.0) -> Any:
        answer: queue.Queue[tuple[bool, Any]] = queue.Queue()

        def run() -> None:
            try:
                answer.put((True, fn()))
            except BaseException as exc:  # handed back to the test thread
                answer.put((False, exc))

        wait_until(lambda: self.app._scheduler is not None, timeout, "the app's main loop")
        self.app._scheduler.post(run)
        ok, value = answer.get(timeout=timeout)
        if not ok:
            raise value
        return value

    def phase(self) -> Any:
        """The poller's phase now, read on the main thread."""
        return self.on_main(lambda: self.app._poller.status.phase)

    def run(self, script: Callable[[Driver], None], timeout: float = 30.0) -> int:
        def drive() -> None:
            try:
                script(self)
            except BaseException as exc:
                self.error = exc
            finally:
                with_scheduler = self.app._scheduler
                if with_scheduler is not None:
                    with_scheduler.post(self.app.quit)

        thread = threading.Thread(target=drive, daemon=True)
        thread.start()
        code: int = self.app.run()
        thread.join(timeout)
        if self.error is not None:
            raise self.error
        return code


@pytest.fixture
def in_process_services(pulse_home: Path, fake_config: Path) -> Callable[..., Any]:
    """Services for an app in this process; the desktop parts are the test's to replace."""
    from claude_pulse.fake.demo import MemoryAutostart
    from claude_pulse.ui.notify import LogNotifier
    from claude_pulse.wiring import Services

    def build(**parts: Any) -> Any:
        parts = {"autostart": MemoryAutostart(), "notifier": LogNotifier(), **parts}
        return Services.from_environment(log=False, **parts)

    return build


@pytest.fixture
def in_process_app(display: str, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """`build(services, **options)`: a DesktopApp in this process on the test's display.

    pystray's xorg backend, as `spawn_pulse` uses; no single-instance check, so the app never
    hands over to another launch.
    """
    from claude_pulse.app import DesktopApp

    monkeypatch.setenv("PYSTRAY_BACKEND", "xorg")

    def build(services: Any, **options: Any) -> Any:
        return DesktopApp(services, single_instance=False, **options)

    return build
