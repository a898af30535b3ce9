"""Make the README's screenshots (docs/images/) from the real window and the running demo.

    python scripts/screenshots.py [--out docs/images]

Needs Xvfb, trayer and ImageMagick's `import` (the test dependencies). It starts its own private
X display and tray host, so it runs the same on a desktop, a server or in CI, and never touches
the user's screen or home folder.

* deep-dive-*.png and deep-dive-*@2x.png: the Deep Dive window (the app's own `DeepDiveWindow`,
  captured with `import -window`) opened from the tray icon on a 1366x768 screen with a 32-px
  panel (`_NET_WORKAREA`), at 1x and on the same screen at 200 % (2732x1536, 192 dpi), showing
  the demo's simulated account in every state: healthy, an over-budget week at 95 %, offline
  with 12-minute-old numbers, rate-limited, server trouble, signed out, waiting for the browser
  login (with the link and Paste code), the login that did not finish, log in again, loading,
  and the tray menu's Log out asking first.
* screen-1366x768.png and screen-1366x768@2x.png: the whole screen with the window fitted under
  the panel, as a user sees it.
* tray.png: `claude-pulse --demo` itself, its icon docked in trayer with the right-click menu
  open, cropped from the screen and doubled in size.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import tkinter as tk
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from PIL import Image

# The tests' X harness: one way to start Xvfb and trayer, here as in the tests and bench/.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from claude_pulse.core.forecast import forecast
from claude_pulse.core.pace import SESSION_WINDOW, WEEK_WINDOW
from claude_pulse.core.snapshot import Snapshot
from claude_pulse.core.status import AppStatus, Phase
from claude_pulse.core.usage import parse_usage
from claude_pulse.fake.simulation import SimulatedAccount
from claude_pulse.ui.deep_dive import DeepDiveWindow
from claude_pulse.ui.render.logo import draw_logo
from support import xharness

ROOT = Path(__file__).resolve().parent.parent
START = datetime.now(timezone.utc).replace(second=0, microsecond=0)
ACCOUNT = "you@example.com"
SPEED = 120.0  # the demo's default: one real second is two simulated minutes
SCREEN = (1366, 768)  # the README's laptop screen
PANEL = 32  # trayer's height at 1x


def _program(name: str) -> str:
    try:
        return xharness.find_program(name)
    except xharness.HarnessError as exc:
        raise SystemExit(f"screenshots: {exc}") from None


@contextmanager
def private_display(size: tuple[int, int] = (1024, 768), scale: int = 1) -> Iterator[str]:
    """A private Xvfb with trayer docked top right, started as the tests start them; yields the
    display name. `scale` 2: the same screen at 200 % (twice the pixels, 192 dpi)."""
    width, height = size[0] * scale, size[1] * scale
    procs: list[subprocess.Popen[Any]] = []
    try:
        xvfb, display = xharness.start_xvfb((width, height), dpi=96 * scale,
                                            program=_program("Xvfb"))
        procs.append(xvfb)
        procs.append(xharness.start_trayer(display, width=200 * scale, height=PANEL * scale,
                                           program=_program("trayer")))
        _paint_desktop(display)
        _set_work_area(display, (0, PANEL * scale, width, height))
        yield display
    except xharness.HarnessError as exc:
        raise SystemExit(f"screenshots: {exc}") from None
    finally:
        for proc in reversed(procs):
            xharness.stop_process(proc)


def _paint_desktop(display: str, rgb: tuple[int, int, int] = (0x3B, 0x42, 0x52)) -> None:
    """A slate desktop instead of Xvfb's black, so the tray picture looks like a desktop."""
    from Xlib import display as xdisplay

    d = xdisplay.Display(display)
    try:
        screen = d.screen()
        pixel = d.screen().default_colormap.alloc_color(*(c * 257 for c in rgb)).pixel
        screen.root.change_attributes(background_pixel=pixel)
        screen.root.clear_area(0, 0, 0, 0)
        d.sync()
    finally:
        d.close()


def _set_work_area(display: str, box: tuple[int, int, int, int]) -> None:
    """What a window manager with a top panel publishes (EWMH `_NET_WORKAREA`)."""
    from Xlib import X, Xatom
    from Xlib import display as xdisplay

    d = xdisplay.Display(display)
    try:
        x0, y0, x1, y1 = box
        d.screen().root.change_property(d.intern_atom("_NET_WORKAREA"), Xatom.CARDINAL, 32,
                                        [x0, y0, x1 - x0, y1 - y0], X.PropModeReplace)
        d.sync()
    finally:
        d.close()


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"screenshots: timed out waiting for {what}")
        time.sleep(0.1)


def _import(display: str, window: str, path: Path) -> Image.Image:
    subprocess.run([_program("import"), "-window", window, str(path)], check=True,
                   env={**os.environ, "DISPLAY": display}, capture_output=True, timeout=30)
    with Image.open(path) as image:
        rgb: Image.Image = image.convert("RGB")
    return rgb


