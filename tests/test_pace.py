"""Pace math (spec §5.3-5.4) with `now` pinned."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from claude_pulse.core.pace import (
    SESSION_WINDOW,
    WEEK_WINDOW,
    elapsed_percent,
    is_over_budget,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("resets_in", "window", "expected"),
    [
        pytest.param(timedelta(hours=5), SESSION_WINDOW, 0.0, id="session-just-started"),
        pytest.param(timedelta(hours=2, minutes=30), SESSION_WINDOW, 50.0, id="session-half"),
        pytest.param(timedelta(hours=1), SESSION_WINDOW, 80.0, id="session-80"),
        pytest.param(timedelta(0), SESSION_WINDOW, 100.0, id="session-at-reset"),
        pytest.param(timedelta(minutes=-3), SESSION_WINDOW, 100.0, id="reset-in-the-past"),
        pytest.param(timedelta(hours=9), SESSION_WINDOW, 0.0, id="more-than-a-window-away"),
        pytest.param(timedelta(days=3, hours=12), WEEK_WINDOW, 50.0, id="week-half"),
        pytest.param(timedelta(days=7), WEEK_WINDOW, 0.0, id="week-start"),
        pytest.param(timedelta(days=6, hours=12), WEEK_WINDOW, 100 / 14, id="week-half-day"),
    ],
)
def test_elapsed_percent(resets_in: timedelta, window: timedelta, expected: float) -> None:
    assert elapsed_percent(NOW + resets_in, window, NOW) == pytest.approx(expected)


def test_elapsed_unknown_without_reset_time() -> None:
    assert elapsed_percent(None, WEEK_WINDOW, NOW) is None


@pytest.mark.parametrize(
    ("used", "elapsed", "over"),
    [
        pytest.param(68.0, 55.0, True, id="spec-example-over"),
        pytest.param(40.0, 55.0, False, id="on-track"),
        pytest.param(55.0, 55.0, False, id="exactly-on-pace"),
        pytest.param(1.0, 0.0, True, id="zero-elapsed-some-use"),
        pytest.param(0.0, 0.0, False, id="zero-elapsed-no-use"),
        pytest.param(104.0, 100.0, True, id="over-100"),
        pytest.param(None, 50.0, False, id="unknown-use"),
        pytest.param(50.0, None, False, id="unknown-time"),
    ],
)
def test_over_budget(used: float | None, elapsed: float | None, over: bool) -> None:
    assert is_over_budget(used, elapsed) is over

