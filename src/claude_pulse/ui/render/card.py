"""Pillow renderings of the Deep Dive card: pure functions from a `DeepDiveView` to an image.

The parts (header, banner, session gauge, weekly pace bar, limits) can be rendered alone;
`render_card` stacks them on the dark card. The footer (alerts toggle, last refresh, Refresh
button) is made of real Tk widgets and is not drawn here. Banner actions are drawn as buttons;
`render_card_layout` says where, so the window can make them clickable.

`scale` is the display's scale (2.0 on a 192-dpi screen): every length and font size is
multiplied by it and the card is drawn at that size, so it stays crisp instead of being
enlarged. Layout constants below are in 1x pixels.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from PIL import Image, ImageDraw

from claude_pulse.core.gauge import (
    BACKGROUND,
    CARD,
    CARD_EDGE,
    ORANGE,
    RED,
    TEXT,
    TEXT_DIM,
    TEXT_FAINT,
    TRACK,
    Color,
    blend,
)
from claude_pulse.core.viewmodel import ChartView, DeepDiveView
from claude_pulse.ui.render.chart import render_usage_chart
from claude_pulse.ui.render.fonts import Weight, font
from claude_pulse.ui.render.gauge import GAUGE_SIZE, render_gauge
from claude_pulse.ui.render.logo import draw_logo
from claude_pulse.ui.render.pace import render_pace_bar
from claude_pulse.ui.render.shapes import (
    Box,
    caps,
    px,
    rounded_rect,
    spaced_text,
    text_width,
    truncate,
    wrap,
)

__all__ = [
    "CARD_WIDTH",
    "CHART_HEIGHT",
    "RenderedCard",
    "render_banner",
    "render_card",
    "render_card_layout",
    "render_header",
    "render_limits",
]

CARD_WIDTH = 360
PAD = 16  # card edge to panels
INSET = 14  # panel edge to its content
GAP = 10  # between panels
RADIUS = 12  # panel corners
HEADER_HEIGHT = 64
_TITLE_X = PAD + 36 + 11


@dataclass(frozen=True)
class RenderedCard:
    image: Image.Image
    action_box: Box | None  # where the banner's button is, in image pixels
    # Rows above this are the header and banner (the window pins them); below, the sections.
    header_height: int = HEADER_HEIGHT
    # Text that had to be shortened to fit, and where: the window shows it whole on hover.
    tips: tuple[tuple[Box, str], ...] = ()


@functools.lru_cache(maxsize=4)
def _logo(size: int) -> Image.Image:
    return draw_logo(size)  # only ever pasted from, so sharing one image is safe


# --- header, banner, limits -------------------------------------------------------------------


def render_header(width: int = CARD_WIDTH, *, bg: Color = BACKGROUND,
                  subtitle: str = "USAGE MONITOR", scale: float = 1.0) -> Image.Image:
    """Logo, "Claude" (white) + "Pulse" (orange), and the subtitle in small caps; `width` is
    in final (scaled) pixels."""
    image = Image.new("RGB", (width, px(HEADER_HEIGHT, scale)), bg)
    logo = _logo(px(36, scale))
    image.paste(logo, (px(PAD, scale), px(14, scale)), logo)
    draw = ImageDraw.Draw(image)
    title = font(px(20, scale), Weight.BOLD)
    x = px(_TITLE_X, scale)
    base = px(30, scale)
    draw.text((x, base), "Claude", font=title, fill=TEXT, anchor="ls")
    draw.text((x + text_width("Claude", title), base), "Pulse", font=title, fill=ORANGE,
              anchor="ls")
    spaced_text(draw, (x + px(1, scale), px(36, scale)), subtitle,
                font(px(9, scale), Weight.BOLD), TEXT_FAINT, 1.8 * scale)
    return image


def _banner_layout(view: DeepDiveView, width: int,
                   scale: float) -> tuple[list[str], int, int]:
    """Detail lines, button width (0 for none) and height of the banner (scaled pixels)."""
    banner = view.banner
    assert banner is not None
    button_w = 0
    if banner.action is not None:
        button_w = round(text_width(banner.action.value, font(px(12, scale), Weight.BOLD)))
        button_w += px(28, scale)
    text_w = width - px(2 * INSET + 6, scale) - (button_w + px(12, scale) if button_w else 0)
    lines = wrap(banner.detail, font(px(11, scale)), text_w) if banner.detail else []
    height = px(2 * 12 + 17, scale) + px(16, scale) * len(lines)
    return lines, button_w, max(height, px(54, scale) if button_w else 0)


def _draw_banner(
    view: DeepDiveView, image: Image.Image, left: int, top: int, width: int, scale: float
) -> Box | None:
    banner = view.banner
    assert banner is not None
    lines, button_w, height = _banner_layout(view, width, scale)
    accent = banner.accent
    # A tinted panel with an accent stripe down its left edge.
    tint = blend(CARD, accent, 0.1)
    radius, stripe = px(RADIUS, scale), px(4, scale)
    rounded_rect(image, (left, top, left + width, top + height), radius, accent)
    rounded_rect(image, (left + stripe, top, left + width, top + height), radius - stripe // 2,
                 tint)
    image.paste(tint, (left + stripe, top, left + radius, top + height))
    draw = ImageDraw.Draw(image)
    x = left + px(INSET + 2, scale)
    y = top + px(12, scale)
    draw.text((x, y), banner.title, font=font(px(13, scale), Weight.BOLD), fill=TEXT)
    y += px(20, scale)
    for line in lines:
        draw.text((x, y), line, font=font(px(11, scale)), fill=TEXT_DIM)
        y += px(16, scale)
    if not button_w or banner.action is None:
        return None
    h = px(28, scale)
    bx1 = left + width - px(INSET, scale)
    by0 = top + (height - h) // 2
    box = (bx1 - button_w, by0, bx1, by0 + h)
    rounded_rect(image, box, px(8, scale), accent)
    label = font(px(12, scale), Weight.BOLD)
    draw.text(((box[0] + box[2]) / 2, by0 + h / 2), banner.action.value, font=label,
              fill=BACKGROUND, anchor="mm")
    return box


def render_banner(view: DeepDiveView, width: int, *, bg: Color = BACKGROUND,
                  scale: float = 1.0) -> Image.Image | None:
    """The state banner (signed out, offline, rate-limited, …); None when all is well."""
    if view.banner is None:
        return None
    _, _, height = _banner_layout(view, width, scale)
    image = Image.new("RGB", (width, height), bg)
    _draw_banner(view, image, 0, 0, width, scale)
    return image


def render_limits(view: DeepDiveView, width: int, *, bg: Color = CARD,
                  scale: float = 1.0) -> Image.Image | None:
    """Per-model limits and extra usage; None when there is neither."""
    if not view.limits and view.extra_usage_text is None:
        return None
    rows = len(view.limits)
    row_h, title_h = px(32, scale), px(24, scale)
    height = (title_h + row_h * rows if rows else 0)
    height += px(18, scale) if view.extra_usage_text else 0
    image = Image.new("RGB", (width, height), bg)
    draw = ImageDraw.Draw(image)
    label = font(px(12, scale))
    y = 0
    if rows:
        caps(draw, (0, 0), "MODEL LIMITS", scale)
        y = title_h
    bar_h = px(4, scale)
    for row in view.limits:
        pct_w = text_width(row.percent_text, label)
        draw.text((0, y), truncate(row.label, label, width - pct_w - px(12, scale)), font=label,
                  fill=TEXT)
        draw.text((width, y), row.percent_text, font=label, fill=TEXT_DIM, anchor="ra")
        bar_y = y + px(19, scale)
        rounded_rect(image, (0, bar_y, width, bar_y + bar_h), bar_h // 2, TRACK)
        if row.fraction > 0:
            end = max(bar_h, round(width * min(row.fraction, 1.0)))
            fill = ORANGE if row.fraction <= 1 else RED
            rounded_rect(image, (0, bar_y, end, bar_y + bar_h), bar_h // 2, fill)
        y += row_h
    if view.extra_usage_text:
        draw.text((0, y), truncate(view.extra_usage_text, label, width), font=label, fill=TEXT_DIM)
    return image


# --- the card ---------------------------------------------------------------------------------


CHART_HEIGHT = 48


def _with_chart(section: Image.Image, chart: ChartView | None, width: int,
                scale: float, stale: bool = False) -> Image.Image:
    """`section` with this window's usage chart under it, when there is history to draw."""
    if chart is None:
        return section
    gap, height = px(10, scale), px(CHART_HEIGHT, scale)
    image = Image.new("RGB", (width, section.height + gap + height), CARD)
    image.paste(section, (0, 0))
    plot = render_usage_chart(chart.points, chart.start, chart.end, chart.now, width,
                              height, background=CARD, scale=scale, dim=stale)
    image.paste(plot, (0, section.height + gap))
    return image


