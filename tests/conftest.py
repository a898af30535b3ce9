"""Fixtures for every test. Each support module owns one kind of real part."""

from __future__ import annotations

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
    return home
