"""The usage chart of the Deep Dive window: one window's usage over time against the even pace.

What it shows, left to right over the window (start = reset time minus the window's length):

* the **even-pace diagonal** (grey), 0% at the window's start to 100% at its reset: usage above it
  is ahead of time (over budget), below it is on track;
* the **usage line** (Claude orange) through the recorded samples, with a faint fill beneath and a
  dot on the newest sample;
* the elapsed part of the window, faintly lit, ending at a thin blue **now** line (blue is time);
* grid lines at 0, 50 and 100% with small labels; the scale grows past 100% only when usage does.

Lines are drawn at `SCALE`x and downsampled (Pillow draws no anti-aliased lines); the labels are
drawn afterwards at 1x, where FreeType smooths them. No samples: grid, pace line and "No data
yet". One sample: a dot. A week of minute samples is thinned to about two per pixel column
first, which keeps a render near 20 ms.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from PIL import Image, ImageDraw

from claude_pulse.core.gauge import (
    BACKGROUND,
    BLUE,
    ORANGE,
    TEXT_DIM,
    TEXT_FAINT,
    TRACK,
    Color,
    blend,
)
from claude_pulse.ui.render.fonts import font
from claude_pulse.ui.render.shapes import STALE_DIM

__all__ = ["PACE_COLOR", "SCALE", "ChartLayout", "chart_layout", "render_usage_chart"]

SCALE = 4
PACE_COLOR: Color = TEXT_FAINT
_FILL_ALPHA = 0.22  # the area under the usage line
_ELAPSED_TINT = 0.035  # how much lighter the elapsed part of the window is
_LABEL_SIZE = 10
_MIN_WIDTH_FOR_LABELS = 140


@dataclass(frozen=True)
class ChartLayout:
    """Where things go, in final-image pixels: the plot box and the two axis mappings."""

    left: float
    top: float
    right: float
    bottom: float
    start: datetime
    end: datetime
    y_max: float  # percent at the top of the plot: 100, or more when usage went past it

    def x(self, when: datetime) -> float:
        span = max(1.0, (self.end - self.start).total_seconds())
        frac = (when - self.start).total_seconds() / span
        return self.left + min(1.0, max(0.0, frac)) * (self.right - self.left)

    def y(self, percent: float) -> float:
        frac = min(1.0, max(0.0, percent / self.y_max))
        return self.bottom - frac * (self.bottom - self.top)


def chart_layout(points: Sequence[tuple[datetime, float]], window_start: datetime,
                 window_end: datetime, width: int, height: int,
                 scale: float = 1.0) -> ChartLayout:
    """The layout `render_usage_chart` uses for these arguments (tests and hit-testing use it)."""
    peak = max((v for _, v in points), default=0.0)
    # Past 100% the scale grows in steps of 25, so the 100% line stays where the eye expects.
    y_max = 100.0 if peak <= 100 else math.ceil(peak / 25.0) * 25.0
    labels = width >= _MIN_WIDTH_FOR_LABELS * scale
    left = (34.0 if labels else 4.0) * scale
    pad = (7.0 if labels else 4.0) * scale  # half a label's height above the top line
    return ChartLayout(left, pad, width - 6.0 * scale, height - pad, window_start, window_end,
                       y_max)


def render_usage_chart(
    points: Sequence[tuple[datetime, float]],
    window_start: datetime,
    window_end: datetime,
    now: datetime,
    width: int,
    height: int,
    *,
    background: Color = BACKGROUND,
    scale: float = 1.0,
    dim: bool = False,
) -> Image.Image:
    """An RGB image `width` x `height` (final pixels) of the window's usage (points: (time,
    percent)); line widths and labels follow the display's `scale`. `dim`: stale numbers, the
    usage and "now" colours faded as the gauge's are."""
    shown = sorted((t, v) for t, v in points if window_start <= t <= min(now, window_end))
    layout = chart_layout(shown, window_start, window_end, width, height, scale)
    usage, time = (blend(ORANGE, TRACK, STALE_DIM), blend(BLUE, TRACK, STALE_DIM)) if dim \
        else (ORANGE, BLUE)
    shown = _thin(shown, layout)
    big = Image.new("RGB", (width * SCALE, height * SCALE), background)
    draw = ImageDraw.Draw(big)

    def at(when: datetime, percent: float) -> tuple[float, float]:
        return (layout.x(when) * SCALE, layout.y(percent) * SCALE)

    left, right = layout.left * SCALE, layout.right * SCALE
    top, bottom = layout.top * SCALE, layout.bottom * SCALE
    lit = blend(background, (255, 255, 255), _ELAPSED_TINT)
    if now > window_start:
        draw.rectangle((left, top, at(now, 0)[0], bottom), fill=lit)

    if len(shown) >= 2:
        area = [at(shown[0][0], 0), *(at(t, v) for t, v in shown), at(shown[-1][0], 0)]
        mask = Image.new("L", big.size, 0)
        ImageDraw.Draw(mask).polygon(area, fill=round(255 * _FILL_ALPHA))
        big.paste(usage, (0, 0, *big.size), mask)

    line = SCALE * scale  # one 1x pixel, in the 4x drawing
    for percent in _grid(layout.y_max):
        y = layout.y(percent) * SCALE
        draw.line((left, y, right, y), fill=TRACK, width=round(line))

    draw.line((*at(window_start, 0), *at(window_end, 100)), fill=PACE_COLOR,
              width=round(1.5 * line))

    if window_start <= now <= window_end:
        x = at(now, 0)[0]
        draw.line((x, top, x, bottom), fill=time, width=round(line))

    if len(shown) >= 2:
        draw.line([at(t, v) for t, v in shown], fill=usage, width=round(2 * line),
                  joint="curve")
    if shown:
        x, y = at(*shown[-1])
        r = 3.0 * line
        ring = r + line
        draw.ellipse((x - ring, y - ring, x + ring, y + ring), fill=background)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=usage)

    image = big.resize((width, height), Image.Resampling.LANCZOS)
    _labels(image, layout, empty=not shown, now=now if now > window_start else None,
            background=background, lit=lit, scale=scale)
    return image


