"""The Claude Pulse logo, drawn by code: an orange speech bubble with a heartbeat line cut out.

The line is cut out (transparent) rather than painted, so the logo reads on light and dark
backgrounds alike. Drawn at 4x on an alpha mask and downsampled for smooth edges.
`scripts/make_logo.py` saves it as `assets/logo.png`.
"""

from __future__ import annotations

from PIL import Image, ImageDraw

from claude_pulse.core.gauge import ORANGE

__all__ = ["draw_logo"]

_SCALE = 4

# Heartbeat polyline in unit coordinates: flat, small bump, tall spike, dip, flat.
_PULSE = (
    (0.17, 0.43),
    (0.33, 0.43),
    (0.39, 0.33),
    (0.46, 0.56),
    (0.55, 0.17),
    (0.63, 0.62),
    (0.69, 0.43),
    (0.83, 0.43),
)


def draw_logo(size: int) -> Image.Image:
    """The logo as an RGBA image `size` pixels square."""
    big = size * _SCALE
    mask = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(mask)

    def at(x: float, y: float) -> tuple[float, float]:
        return (x * big, y * big)

    draw.rounded_rectangle((*at(0.05, 0.08), *at(0.95, 0.76)), radius=0.2 * big, fill=255)
    draw.polygon([at(0.22, 0.70), at(0.44, 0.70), at(0.17, 0.95)], fill=255)

    width = max(_SCALE, round(0.075 * big))
    points = [at(x, y) for x, y in _PULSE]
    draw.line(points, fill=0, width=width, joint="curve")
    r = width / 2
    for x, y in (points[0], points[-1]):
        draw.ellipse((x - r, y - r, x + r, y + r), fill=0)

    alpha = mask.resize((size, size), Image.Resampling.LANCZOS)
    logo = Image.new("RGBA", (size, size), (*ORANGE, 0))
    logo.putalpha(alpha)
    return logo
