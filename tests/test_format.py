"""`core.format`, and every surface saying the same thing for the same state (issue 12 item 4).

The table at the end renders one state on the tray tooltip, the Deep Dive window, `status`,
`statusline` and the alerts, and checks each says it in the shared words: a live window, a
window whose reset time has passed, a window over 100 %, and stale numbers.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from claude_pulse.core.alerts import AlertMemory, AlertSettings, WindowMemory, evaluate
from claude_pulse.core.format import (
    TOOLTIP_MAX,
    WindowState,
    age,
    clip_tooltip,
    clock_time,
    duration,
    money,
    percent,
    resets_phrase,
    window_state,
)
from claude_pulse.core.report import status_text
from claude_pulse.core.snapshot import Snapshot
from claude_pulse.core.status import AppStatus, Phase
from claude_pulse.core.statusline import format_line
from claude_pulse.core.usage import Usage, Window
from claude_pulse.core.viewmodel import deep_dive_view, tray_view

UTC = timezone.utc
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)  # a Saturday


@pytest.mark.parametrize(("span", "long", "compact"), [
    pytest.param(timedelta(seconds=-30), "<1m", "<1m", id="negative"),
    pytest.param(timedelta(seconds=59), "<1m", "<1m", id="under-a-minute"),
    pytest.param(timedelta(minutes=45, seconds=59), "45m", "45m", id="minutes-rounded-down"),
    pytest.param(timedelta(hours=2), "2h", "2h", id="whole-hours"),
    pytest.param(timedelta(hours=2, minutes=5), "2h 5m", "2h05m", id="hours-minutes"),
    pytest.param(timedelta(hours=23, minutes=59, seconds=59), "23h 59m", "23h59m", id="a-day-less"),
    pytest.param(timedelta(days=1), "1d", "1d", id="one-day"),
    pytest.param(timedelta(days=3, hours=4, minutes=30), "3d 4h", "3d4h", id="days-hours"),
])
def test_duration(span: timedelta, long: str, compact: str) -> None:
    assert duration(span) == long
    assert duration(span, compact=True) == compact


@pytest.mark.parametrize(("span", "text"), [
    pytest.param(timedelta(seconds=20), "just now", id="seconds"),
    pytest.param(timedelta(minutes=12, seconds=30), "12 min ago", id="minutes"),
    pytest.param(timedelta(hours=2, minutes=5), "2h 5m ago", id="hours"),
    pytest.param(timedelta(days=2, hours=1), "2d 1h ago", id="days"),
])
def test_age(span: timedelta, text: str) -> None:
    assert age(span) == text


@pytest.mark.parametrize(("value", "text"), [
    pytest.param(None, "–", id="unknown"),
    pytest.param(float("nan"), "–", id="nan"),
    pytest.param(0.0, "0%", id="zero"),
    pytest.param(50.6, "50%", id="rounded-down-not-51"),
    pytest.param(99.9, "99%", id="not-100-until-reached"),
    pytest.param(104.0, "104%", id="over-100-as-sent"),
    pytest.param(-3.0, "0%", id="negative"),
])
def test_percent_rounds_down(value: float | None, text: str) -> None:
    assert percent(value) == text


@pytest.mark.parametrize(("cents", "currency", "text"), [
    pytest.param(40843, "USD", "$408.43", id="dollars"),
    pytest.param(123456789, "EUR", "€1,234,567.89", id="thousands"),
    pytest.param(500, "CHF", "5.00 CHF", id="no-symbol"),
])
def test_money(cents: float, currency: str, text: str) -> None:
    assert money(cents, currency) == text


@pytest.mark.parametrize(("moment", "hour24", "text"), [
    pytest.param(NOW.replace(hour=14, minute=5), True, "14:05", id="24h"),
    pytest.param(NOW.replace(hour=14, minute=5), False, "2:05 PM", id="12h-afternoon"),
    pytest.param(NOW.replace(hour=0, minute=7), False, "12:07 AM", id="12h-midnight"),
    pytest.param(NOW.replace(hour=12, minute=0), False, "12:00 PM", id="12h-noon"),
    pytest.param(NOW + timedelta(days=1, hours=2), True, "Sun 14:00", id="another-day"),
])
def test_clock_time(moment: datetime, hour24: bool, text: str) -> None:
    assert clock_time(moment, NOW, UTC, hour24=hour24) == text


@pytest.mark.parametrize(("window", "state"), [
    pytest.param(None, WindowState.UNKNOWN, id="no-window"),
    pytest.param(Window(None, NOW + timedelta(hours=1)), WindowState.UNKNOWN, id="no-number"),
    pytest.param(Window(42.0, None), WindowState.LIVE, id="reset-time-unknown"),
    pytest.param(Window(42.0, NOW + timedelta(hours=1)), WindowState.LIVE, id="live"),
    pytest.param(Window(42.0, NOW), WindowState.RESET_PASSED, id="resets-now"),
    pytest.param(Window(42.0, NOW - timedelta(minutes=10)), WindowState.RESET_PASSED,
                 id="reset-10-min-ago"),
])
def test_window_state(window: Window | None, state: WindowState) -> None:
    assert window_state(window, NOW) is state


def test_resets_phrase() -> None:
    live = Window(42.0, NOW + timedelta(hours=2, minutes=5))
    gone = Window(42.0, NOW - timedelta(minutes=10))
    assert resets_phrase(live, NOW, UTC) == "resets in 2h 5m"
    assert resets_phrase(live, NOW, UTC, compact=True) == "resets 2h05m"
    assert resets_phrase(gone, NOW, UTC) == "reset at 11:50"
    assert resets_phrase(gone, NOW, UTC, hour24=False) == "reset at 11:50 AM"
    assert resets_phrase(gone, NOW, UTC, compact=True) == "reset"
    assert resets_phrase(Window(1.0, None), NOW, UTC) == "reset time unknown"


def test_clip_tooltip() -> None:
    assert clip_tooltip(["Claude Pulse", "short"]) == ("Claude Pulse", "short")
    long = ["Claude Pulse", "x" * 100, "y" * 40]
    clipped = clip_tooltip(long)
    assert clipped[0] == "x" * 100  # the title goes first
    assert len("\n".join(clipped)) == TOOLTIP_MAX and clipped[-1].endswith("…")


# --- the same words on every surface ----------------------------------------------------------

SESSION_RESET = NOW + timedelta(hours=2, minutes=13)
WEEK_RESET = NOW + timedelta(days=3, hours=4)


def usage(session: Window, weekly: float = 20.0) -> Usage:
    return Usage(session, Window(weekly, WEEK_RESET))


def surfaces(snapshot: Snapshot, phase: Phase) -> dict[str, str]:
    """Each surface's text for `snapshot`, shown at NOW with the app in `phase`."""
    status = AppStatus(phase, snapshot, NOW + timedelta(minutes=5))
    view = deep_dive_view(status, NOW, alerts_enabled=True, show_model_limits=False, tz=UTC)
    banner = view.banner
    stale_age = NOW - snapshot.fetched_at if status.is_stale else None
    start = AlertMemory(session=WindowMemory(SESSION_RESET), weekly=WindowMemory(WEEK_RESET))
    alerts, _ = evaluate(snapshot.usage, start, AlertSettings(thresholds=(80,)), NOW)
    return {
        "tooltip": tray_view(status, NOW, tz=UTC).tooltip,
        "window": " | ".join([view.session.percent_text, view.session.resets_text,
                              *([banner.title, banner.detail or ""] if banner else [])]),
        "status": status_text(snapshot.usage, snapshot.fetched_at, NOW, tz=UTC,
                              stale_reason="offline" if stale_age else None),
        "statusline": format_line(snapshot.usage, NOW, stale_age=stale_age),
        "alerts": " | ".join(f"{a.title}: {a.body}" for a in alerts),
    }