def _session_section(view: DeepDiveView, width: int, scale: float) -> Image.Image:
    size = px(GAUGE_SIZE, scale)
    gauge = render_gauge(view, size, scale=scale)
    forecast = view.session.forecast_text
    top = px(24, scale)
    height = top + gauge.height + (px(20, scale) if forecast else 0)
    image = Image.new("RGB", (width, height), CARD)
    draw = ImageDraw.Draw(image)
    caps(draw, (0, px(2, scale)), "SESSION", scale)
    draw.text((width, 0), "5-hour window", font=font(px(11, scale)), fill=TEXT_FAINT,
              anchor="ra")
    image.paste(gauge, ((width - size) // 2, top))
    if forecast:
        small = font(px(11, scale))
        draw.text((width / 2, height - px(6, scale)), truncate(forecast, small, width),
                  font=small, fill=TEXT_FAINT, anchor="ms")
    return image


def render_card_layout(view: DeepDiveView, width: int = CARD_WIDTH,
                       scale: float = 1.0) -> RenderedCard:
    """The whole Deep Dive card above the footer, and where its banner button is.

    `width` is in 1x pixels; the image is `width * scale` wide and every box is in its pixels.
    """
    full = px(width, scale)
    pad, inset, gap, radius = (px(v, scale) for v in (PAD, INSET, GAP, RADIUS))
    inner = full - 2 * pad - 2 * inset
    sections = [
        _with_chart(_session_section(view, inner, scale), view.session.chart, inner, scale,
                    view.stale),
        _with_chart(render_pace_bar(view, inner, scale=scale), view.weekly.chart, inner, scale,
                    view.stale),
    ]
    limits = render_limits(view, inner, scale=scale)
    if limits is not None:
        sections.append(limits)
    banner_h = _banner_layout(view, full - 2 * pad, scale)[2] if view.banner else 0

    header_h = px(HEADER_HEIGHT, scale)
    height = header_h + (banner_h + gap if banner_h else 0)
    height += sum(s.height + 2 * inset + gap for s in sections) + pad - gap
    image = Image.new("RGB", (full, height), BACKGROUND)
    image.paste(render_header(full, scale=scale), (0, 0))
    tips: list[tuple[Box, str]] = []
    if view.account:
        draw = ImageDraw.Draw(image)
        small = font(px(11, scale))
        title_w = text_width("ClaudePulse", font(px(20, scale), Weight.BOLD))
        room = full - pad - px(_TITLE_X, scale) - title_w - px(16, scale)
        text = truncate(view.account, small, room)
        draw.text((full - pad, px(30, scale)), text, font=small, fill=TEXT_FAINT, anchor="rs")
        if text != view.account:
            left = round(full - pad - text_width(text, small))
            tips.append(((left, px(14, scale), full - pad, px(36, scale)), view.account))

    y = header_h
    action_box = None
    if banner_h:
        action_box = _draw_banner(view, image, pad, y, full - 2 * pad, scale)
        y += banner_h + gap
    header_height = y
    for section in sections:
        box = (pad, y, full - pad, y + section.height + 2 * inset)
        rounded_rect(image, box, radius, CARD, outline=CARD_EDGE)
        image.paste(section, (pad + inset, y + inset))
        if section is limits:
            tips.extend(_limit_tips(view, pad + inset, y + inset, inner, scale))
        y = box[3] + gap
    return RenderedCard(image, action_box, header_height, tuple(tips))


def _limit_tips(view: DeepDiveView, left: int, top: int, width: int,
                scale: float) -> list[tuple[Box, str]]:
    """Where `render_limits` shortened a model's name (it draws row i at title + i rows)."""
    label = font(px(12, scale))
    tips = []
    for i, row in enumerate(view.limits):
        room = width - text_width(row.percent_text, label) - px(12, scale)
        if truncate(row.label, label, room) != row.label:
            y = top + px(24, scale) + i * px(32, scale)
            tips.append(((left, y, left + round(room), y + px(18, scale)), row.label))
    return tips


def render_card(view: DeepDiveView, width: int = CARD_WIDTH, scale: float = 1.0) -> Image.Image:
    """The Deep Dive card (header, banner, session gauge, weekly pace, limits) as an RGB image."""
    return render_card_layout(view, width, scale).image
