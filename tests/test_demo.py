"""`claude-pulse --demo` as a real process on Xvfb with trayer: it logs in to its own simulated
account, its icon and window move with the simulated usage, it quits cleanly from the menu or on
SIGTERM, and it leaves nothing behind — no process, no temporary home, nothing in the real home.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from claude_pulse.fake.demo import MemoryAutostart, follow_login_redirects
from support.fixtures_display import (
    DockedIcon,
    click,
    docked_icons,
    find_windows,
    finish,
    grab,
    icon_pixels,
    processes_with_env,
    spawn_pulse,
    terminate,
    wait_for_window,
    xdotool,
)
from support.helpers import require_program, stop_process, wait_until

WINDOW = "^Claude Pulse$"




def new_icon(display: str, before: list[DockedIcon]) -> DockedIcon:
    old = {icon.window for icon in before}
    found: list[DockedIcon] = []

    def docked() -> bool:
        found[:] = [i for i in docked_icons(display) if i.window not in old and i.width > 4]
        return bool(found)

    wait_until(docked, 20, "the demo's icon to dock")
    return found[0]


def orange_share(card: Image.Image) -> int:
    """How many orange pixels the card shows (grows with the session's usage)."""
    data = card.convert("RGB").tobytes()
    return sum(1 for i in range(0, len(data), 3)
               if abs(data[i] - 217) < 40 and abs(data[i + 1] - 119) < 40
               and abs(data[i + 2] - 87) < 40)


@pytest.fixture
def demo_tmp(tmp_path: Path) -> Path:
    folder = tmp_path / "tmp"
    folder.mkdir()
    return folder


def demo_dirs(folder: Path) -> list[Path]:
    return sorted(folder.glob("claude-pulse-demo-*"))


@pytest.mark.gui
@pytest.mark.tray
@pytest.mark.slow
def test_the_demo_runs_moves_and_quits_from_its_menu(
    tray_display: str, pulse_home: Path, demo_tmp: Path, tmp_path: Path
) -> None:
    # A dead proxy in every variable (issue 17): the demo's requests are all on 127.0.0.1 and
    # must never go to it, or nothing would move.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_proxy = f"http://127.0.0.1:{s.getsockname()[1]}"
    env = {"CLAUDE_PULSE_HOME": str(pulse_home), "TMPDIR": str(demo_tmp),
           "HTTP_PROXY": dead_proxy, "HTTPS_PROXY": dead_proxy, "http_proxy": dead_proxy}
    before = docked_icons(tray_display)
    proc = spawn_pulse(tray_display, "--demo", env=env)
    try:
        icon = new_icon(tray_display, before)
        window = wait_for_window(tray_display, WINDOW, timeout=15)
        assert len(demo_dirs(demo_tmp)) == 1  # its own temporary home

        # The login is automatic; then the simulated usage moves every few seconds.
        time.sleep(2.0)
        icons = [icon_pixels(tray_display, icon, tmp_path / "i0.png")]
        card_early = grab(tray_display, tmp_path / "early.png", window)
        deadline = time.monotonic() + 22
        while time.monotonic() < deadline:
            time.sleep(3)
            assert proc.poll() is None, "the demo ended by itself"
            icons.append(icon_pixels(tray_display, icon, tmp_path / f"i{len(icons)}.png"))
        assert len({i.tobytes() for i in icons}) >= 3, "the icon did not follow the usage"
        card_late = grab(tray_display, tmp_path / "late.png", window)
        assert orange_share(card_late) > orange_share(card_early)

        # Quit from the menu (right click, last row).
        click(tray_display, *icon.centre, button=3)
        menu = wait_for_window(tray_display, "^!menu$", timeout=5)
        geometry = dict(line.split("=", 1) for line in
                        xdotool(tray_display, "getwindowgeometry", "--shell", str(menu)).split())
        click(tray_display, int(geometry["X"]) + int(geometry["WIDTH"]) // 2,
              int(geometry["Y"]) + int(geometry["HEIGHT"]) - 12)
        code, err = finish(proc, timeout=5)
        assert code == 0, err
        assert "demo mode" in err
    finally:
        finish(proc, timeout=1)
    wait_until(lambda: not processes_with_env("TMPDIR", str(demo_tmp)), 5, "no leftovers")
    assert demo_dirs(demo_tmp) == []  # the temporary home is gone
    assert not pulse_home.exists(), "the demo created or wrote into the real home"


@pytest.fixture
def bare_display() -> Iterator[str]:
    """An X display of its own with no tray host on it (the shared one may have trayer)."""
    read_fd, write_fd = os.pipe()
    xvfb = subprocess.Popen([require_program("Xvfb"), "-displayfd", str(write_fd), "-screen", "0",
                             "1024x768x24", "-nolisten", "tcp"], pass_fds=(write_fd,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as pipe:
            number = pipe.readline().strip()
        assert number, "Xvfb did not start"
        yield f":{number}"
    finally:
        stop_process(xvfb)


@pytest.mark.gui
def test_the_demo_without_a_tray_host_says_so_once_and_keeps_its_window(
    bare_display: str, pulse_home: Path, demo_tmp: Path
) -> None:
    """Issue 15 item 8: one clear line instead of a traceback per icon update; the window is
    up, stays up while the numbers move, and closing it ends the demo."""
    env = {"CLAUDE_PULSE_HOME": str(pulse_home), "TMPDIR": str(demo_tmp)}
    proc = spawn_pulse(bare_display, "--demo", env=env)
    try:
        window = wait_for_window(bare_display, WINDOW, timeout=15)
        time.sleep(6)  # many status updates at demo speed: each used to log a traceback
        assert proc.poll() is None
        assert find_windows(bare_display, WINDOW) == [window]
        xdotool(bare_display, "key", "--window", str(window), "Escape")  # close the window
        code, err = finish(proc, timeout=10)
    finally:
        finish(proc, timeout=1)
    assert code == 0, err
    assert "Traceback" not in err and "Failed to dock" not in err, err
    lines = [line for line in err.splitlines() if "no system tray found" in line]
    assert lines == ["claude-pulse: no system tray found: the Deep Dive window stays open "
                     "(closing it quits); install a tray such as trayer or stalonetray, or "
                     "turn on your desktop's tray (GNOME: the AppIndicator extension)"], err


@pytest.mark.gui
@pytest.mark.tray
def test_the_demo_ends_on_sigterm(tray_display: str, pulse_home: Path, demo_tmp: Path) -> None:
    env = {"CLAUDE_PULSE_HOME": str(pulse_home), "TMPDIR": str(demo_tmp),
           "CLAUDE_PULSE_DEMO_SPEED": "600"}
    before = docked_icons(tray_display)
    proc = spawn_pulse(tray_display, "--demo", env=env)
    try:
        new_icon(tray_display, before)
        wait_for_window(tray_display, WINDOW, timeout=15)
        time.sleep(2)
        code, err, took = terminate(proc, timeout=5)
        assert code == 0, err
        assert took < 5
        assert "Traceback" not in err
    finally:
        finish(proc, timeout=1)
    assert demo_dirs(demo_tmp) == []


# Runs the demo with shutil.rmtree wrapped: at the moment the temporary home is deleted, it
# records which files under it this process still has open (Windows refuses to delete those).
_OPEN_AT_REMOVAL = """
import json, os, shutil, sys
record, real_rmtree = sys.argv[1], shutil.rmtree
def rmtree(path, *args, **kwargs):
    folder = os.path.realpath(path)
    open_files = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(folder + os.sep):
            open_files.append(os.path.relpath(target, folder))
    with open(record, "w", encoding="utf-8") as out:
        json.dump(sorted(open_files), out)
    return real_rmtree(path, *args, **kwargs)
shutil.rmtree = rmtree
from claude_pulse.cli import main
sys.exit(main(["--demo"]))
"""


@pytest.mark.gui
@pytest.mark.tray
def test_the_demo_closes_its_files_before_deleting_its_home(
        tray_display: str, pulse_home: Path, demo_tmp: Path, tmp_path: Path) -> None:
    record = tmp_path / "open-at-removal.json"
    environ = {k: v for k, v in os.environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    environ.update({"DISPLAY": tray_display, "NO_AT_BRIDGE": "1", "PYSTRAY_BACKEND": "xorg",
                    "DBUS_SESSION_BUS_ADDRESS": "disabled:", "CLAUDE_PULSE_HOME": str(pulse_home),
                    "TMPDIR": str(demo_tmp), "CLAUDE_PULSE_DEMO_SPEED": "600"})
    proc = subprocess.Popen([sys.executable, "-c", _OPEN_AT_REMOVAL, str(record)], env=environ,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # Both kinds of file a Windows delete trips over are open: the history and the log.
        wait_until(lambda: any((d / "history.sqlite3").exists()
                               and (d / "logs" / "claude-pulse.log").exists()
                               for d in demo_dirs(demo_tmp)), 30, "history and log files")
        time.sleep(1.0)
        code, err, _ = terminate(proc, timeout=10)
        assert code == 0, err
    finally:
        finish(proc, timeout=1)
    assert json.loads(record.read_text(encoding="utf-8")) == []
    assert demo_dirs(demo_tmp) == []


def test_the_demo_browser_reports_an_unreachable_server() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    assert follow_login_redirects(f"http://127.0.0.1:{port}/oauth/authorize?x=1") is False


def test_the_demo_start_at_login_is_only_a_check_mark() -> None:
    autostart = MemoryAutostart()
    assert not autostart.is_enabled()
    autostart.enable()
    autostart.enable()
    assert autostart.is_enabled()
    autostart.disable()
    assert not autostart.is_enabled()
