"""What an idle tray keeps loaded (issue 19 item 3: the tray under 45 MB).

A real `claude-pulse` process on Xvfb with trayer, against the fake server, seen from outside
through /proc: until its window or menu is first opened it has not loaded Tk (libtk/libtcl are
not mapped). Opening the window (a second launch's "show") then builds Tk, and the app goes on
from Tk's loop. (The menu as the first Tk, then polls, the window and Quit: test_app's
test_icon_follows_the_server_and_menu_and_window_work; SIGTERM with and without Tk: its
test_sigterm_ends_the_app_cleanly.)
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from claude_pulse.fake.anthropic import FakeAnthropic
from support.fixtures_display import (
    docked_icons,
    finish,
    spawn_pulse,
    wait_for_window,
)
from support.fixtures_server import seed_credentials
from support.helpers import wait_until
from test_app import WINDOW, new_icon, usage_answer


def mapped_libraries(pid: int) -> set[str]:
    with open(f"/proc/{pid}/maps", encoding="utf-8") as maps:
        return {os.path.basename(line.split()[-1]) for line in maps if "/" in line}


def tk_loaded(pid: int) -> bool:
    return any(name.startswith(("libtk", "libtcl", "_tkinter")) for name in mapped_libraries(pid))


@pytest.fixture
def app_env(pulse_home: Path, tmp_path: Path, fake_config: Path,
            fake_server: FakeAnthropic) -> dict[str, str]:
    seed_credentials(pulse_home, fake_server)
    return {"CLAUDE_PULSE_HOME": str(pulse_home), "XDG_CONFIG_HOME": str(tmp_path / "xdg")}


@pytest.mark.gui
@pytest.mark.tray
def test_an_idle_tray_has_no_tk_until_a_second_launch_opens_the_window(
    tray_display: str, fake_server: FakeAnthropic, app_env: dict[str, str],
) -> None:
    fake_server.usage = usage_answer(42.0, 30.0)
    before = docked_icons(tray_display)
    proc = spawn_pulse(tray_display, "-v", env=app_env)
    try:
        new_icon(tray_display, before)
        wait_until(lambda: len(fake_server.requests_to("usage")) >= 1, 15, "the first poll")
        time.sleep(1.0)  # the poll's history write and chart reads are done
        assert not tk_loaded(proc.pid)

        second = spawn_pulse(tray_display, env=app_env)
        code, err = finish(second, timeout=10)
        assert code == 0 and "already running" in err, err
        wait_for_window(tray_display, WINDOW)
        assert tk_loaded(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        code, err = finish(proc, timeout=5)
    assert code == 0, err
    assert "Traceback" not in err, err
