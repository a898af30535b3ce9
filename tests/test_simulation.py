"""The demo's simulated account: the story its docstring promises, checked without sleeping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest

from claude_pulse.core.pace import WEEK_WINDOW, elapsed_percent, is_over_budget
from claude_pulse.core.usage import parse_usage
from claude_pulse.fake.simulation import (
    DEFAULT_SPEED,
    SPEED_ENV,
    Scenario,
    SimulatedAccount,
    SimulatedClock,
    speed_from_env,
)

START = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)


def at(real_seconds: float, speed: float = DEFAULT_SPEED) -> datetime:
    return START + timedelta(seconds=real_seconds * speed)


@pytest.fixture
def account() -> SimulatedAccount:
    return SimulatedAccount(START)


def first_real_second(account: SimulatedAccount,
                      predicate: Callable[[SimulatedAccount, datetime], bool]) -> float:
    """The first real second (in 0.5 s steps) at which the predicate holds."""
    for half_seconds in range(0, 2 * 600):
        seconds = half_seconds / 2
        if predicate(account, at(seconds)):
            return seconds
    raise AssertionError("never happened in 10 minutes")


def session(account: SimulatedAccount, now: datetime) -> float:
    return account.session_at(now)[0]


@pytest.mark.parametrize(("threshold", "by_second"), [
    pytest.param(80, 10, id="80pct"), pytest.param(90, 23, id="90pct"),
    pytest.param(95, 30, id="95pct"), pytest.param(100, 37, id="100pct"),
])
def test_the_session_crosses_each_threshold_early_in_the_demo(
    account: SimulatedAccount, threshold: float, by_second: float
) -> None:
    crossed = first_real_second(account, lambda a, now: session(a, now) >= threshold)
    assert 0 < crossed <= by_second


def test_the_session_tops_out_above_100_then_resets_within_a_minute(
    account: SimulatedAccount,
) -> None:
    peak = max(session(account, at(s)) for s in range(0, 50))
    assert peak == Scenario().session_cap
    reset = first_real_second(account, lambda a, now: session(a, now) < 10)
    assert 45 <= reset <= 55
    before, after = account.session_at(at(reset - 1)), account.session_at(at(reset))
    assert after[1] - before[1] == timedelta(hours=5)  # the next window's reset time


def test_the_week_starts_on_track_and_goes_over_budget_within_half_a_minute(
    account: SimulatedAccount,
) -> None:
    def over(a: SimulatedAccount, now: datetime) -> bool:
        used, resets = a.weekly_at(now)
        elapsed = elapsed_percent(resets, WEEK_WINDOW, now)
        assert elapsed is not None
        return is_over_budget(used, elapsed)

    assert not over(account, at(0))
    assert 5 < first_real_second(account, over) <= 30


def test_the_weekly_value_only_grows_and_resets_with_the_week(account: SimulatedAccount) -> None:
    values = [account.weekly_at(START + timedelta(hours=h))[0] for h in range(0, 84)]
    assert values == sorted(values)
    assert max(values) <= 100
    week_reset = account.weekly_at(START)[1]
    assert week_reset - START == timedelta(days=3.5)
    assert account.weekly_at(week_reset + timedelta(minutes=1))[0] < 5


@pytest.mark.parametrize("real_seconds", [0, 9, 36, 51, 300, 4000])
def test_every_answer_parses_like_the_real_endpoint(
    account: SimulatedAccount, real_seconds: int
) -> None:
    now = at(real_seconds)
    usage = parse_usage(account.usage_at(now))
    assert usage.session is not None and usage.weekly is not None
    assert usage.session.resets_at is not None and usage.session.resets_at > now
    assert usage.weekly.resets_at is not None and usage.weekly.resets_at > now
    assert usage.session.utilization == int(usage.session.utilization or 0)
    labels = [limit.label for limit in usage.limits]
    assert any("Opus" in label for label in labels)


def test_calling_the_account_uses_its_clock() -> None:
    now = [START]
    account = SimulatedAccount(START, clock=lambda: now[0])
    first = account()["five_hour"]["utilization"]
    now[0] = START + timedelta(minutes=30)
    assert account()["five_hour"]["utilization"] > first


def test_the_simulated_clock_runs_speed_times_faster() -> None:
    real = [100.0]
    clock = SimulatedClock(START, 120.0, monotonic=lambda: real[0])
    assert clock() == START
    real[0] += 1.5
    assert clock() == START + timedelta(minutes=3)
    with pytest.raises(ValueError, match="timezone"):
        SimulatedClock(datetime(2026, 1, 1), 2.0)  # a naive start is refused


@pytest.mark.parametrize(("value", "speed"), [
    pytest.param(None, DEFAULT_SPEED, id="unset"),
    pytest.param("600", 600.0, id="faster"),
    pytest.param("1", 1.0, id="real-time"),
    pytest.param("0.5", DEFAULT_SPEED, id="too-slow"),
    pytest.param("1e9", DEFAULT_SPEED, id="too-fast"),
    pytest.param("nan", DEFAULT_SPEED, id="nan"),
    pytest.param("fast", DEFAULT_SPEED, id="not-a-number"),
])
def test_speed_from_env(value: str | None, speed: float) -> None:
    env = {} if value is None else {SPEED_ENV: value}
    assert speed_from_env(env) == speed


def test_before_the_demo_the_week_climbs_from_zero(account: SimulatedAccount) -> None:
    week_start = account.weekly_at(START)[1] - timedelta(days=7)
    assert account.weekly_at(week_start)[0] == 0
    halfway = week_start + (START - week_start) / 2
    assert account.weekly_at(halfway)[0] == pytest.approx(Scenario().weekly_start / 2)
    assert account.weekly_at(START)[0] == Scenario().weekly_start
