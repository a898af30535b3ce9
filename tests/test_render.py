"""Rendered pixels: what a user would see on the card and in the tray (no display needed)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops

from claude_pulse.core.gauge import (
    BLUE,
    CARD,
    GREEN,
    LEVEL_COLORS,
    ORANGE,
    RED,
    TEXT,
    TRACK,
    Color,
    Level,
    gauge_geometry,
)
from claude_pulse.core.snapshot import Snapshot
from claude_pulse.core.status import AppStatus, Phase
from claude_pulse.core.usage import ExtraUsage, Limit, Usage, Window, parse_usage
from claude_pulse.core.viewmodel import DeepDiveView, TrayView, deep_dive_view, tray_view
from claude_pulse.ui.render import fonts
from claude_pulse.ui.render import tray as render_tray
from claude_pulse.ui.render.card import (
    CARD_WIDTH,
    CHART_HEIGHT,
    render_banner,
    render_card,
    render_card_layout,
    render_header,
    render_limits,
)
from claude_pulse.ui.render.gauge import GAUGE_SIZE, render_gauge
from claude_pulse.ui.render.logo import draw_logo
from claude_pulse.ui.render.pace import pace_bar_span, render_pace_bar
from claude_pulse.ui.render.tray import render_tray_icon

UTC = timezone.utc
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parent.parent


def snapshot(
    session: float | None = 80.0,
    weekly: float | None = 68.0,
    *,
    session_elapsed: float = 0.4,
    week_elapsed: float = 0.55,
    limits: tuple[Limit, ...] = (),
    extra: ExtraUsage | None = None,
) -> Snapshot:
    session_reset = NOW + timedelta(hours=5) * (1 - session_elapsed)
    week_reset = NOW + timedelta(days=7) * (1 - week_elapsed)
    usage = Usage(Window(session, session_reset), Window(weekly, week_reset), limits, extra)
    return Snapshot(NOW, usage, {})


def view_of(status: AppStatus, **kwargs: Any) -> DeepDiveView:
    options: dict[str, Any] = {"alerts_enabled": True, "show_model_limits": True, "tz": UTC}
    options.update(kwargs)
    return deep_dive_view(status, NOW, **options)


def ok(**kwargs: Any) -> DeepDiveView:
    return view_of(AppStatus(Phase.OK, snapshot(**kwargs), account="ada@example.com"))


def near(pixel: Any, colour: Color, tolerance: int = 36) -> bool:
    return all(abs(int(pixel[i]) - colour[i]) <= tolerance for i in range(3))


def pixels(image: Image.Image) -> Iterator[tuple[int, int, Any]]:
    px = image.load()
    assert px is not None
    for y in range(image.height):
        for x in range(image.width):
            yield x, y, px[x, y]


def count(image: Image.Image, colour: Color, tolerance: int = 36) -> int:
    return sum(1 for _, _, p in pixels(image) if near(p, colour, tolerance))


def ring_coverage(image: Image.Image, radius: float, colour: Color, samples: int = 720) -> float:
    """Share of points on a circle around the gauge centre that show `colour`."""
    geo = gauge_geometry(GAUGE_SIZE)
    cx, cy = geo.centre
    px = image.load()
    assert px is not None
    hits = 0
    for i in range(samples):
        angle = 2 * math.pi * (i + 0.5) / samples  # clockwise from twelve o'clock
        x, y = cx + radius * math.sin(angle), cy - radius * math.cos(angle)
        hits += near(px[int(x), int(y)], colour)
    return hits / samples


# --- session gauge ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("usage", "elapsed"),
    [
        pytest.param(80.0, 0.4, id="80-used-40-elapsed"),
        pytest.param(25.0, 0.9, id="25-used-90-elapsed"),
        pytest.param(3.0, 0.05, id="small-values"),
    ],
)
def test_gauge_arcs_cover_their_share_of_the_rings(usage: float, elapsed: float) -> None:
    image = render_gauge(ok(session=usage, session_elapsed=elapsed), GAUGE_SIZE)
    geo = gauge_geometry(GAUGE_SIZE)
    assert ring_coverage(image, geo.outer_radius, ORANGE) == pytest.approx(usage / 100, abs=0.03)
    assert ring_coverage(image, geo.inner_radius, BLUE) == pytest.approx(elapsed, abs=0.03)
    # The rest of each ring is its grey track.
    assert ring_coverage(image, geo.outer_radius, TRACK) == pytest.approx(1 - usage / 100, abs=0.03)


def test_gauge_over_100_shows_a_full_ring_and_a_red_second_lap() -> None:
    image = render_gauge(ok(session=110.0), GAUGE_SIZE)
    geo = gauge_geometry(GAUGE_SIZE)
    red = ring_coverage(image, geo.outer_radius, RED)
    orange = ring_coverage(image, geo.outer_radius, ORANGE)
    assert red == pytest.approx(0.10, abs=0.03)
    assert orange + red > 0.95  # no track left showing
    assert ring_coverage(image, geo.outer_radius, TRACK) == 0


def test_gauge_without_data_shows_only_tracks() -> None:
    image = render_gauge(view_of(AppStatus(Phase.LOADING)), GAUGE_SIZE)
    geo = gauge_geometry(GAUGE_SIZE)
    assert ring_coverage(image, geo.outer_radius, TRACK) == 1
    assert ring_coverage(image, geo.inner_radius, TRACK) == 1


def test_gauge_centre_has_the_text_and_the_legend_is_below() -> None:
    image = render_gauge(ok(session=42.0), GAUGE_SIZE)
    assert image.width == GAUGE_SIZE and image.height > GAUGE_SIZE
    hole = image.crop((50, 60, 130, 100))  # where "42%" sits
    assert count(hole, TEXT, 20) > 80  # a big white number
    legend = image.crop((0, GAUGE_SIZE, GAUGE_SIZE, image.height))
    assert count(legend, ORANGE, 20) > 10 and count(legend, BLUE, 20) > 10


def test_gauge_number_turns_amber_from_80_percent() -> None:
    image = render_gauge(ok(session=85.0), GAUGE_SIZE)
    hole = image.crop((50, 60, 130, 100))
    assert count(hole, LEVEL_COLORS[Level.WARNING], 20) > 80
    assert count(hole, TEXT, 20) == 0


def test_stale_gauge_is_dimmed() -> None:
    fresh = render_gauge(ok(), GAUGE_SIZE)
    stale = render_gauge(view_of(AppStatus(Phase.OFFLINE, snapshot())), GAUGE_SIZE)
    radius = gauge_geometry(GAUGE_SIZE).outer_radius
    assert ring_coverage(fresh, radius, ORANGE, 360) > 0.7
    assert ring_coverage(stale, radius, ORANGE, 360) == 0


# --- weekly pace bar --------------------------------------------------------------------------


def bar_and_marker(image: Image.Image) -> tuple[int, int, float]:
    """The bar's ends, found as the row with most bar colour, and the marker's mean x."""
    rows: dict[int, list[int]] = {}
    for x, y, p in pixels(image):
        if near(p, TRACK, 6) or near(p, ORANGE, 6):
            rows.setdefault(y, []).append(x)
    bar_y = max(rows, key=lambda y: len(rows[y]))
    x0, x1 = min(rows[bar_y]), max(rows[bar_y]) + 1
    blue = [x for x, y, p in pixels(image) if abs(y - bar_y) <= 12 and near(p, BLUE, 40)]
    assert blue, "no elapsed marker near the bar"
    return x0, x1, sum(blue) / len(blue)


@pytest.mark.parametrize(
    "elapsed",
    [pytest.param(e, id=f"{e:.0%}-elapsed") for e in (0.02, 0.3, 0.55, 0.81, 0.98)],
)
def test_marker_sits_at_the_elapsed_share_of_the_bar(elapsed: float) -> None:
    width = 300
    image = render_pace_bar(ok(week_elapsed=elapsed), width)
    x0, x1, marker = bar_and_marker(image)
    assert (x0, x1) == pytest.approx(pace_bar_span(width), abs=1)
    assert marker == pytest.approx(x0 + elapsed * (x1 - x0), abs=2)


def test_bar_fill_shows_the_weekly_use() -> None:
    width = 300
    image = render_pace_bar(ok(weekly=30.0, week_elapsed=0.9), width)
    x0, x1 = pace_bar_span(width)
    orange = [x for x, _, p in pixels(image) if near(p, ORANGE, 6)]
    assert max(orange) + 1 == pytest.approx(x0 + 0.3 * (x1 - x0), abs=2)


@pytest.mark.parametrize(
    ("weekly", "colour", "other"),
    [
        pytest.param(80.0, RED, GREEN, id="over-budget-red"),
        pytest.param(20.0, GREEN, RED, id="on-track-green"),
    ],
)
def test_pill_colour(weekly: float, colour: Color, other: Color) -> None:
    image = render_pace_bar(ok(weekly=weekly, week_elapsed=0.55), 300)
    pill = image.crop((150, 0, 300, 24))
    assert count(pill, colour, 30) > 40
    assert count(pill, other, 60) == 0


def test_no_pill_and_no_marker_without_data() -> None:
    image = render_pace_bar(view_of(AppStatus(Phase.SIGNED_OUT)), 300)
    assert count(image, RED, 40) == count(image, GREEN, 40) == count(image, BLUE, 40) == 0


# --- tray icon --------------------------------------------------------------------------------


def ink(icon: Image.Image) -> list[tuple[int, int, int]]:
    """The icon's text pixels: opaque and clearly brighter than the dark tile."""
    return [
        (p[0], p[1], p[2])
        for _, _, p in pixels(icon)
        if p[3] == 255 and max(p[0], p[1], p[2]) > 110
    ]


