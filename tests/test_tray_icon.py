"""The tray icon's pixels: both limits legible at 16 and 32 px, levels, stale and "log in".

Legibility is checked the way a user reads the icon: every number 0-105 gives a different
picture (no two collapse into one blob), each digit is its own column of ink, the digits are
as tall as their box, and the weekly bar's fill and elapsed tick sit where the values say.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

import pytest
from PIL import Image, ImageChops

from claude_pulse.core.gauge import AMBER, BLUE, GREY, LEVEL_COLORS, TEXT, Color, Level
from claude_pulse.core.snapshot import Snapshot
from claude_pulse.core.status import AppStatus, Phase
from claude_pulse.core.usage import Usage, Window
from claude_pulse.core.viewmodel import TrayView, tray_view
from claude_pulse.ui.render.tray import BAR_TRACK, icon_layout, render_tray_icon
from claude_pulse.ui.tray import icon_size_for

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
SIZES = [pytest.param(s, id=f"{s}px") for s in (16, 24, 32)]
LEGIBLE = [pytest.param(s, id=f"{s}px") for s in (16, 32)]


def view(session: float | None = 42.0, week: float | None = 68.0, *,
         week_elapsed: float = 0.55, phase: Phase = Phase.OK) -> TrayView:
    snap = None
    if session is not None or week is not None:
        usage = Usage(Window(session, NOW + timedelta(hours=2)),
                      Window(week, NOW + timedelta(days=7) * (1 - week_elapsed)), (), None)
        snap = Snapshot(NOW - timedelta(minutes=0 if phase is Phase.OK else 12), usage, {})
    return tray_view(AppStatus(phase, snap), NOW)


def number(text: str) -> TrayView:
    return TrayView(text, Level.NORMAL, False, 0.5, (), 0.5, Level.NORMAL, 0.5)


def near(pixel: tuple[int, ...], colour: Color, tolerance: int = 14) -> bool:
    return all(abs(int(a) - b) <= tolerance for a, b in zip(pixel[:3], colour, strict=True))


def text_ink(icon: Image.Image) -> list[tuple[int, int, int]]:
    """Opaque pixels of the number's box clearly brighter than the tile."""
    left, top, right, bottom = icon_layout(icon.width).text
    out = []
    for y in range(top, bottom):
        for x in range(left, right):
            p = icon.getpixel((x, y))
            assert isinstance(p, tuple)
            if p[3] == 255 and max(p[:3]) > 110:
                out.append((p[0], p[1], p[2]))
    return out


def dominant(pixels: list[tuple[int, int, int]]) -> tuple[int, int, int]:
    return max(set(pixels), key=pixels.count)


