"""HiDPI: the Deep Dive card, switch and footer are drawn at the display's scale.

The renderer is measured at 1, 1.5 and 2: the image is the scaled size, the ring's radius and the
text's height grow by the scale. The window is measured on an Xvfb at 192 dpi (what a 200 %
desktop reports) and on a 96-dpi Xvfb whose desktop says `Xft.dpi: 192` (GNOME/KDE scaling):
the card fills the window's width (no blank side bands), the ring is twice as large as on a
96-dpi screen, and Tk's own text (the footer) is twice as tall. Windows' per-monitor DPI
awareness is simulated with a stand-in for `ctypes.windll`.
"""

from __future__ import annotations

import ctypes
import subprocess
import tkinter as tk
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from claude_pulse.core.gauge import ORANGE, TEXT, TRACK
from claude_pulse.core.status import Phase
from claude_pulse.core.viewmodel import DeepDiveView, deep_dive_view
from claude_pulse.platform.screen import enable_dpi_awareness
from claude_pulse.ui.deep_dive import CARD_WIDTH, DeepDiveWindow
from claude_pulse.ui.render.card import HEADER_HEIGHT, render_card_layout
from claude_pulse.ui.theme import display_scale, switch_image
from support.fixtures_display import grab, near, start_display
from support.helpers import stop_process
from test_window_fit import NOW, full, settle


def view(phase: Phase = Phase.OK) -> DeepDiveView:
    status = full(phase, message="Your login has expired") if phase is Phase.REAUTH else full(
        phase)
    return deep_dive_view(status, NOW, alerts_enabled=True, show_model_limits=True)


def ink_rows(image: Image.Image, colour: tuple[int, int, int], box: tuple[int, int, int, int],
             tolerance: int = 40) -> tuple[int, int]:
    """First and last row in `box` holding a pixel of `colour`."""
    px = image.load()
    assert px is not None
    rows = [y for y in range(box[1], box[3])
            if any(near(px[x, y], colour, tolerance) for x in range(box[0], box[2]))]
    assert rows, "no ink found"
    return rows[0], rows[-1]


