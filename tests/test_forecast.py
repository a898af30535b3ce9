"""The forecast rule (core/forecast.py), as tables of usage histories."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from claude_pulse.core.forecast import Forecast, burn_rate, describe, forecast
from claude_pulse.core.pace import SESSION_WINDOW, WEEK_WINDOW
from claude_pulse.core.usage import Window

UTC = timezone.utc
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
RESET = NOW + timedelta(hours=3)  # the 5-hour window started at 10:00


# Sentinels for the table: no forecast at all / a hit between now and the reset / any rate.
NO_FORECAST, SOON, ANY, FAST = object(), object(), object(), object()


def at(minutes: float) -> datetime:
    """A time relative to NOW, in minutes (negative = the past)."""
    return NOW + timedelta(minutes=minutes)


def series(*pairs: tuple[float, float]) -> list[tuple[datetime, float]]:
    return [(at(m), v) for m, v in pairs]


def every(step: int, start: int, end: int, value_at: float, per_min: float) -> list[
        tuple[datetime, float]]:
    """Samples every `step` minutes from `start` to `end` (minutes from NOW), linear."""
    return [(at(m), value_at + per_min * (m - end)) for m in range(start, end + 1, step)]


@pytest.mark.parametrize(
    ("points", "window", "hits", "rate"),
    [
        pytest.param(
            every(5, -60, 0, 40.0, 0.5),  # 30 points/hour, at 40% now
            Window(40.0, RESET),
            NOW + timedelta(hours=2), 30.0,
            id="steady-burn-hits-before-reset",
        ),
        pytest.param(
            every(5, -60, 0, 40.0, 0.25),  # 15/h: 60 points left take 4 h > 3 h left
            Window(40.0, RESET),
            None, 15.0,
            id="steady-burn-slow-enough",
        ),
        pytest.param(
            every(5, -60, 0, 40.0, 0.0),
            Window(40.0, RESET),
            None, 0.0,
            id="idle",
        ),
        pytest.param(
            # Flat at 20% for 50 min, then +30 points in the last 10 min.
            [*every(5, -60, -10, 20.0, 0.0), (at(-5), 35.0), (at(0), 50.0)],
            Window(50.0, RESET),
            SOON, FAST,
            id="burst-hits",
        ),
        pytest.param(
            # The old window's points (80-90%) are before the new window's start.
            [*every(5, -60, -5, 90.0, 0.2), (at(-2), 0.0)],
            Window(0.0, NOW + SESSION_WINDOW - timedelta(minutes=3)),
            NO_FORECAST, None,
            id="just-reset-by-resets-at",
        ),
        pytest.param(
            # Same data, but the server's resets_at is not updated yet: the drop is the reset.
            [*every(5, -60, -15, 90.0, 0.2), (at(-12), 1.0), (at(-6), 2.0), (at(0), 3.0)],
            Window(3.0, RESET),
            None, 10.0,
            id="just-reset-by-drop",
        ),
        pytest.param(
            [*every(5, -60, -20, 98.0, 0.1), (at(-15), 100.5), (at(0), 104.0)],
            Window(104.0, RESET),
            at(-15), ANY,
            id="over-100-first-time-seen",
        ),
        pytest.param(
            [],
            Window(101.0, RESET),
            NOW, None,
            id="over-100-without-history",
        ),
        pytest.param(
            series((-3, 10.0), (0, 12.0)),
            Window(12.0, RESET),
            NO_FORECAST, None,
            id="too-few-minutes",
        ),
        pytest.param(series((0, 12.0)), Window(12.0, RESET), NO_FORECAST, None, id="one-point"),
        pytest.param([], Window(12.0, RESET), NO_FORECAST, None, id="no-points"),
        pytest.param(
            series((-200, 10.0), (-150, 30.0)),  # older than the 60-min lookback
            Window(30.0, RESET),
            NO_FORECAST, None,
            id="only-old-points",
        ),
        pytest.param(every(5, -60, 0, 40.0, 0.5), Window(40.0, None), NO_FORECAST, None,
                     id="no-reset-time"),
        pytest.param(every(5, -60, 0, 40.0, 0.5), None, NO_FORECAST, None, id="no-window"),
        pytest.param(
            # Already almost there: the projection lands in the past → reported as now.
            series((-60, 70.0), (-20, 99.0)),
            Window(99.0, RESET),
            NOW, ANY,
            id="projection-in-the-past-is-now",
        ),
        pytest.param(
            [*every(5, -60, 0, 40.0, 0.5), (at(30), 99.0)],  # a future point (clock skew)
            Window(40.0, RESET),
            NOW + timedelta(hours=2), 30.0,
            id="future-points-ignored",
        ),
        pytest.param(
            series((-40, 30.0), (-20, 29.5), (0, 29.4)),  # tiny noise downwards
            Window(29.4, RESET),
            None, 0.0,
            id="negative-slope-is-idle",
        ),
    ],
)
def test_forecast_session(points: list[tuple[datetime, float]], window: Window | None,
                          hits: object, rate: object) -> None:
    got = forecast(points, window, NOW, length=SESSION_WINDOW)
    if hits is NO_FORECAST:
        assert got is None
        return
    assert got is not None
    if hits is SOON:
        assert got.hits_limit_at is not None and NOW < got.hits_limit_at < RESET
    elif hits is None:
        assert got.hits_limit_at is None
    else:
        assert isinstance(hits, datetime) and got.hits_limit_at is not None
        assert abs(got.hits_limit_at - hits) < timedelta(seconds=1)
    if rate is FAST:
        # Least squares over the hour weighs a late burst less than its own pace (30 points
        # in 10 min), yet the rate goes from 0 to enough to reach 100% before the reset.
        assert got.rate_per_hour is not None and got.rate_per_hour > 15
    elif rate is not ANY:
        assert got.rate_per_hour == (None if rate is None else pytest.approx(rate))


@pytest.mark.parametrize(
    ("resets_in", "length", "expected_hit"),
    [
        # 2 points/hour from 50% → 100% in 25 h; the week resets in 3 days.
        pytest.param(timedelta(days=3), WEEK_WINDOW, True, id="weekly-hits"),
        pytest.param(timedelta(hours=20), WEEK_WINDOW, False, id="weekly-resets-first"),
        pytest.param(timedelta(days=3), None, True, id="weekly-length-guessed"),
    ],
)
def test_forecast_weekly(resets_in: timedelta, length: timedelta | None,
                         expected_hit: bool) -> None:
    points = every(10, -60, 0, 50.0, 2.0 / 60)
    got = forecast(points, Window(50.0, NOW + resets_in), NOW, length=length)
    assert got is not None
    assert (got.hits_limit_at is not None) is expected_hit
    if expected_hit:
        assert got.hits_limit_at is not None
        assert abs(got.hits_limit_at - (NOW + timedelta(hours=25))) < timedelta(seconds=1)


@pytest.mark.parametrize(
    ("points", "lookback", "expected"),
    [
        pytest.param(series((-60, 0.0), (0, 10.0)), timedelta(minutes=60), 10.0, id="two-points"),
        pytest.param(series((-120, 0.0), (-60, 50.0), (0, 60.0)), timedelta(minutes=60), 10.0,
                     id="lookback-cuts"),
        pytest.param(series((-120, 0.0), (-60, 50.0), (0, 60.0)), timedelta(minutes=120), 30.0,
                     id="longer-lookback"),
        pytest.param(series((-9, 0.0), (0, 10.0)), timedelta(minutes=60), None, id="short-span"),
    ],
)
def test_burn_rate(points: list[tuple[datetime, float]], lookback: timedelta,
                   expected: float | None) -> None:
    got = burn_rate(points, NOW, lookback=lookback)
    assert got == (None if expected is None else pytest.approx(expected))


PARIS = timezone(timedelta(hours=1))


@pytest.mark.parametrize(
    ("fc", "now", "expected"),
    [
        pytest.param(Forecast(datetime(2026, 11, 28, 13, 35, tzinfo=UTC), 20.0), None,
                     "At this pace you reach 100% at 14:35", id="hits-local-time"),
        pytest.param(Forecast(datetime(2026, 11, 28, 13, 35, tzinfo=UTC), 20.0), NOW,
                     "At this pace you reach 100% at 14:35", id="hits-same-day"),
        pytest.param(Forecast(datetime(2026, 12, 1, 13, 35, tzinfo=UTC), 2.0), NOW,
                     "At this pace you reach 100% at Tue 14:35", id="hits-another-day"),
        pytest.param(Forecast(datetime(2026, 11, 28, 11, 5, tzinfo=UTC), None), NOW,
                     "Reached 100% at 12:05", id="already-over"),
        pytest.param(Forecast(None, 3.0), NOW, "Won't hit the limit before it resets",
                     id="wont-hit"),
        pytest.param(None, NOW, "Not enough recent data for a forecast", id="no-forecast"),
    ],
)
def test_describe(fc: Forecast | None, now: datetime | None, expected: str) -> None:
    assert describe(fc, PARIS, now=now) == expected
