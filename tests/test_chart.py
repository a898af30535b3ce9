"""The usage chart (ui/render/chart.py), checked pixel by pixel where the lines must be."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from PIL import Image

from claude_pulse.core.gauge import BACKGROUND, BLUE, ORANGE, Color
from claude_pulse.ui.render.chart import PACE_COLOR, chart_layout, render_usage_chart

UTC = timezone.utc
START = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
END = START + timedelta(hours=5)
NOW = START + timedelta(hours=3)
W, H = 340, 130


def at(hours: float) -> datetime:
    return START + timedelta(hours=hours)


def distance(a: tuple[int, ...], b: Color) -> int:
    return max(abs(x - y) for x, y in zip(a[:3], b, strict=True))


def column_match(image: Image.Image, x: float, y: float, color: Color, reach: int = 2) -> int:
    """The smallest colour distance to `color` within `reach` pixels of (x, y) vertically."""
    xi = round(x)
    best = 255
    for yi in range(round(y) - reach, round(y) + reach + 1):
        if 0 <= yi < image.height:
            best = min(best, distance(image.getpixel((xi, yi)), color))
    return best


def orange_rows(image: Image.Image, x: float) -> list[int]:
    xi = round(x)
    return [y for y in range(image.height) if distance(image.getpixel((xi, y)), ORANGE) < 30]


# Flat at 60% from 1 h to 3 h: well above the pace line (20-60% there), so both are separate.
FLAT = [(at(h / 4), 60.0) for h in range(4, 13)]


def test_size_and_mode() -> None:
    image = render_usage_chart(FLAT, START, END, NOW, W, H)
    assert image.size == (W, H) and image.mode == "RGB"
    assert distance(image.getpixel((W - 1, H - 1)), BACKGROUND) < 3  # the dark theme


@pytest.mark.parametrize("points", [pytest.param(FLAT, id="with-usage"),
                                    pytest.param([], id="no-points"),
                                    pytest.param(FLAT[:1], id="one-point")])
@pytest.mark.parametrize("fraction", [0.1, 0.3, 0.5, 0.75, 0.9])
def test_pace_diagonal(points: list[tuple[datetime, float]], fraction: float) -> None:
    image = render_usage_chart(points, START, END, NOW, W, H)
    layout = chart_layout(points, START, END, W, H)
    when = START + (END - START) * fraction
    x, y = layout.x(when), layout.y(100 * fraction)
    if 0.25 < fraction < 0.33 and not points:
        return  # the "No data yet" label sits over this stretch
    assert column_match(image, x, y, PACE_COLOR, reach=1) < 40
    # ...and it is a line, not a wash: a few pixels away it is gone.
    assert distance(image.getpixel((round(x), round(y) + 6)), PACE_COLOR) > 15


def test_pace_runs_corner_to_corner() -> None:
    image = render_usage_chart([], START, END, NOW, W, H)
    layout = chart_layout([], START, END, W, H)
    assert layout.y(0) > H * 0.85 and layout.y(100) < H * 0.15  # bottom-left to top-right
    assert layout.x(START) < W * 0.15 and layout.x(END) > W * 0.95
    assert column_match(image, layout.x(START) + 2, layout.y(0.5), PACE_COLOR) < 60
    assert column_match(image, layout.x(END) - 2, layout.y(99.5), PACE_COLOR) < 60


@pytest.mark.parametrize("hours", [1.25, 1.75, 2.5])
def test_usage_line_at_its_value(hours: float) -> None:
    image = render_usage_chart(FLAT, START, END, NOW, W, H)
    layout = chart_layout(FLAT, START, END, W, H)
    x = layout.x(at(hours))
    rows = orange_rows(image, x)
    assert rows, "no orange in this column"
    assert abs(sum(rows) / len(rows) - layout.y(60)) <= 1.5
    # Beneath the line a faint orange fill, above it the plain (elapsed) background.
    below = image.getpixel((round(x), round(layout.y(45))))
    above = image.getpixel((round(x), round(layout.y(80))))
    assert below[0] > above[0] + 15 and distance(above, BACKGROUND) < 15


def test_nothing_drawn_after_now_or_outside_the_window() -> None:
    points = [(at(-1), 90.0), *FLAT, (at(4), 95.0)]  # before the start, after now
    image = render_usage_chart(points, START, END, NOW, W, H)
    layout = chart_layout(points, START, END, W, H)
    assert orange_rows(image, layout.x(at(3.5))) == []
    assert orange_rows(image, layout.x(at(0.5))) == []
    assert layout.y_max == 100  # the 95% after now did not count either


def test_a_week_of_minute_samples() -> None:
    week_end = START + timedelta(days=7)
    now = week_end - timedelta(hours=12)
    points = [(START + timedelta(minutes=m), m / 100.0) for m in range(0, 9361)]  # to 93.6%
    image = render_usage_chart(points, START, week_end, now, W, H)
    layout = chart_layout(points, START, week_end, W, H)
    for day in (1.5, 3.5, 5.5):
        when = START + timedelta(days=day)
        rows = orange_rows(image, layout.x(when))
        assert rows and abs(sum(rows) / len(rows) - layout.y(day * 1440 / 100)) <= 2
    # The newest sample keeps its dot.
    assert column_match(image, layout.x(points[-1][0]), layout.y(93.6), ORANGE, reach=0) < 30


def test_now_line() -> None:
    image = render_usage_chart(FLAT, START, END, NOW, W, H)
    layout = chart_layout(FLAT, START, END, W, H)
    x = layout.x(NOW)
    hits = [y for y in range(round(layout.top), round(layout.bottom))
            if min(distance(image.getpixel((xi, y)), BLUE) for xi in (round(x) - 1, round(x)))
            < 60]
    assert len(hits) > (layout.bottom - layout.top) * 0.5


def test_one_point_is_a_dot() -> None:
    point = [(at(2), 30.0)]
    image = render_usage_chart(point, START, END, NOW, W, H)
    layout = chart_layout(point, START, END, W, H)
    assert column_match(image, layout.x(at(2)), layout.y(30), ORANGE, reach=0) < 30
    assert orange_rows(image, layout.x(at(2)) + 8) == []


def test_no_points_has_no_orange() -> None:
    image = render_usage_chart([], START, END, NOW, W, H)
    oranges = [(x, y) for x in range(0, W, 2) for y in range(0, H, 2)
               if distance(image.getpixel((x, y)), ORANGE) < 30]
    assert oranges == []


def test_over_100_grows_the_scale() -> None:
    points = [(at(1), 80.0), (at(2), 104.0), (at(2.5), 112.0)]
    image = render_usage_chart(points, START, END, NOW, W, H)
    layout = chart_layout(points, START, END, W, H)
    assert layout.y_max == 125
    assert layout.y(112) > layout.top + 5  # not pinned to the top
    rows = orange_rows(image, layout.x(at(1.5)))
    assert rows and abs(sum(rows) / len(rows) - layout.y(92)) <= 2


@pytest.mark.parametrize(
    ("width", "height", "now", "end"),
    [
        pytest.param(60, 24, NOW, END, id="tiny"),
        pytest.param(W, H, END + timedelta(hours=1), END, id="now-after-reset"),
        pytest.param(W, H, START - timedelta(minutes=1), END, id="now-before-start"),
        pytest.param(W, H, NOW, START, id="zero-length-window"),
    ],
)
def test_odd_inputs_still_render(width: int, height: int, now: datetime, end: datetime) -> None:
    image = render_usage_chart(FLAT, START, end, now, width, height)
    assert image.size == (width, height)
