"""Make docs/images/tray-icon-designs.png: the tray icon designs tried for "both limits at a
glance", each at 16, 24 and 32 px in the states that matter, magnified without smoothing, and the
chosen one (the app's own renderer) at its real size on a light and a dark panel.

    python scripts/tray_icon_designs.py [--out docs/images]

The rejected designs are kept here, small, so the comparison can be made again after a change.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

from PIL import Image, ImageDraw

from claude_pulse.core.gauge import AMBER, BLUE, GREY, LEVEL_COLORS, TEXT, Level, level_color
from claude_pulse.core.snapshot import Snapshot
from claude_pulse.core.status import AppStatus, Phase
from claude_pulse.core.usage import Usage, Window
from claude_pulse.core.viewmodel import TrayView, tray_view
from claude_pulse.ui.render.fonts import font
from claude_pulse.ui.render.shapes import rounded_rect
from claude_pulse.ui.render.tray import BAR_TRACK, TILE, _glyph_mask, render_tray_icon

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
SIZES = (16, 24, 32)
ZOOM = 3
Design = Callable[[TrayView, int], Image.Image]


def state(session: float | None, week: float | None, week_left_days: float,
          phase: Phase = Phase.OK) -> TrayView:
    snap = None
    if session is not None:
        usage = Usage(Window(session, NOW + timedelta(hours=2)),
                      Window(week, NOW + timedelta(days=week_left_days)), (), None)
        snap = Snapshot(NOW - timedelta(minutes=12 if phase is not Phase.OK else 0), usage, {})
    return tray_view(AppStatus(phase, snap), NOW)


STATES = (
    ("42 / week 68, on track", state(42, 68, 2)),
    ("85 / week 30", state(85, 30, 4)),
    ("97 / week 104", state(97, 104, 3)),
    ("7 / week 92, over", state(7, 92, 3)),
    ("104 over the limit", state(104, 75, 1)),
    ("offline (stale)", state(42, 68, 2.5, Phase.OFFLINE)),
    ("log in again", state(42, 68, 2.5, Phase.REAUTH)),
    ("signed out", state(None, None, 0, Phase.SIGNED_OUT)),
)


def _tile(size: int) -> Image.Image:
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    rounded_rect(image, (0, 0, size, size), max(2, round(size * 0.2)), TILE)
    return image


def _number(image: Image.Image, view: TrayView, box: tuple[int, int, int, int]) -> None:
    left, top, right, bottom = box
    mask = _glyph_mask(view.text, right - left, bottom - top)
    x = left + (right - left - mask.width) // 2
    colour = AMBER if view.needs_action else level_color(view.level, greyed=view.greyed)
    image.paste(colour, (x, top, x + mask.width, top + mask.height), mask)


def _week_colour(view: TrayView) -> tuple[int, int, int]:
    if view.greyed:
        return GREY
    return TEXT if view.week_level is Level.NORMAL else LEVEL_COLORS[view.week_level]


def ring(view: TrayView, size: int) -> Image.Image:
    """B: the session number inside a ring of the week's usage."""
    big = Image.new("RGBA", (size * 4, size * 4), (0, 0, 0, 0))
    draw = ImageDraw.Draw(big)
    draw.ellipse((0, 0, size * 4 - 1, size * 4 - 1), fill=TILE)
    width = max(2, round(size * 0.14)) * 4
    box = (2, 2, size * 4 - 3, size * 4 - 3)
    draw.arc(box, 0, 360, fill=BAR_TRACK, width=width)
    if view.week_fraction:
        draw.arc(box, -90, -90 + min(1.0, view.week_fraction) * 360, fill=_week_colour(view),
                 width=width)
    image = big.resize((size, size), Image.Resampling.LANCZOS)
    inner = size - 2 * (width // 4) - 2
    height = round(inner * 0.62)
    _number(image, view, ((size - inner) // 2, (size - height) // 2,
                          (size + inner) // 2, (size - height) // 2 + height))
    return image


def two_bars(view: TrayView, size: int) -> Image.Image:
    """C: no number, a session bar over a weekly bar with the elapsed tick."""
    image = _tile(size)
    draw = ImageDraw.Draw(image)
    pad, bar = max(2, round(size * 0.12)), max(3, round(size * 0.28))
    gap = size - 2 * pad - 2 * bar
    rows = ((view.fraction, level_color(view.level, greyed=view.greyed), None),
            (view.week_fraction, _week_colour(view), view.week_elapsed))
    for i, (fraction, colour, tick) in enumerate(rows):
        y = pad + i * (bar + gap)
        draw.rectangle((pad, y, size - pad - 1, y + bar - 1), fill=BAR_TRACK)
        if fraction:
            end = pad + max(1, round(min(1.0, fraction) * (size - 2 * pad)))
            draw.rectangle((pad, y, end - 1, y + bar - 1), fill=colour)
        if tick is not None and not view.greyed:
            x = pad + round(tick * (size - 2 * pad - 1))
            draw.rectangle((x, y - 1, x, y + bar), fill=BLUE)
    return image


def side_bar(view: TrayView, size: int) -> Image.Image:
    """D: the session number beside an upright weekly bar."""
    image = _tile(size)
    pad, top = max(1, round(size * 0.06)), max(1, round(size * 0.09))
    bar, gap = max(2, round(size * 0.16)), max(1, round(size * 0.06))
    height = size - 2 * top
    _number(image, view, (pad, top, size - pad - bar - gap, top + height))
    draw = ImageDraw.Draw(image)
    x = size - pad - bar
    draw.rectangle((x, top, x + bar - 1, top + height - 1), fill=BAR_TRACK)
    if view.week_fraction:
        y = top + height - max(1, round(min(1.0, view.week_fraction) * height))
        draw.rectangle((x, y, x + bar - 1, top + height - 1), fill=_week_colour(view))
    if view.week_elapsed is not None and not view.greyed:
        y = top + height - 1 - round(view.week_elapsed * (height - 1))
        draw.rectangle((x - 1, y, x + bar, y), fill=BLUE)
    return image


def corner_badge(view: TrayView, size: int) -> Image.Image:
    """A's layout with a small amber "!" disc in the corner over the grey number."""
    number = view.text if not view.needs_action else "42" if view.week_fraction else "–"
    plain = TrayView(number, view.level, True, view.fraction, (), view.week_fraction,
                     view.week_level, view.week_elapsed, False) if view.needs_action else view
    image = render_tray_icon(plain, size)
    if view.needs_action:
        radius = max(3, round(size * 0.22))
        disc = Image.new("L", (radius * 8, radius * 8), 0)
        ImageDraw.Draw(disc).ellipse((0, 0, radius * 8 - 1, radius * 8 - 1), fill=255)
        x = size - 2 * radius
        image.paste(AMBER, (x, 0, size, 2 * radius),
                    disc.resize((2 * radius, 2 * radius), Image.Resampling.LANCZOS))
        mark = _glyph_mask("!", radius, round(radius * 1.3))
        image.paste(TILE, (x + radius - mark.width // 2, round(radius * 0.35)), mark)
    return image


DESIGNS: tuple[tuple[str, Design], ...] = (
    ("A (chosen): number + weekly bar", render_tray_icon),
    ("A' corner badge for log in", corner_badge),
    ("B: number in weekly ring", ring),
    ("C: two bars, no number", two_bars),
    ("D: number + upright bar", side_bar),
)


def comparison() -> Image.Image:
    label = font(13)
    cell = sum(s * ZOOM + 6 for s in SIZES) + 14
    left, head, row_h = 250, 26, max(SIZES) * ZOOM + 16
    sheet = Image.new("RGB", (left + cell * len(STATES), head + row_h * len(DESIGNS)),
                      (58, 58, 58))
    draw = ImageDraw.Draw(sheet)
    for j, (name, _) in enumerate(STATES):
        draw.text((left + j * cell, 6), name, font=label, fill=(235, 235, 235))
    for i, (title, design) in enumerate(DESIGNS):
        y = head + i * row_h
        draw.text((8, y + row_h // 2), title, font=label, fill=(235, 235, 235), anchor="lm")
        for j, (_, view) in enumerate(STATES):
            x = left + j * cell
            for size in SIZES:
                icon = design(view, size).resize((size * ZOOM, size * ZOOM),
                                                 Image.Resampling.NEAREST)
                sheet.paste(icon, (x, y + 4), icon)
                x += size * ZOOM + 6
    return sheet


def actual_size() -> Image.Image:
    """The chosen icon at 16, 24 and 32 px, unmagnified, on a light and a dark taskbar."""
    step = sum(s + 6 for s in SIZES) + 10
    strip = Image.new("RGB", (step * len(STATES) + 10, 2 * 44), (236, 236, 236))
    draw = ImageDraw.Draw(strip)
    draw.rectangle((0, 44, strip.width, 88), fill=(32, 32, 32))
    for row in range(2):
        for j, (_, view) in enumerate(STATES):
            x = 10 + j * step
            for size in SIZES:
                icon = render_tray_icon(view, size)
                strip.paste(icon, (x, row * 44 + (44 - size) // 2), icon)
                x += size + 6
    return strip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/images"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    comparison().save(args.out / "tray-icon-designs.png", optimize=True)
    actual_size().save(args.out / "tray-icon-sizes.png", optimize=True)
    print(f"wrote {args.out}/tray-icon-designs.png and tray-icon-sizes.png")


if __name__ == "__main__":
    main()
