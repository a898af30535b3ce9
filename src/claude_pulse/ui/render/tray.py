"""The tray icon: the session percent above a weekly bar, on a dark rounded tile.

Both limits at a glance (the comparison of the designs tried is docs/images/tray-icon-designs.png,
made by scripts/tray_icon_designs.py): the session number takes the top of the tile in its level
colour, and a bar along the bottom fills with the week's usage (white, then amber/orange/red by
level), with a blue tick where the week's elapsed time is — usage past the tick is over budget.

At 16 px an ordinary font leaves two digits 8 px high. Instead the text is rendered large, cut to
digit height and scaled into its box, narrowed if needed, so two digits fill the width (10 px high
at 16 px, above a 3 px bar) and stay readable; "104" is shown as it is, narrower. "Log in (again)"
replaces the number with an amber "!" — never the grey of stale numbers, which only wait. The
dark tile keeps it readable on light and dark taskbars.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from PIL import Image, ImageDraw

from claude_pulse.core.gauge import AMBER, BLUE, GREY, TEXT, TRACK, Color, Level, blend, level_color
from claude_pulse.core.viewmodel import TrayView
from claude_pulse.ui.render.fonts import Weight, font
from claude_pulse.ui.render.shapes import rounded_rect

__all__ = ["TILE", "IconLayout", "icon_layout", "render_tray_icon"]

TILE: Color = (0x1E, 0x1E, 0x1E)
BAR_TRACK: Color = blend(TILE, TRACK, 1.4)  # the empty part of the weekly bar, a step lighter
_OVERSAMPLE = 4


@dataclass(frozen=True)
class IconLayout:
    """Where the parts of a `size` icon go, in pixels (boxes are left, top, right, bottom;
    right/bottom exclusive)."""

    size: int
    text: tuple[int, int, int, int]  # the room the number may fill
    bar: tuple[int, int, int, int]  # the weekly bar


@functools.lru_cache(maxsize=16)
def icon_layout(size: int) -> IconLayout:
    pad = max(1, round(size * 0.06))
    top = max(1, round(size * 0.07))
    bar_h = max(2, round(size * 0.16))
    gap = max(1, round(size * 0.06))
    bar_top = size - pad - bar_h
    return IconLayout(
        size=size,
        text=(pad, top, size - pad, bar_top - gap),
        bar=(pad + 1, bar_top, size - pad - 1, bar_top + bar_h),
    )


@functools.lru_cache(maxsize=128)
def _glyph_mask(text: str, width: int, height: int) -> Image.Image:
    """An L mask of `text` at digit height `height`, at most `width` wide."""
    fnt = font(height * _OVERSAMPLE, Weight.CONDENSED_BOLD)
    # The vertical extent is that of a digit, so "–" stays a dash and "!" stands digit-high.
    _, top, _, bottom = (round(v) for v in fnt.getbbox("8"))
    left, _, right, _ = (round(v) for v in fnt.getbbox(text))
    big = Image.new("L", (max(1, right - left), bottom - top), 0)
    ImageDraw.Draw(big).text((-left, -top), text, font=fnt, fill=255)
    natural_w = big.width * height / big.height
    return big.resize((max(1, min(width, round(natural_w))), height), Image.Resampling.LANCZOS)


def _bar_colour(level: Level, greyed: bool) -> Color:
    return GREY if greyed else (TEXT if level is Level.NORMAL else level_color(level))


def render_tray_icon(view: TrayView, size: int) -> Image.Image:
    """The icon `size` pixels square (RGBA), for the size the OS asks for."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    tile = blend(TILE, GREY, 0.1) if view.greyed else TILE
    rounded_rect(image, (0, 0, size, size), max(2, round(size * 0.2)), tile)
    layout = icon_layout(size)

    left, top, right, bottom = layout.text
    mask = _glyph_mask(view.text, right - left, bottom - top)
    x = left + (right - left - mask.width) // 2
    colour = AMBER if view.needs_action else level_color(view.level, greyed=view.greyed)
    image.paste(colour, (x, top, x + mask.width, top + mask.height), mask)

    draw = ImageDraw.Draw(image)
    x0, y0, x1, y1 = layout.bar
    draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=BAR_TRACK)
    if view.week_fraction is not None and view.week_fraction > 0:
        # At least one pixel for any use at all, so 1% is not read as an empty week.
        end = x0 + max(1, round(min(view.week_fraction, 1.0) * (x1 - x0)))
        draw.rectangle((x0, y0, end - 1, y1 - 1), fill=_bar_colour(view.week_level, view.greyed))
    if view.week_elapsed is not None and not view.greyed:
        tick = x0 + round(max(0.0, min(view.week_elapsed, 1.0)) * (x1 - x0 - 1))
        reach = 1 if size >= 24 else 0  # from 24 px the tick stands out of the bar
        draw.rectangle((tick, y0 - reach, tick, y1 - 1 + reach), fill=BLUE)
    return image