CASES = [
    pytest.param(
        Snapshot(NOW, usage(Window(42.0, SESSION_RESET)), {}), Phase.OK,
        {"tooltip": ["Session 42%", "resets in 2h 13m"], "window": ["42%", "Resets in 2h 13m"],
         "status": ["42%", "resets in 2h 13m"], "statusline": ["5h 42%", "resets 2h13m"],
         "alerts": []},
        id="live"),
    pytest.param(
        Snapshot(NOW - timedelta(minutes=15), usage(Window(77.0, NOW - timedelta(minutes=10))),
                 {}), Phase.OK,
        {"tooltip": ["Session reset at 11:50"], "window": ["–", "Reset at 11:50"],
         "status": ["reset at 11:50"], "statusline": ["5h reset"], "alerts": []},
        id="reset-passed"),
    pytest.param(
        Snapshot(NOW, usage(Window(104.6, SESSION_RESET)), {}), Phase.OK,
        {"tooltip": ["Session 104%"], "window": ["104%"], "status": ["104%"],
         "statusline": ["5h 104%"], "alerts": ["104% used", "resets in 2h 13m"]},
        id="over-100"),
    pytest.param(
        Snapshot(NOW - timedelta(minutes=12), usage(Window(42.0, SESSION_RESET)), {}),
        Phase.OFFLINE,
        {"tooltip": ["Session 42%", "12 min ago"], "window": ["42%", "12 min ago"],
         "status": ["42%", "12 min ago", "stale"], "statusline": ["5h 42%", "(stale 12m)"],
         "alerts": []},
        id="stale"),
]


