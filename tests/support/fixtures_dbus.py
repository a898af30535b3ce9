"""Fixtures: a private DBus session bus and a real notification daemon (dunst) on it.

`session_bus` starts `dbus-daemon --session`-like bus from a minimal config of our own: it has no
service directories, so nothing on the bus is ever auto-activated (the stock session config would
spawn the system's dunst through its .service file, which would outlive the test). The address
goes into DBUS_SESSION_BUS_ADDRESS for the test only.

`notification_daemon` starts dunst 1.9 on that bus. dunst cannot run without X11 ("Couldn't
initialize X11 output"), so the fixture starts its own Xvfb (`-displayfd`), self-contained. Its
dunstrc makes every notification sticky and prefixes the formatted message with the urgency,
because `dunstctl history` reports no urgency field of its own. `history()` runs
`dunstctl close-all` first, since the history lists only closed notifications (feasibility.md §5).

Everything started here is stopped at teardown (terminate, then kill).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from support.helpers import require_program, stop_process
from support.xharness import HarnessError, read_ready_line, start_xvfb

__all__ = ["NotificationDaemon", "notification_daemon", "session_bus"]

_START_TIMEOUT_S = 10.0
_NOTIFICATIONS = "org.freedesktop.Notifications"

_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={folder}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""

# `format` per urgency lets history() recover the urgency from the formatted message.
_DUNSTRC = """[global]
    history_length = 100
    format = "%s\\n%b"
[urgency_low]
    timeout = 0
    format = "[low] %s\\n%b"
[urgency_normal]
    timeout = 0
    format = "[normal] %s\\n%b"
[urgency_critical]
    timeout = 0
    format = "[critical] %s\\n%b"
"""




def _read_line(fd: int, proc: subprocess.Popen[bytes], what: str) -> str:
    """One line from a pipe the child writes once it is ready; fails the test on timeout."""
    try:
        return read_ready_line(fd, proc, what, _START_TIMEOUT_S)
    except HarnessError as exc:
        pytest.fail(str(exc))


@pytest.fixture
def session_bus(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A private session bus for one test; yields its address (also in the environment)."""
    daemon = require_program("dbus-daemon")
    folder = Path(tempfile.mkdtemp(prefix="pulse-bus-"))  # short: socket paths max 108 bytes
    config = folder / "bus.conf"
    config.write_text(_BUS_CONFIG.format(folder=folder), encoding="utf-8")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        [daemon, f"--config-file={config}", "--nofork", f"--print-address={write_fd}"],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        try:
            address = _read_line(read_fd, proc, "dbus-daemon")
        finally:
            os.close(read_fd)
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        yield address
    finally:
        stop_process(proc)
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class NotificationDaemon:
    """A running dunst; read back what it received."""

    address: str
    display: str
    log: Path

    def _dunstctl(self, command: str) -> bytes:
        env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": self.address}
        result = subprocess.run(
            ["dunstctl", command], env=env, capture_output=True, timeout=10, check=True
        )
        return result.stdout

    def history(self) -> list[dict[str, str]]:
        """Every notification received so far, oldest first: summary, body, appname, urgency."""
        self._dunstctl("close-all")
        entries: list[dict[str, Any]] = json.loads(self._dunstctl("history"))["data"][0]
        items = []
        for entry in sorted(entries, key=lambda e: e["id"]["data"]):
            message = str(entry["message"]["data"])
            urgency = message[1 : message.index("]")] if message.startswith("[") else ""
            items.append(
                {
                    "summary": str(entry["summary"]["data"]),
                    "body": str(entry["body"]["data"]),
                    "appname": str(entry["appname"]["data"]),
                    "urgency": urgency,
                }
            )
        return items

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict[str, str]]:
        """`history()` once it holds at least `count` entries (or whatever it holds at timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            items = self.history()
            if len(items) >= count or time.monotonic() > deadline:
                return items
            time.sleep(0.05)


def _has_owner(address: str, name: str) -> bool:
    result = subprocess.run(
        ["dbus-send", f"--bus={address}", "--print-reply=literal", "--dest=org.freedesktop.DBus",
         "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner", f"string:{name}"],
        capture_output=True, timeout=5, check=False,
    )
    return result.returncode == 0 and b"true" in result.stdout


@pytest.fixture
def notification_daemon(session_bus: str, tmp_path: Path) -> Iterator[NotificationDaemon]:
    """dunst (on its own Xvfb) owning org.freedesktop.Notifications on the private bus."""
    xvfb = require_program("Xvfb")
    dunst = require_program("dunst")
    for program in ("dunstctl", "dbus-send", "busctl"):  # dunstctl history runs busctl
        require_program(program)

    try:
        x_proc, display = start_xvfb((800, 600), program=xvfb)
    except HarnessError as exc:
        pytest.fail(str(exc))
    procs = [x_proc]
    try:
        rc = tmp_path / "dunstrc"
        rc.write_text(_DUNSTRC, encoding="utf-8")
        log = tmp_path / "dunst.log"
        env = {**os.environ, "DISPLAY": display, "DBUS_SESSION_BUS_ADDRESS": session_bus}
        env.pop("WAYLAND_DISPLAY", None)
        with log.open("wb") as sink:
            d_proc = subprocess.Popen(
                [dunst, "-config", str(rc)], env=env, stdout=sink, stderr=subprocess.STDOUT
            )
        procs.append(d_proc)
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not _has_owner(session_bus, _NOTIFICATIONS):
            if d_proc.poll() is not None or time.monotonic() > deadline:
                text = log.read_text(errors="replace")[-500:]
                pytest.fail(f"dunst did not take {_NOTIFICATIONS} (exit {d_proc.poll()}): {text}")
            time.sleep(0.05)
        yield NotificationDaemon(session_bus, display, log)
    finally:
        for proc in reversed(procs):
            stop_process(proc)