def ring_box(image: Image.Image, top: int, scale: float) -> tuple[int, int, int, int]:
    """The bounding box of the session ring (track or orange): in the session panel, which
    starts at `top` (below the header and banner), between its title and its legend."""
    px = image.load()
    assert px is not None
    xs, ys = [], []
    for y in range(top + round(30 * scale), top + round(226 * scale)):
        for x in range(image.width // 5, image.width * 4 // 5):
            if near(px[x, y], TRACK, 4) or near(px[x, y], ORANGE, 8):
                xs.append(x)
                ys.append(y)
    return min(xs), min(ys), max(xs), max(ys)


# ---- the renderer ---------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1.25, 1.5, 2.0])
def test_the_card_renders_at_the_scaled_size_with_scaled_text(scale: float) -> None:
    # (A banner's text may wrap differently at 1.5: its font is rounded to a whole pixel.)
    one = render_card_layout(view(), CARD_WIDTH, 1.0)
    big = render_card_layout(view(), CARD_WIDTH, scale)
    assert big.image.width == round(CARD_WIDTH * scale)
    assert abs(big.image.height - one.image.height * scale) <= 12  # rounding per row
    assert abs(big.header_height - one.header_height * scale) <= 3
    # The title's ink ("Claude", white) is `scale` times as tall.
    title = (40, 0, 200, HEADER_HEIGHT)
    y0, y1 = ink_rows(one.image, TEXT, title)
    b0, b1 = ink_rows(big.image, TEXT, tuple(round(c * scale) for c in title))  # type: ignore[arg-type]
    assert abs((b1 - b0 + 1) - (y1 - y0 + 1) * scale) <= 2
    # The ring's radius too, and the banner button.
    r1 = ring_box(one.image, one.header_height, 1.0)
    rb = ring_box(big.image, big.header_height, scale)
    assert abs((rb[2] - rb[0]) - (r1[2] - r1[0]) * scale) <= 3
    one_box = render_card_layout(view(Phase.REAUTH), CARD_WIDTH, 1.0).action_box
    big_box = render_card_layout(view(Phase.REAUTH), CARD_WIDTH, scale).action_box
    assert one_box is not None and big_box is not None
    assert abs((big_box[2] - big_box[0]) - (one_box[2] - one_box[0]) * scale) <= 4
    assert abs((big_box[3] - big_box[1]) - (one_box[3] - one_box[1]) * scale) <= 2


def test_the_switch_scales() -> None:
    assert switch_image(on=True).size == (34, 18)
    assert switch_image(on=True, scale=2.0).size == (68, 36)


# ---- the window at 192 dpi ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def dpi_displays() -> Iterator[Callable[[str], str]]:
    """Xvfb servers by kind: "96", "192" (the X screen says 192 dpi), "xft" (96, Xft.dpi 192)."""
    started: dict[str, str] = {}
    procs: list[subprocess.Popen[bytes]] = []

    def get(kind: str) -> str:
        if kind not in started:
            # A 1366x768 laptop at 200 %: 2732x1536 pixels.
            proc, display = start_display(2732, 1536, 192 if kind == "192" else 96)
            procs.append(proc)
            if kind == "xft":
                _set_resources(display, "Xft.antialias:\t1\nXft.dpi:\t192\n")
            started[kind] = display
        return started[kind]

    try:
        yield get
    finally:
        # Tk keeps its connections: stop the servers only after the last test of the session.
        _LEFTOVERS.extend(procs)


_LEFTOVERS: list[subprocess.Popen[bytes]] = []


@pytest.fixture(scope="session", autouse=True)
def _stop_leftovers() -> Iterator[None]:
    yield
    for proc in _LEFTOVERS:
        stop_process(proc)


def _set_resources(display: str, text: str) -> None:
    """What `xrdb -merge` does: the root window's RESOURCE_MANAGER string."""
    from Xlib import X, Xatom
    from Xlib import display as xdisplay

    d = xdisplay.Display(display)
    try:
        d.screen().root.change_property(Xatom.RESOURCE_MANAGER, Xatom.STRING, 8, text.encode(),
                                        X.PropModeReplace)
        d.sync()
    finally:
        d.close()


def open_window(display: str, monkeypatch: pytest.MonkeyPatch) -> tuple[tk.Tk, DeepDiveWindow]:
    monkeypatch.setenv("DISPLAY", display)
    root = tk.Tk()
    root.withdraw()
    win = DeepDiveWindow(root, clock=lambda: NOW, on_refresh=lambda: None,
                         on_alerts_toggled=lambda _on: None, on_action=lambda _a: None,
                         on_preferences=lambda: None, platform="linux")
    win.set_status(full(Phase.OK))
    win.show()
    settle(root, 0.3)
    return root, win


def measure(display: str, monkeypatch: pytest.MonkeyPatch, path: Path) -> dict[str, Any]:
    root, win = open_window(display, monkeypatch)
    try:
        top = win.toplevel
        shot = grab(display, path, int(top.wm_frame(), 16))
        return {
            "scale": win._scale,
            "width": top.winfo_width(),
            "card": win._card.winfo_width(),
            "canvas": win._canvas.winfo_width(),
            "footer": win._footer.winfo_width(),
            "ring": ring_box(shot, win._card.winfo_height(), win._scale),
            "footer_text": win._last_refresh.winfo_reqheight(),
            "switch": win._toggle.winfo_reqheight(),
            "shot": shot,
        }
    finally:
        win.destroy()
        root.destroy()


@pytest.mark.gui
@pytest.mark.parametrize("kind", ["192", "xft"])
def test_the_window_is_drawn_at_twice_the_size_on_a_200_percent_desktop(
    dpi_displays: Callable[[str], str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    kind: str,
) -> None:
    base = measure(dpi_displays("96"), monkeypatch, tmp_path / "96.png")
    hi = measure(dpi_displays(kind), monkeypatch, tmp_path / f"{kind}.png")
    assert base["scale"] == 1.0 and hi["scale"] == 2.0
    assert base["width"] == CARD_WIDTH and hi["width"] == 2 * CARD_WIDTH
    # No blank side bands: the card, the sections and the footer span the whole window.
    assert hi["card"] == hi["canvas"] == hi["footer"] == hi["width"]
    b, h = base["ring"], hi["ring"]
    assert abs((h[2] - h[0]) - 2 * (b[2] - b[0])) <= 4
    assert abs((h[3] - h[1]) - 2 * (b[3] - b[1])) <= 4
    # Tk's own text and the switch follow the same scale as the rendered card.
    assert 1.8 <= hi["footer_text"] / base["footer_text"] <= 2.2
    assert 1.8 <= hi["switch"] / base["switch"] <= 2.2


@pytest.mark.gui
def test_display_scale_rounds_to_quarter_steps(
    dpi_displays: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISPLAY", dpi_displays("96"))
    root = tk.Tk()
    try:
        assert display_scale(root) == 1.0
        root.tk.call("tk", "scaling", 144 / 72)  # what Tk says on a 150 % Windows display
        assert display_scale(root) == 1.5
        root.tk.call("tk", "scaling", 120 / 72)
        assert display_scale(root) == 1.25
        root.tk.call("tk", "scaling", 60 / 72)
        assert display_scale(root) == 1.0  # never below 1
    finally:
        root.destroy()


# ---- Windows: per-monitor DPI awareness --------------------------------------------------------


class Recorder:
    def __init__(self, answers: dict[str, Any]) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self._answers = answers

    def __getattr__(self, name: str) -> Any:
        if name not in self._answers:
            raise AttributeError(name)  # an older Windows: the function does not exist

        def call(*args: Any) -> Any:
            self.calls.append((name, args))
            answer = self._answers[name]
            if isinstance(answer, BaseException):
                raise answer
            return answer

        return call


class FakeWindll:
    def __init__(self, user32: dict[str, Any], shcore: dict[str, Any]) -> None:
        self.user32 = Recorder(user32)
        self.shcore = Recorder(shcore)


def test_windows_10_gets_per_monitor_v2_awareness() -> None:
    windll = FakeWindll({"SetProcessDpiAwarenessContext": 1, "SetProcessDPIAware": 1}, {})
    assert enable_dpi_awareness(windll) == "SetProcessDpiAwarenessContext"
    (_name, args), = windll.user32.calls
    # DPI_AWARENESS_CONTEXT_PER_MONITOR_AWARE_V2, the handle value (DPI_AWARENESS_CONTEXT)-4
    assert args[0].value == ctypes.c_void_p(-4).value


def test_windows_8_1_falls_back_to_shcore_and_vista_to_system_aware() -> None:
    eight = FakeWindll({"SetProcessDPIAware": 1}, {"SetProcessDpiAwareness": 0})
    assert enable_dpi_awareness(eight) == "SetProcessDpiAwareness"
    assert eight.shcore.calls == [("SetProcessDpiAwareness", (2,))]
    vista = FakeWindll({"SetProcessDPIAware": 1}, {"SetProcessDpiAwareness": OSError("no")})
    assert enable_dpi_awareness(vista) == "SetProcessDPIAware"
    # Already declared (a manifest): E_ACCESSDENIED counts as done.
    declared = FakeWindll({"SetProcessDpiAwarenessContext": 0},
                          {"SetProcessDpiAwareness": -2147024891})
    assert enable_dpi_awareness(declared) == "SetProcessDpiAwareness"
    assert enable_dpi_awareness(FakeWindll({}, {})) is None


def test_not_windows_does_nothing() -> None:
    assert enable_dpi_awareness() is None  # this test runs on Linux


def test_the_app_declares_dpi_awareness_before_tk_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    import tkinter
    import types

    import claude_pulse.app as app_mod
    import claude_pulse.platform.screen as screen_mod

    order: list[str] = []

    class Stop(Exception):
        pass

    def fake_tk(*_a: Any, **_k: Any) -> Any:
        order.append("tk")
        raise Stop

    monkeypatch.setattr(screen_mod, "enable_dpi_awareness", lambda: order.append("dpi"))
    monkeypatch.setattr(tkinter, "Tk", fake_tk)
    # Tk is built on first need (the window, the menu): here, straight away.
    monkeypatch.setattr(app_mod.DesktopApp, "_build", lambda self, _loop: self.tk_root())
    desktop = app_mod.DesktopApp(types.SimpleNamespace(notifier=None), single_instance=False)
    with pytest.raises(Stop):
        desktop.run()
    assert order == ["dpi", "tk"]


@pytest.mark.gui
def test_the_preferences_window_follows_the_same_scale(
    dpi_displays: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from claude_pulse.config import Config
    from claude_pulse.ui.preferences import WIDTH, PreferencesWindow

    monkeypatch.setenv("DISPLAY", dpi_displays("xft"))
    root = tk.Tk()
    root.withdraw()
    try:
        prefs = PreferencesWindow(root, settings=Config, on_save=lambda _c: None)
        # The header is rendered at 2x (crisp), as wide as the window, not enlarged from 1x.
        assert prefs._header_image.width() == 2 * WIDTH
        assert prefs._switch_on.height() == 36
        prefs.destroy()
    finally:
        root.destroy()