@pytest.mark.parametrize(("snapshot", "phase", "expected"), CASES)
def test_every_surface_says_the_same(snapshot: Snapshot, phase: Phase,
                                     expected: dict[str, list[str]]) -> None:
    texts = surfaces(snapshot, phase)
    for surface, words in expected.items():
        for word in words:
            assert word in texts[surface], f"{surface}: {word!r} not in {texts[surface]!r}"
        if not words:
            assert texts[surface] == "", f"{surface} should say nothing: {texts[surface]!r}"
    # What no surface may say: a number from before the reset as current, a countdown for a
    # window that is over, the rounding-up of a percent.
    if snapshot.usage.session and snapshot.usage.session.resets_at and \
            snapshot.usage.session.resets_at <= NOW:
        for surface, text in texts.items():
            assert "77" not in text and "<1m" not in text, (surface, text)
    for surface, text in texts.items():
        assert "105%" not in text, (surface, text)


def test_over_budget_reads_the_same_everywhere() -> None:
    week = Window(60.6, NOW + timedelta(days=3, hours=12))  # 50 % of the week elapsed
    snap = Snapshot(NOW, Usage(Window(10.0, SESSION_RESET), week), {})
    status = AppStatus(Phase.OK, snap)
    view = deep_dive_view(status, NOW, alerts_enabled=True, show_model_limits=False, tz=UTC)
    assert view.weekly.pill_text == "Over budget"
    assert "Weekly 60% · resets in 3d 12h · Over budget" in tray_view(status, NOW).tooltip
    assert "Over budget" in status_text(snap.usage, NOW, NOW, tz=UTC)
    assert format_line(snap.usage, NOW).endswith("7d 60% ▲")
    alerts, _ = evaluate(snap.usage, AlertMemory(), AlertSettings(thresholds=(95,)), NOW)
    (pace,) = alerts
    assert pace.body == "Over budget: 60% used with 50% of the week elapsed"


def test_the_pace_alert_floors_like_everything_else() -> None:
    """Before: "51% used with 51% of the week elapsed" for 51.2 % used at 50.6 % elapsed (the
    elapsed part was rounded, not floored) while calling the week over budget."""
    resets = NOW + timedelta(days=7) * (1 - 0.506)
    alerts, _ = evaluate(Usage(None, Window(51.2, resets)), AlertMemory(),
                         AlertSettings(thresholds=(95,)), NOW)
    (pace,) = alerts
    assert pace.body == "Over budget: 51% used with 50% of the week elapsed"


def test_twelve_hour_clock_on_every_surface_that_shows_a_time() -> None:
    snap = Snapshot(NOW.replace(hour=14, minute=5),
                    usage(Window(42.0, NOW.replace(hour=13))), {})
    at = NOW.replace(hour=16, minute=10)  # over an hour later: the time, not the age
    status = AppStatus(Phase.OK, snap)
    view = deep_dive_view(status, at, alerts_enabled=True, show_model_limits=False, tz=UTC,
                          hour24=False)
    assert view.last_refresh_text == "From Anthropic · 2:05 PM"
    assert view.session.resets_text == "Reset at 1:00 PM"
    assert "Session reset at 1:00 PM" in tray_view(status, at, tz=UTC, hour24=False).tooltip
    assert "Updated 2:05 PM" in status_text(snap.usage, snap.fetched_at, at, tz=UTC,
                                            hour24=False)
