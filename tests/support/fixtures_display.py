"""Fixtures: a real X display (Xvfb) and a real XEmbed tray host (trayer) for GUI tests.

Both are started by the fixtures themselves (through `support/xharness.py`, which bench and
scripts/screenshots.py use too), once per test session, on a display number that Xvfb picks
(`-displayfd`), so tests never collide with a developer's desktop or another run.
`display` and `tray_display` point `DISPLAY` at it for one test. The helpers below find the
docked tray icon (a window carrying `_XEMBED_INFO` that has been reparented into the tray,
feasibility.md §2), find windows by name, click with xdotool and take screenshots with
ImageMagick's `import`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest
from PIL import Image

from support.helpers import require_program
from support.xharness import SCREEN, HarnessError, start_trayer, start_xvfb, stop_process

if TYPE_CHECKING:  # tkinter is imported where a test needs it: --fast runs may have no Tk
    import tkinter as tk

__all__ = ["display", "root", "tray_display", "x_server", "x_tray_host"]

T = TypeVar("T")


@dataclass(frozen=True)
class DockedIcon:
    """A tray icon window as the tray host shows it, in root coordinates."""

    window: int
    x: int
    y: int
    width: int
    height: int

    @property
    def centre(self) -> tuple[int, int]:
        return self.x + self.width // 2, self.y + self.height // 2




def _started(start: Callable[[], T]) -> T:
    """What `start()` started; a harness that cannot start fails the test with its reason."""
    try:
        return start()
    except HarnessError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def x_server() -> Iterator[str]:
    """A private Xvfb for the whole session; yields its display name (":N")."""
    proc, name = _started(lambda: start_xvfb(SCREEN, program=require_program("Xvfb")))
    try:
        yield name
    finally:
        stop_process(proc)


@pytest.fixture(scope="session")
def x_tray_host(x_server: str) -> Iterator[str]:
    """trayer docked at the top right of the session's Xvfb, as in feasibility.md §2."""
    proc = _started(lambda: start_trayer(x_server, program=require_program("trayer")))
    try:
        yield x_server
    finally:
        stop_process(proc)


def start_display(width: int, height: int, dpi: int = 96) -> tuple[subprocess.Popen[Any], str]:
    """A private Xvfb of another size or dpi than the session's, for one test module; returns
    the process (the caller stops it) and its display name."""
    return _started(lambda: start_xvfb((width, height), dpi=dpi, program=require_program("Xvfb")))


