"""The weekly pace section: a bar filled with the week's use, a floating marker at the share of
the week that has passed, the On track / Over budget pill and the labels under the bar.
"""

from __future__ import annotations

from PIL import Image, ImageDraw

from claude_pulse.core.gauge import (
    BLUE,
    CARD,
    ORANGE,
    RED,
    TEXT,
    TEXT_DIM,
    TEXT_FAINT,
    TRACK,
    Color,
    blend,
    marker_x,
)
from claude_pulse.core.viewmodel import DeepDiveView
from claude_pulse.ui.render.fonts import Weight, font
from claude_pulse.ui.render.shapes import (
    DOT,
    SCALE,
    STALE_DIM,
    caps,
    dot,
    px,
    rounded_rect,
    text_width,
    truncate,
)

__all__ = ["pace_bar_span", "render_pace_bar"]

BAR_HEIGHT = 10
MARKER_HALF = 5  # half the marker triangle's width; the bar leaves room for it at both ends


def pace_bar_span(width: int, scale: float = 1.0) -> tuple[int, int]:
    """The pace bar's first and last x in a `render_pace_bar` image `width` wide."""
    half = px(MARKER_HALF, scale)
    return (half, width - half)


def _pill(image: Image.Image, right: int, top: int, text: str, colour: Color,
          scale: float) -> None:
    fnt = font(px(11, scale), Weight.BOLD)
    w = round(text_width(text, fnt)) + px(20, scale)
    h = px(22, scale)
    box = (right - w, top, right, top + h)
    rounded_rect(image, box, h // 2, blend(CARD, colour, 0.2), outline=blend(CARD, colour, 0.6))
    draw = ImageDraw.Draw(image)
    draw.text((right - w / 2, top + h / 2), text, font=fnt, fill=colour, anchor="mm")


def _marker(image: Image.Image, x: float, top: int, bottom: int, colour: Color,
            scale: float) -> None:
    """A downward triangle over a thin line: where "now" is in the week."""
    w, h = px(MARKER_HALF * 2 + 2, scale), bottom - top
    mask = Image.new("L", (w * SCALE, h * SCALE), 0)
    d = ImageDraw.Draw(mask)
    mid = w * SCALE / 2
    half = MARKER_HALF * SCALE * scale
    line = SCALE * scale
    d.polygon([(mid - half, 0), (mid + half, 0), (mid, 7 * SCALE * scale)], fill=255)
    d.rectangle((mid - line, 0, mid + line - 1, h * SCALE), fill=255)
    small = mask.resize((w, h), Image.Resampling.LANCZOS)
    left = round(x - w / 2)
    image.paste(colour, (left, top, left + w, top + h), small)


def render_pace_bar(view: DeepDiveView, width: int, *, bg: Color = CARD,
                    scale: float = 1.0) -> Image.Image:
    """The weekly section: title and On track / Over budget pill, the bar with its floating
    elapsed-time marker, "68% used" / "55% of week elapsed", reset and forecast lines."""
    w = view.weekly
    lines = [line for line in (w.resets_text, w.forecast_text) if line]
    line_h = px(17, scale)
    height = px(84, scale) + line_h * len(lines)
    image = Image.new("RGB", (width, height), bg)
    draw = ImageDraw.Draw(image)

    caps(draw, (0, px(6, scale)), "WEEKLY", scale)
    if w.pill_text and w.pill_color:
        pill = blend(w.pill_color, TRACK, STALE_DIM) if view.stale else w.pill_color
        _pill(image, width, 0, w.pill_text, pill, scale)

    x0, x1 = pace_bar_span(width, scale)
    bar_top, bar_h = px(40, scale), px(BAR_HEIGHT, scale)
    rounded_rect(image, (x0, bar_top, x1, bar_top + bar_h), bar_h // 2, TRACK)
    if w.has_data and w.used_fraction > 0:
        fill = ORANGE if w.used_fraction <= 1 else RED
        if view.stale:
            fill = blend(fill, TRACK, STALE_DIM)
        end = round(marker_x(w.used_fraction * 100, x0, x1))
        end = max(end, x0 + bar_h)  # a sliver still shows as a round dot
        rounded_rect(image, (x0, bar_top, end, bar_top + bar_h), bar_h // 2, fill)
    if w.elapsed_fraction is not None:
        mx = marker_x(w.elapsed_fraction * 100, x0, x1)
        marker = blend(BLUE, TRACK, STALE_DIM) if view.stale else BLUE
        _marker(image, mx, bar_top - px(9, scale), bar_top + bar_h + px(4, scale), marker,
                scale)

    label = font(px(12, scale))
    y = bar_top + bar_h + px(22, scale)
    step = px(DOT + 5, scale)
    if w.has_data:
        dot(image, 0, y, blend(ORANGE, TRACK, STALE_DIM) if view.stale else ORANGE, scale)
        draw.text((step, y), w.used_text, font=label, fill=TEXT, anchor="lm")
    else:
        draw.text((0, y), w.used_text, font=label, fill=TEXT_DIM, anchor="lm")
    if w.elapsed_text:
        draw.text((width, y), w.elapsed_text, font=label, fill=TEXT_DIM, anchor="rm")
        dot(image, width - text_width(w.elapsed_text, label) - step, y,
            blend(BLUE, TRACK, STALE_DIM) if view.stale else BLUE, scale)
    small = font(px(11, scale))
    y += px(22, scale)
    for line in lines:
        draw.text((0, y), truncate(line, small, width), font=small, fill=TEXT_FAINT, anchor="lm")
        y += line_h
    return image
