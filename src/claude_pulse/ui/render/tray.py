"""The tray icon: the session percent in level colour on a dark rounded tile.

At 16 px an ordinary font leaves two digits 8 px high. Instead the text is rendered large, cut to
digit height and scaled into the tile, narrowed if needed, so two digits fill the square (14 px
high at 16 px) and stay readable. The dark tile keeps them readable on light and dark taskbars.
"""

from __future__ import annotations

import functools

from PIL import Image, ImageDraw

from claude_pulse.core.gauge import GREY, Color, blend, level_color
from claude_pulse.core.viewmodel import TrayView
from claude_pulse.ui.render.fonts import Weight, font
from claude_pulse.ui.render.shapes import rounded_rect

__all__ = ["TILE", "render_tray_icon"]

TILE: Color = (0x1E, 0x1E, 0x1E)
_OVERSAMPLE = 4


@functools.lru_cache(maxsize=128)
def _glyph_mask(text: str, size: int) -> tuple[Image.Image, int, int]:
    """An L mask of `text` scaled to digit height for a `size` icon, and where to paste it."""
    pad_x = max(1, round(size * 0.06))
    pad_y = max(1, round(size * 0.09))
    room_w, room_h = size - 2 * pad_x, size - 2 * pad_y
    fnt = font(room_h * _OVERSAMPLE, Weight.CONDENSED_BOLD)
    # The vertical extent is that of a digit, so "–" stays a dash and "!" stands digit-high.
    _, top, _, bottom = (round(v) for v in fnt.getbbox("8"))
    left, _, right, _ = (round(v) for v in fnt.getbbox(text))
    big = Image.new("L", (max(1, right - left), bottom - top), 0)
    ImageDraw.Draw(big).text((-left, -top), text, font=fnt, fill=255)
    natural_w = big.width * room_h / big.height
    width = max(1, min(room_w, round(natural_w)))
    mask = big.resize((width, room_h), Image.Resampling.LANCZOS)
    return mask, (size - width) // 2, pad_y


def render_tray_icon(view: TrayView, size: int) -> Image.Image:
    """The icon `size` pixels square (RGBA), for the size the OS asks for."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    tile = blend(TILE, GREY, 0.1) if view.greyed else TILE
    rounded_rect(image, (0, 0, size, size), max(2, round(size * 0.2)), tile)
    mask, x, y = _glyph_mask(view.text, size)
    colour = level_color(view.level, greyed=view.greyed)
    image.paste(colour, (x, y, x + mask.width, y + mask.height), mask)
    return image
