"""The session gauge: two anti-aliased rings (usage outside, time inside) with the percent and
the reset countdown in the middle and a legend below.

The rings are drawn at 4x and downsampled with LANCZOS; the text is drawn afterwards at 1x, where
FreeType keeps it crisp.
"""

from __future__ import annotations

import math

from PIL import Image, ImageDraw

from claude_pulse.core.gauge import (
    BLUE,
    CARD,
    LEVEL_COLORS,
    ORANGE,
    RED,
    TEXT_DIM,
    TRACK,
    Color,
    arc_sweep,
    blend,
    capped_arc,
    gauge_geometry,
    overflow_sweep,
)
from claude_pulse.core.viewmodel import DeepDiveView
from claude_pulse.ui.render.fonts import Weight, font
from claude_pulse.ui.render.shapes import (
    DOT,
    SCALE,
    STALE_DIM,
    dot,
    ink_centered,
    px,
    text_width,
    truncate,
)

__all__ = ["GAUGE_SIZE", "LEGEND_HEIGHT", "render_gauge"]

GAUGE_SIZE = 180
LEGEND_HEIGHT = 28


def _on_ring(c: float, radius: float, angle: float) -> tuple[float, float]:
    return (c + radius * math.cos(math.radians(angle)), c + radius * math.sin(math.radians(angle)))


def _stroke_arc(
    draw: ImageDraw.ImageDraw, c: float, radius: float, width: float, sweep: float, fill: Color
) -> None:
    """A round-capped arc from twelve o'clock, `sweep` degrees clockwise (4x coordinates)."""
    span = capped_arc(sweep, radius, width)
    if span is None:
        return
    outer = radius + width / 2
    box = (c - outer, c - outer, c + outer, c + outer)
    start, end = span
    if end - start >= 360:
        draw.ellipse(box, outline=fill, width=round(width))
        return
    if end > start:
        draw.arc(box, start, end, fill=fill, width=round(width))
    half = width / 2
    for angle in (start, end):
        x, y = _on_ring(c, radius, angle)
        draw.ellipse((x - half, y - half, x + half, y + half), fill=fill)


def render_gauge(view: DeepDiveView, size_px: int = GAUGE_SIZE, *, bg: Color = CARD,
                 scale: float = 1.0) -> Image.Image:
    """The session's double ring with its centre text and legend; `size_px` wide (final
    pixels; the legend follows `scale`).

    Outer ring: usage (orange; a red second lap above 100%). Inner ring: time elapsed (blue).
    """
    s = view.session
    geo = gauge_geometry(size_px)
    usage, time, over = ORANGE, BLUE, RED
    if view.stale:
        usage, time, over = (blend(col, TRACK, STALE_DIM) for col in (usage, time, over))

    big = size_px * SCALE
    ring = Image.new("RGB", (big, big), bg)
    draw = ImageDraw.Draw(ring)
    c = big / 2
    o_r, o_w = geo.outer_radius * SCALE, geo.outer_width * SCALE
    i_r, i_w = geo.inner_radius * SCALE, geo.inner_width * SCALE
    _stroke_arc(draw, c, o_r, o_w, 360, TRACK)
    _stroke_arc(draw, c, i_r, i_w, 360, TRACK)
    if s.has_data:
        percent = s.usage_fraction * 100
        _stroke_arc(draw, c, o_r, o_w, arc_sweep(percent), usage)
        lap = overflow_sweep(percent)
        if lap:
            # A rim behind its head makes the second lap read as lying on top of the first.
            span = capped_arc(lap, o_r, o_w)
            if span is not None and lap < 360:
                rim = o_w / 2 + 1.5 * SCALE
                x, y = _on_ring(c, o_r, span[1])
                draw.ellipse((x - rim, y - rim, x + rim, y + rim), fill=bg)
            _stroke_arc(draw, c, o_r, o_w, lap, over)
        _stroke_arc(draw, c, i_r, i_w, arc_sweep(s.elapsed_fraction * 100), time)

    legend_h = px(LEGEND_HEIGHT, scale)
    out = Image.new("RGB", (size_px, size_px + legend_h), bg)
    out.paste(ring.resize((size_px, size_px), Image.Resampling.LANCZOS), (0, 0))
    draw = ImageDraw.Draw(out)
    cx, cy = geo.centre
    hole = geo.hole_radius * 2

    # The number: level-coloured (amber from 80%, red from 95%), shrunk until it fits the hole.
    colour = TEXT_DIM if (view.stale or not s.has_data) else LEVEL_COLORS[s.level]
    size = round(size_px * 0.2)
    big_font = font(size, Weight.BOLD)
    while size > px(10, scale) and text_width(s.percent_text, big_font) > hole * 0.78:
        size -= 1
        big_font = font(size, Weight.BOLD)
    ink_centered(draw, cx, cy - size_px * 0.04, s.percent_text, big_font, colour)

    small = font(max(px(8, scale), round(size_px * 0.062)))
    chord = hole * 0.86
    resets = truncate(s.resets_text, small, chord)
    draw.text((cx, cy + size_px * 0.14), resets, font=small, fill=TEXT_DIM, anchor="mm")

    # Legend: "● Usage   ● Time"
    legend = font(px(11, scale))
    entries = (("Usage", usage), ("Time", time))  # faded with the rings when stale
    step, space = px(DOT + 5, scale), px(18, scale)
    total = sum(step + text_width(t, legend) for t, _ in entries) + space
    x = (size_px - total) / 2
    y = size_px + legend_h / 2 + px(2, scale)
    for text, fill in entries:
        dot(out, x, y, fill, scale)
        draw.text((x + step, y), text, font=legend, fill=TEXT_DIM, anchor="lm")
        x += step + text_width(text, legend) + space
    return out
