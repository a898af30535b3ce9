"""A private X server (Xvfb) and an XEmbed tray host (trayer): the one way this repository
starts them, for the tests (`fixtures_display.py`, `fixtures_dbus.py`, `test_window_fit.py`),
the benchmarks (`bench/_harness.py`) and `scripts/screenshots.py`.

Plain Python, no pytest: a failure raises `HarnessError` with one line, and each caller turns
it into its own kind of failure (a failed test, a bench or script exit). Xvfb picks a free
display number itself (`-displayfd`), so nothing collides with a developer's desktop or a
parallel run. `popen` lets a caller start the processes its own way (bench: in their own
session, ended with the script); the caller stops what it started.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import time
from collections.abc import Callable
from typing import Any

__all__ = [
    "SCREEN",
    "START_TIMEOUT_S",
    "TRAYER_HEIGHT",
    "HarnessError",
    "find_program",
    "read_ready_line",
    "start_trayer",
    "start_xvfb",
    "stop_process",
    "tray_owned",
]

SCREEN = (1024, 768)
TRAYER_HEIGHT = 32
START_TIMEOUT_S = 15.0

Popen = Callable[..., "subprocess.Popen[Any]"]


class HarnessError(RuntimeError):
    """A program is missing or did not start; the message is one line."""


def find_program(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise HarnessError(f"{name} is not installed (scripts/test installs it)")
    return path


def start_xvfb(size: tuple[int, int] = SCREEN, *, dpi: int | None = None,
               program: str | None = None, popen: Popen = subprocess.Popen,
               timeout: float = START_TIMEOUT_S) -> tuple[subprocess.Popen[Any], str]:
    """Start Xvfb at `size` (24-bit); returns the process and its display name (":N") once it
    accepts connections. A server that exits or stays silent for `timeout` s is stopped."""
    read_fd, write_fd = os.pipe()
    args = [program or find_program("Xvfb"), "-displayfd", str(write_fd),
            "-screen", "0", f"{size[0]}x{size[1]}x24", "-nolisten", "tcp", "-noreset"]
    if dpi is not None:
        args += ["-dpi", str(dpi)]
    try:
        proc = popen(args, pass_fds=(write_fd,), stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL)
    finally:
        os.close(write_fd)
    try:
        number = read_ready_line(read_fd, proc, "Xvfb", timeout)
    except HarnessError:
        stop_process(proc)
        raise
    finally:
        os.close(read_fd)
    if not number.isdigit():
        stop_process(proc)
        raise HarnessError(f"Xvfb reported no display number ({number!r})")
    return proc, f":{number}"


def start_trayer(display: str, *, width: int = 200, height: int = TRAYER_HEIGHT,
                 program: str | None = None, popen: Popen = subprocess.Popen,
                 timeout: float = START_TIMEOUT_S) -> subprocess.Popen[Any]:
    """trayer (`width` x `height` px) docked at the top right of `display` (feasibility.md §2);
    returns once it owns the system tray selection."""
    env = {**os.environ, "DISPLAY": display, "NO_AT_BRIDGE": "1"}
    proc = popen(
        [program or find_program("trayer"), "--edge", "top", "--align", "right",
         "--widthtype", "pixel", "--width", str(width), "--height", str(height),
         "--SetDockType", "false", "--transparent", "false", "--tint", "0x333333"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + timeout
    while not tray_owned(display):
        if proc.poll() is not None or time.monotonic() > deadline:
            code = proc.poll()
            stop_process(proc)
            raise HarnessError(f"trayer did not take _NET_SYSTEM_TRAY_S0 (exit {code})")
        time.sleep(0.05)
    return proc


def tray_owned(display: str) -> bool:
    """Whether some client owns `_NET_SYSTEM_TRAY_S0` on the display."""
    from Xlib import X
    from Xlib import display as xdisplay

    d = xdisplay.Display(display)
    try:
        return bool(d.get_selection_owner(d.intern_atom("_NET_SYSTEM_TRAY_S0")) != X.NONE)
    finally:
        d.close()


def stop_process(proc: subprocess.Popen[Any], timeout: float = 5.0) -> None:
    """Terminate a helper program, killing it if it lingers."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)


def read_ready_line(fd: int, proc: subprocess.Popen[Any], what: str,
                    timeout: float = START_TIMEOUT_S) -> str:
    """One line from a pipe the child writes once it is ready (Xvfb's display number,
    dbus-daemon's address)."""
    deadline = time.monotonic() + timeout
    data = b""
    while b"\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0:
            raise HarnessError(f"{what} did not start within {timeout:.0f} s")
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        chunk = os.read(fd, 256)
        if not chunk:
            raise HarnessError(f"{what} exited before it was ready (exit code {proc.poll()})")
        data += chunk
    return data.split(b"\n", 1)[0].decode().strip()
