"""The shared request gate: 429 cooldown and the hourly request budget, across processes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from claude_pulse.errors import BudgetExhausted, CooldownActive
from claude_pulse.fake.anthropic import FakeAnthropic, Reply
from claude_pulse.services.gate import (
    DEFAULT_BUDGET,
    RequestGate,
    cooldown_seconds,
)
from support.fixtures_server import seed_credentials
from support.helpers import held_lock
from support.os_faults import run_cli

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)


def gate(tmp_path: Path, ceiling: int = DEFAULT_BUDGET) -> RequestGate:
    return RequestGate(tmp_path / "gate.json", tmp_path / "gate.lock", lambda: ceiling)


@pytest.mark.parametrize(
    ("retry_after", "strikes", "expected_min"),
    [
        pytest.param(None, 0, 20, id="absent"), pytest.param(0, 0, 20, id="zero-per-token"),
        pytest.param(-5, 0, 20, id="negative"), pytest.param(60, 0, 20, id="short"),
        pytest.param(900, 0, 30, id="long"), pytest.param(3600, 0, 75, id="hour-per-account"),
        pytest.param(0, 1, 40, id="second-in-a-row"), pytest.param(0, 2, 80, id="third"),
        pytest.param(0, 4, 320, id="fifth"), pytest.param(0, 5, 360, id="capped-6h"),
        pytest.param(3600, 1, 150, id="hour-again"), pytest.param(10**9, 0, 360, id="absurd"),
    ],
)
def test_cooldown_is_retry_after_or_5_min_plus_15_min_doubling_in_a_row(
        retry_after: float | None, strikes: int, expected_min: float) -> None:
    assert cooldown_seconds(retry_after, strikes) == expected_min * 60


def test_cooldown_blocks_every_caller_until_it_ends(tmp_path: Path) -> None:
    g = gate(tmp_path)
    until = g.note_rate_limited(NOW, retry_after=0)
    assert until == NOW + timedelta(minutes=20)
    other = gate(tmp_path)  # another process's view of the same record
    with pytest.raises(CooldownActive) as info:
        other.acquire(NOW + timedelta(minutes=20) - timedelta(seconds=1))
    assert info.value.until == until and not isinstance(info.value, BudgetExhausted)
    assert "rate-limited by Anthropic; next request at" in str(info.value)
    assert other.acquire(until)


@pytest.mark.parametrize(("clock_format", "shown"), [
    pytest.param("12h", r"next request at \d{1,2}:\d\d [AP]M\b", id="12h"),
    pytest.param("24h", r"next request at \d\d:\d\d\b", id="24h"),
])
def test_the_gates_times_follow_the_clock_format(
        fake_server: FakeAnthropic, pulse_home: Path, fake_config: Path,
        clock_format: str, shown: str) -> None:
    """Issue 15 item 4: a cooldown's "next request at …" in the user's clock, from outside: a
    429, then `status` again (the gate refuses before sending)."""
    seed_credentials(pulse_home, fake_server)
    config = json.loads(fake_config.read_text(encoding="utf-8"))
    fake_config.write_text(json.dumps({**config, "clock_format": clock_format}), "utf-8")
    fake_server.queue("usage", Reply.rate_limited(0))
    first = run_cli(pulse_home, "status")
    assert first.code == 1 and re.search(shown, first.stderr), first.stderr
    again = run_cli(pulse_home, "status")
    assert again.code == 1 and re.search(shown, again.stderr), again.stderr
    assert len(fake_server.requests_to("usage")) == 1  # the second never asked


def test_probation_spaces_requests_360_s_apart_for_the_hour_after_a_cooldown(
        tmp_path: Path) -> None:
    g = gate(tmp_path)
    end = g.note_rate_limited(NOW, retry_after=0)
    granted = []
    for second in range(0, 2 * 3600, 30):  # someone asks every 30 s after the cooldown
        at = end + timedelta(seconds=second)
        try:
            g.acquire(at)
            granted.append(second)
        except BudgetExhausted as exc:
            assert exc.until > at and ("6 min" in str(exc) or "budget" in str(exc))
    in_probation = [s for s in granted if s < 3600]
    assert in_probation == list(range(0, 3600, 360))  # 10 in the hour
    assert granted[10] == 3600  # then the hourly budget alone
    assert len(granted) - 10 <= 20


def test_cooldowns_in_a_row_lengthen_and_a_clean_hour_starts_over(tmp_path: Path) -> None:
    g = gate(tmp_path)
    t, lengths = NOW, []
    for _ in range(6):  # blocked again at the first request after each cooldown
        until = g.note_rate_limited(t, retry_after=0)
        lengths.append((until - t).total_seconds() / 60)
        t = until
        assert g.acquire(t)
    assert lengths == [20, 40, 80, 160, 320, 360]
    # A clean probation hour: the next 429 counts as the first again.
    t += timedelta(hours=1, seconds=1)
    assert (g.note_rate_limited(t, retry_after=0) - t) == timedelta(minutes=20)


def test_a_429_for_a_request_already_in_flight_is_not_a_new_block(tmp_path: Path) -> None:
    tray, cli = gate(tmp_path), gate(tmp_path)
    first = tray.note_rate_limited(NOW, retry_after=0)
    second = cli.note_rate_limited(NOW + timedelta(seconds=1), retry_after=0)
    assert second - first == timedelta(seconds=1)  # the same 20 min, not 40
    assert tray.peek().strikes == 1


def test_nothing_but_time_ends_a_cooldown(tmp_path: Path) -> None:
    """A refresh or a new login used to clear it; `Retry-After: 3600` can hold the whole account,
    so a fresh token would only collect another 429 (protocol-2026-update.md)."""
    assert not hasattr(RequestGate, "clear_cooldown")
    g = gate(tmp_path)
    until = g.note_rate_limited(NOW, retry_after=3600)
    assert until == NOW + timedelta(minutes=75)
    assert isinstance(g.refusal(until - timedelta(seconds=1)), CooldownActive)


def test_a_record_from_before_probation_loads(tmp_path: Path) -> None:
    (tmp_path / "gate.json").write_text(json.dumps({
        "requests": [NOW.timestamp(), "x", True], "cooldown_until": NOW.timestamp() + 60}))
    state = gate(tmp_path).peek()
    assert state.requests == [NOW.timestamp()] and state.probation_until == 0.0
    assert state.strikes == 0


def test_hourly_budget(tmp_path: Path) -> None:
    g = gate(tmp_path, ceiling=5)
    for i in range(5):
        assert g.acquire(NOW + timedelta(minutes=i))
    with pytest.raises(BudgetExhausted) as info:
        g.acquire(NOW + timedelta(minutes=10))
    assert "request budget (5 per hour) used up; next request at" in str(info.value)
    assert info.value.until == NOW + timedelta(hours=1)
    assert g.next_allowed(NOW + timedelta(minutes=10)) == NOW + timedelta(hours=1)
    assert g.acquire(NOW + timedelta(hours=1, seconds=1))  # the oldest has aged out


def test_the_default_budget_is_20_per_rolling_hour_of_every_caller(tmp_path: Path) -> None:
    tray, status = gate(tmp_path), gate(tmp_path)  # two processes, one record
    granted = []
    for second in range(0, 2 * 3600, 30):  # someone asks every 30 s for two hours
        caller = tray if second % 60 else status
        try:
            caller.acquire(NOW + timedelta(seconds=second))
            granted.append(second)
        except BudgetExhausted:
            pass
    assert granted[:20] == list(range(0, 600, 30)) and len(granted) == 40
    for first in granted:
        assert sum(1 for g in granted if first <= g < first + 3600) <= DEFAULT_BUDGET


def test_a_lowered_budget_counts_the_requests_already_made(tmp_path: Path) -> None:
    budget = [20]
    g = RequestGate(tmp_path / "gate.json", tmp_path / "gate.lock", lambda: budget[0])
    for i in range(20):
        g.acquire(NOW + timedelta(minutes=i))
    budget[0] = 5  # the user lowered it in Preferences
    later = NOW + timedelta(minutes=30)
    refused = g.refusal(later)
    assert isinstance(refused, BudgetExhausted)
    # Five may run in the hour: the next fits once all but four of the twenty have aged out.
    assert refused.until == NOW + timedelta(minutes=15, hours=1)
    assert g.next_allowed(NOW + timedelta(hours=3)) == NOW + timedelta(hours=3)
    assert g.refusal(NOW + timedelta(hours=3)) is None


def test_min_spacing_lets_concurrent_callers_share_one_fetch(tmp_path: Path) -> None:
    g = gate(tmp_path)
    assert g.acquire(NOW, min_spacing_s=60) is True
    assert g.acquire(NOW + timedelta(seconds=30), min_spacing_s=60) is False
    assert g.acquire(NOW + timedelta(seconds=61), min_spacing_s=60) is True


def test_corrupt_record_is_replaced_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "gate.json").write_text("{{{")
    assert gate(tmp_path).acquire(NOW)
    assert len(json.loads((tmp_path / "gate.json").read_text())["requests"]) == 1


def test_a_bounded_wait_for_a_held_lock_is_a_shared_fetch(tmp_path: Path) -> None:
    """The status line gives up on a lock another process keeps (GATE_WAIT_S) and reads the
    shared snapshot, as when that process fetched: no request reserved, nothing raised."""
    with held_lock(tmp_path / "gate.lock"):
        assert gate(tmp_path).acquire(NOW, min_spacing_s=60, wait_s=0.2) is False
    assert not (tmp_path / "gate.json").exists()  # nothing was reserved
    assert gate(tmp_path).acquire(NOW, min_spacing_s=60, wait_s=0.2) is True


_WORKER = """
import sys
from datetime import datetime, timezone
from pathlib import Path
from claude_pulse.errors import CooldownActive
from claude_pulse.services.gate import RequestGate
d = Path(sys.argv[1]); got = 0
ceiling = int(sys.argv[2])
g = RequestGate(d / "gate.json", d / "gate.lock", budget=lambda: ceiling)
now = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
for _ in range(40):
    try:
        got += g.acquire(now)
    except CooldownActive:
        pass
print(got)
"""


@pytest.mark.slow
def test_ceiling_holds_across_processes(tmp_path: Path) -> None:
    procs = [subprocess.Popen([sys.executable, "-c", _WORKER, str(tmp_path), "50"],
                              stdout=subprocess.PIPE, text=True) for _ in range(4)]
    granted = sum(int(p.communicate(timeout=60)[0]) for p in procs)
    assert granted == 50
    assert len(json.loads((tmp_path / "gate.json").read_text())["requests"]) == 50
