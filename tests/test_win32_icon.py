"""The Windows tray icon (issue 13 item 4), simulated on Linux: a multi-size ICO drawn by our
renderer at every size, loaded at the notification area's small-icon size.

Stock pystray saves its one 32-px image as ICO (Pillow resamples it to each size) and loads it
with LR_DEFAULTSIZE, the large-icon size, for the shell to shrink: the 16-px digits are a blur
of the 32-px ones. The fake user32 here answers GetSystemMetrics(SM_CXSMICON) as Windows does
at each scaling and records what LoadImage was given.
"""

from __future__ import annotations

import io
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops

from claude_pulse.core.gauge import Level
from claude_pulse.core.viewmodel import TrayView
from claude_pulse.ui import tray_win32
from claude_pulse.ui.render.tray import render_tray_icon
from claude_pulse.ui.tray import MenuEntry, Tray
from claude_pulse.ui.tray_win32 import ICO_SIZES, ico_bytes, win32_icon_class

VIEW = TrayView("42", Level.NORMAL, False, 0.42, (), 0.68, Level.NORMAL, 0.55)


def renderer(size: int) -> Image.Image:
    return render_tray_icon(VIEW, size)


def frames(data: bytes) -> dict[int, Image.Image]:
    ico: Any = Image.open(io.BytesIO(data))
    return {w: ico.ico.getimage((w, h)).convert("RGBA") for w, h in ico.info["sizes"]}


def same(a: Image.Image, b: Image.Image) -> bool:
    return ImageChops.difference(a, b).getbbox() is None


def test_the_ico_holds_every_size_drawn_for_that_size() -> None:
    held = frames(ico_bytes(renderer))
    assert sorted(held) == sorted(ICO_SIZES) == [16, 20, 24, 32, 40, 48]
    for size, image in held.items():
        assert image.size == (size, size)
        assert same(image, renderer(size)), f"the {size}-px entry is not our {size}-px drawing"


def test_stock_pystrays_ico_would_be_a_blur_of_one_image() -> None:
    """Why: the 16-px entry Pillow makes from one 32-px image is not the 16-px drawing."""
    out = io.BytesIO()
    renderer(32).save(out, format="ICO")  # what pystray's serialized_image(icon, 'ICO') does
    stock = frames(out.getvalue())
    assert not same(stock[16], renderer(16))


class FakeUser32:
    """GetSystemMetrics(SM_CXSMICON) at a scaling, and LoadImage recording what it loaded."""

    def __init__(self, small: int) -> None:
        self.small = small
        self.loaded: list[tuple[int, dict[int, Image.Image]]] = []

    def small_icon_size(self) -> int:
        return self.small

    def load_icon(self, path: str, size: int) -> Any:
        self.loaded.append((size, frames(Path(path).read_bytes())))
        return 1000 + len(self.loaded)  # an HICON


class StockWin32Icon:
    """The part of `pystray._win32.Icon` that asks for a handle."""

    def __init__(self, name: str, icon: Image.Image, title: str, menu: Any) -> None:
        self.icon = icon
        self._icon_handle: Any = None

    def _assert_icon_handle(self) -> None:
        raise AssertionError("the stock loader ran")

    def _update_icon(self) -> None:  # as pystray: drop the handle, make a new one
        self._icon_handle = None
        self._assert_icon_handle()


@pytest.mark.parametrize(("scaling", "small"), [("100%", 16), ("125%", 20), ("150%", 24),
                                                 ("200%", 32)])
def test_the_icon_is_loaded_at_the_small_icon_size(scaling: str, small: int,
                                                   tmp_path: Path) -> None:
    user32 = FakeUser32(small)
    icon = win32_icon_class(StockWin32Icon, user32)("x", renderer(32), "t", None,
                                                    renderer=renderer)
    icon._assert_icon_handle()
    assert icon._icon_handle == 1001
    size, held = user32.loaded[0]
    assert size == small  # not LR_DEFAULTSIZE's large icon
    assert same(held[small], renderer(small))
    icon._assert_icon_handle()
    assert len(user32.loaded) == 1  # cached until the image changes
    icon._update_icon()
    assert len(user32.loaded) == 2


def test_a_metric_windows_does_not_give_falls_back_to_16() -> None:
    assert tray_win32.small_icon_size(FakeUser32(0)) == 16


def test_the_tray_uses_it_on_windows_and_draws_each_size_from_the_current_state(
        monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("pystray")
    module.Icon = StockWin32Icon  # type: ignore[attr-defined]
    StockWin32Icon.__module__ = "pystray._win32"
    module.Menu = type("Menu", (), {"SEPARATOR": object(),  # type: ignore[attr-defined]
                                    "__init__": lambda self, *items: None})
    module.MenuItem = lambda *a, **k: (a, k)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pystray", module)
    user32 = FakeUser32(24)
    monkeypatch.setattr(tray_win32, "_User32", lambda: user32)
    monkeypatch.setattr(StockWin32Icon, "_message_handlers", {}, raising=False)
    monkeypatch.setattr(StockWin32Icon, "run", lambda self: None, raising=False)
    monkeypatch.setattr(StockWin32Icon, "stop", lambda self: None, raising=False)

    tray = Tray(post=lambda fn: None, entries=[MenuEntry("Quit", lambda: None)])
    tray.start(renderer, "Claude Pulse")
    try:
        icon: Any = tray._icon
        assert type(icon).__name__ == "PulseWin32Icon"
        icon._assert_icon_handle()
        assert same(user32.loaded[-1][1][24], renderer(24))
        later = TrayView("97", Level.CRITICAL, False, 0.97, (), 0.9, Level.HIGH, 0.5)
        tray.update(lambda size: render_tray_icon(later, size), "Claude Pulse")
        icon._update_icon()
        assert same(user32.loaded[-1][1][24], render_tray_icon(later, 24))
    finally:
        tray.stop()