# ---- the window in four states ----------------------------------------------------------


def _snapshot(account: SimulatedAccount, real_seconds: float) -> tuple[Snapshot, datetime]:
    now = START + timedelta(seconds=real_seconds * SPEED)
    raw = account.usage_at(now)
    return Snapshot(now, parse_usage(raw), raw), now


def _history(account: SimulatedAccount, now: datetime) -> dict[str, Any]:
    """What the app's history would hold for the current windows (the charts' data)."""
    session_reset = account.session_at(now)[1]
    week_reset = account.weekly_at(now)[1]

    def samples(start: datetime, step: timedelta, value: Callable[[datetime], float]
                ) -> tuple[tuple[datetime, float], ...]:
        points, t = [], start
        while t <= now:
            points.append((t, max(0.0, value(t))))
            t += step
        return tuple(points)

    session = samples(session_reset - timedelta(hours=5), timedelta(minutes=10),
                      lambda t: account.session_at(t)[0])
    weekly = samples(week_reset - timedelta(days=7), timedelta(hours=3),
                     lambda t: account.weekly_at(t)[0])
    usage = parse_usage(account.usage_at(now))
    # The same forecasts the app computes from its history after each poll.
    return {
        "session_history": session,
        "weekly_history": weekly,
        "session_forecast": forecast(session, usage.session, now, length=SESSION_WINDOW),
        "weekly_forecast": forecast(weekly, usage.weekly, now, length=WEEK_WINDOW,
                                    lookback=timedelta(days=1)),
    }


def window_states() -> dict[str, tuple[AppStatus, datetime]]:
    account = SimulatedAccount(START)
    ok, ok_now = _snapshot(account, 0)  # 73 %, week on track
    over, over_now = _snapshot(account, 30)  # 95 %, week over budget
    stale, stale_at = _snapshot(account, 5)
    later = stale_at + timedelta(minutes=12)
    old = _history(account, stale_at)
    return {
        "deep-dive-ok": (AppStatus(Phase.OK, ok, account=ACCOUNT,
                                   **_history(account, ok_now)), ok_now),
        "deep-dive-over-budget": (AppStatus(Phase.OK, over, account=ACCOUNT,
                                            **_history(account, over_now)), over_now),
        "deep-dive-offline": (AppStatus(Phase.OFFLINE, stale, account=ACCOUNT,
                                        next_try=later + timedelta(minutes=1), **old), later),
        "deep-dive-rate-limited": (AppStatus(Phase.RATE_LIMITED, stale, account=ACCOUNT,
                                             next_try=later + timedelta(minutes=5), **old),
                                   later),
        "deep-dive-server-error": (AppStatus(Phase.SERVER_ERROR, stale, account=ACCOUNT,
                                             message="HTTP 529", **old,
                                             next_try=later + timedelta(minutes=2)), later),
        "deep-dive-log-in-again": (AppStatus(Phase.REAUTH, stale, account=ACCOUNT, **old),
                                   later),
        "deep-dive-signed-out": (AppStatus(Phase.SIGNED_OUT), START),
        "deep-dive-login-waiting": (AppStatus(Phase.LOGGING_IN), START),
        "deep-dive-login-failed": (AppStatus(Phase.LOGIN_FAILED,
                                             message="No answer from the browser"), START),
        "deep-dive-loading": (AppStatus(Phase.LOADING, account=ACCOUNT), START),
        # The tray menu's Log out, asked in the window.
        "deep-dive-log-out": (AppStatus(Phase.OK, ok, account=ACCOUNT,
                                        **_history(account, ok_now)), ok_now),
    }


