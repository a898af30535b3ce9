"""Issue 18's "done when": the app stays inside Anthropic's request budget.

The whole app on a simulated clock (tests/support/request_sim.py: the real gate, poller,
token manager, usage client and `statusline()`, over real HTTP to the fake server on
127.0.0.1), with the default config, the Deep Dive open the whole time and Claude Code calling
`statusline` every second without its feed. Then real processes: 40 `status` runs in a row.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from claude_pulse.core.status import Phase
from claude_pulse.fake.anthropic import FakeAnthropic
from support.fixtures_server import seed_credentials
from support.request_sim import Sim, busiest_hour, start_sim

START = datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)
BUDGET = 20  # max_requests_per_hour's default
MINUTE = timedelta(minutes=1)


@pytest.fixture
def sim(tmp_path: Path) -> Sim:
    s = start_sim(tmp_path / "home", START)
    s.statusline_every(1.0)
    yield s
    s.close()


def phases(sim: Sim, since: datetime = START) -> set[Phase]:
    return {status.phase for at, status in sim.phases if at >= since}


@pytest.mark.slow
def test_six_hours_window_open_statusline_every_second_stay_within_20_an_hour(sim: Sim) -> None:
    sim.run_for(timedelta(hours=6))
    usage = sim.usage_times()
    assert busiest_hour(usage) <= BUDGET
    # The budget is used, not wasted: about one poll per interval (180 s ±10 %).
    assert 6 * 18 <= len(usage) <= 6 * BUDGET
    # The status line shared the tray's answers: never stale, never a request of its own that
    # raced the tray's (two requests within a minute).
    assert len(sim.lines) >= 6 * 3600 - 2
    assert not [line for _, line in sim.lines if "stale" in line]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(usage)]
    assert min(gaps) >= 60, gaps
    # And the tray never showed a problem: the budget is planned around, not run into.
    assert phases(sim, START + MINUTE) == {Phase.OK}
    assert sim.token_times() == []  # an 8-hour token needs no refresh in 6 hours


def _blocked_at(sim: Sim, regime: str) -> datetime:
    """Start a block at 1 h; returns when the first 429 was answered."""
    sim.run_for(timedelta(hours=1))
    sim.server.rate_limit(regime)  # type: ignore[arg-type]
    before = len(sim.usage_times())
    sim.run_for(timedelta(minutes=5))
    usage = sim.usage_times()
    assert len(usage) == before + 1, "the next poll should have met the block"
    return usage[-1]


@pytest.mark.slow
def test_after_a_429_with_retry_after_0_wait_20_min_then_at_most_10_an_hour(sim: Sim) -> None:
    hit = _blocked_at(sim, "token")  # Retry-After: 0, this token blocked for 20 min
    sim.run_for(timedelta(hours=2, minutes=30))
    after = sim.usage_times(since=hit + timedelta(seconds=1))
    assert after[0] - hit >= timedelta(minutes=20)
    assert len(sim.usage_times(since=hit, until=hit + timedelta(hours=1))) <= 10
    cooled = after[0]
    assert len(sim.usage_times(since=cooled, until=cooled + timedelta(hours=1))) <= 10
    # The block had lapsed: no second 429, and after the probation hour the normal pace again.
    later = sim.usage_times(since=cooled + timedelta(hours=1))
    assert len(later) >= 5 and busiest_hour(sim.usage_times()) <= BUDGET
    assert Phase.RATE_LIMITED in phases(sim, hit)
    assert [s.phase for _, s in sim.phases][-1] is Phase.OK
    # Meanwhile the status line showed the last numbers, marked stale with the next request.
    during = [line for at, line in sim.lines if hit + MINUTE < at < cooled]
    assert during and all("stale" in line and "next" in line for line in during)


@pytest.mark.slow
def test_after_a_429_with_retry_after_3600_wait_75_min_and_a_refresh_changes_nothing(
        tmp_path: Path) -> None:
    # The access token runs out 90 min after the start, during the cooldown.
    sim = start_sim(tmp_path / "home", START, access_token_ttl=90 * 60.0)
    sim.statusline_every(1.0)
    try:
        hit = _blocked_at(sim, "account")  # Retry-After: 3600, every token of the account
        # Another process refreshes the login 40 minutes into the cooldown (a new token).
        sim.run_for(timedelta(minutes=40) - (sim.loop.now - hit))
        sim.cli.tokens.refresh()
        assert len(sim.token_times()) == 1
        sim.run_for(timedelta(hours=2))
        after = sim.usage_times(since=hit + timedelta(seconds=1))
        assert after, "polling never resumed"
        assert after[0] - hit >= timedelta(minutes=75)
        assert len(sim.usage_times(since=hit, until=hit + timedelta(minutes=75))) == 1
        assert len(sim.usage_times(since=after[0], until=after[0] + timedelta(hours=1))) <= 10
        assert [s.phase for _, s in sim.phases][-1] is Phase.OK
    finally:
        sim.close()


@pytest.mark.slow
def test_cooldowns_in_a_row_lengthen(sim: Sim) -> None:
    hit = _blocked_at(sim, "token")
    # Blocked again at the first request after the cooldown: the next wait doubles.
    sim.run_for(timedelta(minutes=20) - (sim.loop.now - hit) - timedelta(seconds=5))
    sim.server.rate_limit("token")
    sim.run_for(timedelta(hours=2))
    after = sim.usage_times(since=hit + timedelta(seconds=1))
    second = after[0]
    assert second - hit >= timedelta(minutes=20)
    assert after[1] - second >= timedelta(minutes=40)


@pytest.mark.slow
def test_forty_status_runs_send_at_most_20_usage_requests(
        fake_server: FakeAnthropic, fake_config: Path, pulse_home: Path) -> None:
    seed_credentials(pulse_home, fake_server)
    env = {**os.environ, "CLAUDE_PULSE_HOME": str(pulse_home)}
    outs = []
    for _ in range(40):
        run = subprocess.run([sys.executable, "-m", "claude_pulse", "status", "--json"],
                             capture_output=True, text=True, timeout=60, env=env,
                             stdin=subprocess.DEVNULL)
        outs.append(run)
        assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
    assert len(fake_server.requests_to("usage")) == BUDGET
    refused = [json.loads(run.stdout) for run in outs[BUDGET:]]
    assert all(shown["stale"] for shown in refused)
    assert all("request budget (20 per hour) used up; next request at" in shown["stale_reason"]
               for shown in refused)
    assert all(shown["next_try"] for shown in refused)
    assert all("next request at" in run.stderr for run in outs[BUDGET:])