def tray(percent: float | None, phase: Phase = Phase.OK) -> TrayView:
    snap = snapshot(percent) if percent is not None or phase is Phase.OK else None
    return tray_view(AppStatus(phase, snap), NOW)


# The icon's own pixel tests are in test_tray_icon.py.


# --- header, banner, limits, card -------------------------------------------------------------


def test_header_has_white_claude_and_orange_pulse() -> None:
    header = render_header(CARD_WIDTH)
    assert header.width == CARD_WIDTH
    title = header.crop((60, 8, 220, 34))
    assert count(title, TEXT, 20) > 60
    assert count(title, ORANGE, 20) > 60
    logo = header.crop((10, 10, 56, 54))
    assert count(logo, ORANGE, 20) > 400


@pytest.mark.parametrize(
    ("status", "has_button"),
    [
        pytest.param(AppStatus(Phase.SIGNED_OUT), True, id="signed-out"),
        pytest.param(AppStatus(Phase.LOGIN_FAILED, message="Timed out"), True, id="login-failed"),
        pytest.param(AppStatus(Phase.REAUTH), True, id="reauth"),
        pytest.param(AppStatus(Phase.LOGGING_IN), False, id="logging-in"),
        pytest.param(AppStatus(Phase.LOADING), False, id="loading"),
        pytest.param(
            AppStatus(Phase.OFFLINE, snapshot(), next_try=NOW + timedelta(minutes=5)),
            False,
            id="offline",
        ),
        pytest.param(AppStatus(Phase.RATE_LIMITED, snapshot()), False, id="rate-limited"),
        pytest.param(AppStatus(Phase.SERVER_ERROR, snapshot()), False, id="server-error"),
    ],
)
def test_every_problem_has_a_banner(status: AppStatus, has_button: bool) -> None:
    view = view_of(status)
    assert view.banner is not None
    banner = render_banner(view, CARD_WIDTH - 32)
    assert banner is not None
    assert count(banner.crop((16, 8, 200, 30)), TEXT, 30) > 40  # the title is written
    rendered = render_card_layout(view)
    assert (rendered.action_box is not None) is has_button
    if rendered.action_box is not None:
        x0, y0, x1, y1 = rendered.action_box
        assert 0 <= x0 < x1 <= CARD_WIDTH and 0 <= y0 < y1 <= rendered.image.height
        button = rendered.image.crop(rendered.action_box)
        assert count(button, view.banner.accent, 10) > button.width * button.height * 0.5