def _fixed(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


AUTHORIZE = ("https://claude.ai/oauth/authorize?code=true&client_id=9d1c250a&response_type=code"
             "&redirect_uri=http%3A%2F%2Flocalhost%3A19532%2Fcallback&state=…")


def shoot_windows(display: str, out: Path, scale: int = 1) -> list[Path]:
    """Every state, opened from the tray icon's place; plus the whole screen for one of them."""
    os.environ["DISPLAY"] = display
    suffix = "" if scale == 1 else f"@{scale}x"
    icon = ((SCREEN[0] - 20) * scale, PANEL * scale // 2)
    written = []
    for name, (status, now) in window_states().items():
        root = tk.Tk(className="claude-pulse")
        root.withdraw()
        window = DeepDiveWindow(root, clock=_fixed(now), on_refresh=lambda: None,
                                on_alerts_toggled=lambda _on: None, on_action=lambda _a: None,
                                on_preferences=lambda: None, on_charts_toggled=lambda _s: None,
                                on_login_cancel=lambda: None, on_login_code=lambda _t: None,
                                logo=draw_logo(64), platform="linux")
        window.set_status(status)
        window.show(icon)
        if status.phase is Phase.LOGGING_IN:
            window.show_login(AUTHORIZE, False)
        if name == "deep-dive-log-out":
            window.ask_log_out(lambda _yes: None)
        _settle(root)
        path = out / f"{name}{suffix}.png"
        _import(display, str(window.toplevel.winfo_id()), path)
        written.append(path)
        if name == "deep-dive-over-budget":
            screen = out / f"screen-{SCREEN[0]}x{SCREEN[1]}{suffix}.png"
            _import(display, "root", screen).save(screen, optimize=True)
            written.append(screen)
        window.destroy()
        root.destroy()
    return written


def _settle(root: tk.Tk, seconds: float = 0.5) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        root.update()
        time.sleep(0.02)


# ---- the tray, from the running demo ---------------------------------------------------------


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    width: int
    height: int


def _docked_icon(display: str) -> Box | None:
    from Xlib import X
    from Xlib import display as xdisplay
    from Xlib.error import XError

    d = xdisplay.Display(display)
    try:
        root = d.screen().root
        xembed = d.intern_atom("_XEMBED_INFO")
        stack = [(child, 1) for child in root.query_tree().children]
        while stack:
            window, depth = stack.pop()
            try:
                if depth > 1 and window.get_attributes().map_state == X.IsViewable and \
                        window.get_full_property(xembed, X.AnyPropertyType) is not None:
                    geometry = window.get_geometry()
                    pos = window.translate_coords(root, 0, 0)
                    if geometry.width > 4:
                        return Box(-pos.x, -pos.y, geometry.width, geometry.height)
                stack.extend((child, depth + 1) for child in window.query_tree().children)
            except XError:
                continue
    finally:
        d.close()
    return None


def _xdotool(display: str, *args: str) -> str:
    return subprocess.run([_program("xdotool"), *args], env={**os.environ, "DISPLAY": display},
                          capture_output=True, text=True, timeout=15, check=False).stdout


def shoot_tray(display: str, out: Path) -> Path:
    with tempfile.TemporaryDirectory(prefix="pulse-shots-") as home:
        env = {**os.environ, "DISPLAY": display, "CLAUDE_PULSE_HOME": home,
               "PYSTRAY_BACKEND": "xorg", "NO_AT_BRIDGE": "1",
               "DBUS_SESSION_BUS_ADDRESS": "disabled:"}
        demo = subprocess.Popen([sys.executable, "-m", "claude_pulse", "--demo"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait(lambda: _docked_icon(display) is not None, 20, "the demo's tray icon")
            time.sleep(12)  # the simulated session passes 80 %: the icon turns amber
            icon = _docked_icon(display)
            assert icon is not None
            # Close the window the demo opened, then open the tray menu.
            for window in _xdotool(display, "search", "--onlyvisible", "--name",
                                   "^Claude Pulse$").split():
                _xdotool(display, "windowunmap", window)
            cx, cy = icon.x + icon.width // 2, icon.y + icon.height // 2
            _xdotool(display, "mousemove", str(cx), str(cy), "click", "3")
            _wait(lambda: bool(_xdotool(display, "search", "--onlyvisible", "--name",
                                        "^!menu$").split()), 5, "the tray menu")
            menu = _xdotool(display, "search", "--onlyvisible", "--name", "^!menu$").split()[0]
            geometry = dict(line.split("=", 1) for line in
                            _xdotool(display, "getwindowgeometry", "--shell", menu).split())
            # Hover "Refresh now" (the second row), as a user about to click it.
            _xdotool(display, "mousemove", str(int(geometry["X"]) + 60),
                     str(int(geometry["Y"]) + 33))
            time.sleep(0.5)
            screen = _import(display, "root", out / "tray-screen.png")
            (out / "tray-screen.png").unlink()
            right = screen.width
            left = min(int(geometry["X"]), icon.x) - 24
            bottom = int(geometry["Y"]) + int(geometry["HEIGHT"]) + 12
            crop = screen.crop((left, 0, right, bottom))
            crop = crop.resize((crop.width * 2, crop.height * 2), Image.Resampling.NEAREST)
            path = out / "tray.png"
            crop.save(path, optimize=True)
            return path
        finally:
            demo.send_signal(signal.SIGTERM)
            try:
                demo.wait(timeout=10)
            except subprocess.TimeoutExpired:
                demo.kill()
                demo.wait(timeout=5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images",
                        help="folder for the PNG files (default: docs/images)")
    args = parser.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    # Every display stays up to the end: Tk keeps its connection to one it has used, and the
    # process would exit when that server went away.
    with ExitStack() as stack:
        for scale in (1, 2):
            written += shoot_windows(stack.enter_context(private_display(SCREEN, scale)), out,
                                     scale)
        written.append(shoot_tray(stack.enter_context(private_display()), out))
    for path in written:
        with Image.open(path) as image:
            print(f"wrote {path} ({image.width}x{image.height})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