def bar_row(icon: Image.Image) -> list[tuple[int, int, int]]:
    """The middle row of the weekly bar, left to right."""
    x0, y0, x1, y1 = icon_layout(icon.width).bar
    row = []
    for x in range(x0, x1):
        p = icon.getpixel((x, (y0 + y1 - 1) // 2))
        assert isinstance(p, tuple)
        row.append((p[0], p[1], p[2]))
    return row


def digit_columns(icon: Image.Image) -> int:
    """How many separate runs of full-strength ink the number's box holds, left to right."""
    left, top, right, bottom = icon_layout(icon.width).text
    grey = icon.convert("L")
    strength = [max(int(grey.getpixel((x, y))) for y in range(top, bottom))  # type: ignore[arg-type]
                for x in range(left, right)]
    peak = max(strength)
    runs, inside = 0, False
    for value in strength:
        strong = value >= 0.6 * peak
        runs += strong and not inside
        inside = strong
    return runs


def ink_difference(a: Image.Image, b: Image.Image) -> float:
    """How much two L images differ, in pixels of full ink."""
    histogram = ImageChops.difference(a, b).histogram()
    return sum(level * count for level, count in enumerate(histogram)) / 255


@pytest.mark.parametrize("size", LEGIBLE)
def test_every_number_looks_different(size: int) -> None:
    box = icon_layout(size).text
    crops = {n: render_tray_icon(number(str(n)), size).crop(box).convert("L")
             for n in range(106)}
    closest = min(
        (ink_difference(crops[a], crops[b]), a, b)
        for a, b in itertools.combinations(crops, 2)
    )
    # In whole pixels of full ink: 16 px has 140 pixels for the number, 32 px has 588.
    assert closest[0] >= (5 if size == 16 else 20), closest


@pytest.mark.parametrize("host", [16, 22, 32])
def test_a_host_shrinking_the_big_png_keeps_every_number_apart(host: int) -> None:
    """GTK's status icon and AppIndicator hosts shrink the one PNG they get to their icon size
    (gdk-pixbuf's bilinear, which averages when it shrinks); the 64 px file we give them at 1x
    (`icon_size_for`) still reads at a 16, 22 or 32 px icon."""
    big = icon_size_for("appindicator", 1.0)
    left, top, right, bottom = icon_layout(big).text
    box = tuple(round(v * host / big) for v in (left, top, right, bottom))
    crops = {n: render_tray_icon(number(str(n)), big)
             .resize((host, host), Image.Resampling.BILINEAR).crop(box).convert("L")
             for n in range(106)}
    closest = min((ink_difference(crops[a], crops[b]), a, b)
                  for a, b in itertools.combinations(crops, 2))
    assert closest[0] >= (4 if host == 16 else 10), closest


@pytest.mark.parametrize("size", LEGIBLE)
@pytest.mark.parametrize("text", ["7", "42", "88", "100", "104"])
def test_each_digit_stands_apart_at_full_height(size: int, text: str) -> None:
    icon = render_tray_icon(number(text), size)
    assert digit_columns(icon) == len(text)
    left, top, right, bottom = icon_layout(size).text
    mask = icon.convert("L").crop((left, top, right, bottom)).point(lambda v: 255 if v > 110 else 0)
    ink_box = mask.getbbox()
    assert ink_box is not None
    assert ink_box[3] - ink_box[1] >= bottom - top - 1  # digits as tall as their box
    if len(text) >= 2:
        assert ink_box[2] - ink_box[0] >= (right - left) * 0.7  # and as wide


@pytest.mark.parametrize("size", SIZES)
def test_the_number_takes_most_of_the_tile_and_the_bar_stays_readable(size: int) -> None:
    layout = icon_layout(size)
    _, top, _, bottom = layout.text
    assert bottom - top >= size * 0.6
    x0, y0, x1, y1 = layout.bar
    assert y1 - y0 >= 3 and x1 - x0 >= size * 0.7
    assert bottom <= y0 - 1  # a gap between digits and bar
    assert y1 <= size - 1  # inside the rounded tile


@pytest.mark.parametrize("size", SIZES)
def test_levels_colour_the_number(size: int) -> None:
    colours = {}
    for percent, level in ((42.0, Level.NORMAL), (85.0, Level.WARNING), (92.0, Level.HIGH),
                           (97.0, Level.CRITICAL)):
        icon = render_tray_icon(view(percent), size)
        assert (icon.mode, icon.size) == ("RGBA", (size, size))
        colours[level] = dominant(text_ink(icon))
        assert near(colours[level], LEVEL_COLORS[level])
    assert len(set(colours.values())) == 4


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("week", [10.0, 68.0, 95.0])
def test_the_weekly_bar_fills_to_the_weeks_usage(size: int, week: float) -> None:
    row = bar_row(render_tray_icon(view(42.0, week), size))
    colour = TEXT if week < 80 else LEVEL_COLORS[Level.CRITICAL]
    kinds = "".join("F" if near(p, colour) else "T" if near(p, BLUE, 40) else
                    "E" if near(p, BAR_TRACK) else "?" for p in row)
    end = kinds.rindex("F") + 1
    assert abs(end - week / 100 * len(row)) <= 1, kinds
    assert set(kinds[:end]) <= {"F", "T"} and set(kinds[end:]) <= {"E", "T"}, kinds


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("elapsed", [0.2, 0.55, 0.9])
def test_the_elapsed_tick_marks_the_weeks_time(size: int, elapsed: float) -> None:
    row = bar_row(render_tray_icon(view(42.0, 30.0, week_elapsed=elapsed), size))
    ticks = [x for x, p in enumerate(row) if near(p, BLUE, 30)]
    assert len(ticks) == 1
    assert abs(ticks[0] - elapsed * (len(row) - 1)) <= 1


def test_over_budget_reads_as_fill_past_the_tick() -> None:
    over = bar_row(render_tray_icon(view(42.0, 70.0, week_elapsed=0.4), 32))
    tick = next(x for x, p in enumerate(over) if near(p, BLUE, 30))
    assert near(over[tick + 1], TEXT)  # usage runs on past the time
    under = bar_row(render_tray_icon(view(42.0, 20.0, week_elapsed=0.4), 32))
    tick = next(x for x, p in enumerate(under) if near(p, BLUE, 30))
    assert near(under[tick - 1], BAR_TRACK)


@pytest.mark.parametrize("size", SIZES)
def test_over_100_is_shown_as_is(size: int) -> None:
    icon = render_tray_icon(view(104.0), size)
    assert near(dominant(text_ink(icon)), LEVEL_COLORS[Level.CRITICAL])
    assert digit_columns(icon) == 3
    assert icon.tobytes() != render_tray_icon(view(100.0), size).tobytes()


@pytest.mark.parametrize(
    "stale", [pytest.param(Phase.OFFLINE, id="offline"),
              pytest.param(Phase.RATE_LIMITED, id="rate-limited"),
              pytest.param(Phase.SERVER_ERROR, id="server-error")])
@pytest.mark.parametrize("size", SIZES)
def test_stale_numbers_are_grey_and_keep_both_limits(stale: Phase, size: int) -> None:
    icon = render_tray_icon(view(97.0, 68.0, phase=stale), size)
    assert near(dominant(text_ink(icon)), GREY)
    row = bar_row(icon)
    assert sum(near(p, GREY) for p in row) >= len(row) * 0.6  # the week, greyed too
    assert not any(near(p, BLUE, 30) for p in row)  # no live pace marker on old numbers


@pytest.mark.parametrize(
    "phase", [pytest.param(Phase.REAUTH, id="log-in-again"),
              pytest.param(Phase.LOGIN_FAILED, id="login-failed"),
              pytest.param(Phase.SIGNED_OUT, id="signed-out")])
@pytest.mark.parametrize("size", SIZES)
def test_needs_action_is_an_amber_mark_not_stale_grey(phase: Phase, size: int) -> None:
    has_numbers = phase is Phase.REAUTH
    icon = render_tray_icon(view(42.0 if has_numbers else None,
                                 68.0 if has_numbers else None, phase=phase), size)
    ink = text_ink(icon)
    assert near(dominant(ink), AMBER)
    assert digit_columns(icon) == 1  # "!", not a number
    stale = render_tray_icon(view(42.0, 68.0, phase=Phase.OFFLINE), size)
    assert not any(near(p, AMBER, 40) for p in text_ink(stale))


def test_unknown_is_a_dash() -> None:
    icon = render_tray_icon(view(None, None, phase=Phase.LOADING), 16)
    ink = text_ink(icon)
    assert 0 < len(ink) < len(text_ink(render_tray_icon(view(88.0), 16))) / 2
    assert all(near(p, BAR_TRACK) for p in bar_row(icon))  # an empty week


def test_corners_are_transparent() -> None:
    alpha = render_tray_icon(view(), 32).getchannel("A")
    assert alpha.getpixel((0, 0)) == alpha.getpixel((31, 31)) == 0  # rounded
    assert alpha.getpixel((16, 1)) == 255
