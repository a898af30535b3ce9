"""Pillow renderings of the Deep Dive card: pure functions from a `DeepDiveView` to an image.

The parts (header, banner, session gauge, weekly pace bar, limits) can be rendered alone;
`render_card` stacks them on the dark card. The footer (alerts toggle, last refresh, Refresh
button) is made of real Tk widgets and is not drawn here. Banner actions are drawn as buttons;
`render_card_layout` says where, so the window can make them clickable.
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


@functools.lru_cache(maxsize=4)
def _logo(size: int) -> Image.Image:
    return draw_logo(size)  # only ever pasted from, so sharing one image is safe


# --- header, banner, limits -------------------------------------------------------------------


def render_header(width: int = CARD_WIDTH, *, bg: Color = BACKGROUND,
                  subtitle: str = "USAGE MONITOR") -> Image.Image:
    """Logo, "Claude" (white) + "Pulse" (orange), and the subtitle in small caps."""
    image = Image.new("RGB", (width, HEADER_HEIGHT), bg)
    logo = _logo(36)
    image.paste(logo, (PAD, 14), logo)
    draw = ImageDraw.Draw(image)
    title = font(20, Weight.BOLD)
    x = _TITLE_X
    draw.text((x, 30), "Claude", font=title, fill=TEXT, anchor="ls")
    draw.text((x + text_width("Claude", title), 30), "Pulse", font=title, fill=ORANGE, anchor="ls")
    spaced_text(draw, (x + 1, 36), subtitle, font(9, Weight.BOLD), TEXT_FAINT, 1.8)
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
        caps(draw, (0, 0), "MODEL LIMITS")
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


CHART_HEIGHT = 48


def _with_chart(section: Image.Image, chart: ChartView | None, width: int) -> Image.Image:
    """`section` with this window's usage chart under it, when there is history to draw."""
    if chart is None:
        return section
    image = Image.new("RGB", (width, section.height + 10 + CHART_HEIGHT), CARD)
    image.paste(section, (0, 0))
    plot = render_usage_chart(chart.points, chart.start, chart.end, chart.now, width,
                              CHART_HEIGHT, background=CARD)
    image.paste(plot, (0, section.height + 10))
    return image


def _session_section(view: DeepDiveView, width: int) -> Image.Image:
    gauge = render_gauge(view, GAUGE_SIZE)
    forecast = view.session.forecast_text
    height = 24 + gauge.height + (20 if forecast else 0)
    image = Image.new("RGB", (width, height), CARD)
    draw = ImageDraw.Draw(image)
    caps(draw, (0, 2), "SESSION")
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
    sections = [
        _with_chart(_session_section(view, inner), view.session.chart, inner),
        _with_chart(render_pace_bar(view, inner), view.weekly.chart, inner),
    ]
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
    header_height = y
    for section in sections:
        box = (PAD, y, width - PAD, y + section.height + 2 * INSET)
        rounded_rect(image, box, RADIUS, CARD, outline=CARD_EDGE)
        image.paste(section, (PAD + INSET, y + INSET))
        y = box[3] + GAP
    return RenderedCard(image, action_box, header_height)


def render_card(view: DeepDiveView, width: int = CARD_WIDTH) -> Image.Image:
    """The Deep Dive card (header, banner, session gauge, weekly pace, limits) as an RGB image."""
    return render_card_layout(view, width).image
