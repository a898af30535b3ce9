"""Drawing primitives for the renderers: anti-aliased rounded shapes and text helpers.

Pillow draws shapes without anti-aliasing, so curved edges are drawn at 4x on a small mask and
downsampled; straight edges need no help. Text is drawn at 1x, where FreeType hints and smooths it.
"""

from __future__ import annotations

import functools

from PIL import Image, ImageDraw

from claude_pulse.core.gauge import TEXT_DIM, Color
from claude_pulse.ui.render.fonts import Font, Weight, font

__all__ = [
    "DOT",
    "SCALE",
    "STALE_DIM",
    "Box",
    "caps",
    "dot",
    "ink_centered",
    "px",
    "rounded_rect",
    "spaced_text",
    "text_width",
    "truncate",
    "wrap",
]

SCALE = 4
DOT = 8  # legend discs
STALE_DIM = 0.45  # how far stale colours fade towards the track
Box = tuple[int, int, int, int]


def px(value: float, scale: float) -> int:
    """A 1x length in pixels at the display's `scale`."""
    return round(value * scale)


@functools.lru_cache(maxsize=64)
def _corner(radius: int) -> Image.Image:
    """Top-left quarter of a disc as an anti-aliased L mask, `radius` pixels square."""
    big = radius * SCALE
    mask = Image.new("L", (big, big), 0)
    ImageDraw.Draw(mask).ellipse((0, 0, 2 * big - 1, 2 * big - 1), fill=255)
    # BOX averages exact coverage: no ringing, so what lies outside stays fully transparent.
    return mask.resize((radius, radius), Image.Resampling.BOX)


def _rounded_mask(width: int, height: int, radius: int) -> Image.Image:
    mask = Image.new("L", (width, height), 255)
    radius = max(0, min(radius, width // 2, height // 2))
    if radius == 0:
        return mask
    corner = _corner(radius)
    mask.paste(corner, (0, 0))
    mask.paste(corner.transpose(Image.Transpose.FLIP_LEFT_RIGHT), (width - radius, 0))
    mask.paste(corner.transpose(Image.Transpose.FLIP_TOP_BOTTOM), (0, height - radius))
    mask.paste(corner.transpose(Image.Transpose.ROTATE_180), (width - radius, height - radius))
    return mask


def rounded_rect(
    image: Image.Image,
    box: Box,
    radius: int,
    fill: Color,
    outline: Color | None = None,
) -> None:
    """An anti-aliased rounded rectangle (box is x0, y0, x1, y1, exclusive), optional 1px edge."""
    x0, y0, x1, y1 = box
    if x1 <= x0 or y1 <= y0:
        return
    if outline is not None:
        image.paste(outline, (x0, y0, x1, y1), _rounded_mask(x1 - x0, y1 - y0, radius))
        x0, y0, x1, y1, radius = x0 + 1, y0 + 1, x1 - 1, y1 - 1, radius - 1
        if x1 <= x0 or y1 <= y0:
            return
    image.paste(fill, (x0, y0, x1, y1), _rounded_mask(x1 - x0, y1 - y0, radius))


def text_width(text: str, fnt: Font) -> float:
    return float(fnt.getlength(text))


def spaced_text(
    draw: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    text: str,
    fnt: Font,
    fill: Color,
    spacing: float,
) -> float:
    """Letter-spaced text (small caps labels); returns the x after the last letter."""
    x, y = xy
    for ch in text:
        draw.text((round(x), y), ch, font=fnt, fill=fill)
        x += text_width(ch, fnt) + spacing
    return x - spacing


def truncate(text: str, fnt: Font, max_width: float) -> str:
    """`text`, cut with an ellipsis to fit `max_width`: after a whole word when that keeps most
    of it, else (one long word, an email) after the last letter that fits."""
    if text_width(text, fnt) <= max_width:
        return text
    cut = text
    while cut and text_width(cut + "…", fnt) > max_width:
        cut = cut[:-1]
    if cut and not text[len(cut)].isspace() and " " in cut.strip():
        words = cut.rsplit(" ", 1)[0].rstrip()
        if text_width(words, fnt) >= max_width * 0.6:
            cut = words
    return cut.rstrip() + "…"


def wrap(text: str, fnt: Font, max_width: float, max_lines: int = 6) -> list[str]:
    """Greedy word wrap; the last allowed line is truncated with an ellipsis."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if current and text_width(candidate, fnt) > max_width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], " ".join(lines[max_lines - 1 :])]
    return [truncate(line, fnt, max_width) for line in lines]


def ink_centered(
    draw: ImageDraw.ImageDraw, cx: float, cy: float, text: str, fnt: Font, fill: Color
) -> None:
    """Centre the visible ink (not the line box) on (cx, cy), so digits sit truly centred."""
    left, top, right, bottom = fnt.getbbox(text)
    x = cx - (left + right) / 2
    y = cy - (top + bottom) / 2
    draw.text((round(x), round(y)), text, font=fnt, fill=fill)


def dot(image: Image.Image, x: float, cy: float, colour: Color, scale: float = 1.0) -> None:
    """A small legend disc (drawn, not a "●" glyph, which some system fonts lack)."""
    size = px(DOT, scale)
    left, top = round(x), round(cy - size / 2)
    rounded_rect(image, (left, top, left + size, top + size), size // 2, colour)


def caps(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str,
         scale: float = 1.0) -> float:
    """A small letter-spaced section title ("SESSION", "WEEKLY")."""
    return spaced_text(draw, xy, text, font(px(10, scale), Weight.BOLD), TEXT_DIM, 1.4 * scale)
