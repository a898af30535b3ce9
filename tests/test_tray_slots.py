"""The tray icon at the size the XEmbed tray really gives it (issue 15 item 2): a real trayer
at 16, 24 and 48 px on its own Xvfb, the app's own renderer, and the icon's pixels read back.

The xorg backend asks the renderer for each slot's size (`ui.tray_xorg`), so the digits grow
with the panel: at 48 px they are three times as tall as at 16, and the tile fills the slot —
not a 24 px tile, scaled or centred, in a 48 px slot.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from claude_pulse.core.gauge import Level
from claude_pulse.core.viewmodel import TrayView
from claude_pulse.ui.render.tray import TILE, render_tray_icon
from claude_pulse.ui.tray import MenuEntry, Tray
from support.fixtures_display import DockedIcon, docked_icons, icon_pixels, start_display
from support.helpers import require_program, stop_process, wait_until
from support.xharness import start_trayer

VIEW = TrayView(text="42", level=Level.NORMAL, greyed=False, fraction=0.42,
                tooltip_lines=("Claude Pulse",))


@pytest.fixture(scope="module")
def bare_display() -> Iterator[str]:
    """An Xvfb of its own, without a tray: each test starts trayer at its own height."""
    proc, name = start_display(800, 200)
    try:
        yield name
    finally:
        stop_process(proc)


def bright_rows(image: Image.Image) -> int:
    """How many rows hold the (white) digits: the number's height in pixels. Read in the
    middle of the centred square, where neither the tray's background (beside a square in a
    wider slot, in the tile's rounded corners) nor the bar shows."""
    rgb = image.convert("RGB")
    side = min(rgb.width, rgb.height)
    left = (rgb.width - side) // 2
    columns = range(left + round(side * 0.25), left + round(side * 0.75))
    return sum(1 for y in range(rgb.height)
               if any(min(rgb.getpixel((x, y))) > 200 for x in columns))


def tile_side(image: Image.Image) -> int:
    """The widest row of the dark tile: how much of the slot the icon covers."""
    rgb = image.convert("RGB")

    def is_tile(pixel: Any) -> bool:
        return all(abs(int(a) - b) <= 12 for a, b in zip(pixel, TILE, strict=True))

    return max(sum(1 for x in range(rgb.width) if is_tile(rgb.getpixel((x, y))))
               for y in range(rgb.height))


def docked_at(height: int, display: str, monkeypatch: pytest.MonkeyPatch,
              tmp_path: Path, asked: list[int]) -> tuple[DockedIcon, Image.Image]:
    monkeypatch.setenv("DISPLAY", display)
    monkeypatch.setenv("PYSTRAY_BACKEND", "xorg")
    trayer = start_trayer(display, height=height, program=require_program("trayer"))
    tray = Tray(post=lambda fn: None, entries=[MenuEntry("Quit", lambda: None)])

    def render(size: int) -> Image.Image:
        asked.append(size)
        return render_tray_icon(VIEW, size)

    try:
        tray.start(render, "Claude Pulse")
        found: list[DockedIcon] = []

        def docked() -> bool:
            found[:] = [i for i in docked_icons(display) if i.width > 4]
            return bool(found)

        wait_until(docked, 15, "the icon to dock")
        time.sleep(0.5)  # the first Expose draws it
        icon = found[0]
        return icon, icon_pixels(display, icon, tmp_path / f"slot-{height}.png")
    finally:
        tray.stop()
        stop_process(trayer)


@pytest.mark.gui
@pytest.mark.tray
def test_the_digits_scale_with_the_trays_slot(
    bare_display: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: dict[int, tuple[DockedIcon, Image.Image, list[int]]] = {}
    for height in (16, 24, 48):
        asked: list[int] = []
        icon, pixels = docked_at(height, bare_display, monkeypatch, tmp_path, asked)
        seen[height] = (icon, pixels, asked)
    for height, (icon, pixels, asked) in seen.items():
        side = min(icon.width, icon.height)
        assert abs(side - height) <= 2, (height, icon)  # trayer's slot is its height
        assert side in asked, (height, asked)  # drawn for the slot, not scaled from 32
        assert tile_side(pixels) >= side - 2, height  # the tile fills the slot
    digits = {height: bright_rows(pixels) for height, (_, pixels, _) in seen.items()}
    for height, (icon, _, _) in seen.items():  # about 0.6 of the tile (7 px in a 14 px slot)
        assert digits[height] >= 0.45 * min(icon.width, icon.height), (height, digits)
    assert digits[48] >= 2.6 * digits[16] and digits[24] >= 1.5 * digits[16], digits
