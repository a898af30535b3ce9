"""Fixtures for every test. Each support module owns one kind of real part."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from support.fixtures_app import *  # noqa: F403
from support.fixtures_browser import *  # noqa: F403
from support.fixtures_dbus import *  # noqa: F403
from support.fixtures_display import *  # noqa: F403
from support.fixtures_server import *  # noqa: F403

# A test that uses one of these real parts carries its marker, written or not, so `-m "not gui"`
# (and scripts/test --fast) never starts an X server, a bus or a browser.
_MARKER_BY_FIXTURE = {
    "x_server": "gui", "display": "gui", "x_tray_host": "tray", "tray_display": "tray",
    "session_bus": "notify", "notification_daemon": "notify",
    "chromium": "browser", "browser_env": "browser", "http_browser_env": "browser",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        names = getattr(item, "fixturenames", ())
        for marker in {_MARKER_BY_FIXTURE[n] for n in names if n in _MARKER_BY_FIXTURE}:
            if item.get_closest_marker(marker) is None:
                item.add_marker(marker)


@pytest.fixture(autouse=True)
def pulse_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own empty CLAUDE_PULSE_HOME; nothing touches the real one."""
    home = tmp_path / "pulse-home"
    monkeypatch.setenv("CLAUDE_PULSE_HOME", str(home))
    # Start at login and the app-menu entry write under these: never the developer's own.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    return home


def _count_tk_roots() -> Callable[[], int]:
    """Count the Tk interpreters this process creates (every Tk object hangs off one)."""
    try:
        import tkinter
    except ImportError:  # no Tk here: no GUI test can run in this process
        return lambda: 0
    made = 0
    original = tkinter.Tk.__init__

    def init(self: tkinter.Tk, *args: Any, **kwargs: Any) -> None:
        nonlocal made
        made += 1
        original(self, *args, **kwargs)

    tkinter.Tk.__init__ = init  # type: ignore[method-assign]
    return lambda: made


_tk_roots_made = _count_tk_roots()


@pytest.fixture(autouse=True)
def collect_on_main_thread() -> Iterator[None]:
    """Free a GUI test's unreachable Tk objects on the main thread.

    Tk widgets form reference cycles; left to the cyclic GC they may be freed on a server or
    worker thread of a later test, and Tcl aborts the whole run when a Tk object dies off its
    own thread (seen once: "Fatal Python error: Aborted" in tests/test_app.py). Only a test that
    created a Tk interpreter in this process can leave Tk objects behind, so only those pay for
    the full collection (run after every test, it took nearly half of the non-GUI suite's time).
    """
    before = _tk_roots_made()
    yield
    if _tk_roots_made() != before:
        gc.collect()