def test_no_banner_when_all_is_well() -> None:
    assert render_banner(ok(), CARD_WIDTH) is None
    assert render_card_layout(ok()).action_box is None


def test_limits_section() -> None:
    opus = Limit("weekly_scoped:Opus", "weekly_scoped", "Opus (weekly)", 50.0, None)
    extra = ExtraUsage(True, 40843, 1000, 100.0)
    status = AppStatus(Phase.OK, snapshot(limits=(opus,), extra=extra))
    image = render_limits(view_of(status), 300)
    assert image is not None
    assert count(image, TEXT, 20) > 30
    bar = [x for x, _, p in pixels(image) if near(p, ORANGE, 6)]
    assert max(bar) + 1 == pytest.approx(150, abs=2)  # 50% of the row
    hidden = view_of(AppStatus(Phase.OK, snapshot(limits=(opus,))), show_model_limits=False)
    assert render_limits(hidden, 300) is None


@pytest.mark.parametrize(
    "status",
    [
        pytest.param(AppStatus(Phase.OK, snapshot(), account="ada@example.com"), id="ok"),
        pytest.param(AppStatus(Phase.OK, snapshot(130.0, 120.0)), id="over-100"),
        pytest.param(AppStatus(Phase.SIGNED_OUT), id="signed-out"),
        pytest.param(AppStatus(Phase.LOADING), id="loading"),
        pytest.param(
            AppStatus(Phase.OFFLINE, snapshot(), account="x" * 80 + "@example.com"),
            id="offline-long-account",
        ),
    ],
)
def test_card_renders_every_state_on_the_dark_card(status: AppStatus) -> None:
    image = render_card(view_of(status))
    assert image.mode == "RGB"
    assert image.width == CARD_WIDTH
    assert 300 < image.height < 800
    corner = image.getpixel((2, image.height - 2))
    assert isinstance(corner, tuple) and max(corner) < 40  # dark
    assert count(image, TEXT, 20) > 300  # plenty of readable text
    assert count(image, CARD, 0) > 20000  # the section panels


