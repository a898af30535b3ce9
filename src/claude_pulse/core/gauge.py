"""Gauge geometry and the palette: where arcs start and end, where the pace marker sits, and which
colour each level gets. Pure numbers; `ui.render` turns them into pixels.

Angles follow Pillow's convention (degrees, clockwise, 0 at three o'clock), so a ring that starts
at the top starts at -90.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

__all__ = [
    "AMBER",
    "BACKGROUND",
    "BLUE",
    "CARD",
    "CARD_EDGE",
    "GREEN",
    "GREY",
    "LEVEL_COLORS",
    "ORANGE",
    "ORANGE_RED",
    "RED",
    "START_ANGLE",
    "TEXT",
    "TEXT_DIM",
    "TEXT_FAINT",
    "TRACK",
    "Color",
    "GaugeGeometry",
    "Level",
    "arc_sweep",
    "blend",
    "capped_arc",
    "gauge_geometry",
    "level_color",
    "level_for",
    "marker_x",
    "overflow_sweep",
]

Color = tuple[int, int, int]


def _hex(value: str) -> Color:
    value = value.lstrip("#")
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


BACKGROUND = _hex("#1a1a1a")  # the window; Tk widgets of the footer use it too
CARD = _hex("#242424")  # section panels on the background
CARD_EDGE = _hex("#2f2f2f")
TRACK = _hex("#363636")  # empty part of rings and bars
TEXT = _hex("#f4f4f4")
TEXT_DIM = _hex("#a3a3a3")
TEXT_FAINT = _hex("#7e7e7e")

ORANGE = _hex("#D97757")  # usage (Claude's orange)
BLUE = _hex("#4A9EFF")  # time
GREEN = _hex("#3FB950")  # on track
RED = _hex("#F85149")  # over budget, over the limit
AMBER = _hex("#E3B341")
ORANGE_RED = _hex("#FF7B2E")
GREY = _hex("#8c8c8c")  # stale, offline, signed out

START_ANGLE = -90.0  # twelve o'clock


class Level(enum.Enum):
    """How close the session is to its limit; the tray icon's colour."""

    NORMAL = 0
    WARNING = 80
    HIGH = 90
    CRITICAL = 95


# Normal is plain white: colour appears only when there is something to notice.
LEVEL_COLORS: dict[Level, Color] = {
    Level.NORMAL: TEXT,
    Level.WARNING: AMBER,
    Level.HIGH: ORANGE_RED,
    Level.CRITICAL: RED,
}


def level_for(percent: float | None) -> Level:
    """The level of a utilization percent; unknown counts as normal (the caller greys it)."""
    if percent is None:
        return Level.NORMAL
    for level in (Level.CRITICAL, Level.HIGH, Level.WARNING):
        if percent >= level.value:
            return level
    return Level.NORMAL


def level_color(level: Level, *, greyed: bool = False) -> Color:
    return GREY if greyed else LEVEL_COLORS[level]


def arc_sweep(percent: float | None) -> float:
    """Degrees of the first lap of a ring: 0-360, full at 100% and above."""
    if percent is None or percent <= 0:
        return 0.0
    return min(percent, 100.0) * 3.6


def overflow_sweep(percent: float | None) -> float:
    """Degrees of the second lap drawn over a full ring for values above 100% (104% -> 14.4)."""
    if percent is None or percent <= 100:
        return 0.0
    return min(percent - 100.0, 100.0) * 3.6


def capped_arc(sweep: float, radius: float, width: float) -> tuple[float, float] | None:
    """Start and end angles of an arc whose round caps stay inside `sweep`.

    A round cap sticks out by half the stroke width; pulling both ends in by that much keeps the
    visible length true to the value (80% looks like 80%, not 83%). A full ring needs no caps.
    Returns None when there is nothing to draw; a tiny value still gets a dot (start == end).
    """
    if sweep <= 0:
        return None
    if sweep >= 360:
        return (START_ANGLE, START_ANGLE + 360.0)
    cap = math.degrees((width / 2) / radius) if radius > 0 else 0.0
    if sweep <= 2 * cap:
        middle = START_ANGLE + sweep / 2
        return (middle, middle)
    return (START_ANGLE + cap, START_ANGLE + sweep - cap)


def marker_x(elapsed_percent: float | None, bar_x0: float, bar_x1: float) -> float:
    """Where a percentage falls along a bar, clamped to the bar (unknown sits at the start)."""
    fraction = 0.0 if elapsed_percent is None else max(0.0, min(100.0, elapsed_percent)) / 100
    return bar_x0 + fraction * (bar_x1 - bar_x0)


@dataclass(frozen=True)
class GaugeGeometry:
    """The double ring of a session gauge `size` pixels square; radii are to the stroke centre."""

    size: int
    outer_radius: float
    outer_width: float
    inner_radius: float
    inner_width: float

    @property
    def centre(self) -> tuple[float, float]:
        return (self.size / 2, self.size / 2)

    @property
    def hole_radius(self) -> float:
        """Radius of the empty middle where the text goes."""
        return self.inner_radius - self.inner_width / 2


def gauge_geometry(size: int) -> GaugeGeometry:
    """Ring sizes as fractions of the gauge, tuned by eye at 180 px."""
    outer_width = max(2.0, round(size * 0.075))
    inner_width = max(2.0, round(size * 0.045))
    gap = max(1.0, round(size * 0.035))
    margin = 1.0  # keep the anti-aliased edge off the image border
    outer_radius = size / 2 - margin - outer_width / 2
    inner_radius = outer_radius - outer_width / 2 - gap - inner_width / 2
    return GaugeGeometry(size, outer_radius, outer_width, inner_radius, inner_width)


def blend(a: Color, b: Color, t: float) -> Color:
    """`a` moved a fraction `t` of the way to `b` (a dimmed or tinted colour)."""
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )
