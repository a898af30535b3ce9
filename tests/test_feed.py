"""Issue 14's "done when", in simulated time: the tray lives on Claude Code's feed.

The whole app on a simulated clock (tests/support/request_sim.py: the real gate, poller, token
manager, usage client, history and `statusline()`, over real HTTP to the fake server on
127.0.0.1), with Claude Code running `statusline` every 5 s with its JSON on stdin. A run that
saved new numbers tells the tray (the real `platform.poke` does that over a socket; the real
processes are in tests/test_app.py, test_statusline.py and test_poke.py). The fake server's own
numbers differ from the fed ones, so every number shown says where it came from. Last, `status
--json` as a real process: its `source` is the truth about its numbers.
"""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from claude_pulse.core.status import Phase
from claude_pulse.fake.anthropic import FakeAnthropic
from support.fakes import claude_code_stdin, usage_payload
from support.fixtures_server import seed_credentials
from support.request_sim import Sim, start_sim

START = datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)
MINUTE = timedelta(minutes=1)
INTERVAL = timedelta(seconds=180)  # poll_interval_seconds' default


class Feed:
    """Claude Code's stdin JSON at the simulated time; the session rises 1 % a minute."""

    def __init__(self, sim: Sim, start: float = 20.0) -> None:
        self.sim = sim
        self.start = start
        self.on = True

    def session(self, at: datetime) -> float:
        return self.start + (at - START) // MINUTE

    def __call__(self) -> bytes | None:
        if not self.on:
            return None
        now = self.sim.loop.now
        return claude_code_stdin(self.session(now), 40.0, START,
                                 session_resets_in=timedelta(hours=4),
                                 weekly_resets_in=timedelta(days=3))


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[Sim]:
    s = start_sim(tmp_path / "home", START)
    yield s
    s.close()


def shown_session(sim: Sim, at: datetime) -> float | None:
    """The session number the tray showed at `at` (its last status then)."""
    last = [status for when, status in sim.phases if when <= at]
    snap = last[-1].snapshot if last else None
    return snap.usage.session.utilization if snap and snap.usage.session else None


def test_ten_minutes_on_the_feed_cost_one_request_and_the_tray_follows_it(sim: Sim) -> None:
    feed = Feed(sim)
    sim.statusline_every(5.0, feed, poke=True)
    sim.run_for(10 * MINUTE)
    # The initial full fetch, and nothing after it.
    assert len(sim.usage_times()) == 1 and sim.usage_times()[0] == START
    # Every fed number was on the tray at the moment the status line printed it.
    fed = [(at, line) for at, line in sim.lines]
    assert len(fed) == 120
    for at, line in fed:
        assert line.startswith(f"5h {int(feed.session(at))}%"), line
        assert shown_session(sim, at) == feed.session(at)
    final = sim.poller.status
    assert final.phase is Phase.OK
    assert final.snapshot is not None and final.snapshot.source == "claude-code"
    # The full answer's per-model limits stay under the feed's numbers.
    assert [lim.label for lim in final.snapshot.usage.limits] == \
        [lim.label for lim in sim.phases[1][1].snapshot.usage.limits]  # type: ignore[union-attr]
    assert final.snapshot.usage.limits


def test_without_pokes_the_tray_takes_the_feed_at_its_own_wake_ups(sim: Sim) -> None:
    # A poke that did not arrive (the tray was busy, its record unreadable): the scheduled
    # poll finds the live feed in the shared snapshot and asks nobody.
    feed = Feed(sim)
    sim.statusline_every(5.0, feed)
    sim.run_for(10 * MINUTE)
    assert len(sim.usage_times()) == 1
    assert sim.poller.status.snapshot is not None
    assert sim.poller.status.snapshot.source == "claude-code"
    # The numbers lag by at most an interval (the feed snapshot turning an interval old is
    # what wakes the tray), never by more.
    late = START + INTERVAL + 10 * timedelta(seconds=1)
    for at, _line in sim.lines:
        if at >= late:
            shown = shown_session(sim, at)
            assert shown is not None
            assert feed.session(at - INTERVAL - 10 * timedelta(seconds=1)) <= shown
            assert shown <= feed.session(at)


def test_while_the_feed_is_live_one_full_request_every_thirty_minutes(sim: Sim) -> None:
    sim.statusline_every(5.0, Feed(sim), poke=True)
    sim.run_for(2 * 60 * MINUTE + MINUTE)
    usage = sim.usage_times()
    gaps = [(b - a).total_seconds() / 60 for a, b in itertools.pairwise(usage)]
    assert len(usage) == 5, usage  # at 0, 30, 60, 90 and 120 minutes
    assert all(30 <= gap < 31 for gap in gaps), gaps
    assert {status.phase for at, status in sim.phases if at > START} == {Phase.OK}


def test_the_same_numbers_fed_for_ten_minutes_cost_one_request_too(sim: Sim) -> None:
    feed = Feed(sim)
    feed.session = lambda at: 33.0  # type: ignore[method-assign]
    sim.statusline_every(5.0, feed, poke=True)
    sim.run_for(10 * MINUTE)
    assert len(sim.usage_times()) == 1


def test_when_the_feed_goes_quiet_polling_resumes_at_the_interval(sim: Sim) -> None:
    feed = Feed(sim)
    sim.statusline_every(5.0, feed, poke=True)
    sim.run_for(10 * MINUTE)
    feed.on = False  # Claude Code closed; the status line no longer runs with a feed
    quiet_from = sim.loop.now
    sim.run_for(30 * MINUTE)
    after = sim.usage_times(since=quiet_from)
    # The last feed snapshot turns an interval old: from then on the tray asks itself, about
    # once per interval (180 s ±10 %, the status line sharing its answers).
    assert after and after[0] - quiet_from <= INTERVAL
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(after)]
    assert gaps and all(150 <= gap <= 220 for gap in gaps), gaps
    assert sim.poller.status.snapshot is not None
    assert sim.poller.status.snapshot.source == "api"


def test_the_feeds_numbers_bring_the_alerts(sim: Sim) -> None:
    # From 75 % at 1 % a minute: the 80 % alert comes from the feed, between full requests.
    sim.statusline_every(5.0, Feed(sim, start=75.0), poke=True)
    sim.run_for(10 * MINUTE)
    assert len(sim.usage_times()) == 1
    keys = [alert.key for alert in sim.tray.notifier.sent]  # type: ignore[attr-defined]
    assert keys.count("session:80") == 1, keys


def test_charts_and_forecasts_work_from_the_feed_alone(tmp_path: Path) -> None:
    # Signed out, so the tray never asks: every sample is the feed's.
    sim = start_sim(tmp_path / "home", START)
    try:
        sim.tray.credentials.clear()  # before the tray starts (it is posted, not run yet)
        feed = Feed(sim)
        sim.statusline_every(5.0, feed, poke=True)
        sim.run_for(30 * MINUTE)
        status = sim.poller.status
        assert sim.usage_times() == []
        assert status.phase is Phase.SIGNED_OUT
        assert status.snapshot is not None and status.snapshot.source == "claude-code"
        assert len(status.session_history) >= 25  # one sample a minute, when the number moves
        assert status.session_forecast is not None
        # 1 % a minute from 20 % at 9:00: 100 % at 10:20.
        hits = status.session_forecast.hits_limit_at
        assert hits is not None and abs(hits - (START + 80 * MINUTE)) < 2 * MINUTE
        conn = sqlite3.connect(sim.tray.home.history)
        try:
            sources = {row[0] for row in conn.execute("SELECT DISTINCT source FROM samples")}
        finally:
            conn.close()
        assert sources == {"claude-code"}
    finally:
        sim.close()


# -- `status --json` says truthfully where its numbers came from (real processes) -------------


def test_status_json_source_is_the_truth_about_the_numbers(
    fake_server: FakeAnthropic, fake_config: Path, pulse_home: Path,
) -> None:
    seed_credentials(pulse_home, fake_server)
    fake_server.usage = usage_payload(37.0, 12.0)
    env = {**os.environ, "CLAUDE_PULSE_HOME": str(pulse_home)}

    def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([sys.executable, "-m", "claude_pulse", *args], input=stdin,
                              stdin=None if stdin is not None else subprocess.DEVNULL,
                              capture_output=True, env=env, timeout=60, check=False)

    assert run("statusline", stdin=claude_code_stdin(55.0, 44.0)).returncode == 0
    # During a cooldown `status` shows the shared snapshot: the feed's, and says so.
    (pulse_home / "gate.json").write_text(json.dumps(
        {"requests": [], "cooldown_until": time.time() + 300}), "utf-8")
    cooled = run("status", "--json")
    assert cooled.returncode == 0, cooled.stderr
    data = json.loads(cooled.stdout)
    assert data["source"] == "claude-code" and data["session"]["utilization"] == 55.0
    assert fake_server.requests_to("usage") == []
    # A fetch of its own: Anthropic's numbers, source "api".
    (pulse_home / "gate.json").unlink()
    fetched = run("status", "--json")
    assert fetched.returncode == 0, fetched.stderr
    data = json.loads(fetched.stdout)
    assert data["source"] == "api" and data["session"]["utilization"] == 37.0
