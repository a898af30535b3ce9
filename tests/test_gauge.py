"""Gauge geometry and palette: levels, arc sweeps, caps and the pace marker position."""

from __future__ import annotations

import math

import pytest

from claude_pulse.core.gauge import (
    BACKGROUND,
    GREY,
    LEVEL_COLORS,
    RED,
    START_ANGLE,
    TEXT,
    Level,
    arc_sweep,
    blend,
    capped_arc,
    gauge_geometry,
    level_color,
    level_for,
    marker_x,
    overflow_sweep,
)


@pytest.mark.parametrize(
    ("percent", "level"),
    [
        pytest.param(None, Level.NORMAL, id="unknown"),
        pytest.param(0.0, Level.NORMAL, id="zero"),
        pytest.param(79.9, Level.NORMAL, id="just-below-80"),
        pytest.param(80.0, Level.WARNING, id="80"),
        pytest.param(89.99, Level.WARNING, id="just-below-90"),
        pytest.param(90.0, Level.HIGH, id="90"),
        pytest.param(94.5, Level.HIGH, id="94.5"),
        pytest.param(95.0, Level.CRITICAL, id="95"),
        pytest.param(104.0, Level.CRITICAL, id="over-100"),
    ],
)
def test_level_for(percent: float | None, level: Level) -> None:
    assert level_for(percent) is level


def test_every_level_has_its_own_colour_and_greyed_is_grey() -> None:
    colours = [LEVEL_COLORS[level] for level in Level]
    assert len(set(colours)) == len(Level)
    assert GREY not in colours
    assert level_color(Level.CRITICAL) == RED
    assert all(level_color(level, greyed=True) == GREY for level in Level)


@pytest.mark.parametrize(
    ("percent", "sweep", "lap"),
    [
        pytest.param(None, 0.0, 0.0, id="unknown"),
        pytest.param(-5.0, 0.0, 0.0, id="negative"),
        pytest.param(0.0, 0.0, 0.0, id="zero"),
        pytest.param(50.0, 180.0, 0.0, id="half"),
        pytest.param(80.0, 288.0, 0.0, id="80"),
        pytest.param(100.0, 360.0, 0.0, id="full"),
        pytest.param(104.0, 360.0, 14.4, id="104-second-lap"),
        pytest.param(250.0, 360.0, 360.0, id="second-lap-capped"),
    ],
)
def test_arc_sweep_and_overflow(percent: float | None, sweep: float, lap: float) -> None:
    assert arc_sweep(percent) == pytest.approx(sweep)
    assert overflow_sweep(percent) == pytest.approx(lap)


@pytest.mark.parametrize(
    ("sweep", "expected"),
    [
        pytest.param(0.0, None, id="nothing"),
        pytest.param(360.0, (START_ANGLE, START_ANGLE + 360), id="full-ring-no-caps"),
        pytest.param(1.0, (START_ANGLE + 0.5, START_ANGLE + 0.5), id="tiny-is-a-dot"),
    ],
)
def test_capped_arc_special_cases(
    sweep: float, expected: tuple[float, float] | None
) -> None:
    assert capped_arc(sweep, radius=80, width=14) == expected


@pytest.mark.parametrize("sweep", [pytest.param(s, id=f"{s:g}deg") for s in (36, 180, 288, 350)])
def test_capped_arc_keeps_the_visible_length_true(sweep: float) -> None:
    radius, width = 82.0, 14.0
    span = capped_arc(sweep, radius, width)
    assert span is not None
    start, end = span
    cap = math.degrees(width / 2 / radius)
    assert start - cap == pytest.approx(START_ANGLE)
    assert end + cap == pytest.approx(START_ANGLE + sweep)


@pytest.mark.parametrize(
    ("elapsed", "x"),
    [
        pytest.param(None, 10.0, id="unknown-at-start"),
        pytest.param(0.0, 10.0, id="zero"),
        pytest.param(55.0, 120.0, id="55"),
        pytest.param(100.0, 210.0, id="full"),
        pytest.param(130.0, 210.0, id="clamped-high"),
        pytest.param(-4.0, 10.0, id="clamped-low"),
    ],
)
def test_marker_x(elapsed: float | None, x: float) -> None:
    assert marker_x(elapsed, 10, 210) == pytest.approx(x)


@pytest.mark.parametrize("size", [pytest.param(s, id=f"{s}px") for s in (48, 120, 180, 240)])
def test_gauge_rings_fit_and_do_not_touch(size: int) -> None:
    geo = gauge_geometry(size)
    assert geo.outer_radius + geo.outer_width / 2 <= size / 2
    outer_inside = geo.outer_radius - geo.outer_width / 2
    inner_outside = geo.inner_radius + geo.inner_width / 2
    assert inner_outside < outer_inside  # a visible gap between the rings
    assert geo.hole_radius > size * 0.25  # room for the text
    assert geo.centre == (size / 2, size / 2)


def test_blend() -> None:
    assert blend(TEXT, BACKGROUND, 0.0) == TEXT
    assert blend(TEXT, BACKGROUND, 1.0) == BACKGROUND
    assert blend((0, 0, 0), (200, 100, 50), 0.5) == (100, 50, 25)
