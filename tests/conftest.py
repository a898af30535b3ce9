"""Fixtures for every test. Each support module owns one kind of real part."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.fixtures_browser import *  # noqa: F403
from support.fixtures_dbus import *  # noqa: F403
from support.fixtures_display import *  # noqa: F403
from support.fixtures_server import *  # noqa: F403


@pytest.fixture(autouse=True)
def pulse_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own empty CLAUDE_PULSE_HOME; nothing touches the real one."""
    home = tmp_path / "pulse-home"
    monkeypatch.setenv("CLAUDE_PULSE_HOME", str(home))
    # Start at login and the app-menu entry write under these: never the developer's own.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    return home


@pytest.fixture(autouse=True)
def collect_on_main_thread() -> Iterator[None]:
    """Free a test's unreachable Tk objects on the main thread.

    Tk widgets form reference cycles; left to the cyclic GC they may be freed on a server or
    worker thread of a later test, and Tcl aborts the whole run when a Tk object dies off its
    own thread (seen once: "Fatal Python error: Aborted" in tests/test_app.py).
    """
    yield
    gc.collect()
