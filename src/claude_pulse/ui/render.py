"""Pillow renderings of the Deep Dive card: pure functions from a `DeepDiveView` to an image.

The parts (header, banner, session gauge, weekly pace bar, limits) can be rendered alone;
`render_card` stacks them on the dark card. The footer (alerts toggle, last refresh, Refresh
button) is made of real Tk widgets and is not drawn here. Banner actions are drawn as buttons;
`render_card_layout` says where, so the window can make them clickable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PIL import Image, ImageDraw

from claude_pulse.core.gauge import (
    BACKGROUND,
    BLUE,
    CARD,
    CARD_EDGE,
    LEVEL_COLORS,
    ORANGE,
    RED,
    TEXT,
    TEXT_DIM,
    TEXT_FAINT,
    TRACK,
    Color,
    Level,
    arc_sweep,
    blend,
    capped_arc,
    gauge_geometry,
    marker_x,
    overflow_sweep,
)
from claude_pulse.core.viewmodel import DeepDiveView
from claude_pulse.ui.fonts import Font, Weight, font
from claude_pulse.ui.logo import draw_logo
from claude_pulse.ui.render_shapes import (
    SCALE,
    Box,
    rounded_rect,
    spaced_text,
    text_width,
    truncate,
    wrap,
)
from claude_pulse.ui.render_tray import render_tray_icon

__all__ = [
    "CARD_WIDTH",
    "GAUGE_SIZE",
    "RenderedCard",
    "pace_bar_span",
    "render_banner",
    "render_card",
    "render_card_layout",
    "render_gauge",
    "render_header",
    "render_limits",
    "render_pace_bar",
    "render_tray_icon",
]

CARD_WIDTH = 360
GAUGE_SIZE = 180
PAD = 16  # card edge to panels
INSET = 14  # panel edge to its content
GAP = 10  # between panels
RADIUS = 12  # panel corners
HEADER_HEIGHT = 64
LEGEND_HEIGHT = 28
BAR_HEIGHT = 10
DOT = 8  # legend discs
MARKER_HALF = 5  # half the marker triangle's width; the bar leaves room for it at both ends
_TITLE_X = PAD + 36 + 11
STALE_DIM = 0.45  # how far stale arcs fade towards the track


@dataclass(frozen=True)
class RenderedCard:
    image: Image.Image
    action_box: Box | None  # where the banner's button is, in image pixels


def _ink_centered(
    draw: ImageDraw.ImageDraw, cx: float, cy: float, text: str, fnt: Font, fill: Color
) -> None:
    """Centre the visible ink (not the line box) on (cx, cy), so digits sit truly centred."""
    left, top, right, bottom = fnt.getbbox(text)
    x = cx - (left + right) / 2
    y = cy - (top + bottom) / 2
    draw.text((round(x), round(y)), text, font=fnt, fill=fill)


def _dot(image: Image.Image, x: float, cy: float, colour: Color) -> None:
    """A small legend disc (drawn, not a "●" glyph, which some system fonts lack)."""
    left, top = round(x), round(cy - DOT / 2)
    rounded_rect(image, (left, top, left + DOT, top + DOT), DOT // 2, colour)


def _caps(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str) -> float:
    return spaced_text(draw, xy, text, font(10, Weight.BOLD), TEXT_DIM, 1.4)


# --- session gauge ----------------------------------------------------------------------------


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


def render_gauge(view: DeepDiveView, size_px: int = GAUGE_SIZE, *, bg: Color = CARD) -> Image.Image:
    """The session's double ring with its centre text and legend; `size_px` wide.

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

    out = Image.new("RGB", (size_px, size_px + LEGEND_HEIGHT), bg)
    out.paste(ring.resize((size_px, size_px), Image.Resampling.LANCZOS), (0, 0))
    draw = ImageDraw.Draw(out)
    cx, cy = geo.centre
    hole = geo.hole_radius * 2

    # The number: level-coloured (amber from 80%, red from 95%), shrunk until it fits the hole.
    colour = TEXT_DIM if (view.stale or not s.has_data) else LEVEL_COLORS[s.level]
    if s.level is Level.NORMAL and s.has_data and not view.stale:
        colour = TEXT
    size = round(size_px * 0.2)
    big_font = font(size, Weight.BOLD)
    while size > 10 and text_width(s.percent_text, big_font) > hole * 0.78:
        size -= 1
        big_font = font(size, Weight.BOLD)
    _ink_centered(draw, cx, cy - size_px * 0.04, s.percent_text, big_font, colour)

    small = font(max(8, round(size_px * 0.062)))
    chord = hole * 0.86
    resets = truncate(s.resets_text, small, chord)
    draw.text((cx, cy + size_px * 0.14), resets, font=small, fill=TEXT_DIM, anchor="mm")

    # Legend: "● Usage   ● Time"
    legend = font(11)
    entries = (("Usage", ORANGE), ("Time", BLUE))
    step = DOT + 5
    total = sum(step + text_width(t, legend) for t, _ in entries) + 18
    x = (size_px - total) / 2
    y = size_px + LEGEND_HEIGHT / 2 + 2
    for text, fill in entries:
        _dot(out, x, y, fill)
        draw.text((x + step, y), text, font=legend, fill=TEXT_DIM, anchor="lm")
        x += step + text_width(text, legend) + 18
    return out