Points = list[tuple[datetime, float]]


def _thin(points: Points, layout: ChartLayout) -> Points:
    """At most about two points per pixel column: a week of minute samples is 10,000 points.

    Keeps the first point and the last of each half-pixel, so the line keeps its start and its
    newest value (within a window usage only grows, so the last is also the highest).
    """
    if len(points) <= 2 * (layout.right - layout.left):
        return points
    kept: dict[int, tuple[datetime, float]] = {}
    for t, v in points:
        kept[round(layout.x(t) * 2)] = (t, v)
    return [points[0], *(p for p in kept.values() if p != points[0])]


def _grid(y_max: float) -> list[float]:
    lines = [0.0, 50.0, 100.0]
    return [*lines, y_max] if y_max > 100 else lines


def _labels(image: Image.Image, layout: ChartLayout, *, empty: bool, now: datetime | None,
            background: Color, lit: Color, scale: float) -> None:
    draw = ImageDraw.Draw(image)
    small = font(round(_LABEL_SIZE * scale))
    if image.width >= _MIN_WIDTH_FOR_LABELS * scale:
        for percent in _grid(layout.y_max):
            draw.text((layout.left - 5 * scale, layout.y(percent)), f"{percent:.0f}%",
                      font=small, fill=TEXT_FAINT, anchor="rm")
    if empty:
        # Upper left, clear of the pace line; on a plate of the plot's own colour there, so a
        # "now" line early in the window does not run through the words.
        where = (layout.left + (layout.right - layout.left) * 0.25,
                 layout.top + (layout.bottom - layout.top) * 0.3)
        big = font(round((_LABEL_SIZE + 1) * scale))
        x0, y0, x1, y1 = draw.textbbox(where, "No data yet", font=big, anchor="mm")
        plate = lit if now is not None and where[0] < layout.x(now) else background
        draw.rectangle((x0 - 4 * scale, y0 - 3 * scale, x1 + 4 * scale, y1 + 3 * scale),
                       fill=plate)
        draw.text(where, "No data yet", font=big, fill=TEXT_DIM, anchor="mm")