def test_fonts_fall_back_to_pillows_own(monkeypatch: pytest.MonkeyPatch) -> None:
    fonts.font.cache_clear()
    render_tray._glyph_mask.cache_clear()
    monkeypatch.setattr(fonts, "_path", lambda weight: None)
    try:
        image = render_card(ok())
        icon = render_tray_icon(tray(42.0), 16)
        assert count(image, TEXT, 20) > 100
        assert ink(icon)
    finally:
        fonts.font.cache_clear()
        render_tray._glyph_mask.cache_clear()


# --- logo -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(ROOT / "assets" / "logo.png", id="assets"),
        pytest.param(ROOT / "src" / "claude_pulse" / "assets" / "logo.png", id="package-data"),
    ],
)
def test_committed_logo_matches_the_code(path: Path) -> None:
    # Rerun scripts/make_logo.py after changing ui/render/logo.py.
    with Image.open(path) as saved:
        committed = saved.convert("RGBA")
    fresh = draw_logo(committed.width)
    assert committed.size == (256, 256)
    diff = ImageChops.difference(committed, fresh)
    assert max(hi for _, hi in diff.getextrema()) <= 2  # type: ignore[misc]


def test_logo_is_orange_on_transparent() -> None:
    logo = draw_logo(64)
    opaque = [p for _, _, p in pixels(logo) if p[3] == 255]
    assert len(opaque) > 64 * 64 * 0.3
    assert all(near(p, ORANGE, 2) for p in opaque)
    alpha = logo.getchannel("A")
    assert alpha.getpixel((0, 0)) == 0  # outside the bubble
    assert alpha.getpixel((32, 27)) == 0  # the heartbeat line is cut out


def test_card_shows_a_chart_per_window_with_history() -> None:
    now = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
    s_reset, w_reset = now + timedelta(hours=2), now + timedelta(days=3)
    raw = {"five_hour": {"utilization": 40.0, "resets_at": s_reset.isoformat()},
           "seven_day": {"utilization": 50.0, "resets_at": w_reset.isoformat()}}
    snap = Snapshot(now, parse_usage(raw), raw)
    history = ((now - timedelta(hours=1), 20.0), (now, 40.0))
    plain = render_card(deep_dive_view(AppStatus(Phase.OK, snap), now, alerts_enabled=True,
                        show_model_limits=False))
    charted = render_card(deep_dive_view(AppStatus(Phase.OK, snap, session_history=history,
                                  weekly_history=history), now,
                          alerts_enabled=True, show_model_limits=False))
    assert charted.height - plain.height == 2 * (CHART_HEIGHT + 10)