# --- weekly pace ------------------------------------------------------------------------------


def pace_bar_span(width: int) -> tuple[int, int]:
    """The pace bar's first and last x in a `render_pace_bar` image `width` wide."""
    return (MARKER_HALF, width - MARKER_HALF)


def _pill(image: Image.Image, right: int, top: int, text: str, colour: Color) -> None:
    fnt = font(11, Weight.BOLD)
    w = round(text_width(text, fnt)) + 20
    h = 22
    box = (right - w, top, right, top + h)
    rounded_rect(image, box, h // 2, blend(CARD, colour, 0.2), outline=blend(CARD, colour, 0.6))
    draw = ImageDraw.Draw(image)
    draw.text((right - w / 2, top + h / 2), text, font=fnt, fill=colour, anchor="mm")


def _marker(image: Image.Image, x: float, top: int, bottom: int, colour: Color) -> None:
    """A downward triangle over a thin line: where "now" is in the week."""
    w, h = MARKER_HALF * 2 + 2, bottom - top
    mask = Image.new("L", (w * SCALE, h * SCALE), 0)
    d = ImageDraw.Draw(mask)
    mid = w * SCALE / 2
    half = MARKER_HALF * SCALE
    d.polygon([(mid - half, 0), (mid + half, 0), (mid, 7 * SCALE)], fill=255)
    d.rectangle((mid - SCALE, 0, mid + SCALE - 1, h * SCALE), fill=255)
    small = mask.resize((w, h), Image.Resampling.LANCZOS)
    left = round(x - w / 2)
    image.paste(colour, (left, top, left + w, top + h), small)


def render_pace_bar(view: DeepDiveView, width: int, *, bg: Color = CARD) -> Image.Image:
    """The weekly section: title and On Track / Over Budget pill, the bar with its floating
    elapsed-time marker, "68% used" / "55% of week elapsed", reset and forecast lines."""
    w = view.weekly
    lines = [line for line in (w.resets_text, w.forecast_text) if line]
    height = 84 + 17 * len(lines)
    image = Image.new("RGB", (width, height), bg)
    draw = ImageDraw.Draw(image)

    _caps(draw, (0, 6), "WEEKLY")
    if w.pill_text and w.pill_color:
        _pill(image, width, 0, w.pill_text, w.pill_color)

    x0, x1 = pace_bar_span(width)
    bar_top = 40
    rounded_rect(image, (x0, bar_top, x1, bar_top + BAR_HEIGHT), BAR_HEIGHT // 2, TRACK)
    if w.has_data and w.used_fraction > 0:
        fill = ORANGE if w.used_fraction <= 1 else RED
        if view.stale:
            fill = blend(fill, TRACK, STALE_DIM)
        end = round(marker_x(w.used_fraction * 100, x0, x1))
        end = max(end, x0 + BAR_HEIGHT)  # a sliver still shows as a round dot
        rounded_rect(image, (x0, bar_top, end, bar_top + BAR_HEIGHT), BAR_HEIGHT // 2, fill)
    if w.elapsed_fraction is not None:
        mx = marker_x(w.elapsed_fraction * 100, x0, x1)
        marker = blend(BLUE, TRACK, STALE_DIM) if view.stale else BLUE
        _marker(image, mx, bar_top - 9, bar_top + BAR_HEIGHT + 4, marker)

    label = font(12)
    y = bar_top + BAR_HEIGHT + 22
    if w.has_data:
        _dot(image, 0, y, ORANGE)
        draw.text((DOT + 5, y), w.used_text, font=label, fill=TEXT, anchor="lm")
    else:
        draw.text((0, y), w.used_text, font=label, fill=TEXT_DIM, anchor="lm")
    if w.elapsed_text:
        draw.text((width, y), w.elapsed_text, font=label, fill=TEXT_DIM, anchor="rm")
        _dot(image, width - text_width(w.elapsed_text, label) - DOT - 5, y, BLUE)
    small = font(11)
    y += 22
    for line in lines:
        draw.text((0, y), truncate(line, small, width), font=small, fill=TEXT_FAINT, anchor="lm")
        y += 17
    return image


# --- header, banner, limits -------------------------------------------------------------------


def render_header(width: int = CARD_WIDTH, *, bg: Color = BACKGROUND) -> Image.Image:
    """Logo, "Claude" (white) + "Pulse" (orange), and the "USAGE MONITOR" subtitle."""
    image = Image.new("RGB", (width, HEADER_HEIGHT), bg)
    logo = draw_logo(36)
    image.paste(logo, (PAD, 14), logo)
    draw = ImageDraw.Draw(image)
    title = font(20, Weight.BOLD)
    x = _TITLE_X
    draw.text((x, 30), "Claude", font=title, fill=TEXT, anchor="ls")
    draw.text((x + text_width("Claude", title), 30), "Pulse", font=title, fill=ORANGE, anchor="ls")
    spaced_text(draw, (x + 1, 36), "USAGE MONITOR", font(9, Weight.BOLD), TEXT_FAINT, 1.8)
    return image


def _banner_layout(view: DeepDiveView, width: int) -> tuple[list[str], int, int]:
    """Detail lines, button width (0 for none) and height of the banner."""
    banner = view.banner
    assert banner is not None
    button_w = 0
    if banner.action is not None:
        button_w = round(text_width(banner.action.value, font(12, Weight.BOLD))) + 28
    text_w = width - 2 * INSET - 6 - (button_w + 12 if button_w else 0)
    lines = wrap(banner.detail, font(11), text_w) if banner.detail else []
    height = 2 * 12 + 17 + 16 * len(lines)
    return lines, button_w, max(height, 54 if button_w else 0)


def _draw_banner(
    view: DeepDiveView, image: Image.Image, left: int, top: int, width: int
) -> Box | None:
    banner = view.banner
    assert banner is not None
    lines, button_w, height = _banner_layout(view, width)
    accent = banner.accent
    # A tinted panel with an accent stripe down its left edge.
    tint = blend(CARD, accent, 0.1)
    rounded_rect(image, (left, top, left + width, top + height), RADIUS, accent)
    rounded_rect(image, (left + 4, top, left + width, top + height), RADIUS - 2, tint)
    image.paste(tint, (left + 4, top, left + RADIUS, top + height))
    draw = ImageDraw.Draw(image)
    x = left + INSET + 2
    y = top + 12
    draw.text((x, y), banner.title, font=font(13, Weight.BOLD), fill=TEXT)
    y += 20
    for line in lines:
        draw.text((x, y), line, font=font(11), fill=TEXT_DIM)
        y += 16
    if not button_w or banner.action is None:
        return None
    h = 28
    bx1 = left + width - INSET
    by0 = top + (height - h) // 2
    box = (bx1 - button_w, by0, bx1, by0 + h)
    rounded_rect(image, box, 8, accent)
    label = font(12, Weight.BOLD)
    draw.text(((box[0] + box[2]) / 2, by0 + h / 2), banner.action.value, font=label,
              fill=BACKGROUND, anchor="mm")
    return box


def render_banner(view: DeepDiveView, width: int, *, bg: Color = BACKGROUND) -> Image.Image | None:
    """The state banner (signed out, offline, rate-limited, …); None when all is well."""
    if view.banner is None:
        return None
    _, _, height = _banner_layout(view, width)
    image = Image.new("RGB", (width, height), bg)
    _draw_banner(view, image, 0, 0, width)
    return image


def render_limits(view: DeepDiveView, width: int, *, bg: Color = CARD) -> Image.Image | None:
    """Per-model limits and extra usage; None when there is neither."""
    if not view.limits and view.extra_usage_text is None:
        return None
    rows = len(view.limits)
    height = (24 + 32 * rows if rows else 0) + (18 if view.extra_usage_text else 0)
    image = Image.new("RGB", (width, height), bg)
    draw = ImageDraw.Draw(image)
    label = font(12)
    y = 0
    if rows:
        _caps(draw, (0, 0), "MODEL LIMITS")
        y = 24
    for row in view.limits:
        pct_w = text_width(row.percent_text, label)
        draw.text((0, y), truncate(row.label, label, width - pct_w - 12), font=label, fill=TEXT)
        draw.text((width, y), row.percent_text, font=label, fill=TEXT_DIM, anchor="ra")
        bar_y = y + 19
        rounded_rect(image, (0, bar_y, width, bar_y + 4), 2, TRACK)
        if row.fraction > 0:
            end = max(4, round(width * min(row.fraction, 1.0)))
            fill = ORANGE if row.fraction <= 1 else RED
            rounded_rect(image, (0, bar_y, end, bar_y + 4), 2, fill)
        y += 32
    if view.extra_usage_text:
        draw.text((0, y), truncate(view.extra_usage_text, label, width), font=label, fill=TEXT_DIM)
    return image


# --- the card ---------------------------------------------------------------------------------


def _session_section(view: DeepDiveView, width: int) -> Image.Image:
    gauge = render_gauge(view, GAUGE_SIZE)
    forecast = view.session.forecast_text
    height = 24 + gauge.height + (20 if forecast else 0)
    image = Image.new("RGB", (width, height), CARD)
    draw = ImageDraw.Draw(image)
    _caps(draw, (0, 2), "SESSION")
    draw.text((width, 0), "5-hour window", font=font(11), fill=TEXT_FAINT, anchor="ra")
    image.paste(gauge, ((width - GAUGE_SIZE) // 2, 24))
    if forecast:
        small = font(11)
        draw.text((width / 2, height - 6), truncate(forecast, small, width), font=small,
                  fill=TEXT_FAINT, anchor="ms")
    return image


def render_card_layout(view: DeepDiveView, width: int = CARD_WIDTH) -> RenderedCard:
    """The whole Deep Dive card above the footer, and where its banner button is."""
    inner = width - 2 * PAD - 2 * INSET
    sections = [_session_section(view, inner), render_pace_bar(view, inner)]
    limits = render_limits(view, inner)
    if limits is not None:
        sections.append(limits)
    banner_h = _banner_layout(view, width - 2 * PAD)[2] if view.banner else 0

    height = HEADER_HEIGHT + (banner_h + GAP if banner_h else 0)
    height += sum(s.height + 2 * INSET + GAP for s in sections) + PAD - GAP
    image = Image.new("RGB", (width, height), BACKGROUND)
    image.paste(render_header(width), (0, 0))
    if view.account:
        draw = ImageDraw.Draw(image)
        small = font(11)
        room = width - PAD - _TITLE_X - text_width("ClaudePulse", font(20, Weight.BOLD)) - 16
        text = truncate(view.account, small, room)
        draw.text((width - PAD, 30), text, font=small, fill=TEXT_FAINT, anchor="rs")

    y = HEADER_HEIGHT
    action_box = None
    if banner_h:
        action_box = _draw_banner(view, image, PAD, y, width - 2 * PAD)
        y += banner_h + GAP
    for section in sections:
        box = (PAD, y, width - PAD, y + section.height + 2 * INSET)
        rounded_rect(image, box, RADIUS, CARD, outline=CARD_EDGE)
        image.paste(section, (PAD + INSET, y + INSET))
        y = box[3] + GAP
    return RenderedCard(image, action_box)


def render_card(view: DeepDiveView, width: int = CARD_WIDTH) -> Image.Image:
    """The Deep Dive card (header, banner, session gauge, weekly pace, limits) as an RGB image."""
    return render_card_layout(view, width).image