@pytest.fixture
def display(x_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """DISPLAY set to the private Xvfb for this test."""
    monkeypatch.setenv("DISPLAY", x_server)
    monkeypatch.setenv("NO_AT_BRIDGE", "1")
    return x_server


@pytest.fixture
def tray_display(x_tray_host: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """DISPLAY set to the private Xvfb, with trayer owning the system tray selection."""
    monkeypatch.setenv("DISPLAY", x_tray_host)
    monkeypatch.setenv("NO_AT_BRIDGE", "1")
    return x_tray_host


@pytest.fixture
def root(display: str) -> Iterator[tk.Tk]:
    """A withdrawn Tk root on the test's display, destroyed after the test. A module that
    overrides `display` (another screen size) gets its root there."""
    import tkinter

    r = tkinter.Tk()
    r.withdraw()
    try:
        yield r
    finally:
        r.destroy()


# --- pumping a Tk root (tests drive the event loop by hand, no mainloop) ----------------------


def settle(root: tk.Tk, seconds: float = 0.3) -> None:
    """Run Tk's event loop for `seconds` (redraws, timers, X events)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        root.update()
        time.sleep(0.02)


def pump_until(root: tk.Tk, predicate: Callable[[], bool], timeout: float = 5.0,
               what: str = "the window") -> None:
    """Run Tk's event loop until `predicate()` holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        root.update()
        time.sleep(0.02)


# --- helpers for the tests (python-xlib, xdotool, ImageMagick) -------------------------------


def docked_icons(display_name: str) -> list[DockedIcon]:
    """Every viewable `_XEMBED_INFO` window reparented below a top-level window (a tray)."""
    from Xlib import X
    from Xlib import display as xdisplay
    from Xlib.error import XError

    d = xdisplay.Display(display_name)
    found: list[DockedIcon] = []
    try:
        root = d.screen().root
        xembed = d.intern_atom("_XEMBED_INFO")

        def walk(window: object, depth: int) -> None:
            try:
                children = window.query_tree().children  # type: ignore[attr-defined]
            except XError:
                return
            for child in children:
                try:
                    if depth > 0 and child.get_attributes().map_state == X.IsViewable and \
                            child.get_full_property(xembed, X.AnyPropertyType) is not None:
                        geom = child.get_geometry()
                        pos = child.translate_coords(root, 0, 0)
                        found.append(DockedIcon(child.id, -pos.x, -pos.y, geom.width,
                                                geom.height))
                except XError:
                    continue  # the window went away while we looked
                walk(child, depth + 1)

        walk(root, 0)
    finally:
        d.close()
    return found


def xdotool(display_name: str, *args: str) -> str:
    tool = require_program("xdotool")
    out = subprocess.run([tool, *args], env={**os.environ, "DISPLAY": display_name},
                         capture_output=True, text=True, timeout=15, check=False)
    return out.stdout


def find_windows(display_name: str, name_regex: str) -> list[int]:
    """Visible windows whose name matches (xdotool search semantics)."""
    out = xdotool(display_name, "search", "--onlyvisible", "--name", name_regex)
    return [int(line) for line in out.split() if line.strip().isdigit()]


def wait_for_window(display_name: str, name_regex: str, timeout: float = 10.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = find_windows(display_name, name_regex)
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no visible window named {name_regex!r}")


def wait_for_no_window(display_name: str, name_regex: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while find_windows(display_name, name_regex):
        if time.monotonic() > deadline:
            raise AssertionError(f"window {name_regex!r} is still visible")
        time.sleep(0.1)


def click(display_name: str, x: int, y: int, button: int = 1) -> None:
    xdotool(display_name, "mousemove", str(x), str(y), "click", str(button))


def screenshot(display_name: str, path: Path, window: int | str = "root") -> Path:
    """`import -window <id|root>`: the window's pixels as a PNG."""
    tool = require_program("import")
    subprocess.run([tool, "-window", str(window), str(path)],
                   env={**os.environ, "DISPLAY": display_name}, check=True, timeout=30,
                   capture_output=True)
    return path


def grab(display_name: str, path: Path, window: int | str = "root") -> Image.Image:
    """A screenshot, loaded as RGB."""
    with Image.open(screenshot(display_name, path, window)) as image:
        return image.convert("RGB")


def icon_pixels(display_name: str, icon: DockedIcon, path: Path) -> Image.Image:
    """The docked icon's pixels (from a root screenshot: icons cannot be grabbed alone)."""
    return grab(display_name, path).crop((icon.x, icon.y, icon.x + icon.width,
                                          icon.y + icon.height))


def spawn_pulse(display_name: str, *args: str, env: Mapping[str, str] | None = None,
                ) -> subprocess.Popen[str]:
    """`python -m claude_pulse ARGS` on the display, with the xorg tray backend and no bus.

    No session bus: notifications fall back to the log instead of reaching the developer's
    desktop. stdout/stderr are captured (read them after the process ends).
    """
    environ = {k: v for k, v in os.environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    environ.update({"DISPLAY": display_name, "NO_AT_BRIDGE": "1", "PYSTRAY_BACKEND": "xorg",
                    "PYTHONUNBUFFERED": "1", "DBUS_SESSION_BUS_ADDRESS": "disabled:"})
    environ.update(env or {})
    return subprocess.Popen([sys.executable, "-m", "claude_pulse", *args], env=environ,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen[str], timeout: float = 5.0) -> tuple[int | None, str]:
    """Wait for the process; kill it if it does not end. Returns (exit code or None, stderr)."""
    try:
        _, err = proc.communicate(timeout=timeout)
        return proc.returncode, err
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate(timeout=5)
        return None, err


def terminate(proc: subprocess.Popen[str], timeout: float = 5.0,
              ) -> tuple[int | None, str, float]:
    """SIGTERM (a logout, `kill`), then `finish`: (exit code or None, stderr, seconds taken)."""
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    code, err = finish(proc, timeout=timeout)
    return code, err, time.monotonic() - started


def processes_with_env(name: str, value: str) -> list[int]:
    """PIDs of live processes whose environment has NAME=VALUE (leftover-process checks)."""
    needle = f"{name}={value}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().split(") ", 1)[1][:1]
        except OSError:
            continue
        if state != "Z" and needle in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


# --- reading the Deep Dive card's pixels ----------------------------------------------------


def near(pixel: tuple[int, ...], colour: tuple[int, int, int], tolerance: int) -> bool:
    return all(abs(int(a) - b) <= tolerance for a, b in zip(pixel[:3], colour, strict=True))


def count_near(image: Image.Image, colour: tuple[int, int, int],
               box: tuple[int, int, int, int], tolerance: int = 25) -> int:
    px = image.load()
    assert px is not None
    return sum(1 for y in range(box[1], box[3]) for x in range(box[0], box[2])
               if near(px[x, y], colour, tolerance))


def arc_coverage(card: Image.Image, colour: tuple[int, int, int]) -> float:
    """The share (0-1) of the session ring painted in `colour`, measured by angle.

    The ring is found by its twelve o'clock start (the first `colour` pixel straight down the
    card's centre, below the header) and flood-filled from there, so other orange things (the
    logo, charts, the pace bar) do not count. Its centre is the middle of what was filled,
    which is right when the arc covers at least three quarters of the ring.
    """
    import math
    from collections import deque

    px = card.load()
    assert px is not None
    width, height = card.size

    def painted(x: int, y: int) -> bool:
        return 0 <= x < width and 0 <= y < height and near(px[x, y], colour, 50)

    seed = next(((x, y) for y in range(60, height // 2) for x in range(width // 2 - 3,
                                                                          width // 2 + 4)
                 if painted(x, y)), None)
    assert seed is not None, "no ring start found"
    ring = {seed}
    todo = deque([seed])
    while todo:
        x, y = todo.popleft()
        for nx in (x - 1, x, x + 1):
            for ny in (y - 1, y, y + 1):
                if (nx, ny) not in ring and painted(nx, ny):
                    ring.add((nx, ny))
                    todo.append((nx, ny))
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    angles = {int(math.degrees(math.atan2(x - cx, cy - y)) % 360) for x, y in ring}
    return len(angles) / 360


def rgb_pixels(image: Image.Image) -> list[tuple[int, ...]]:
    data = image.convert("RGB").tobytes()
    return [tuple(data[i:i + 3]) for i in range(0, len(data), 3)]
