"""The shared request gate: 429 cooldown and the hourly request budget, across processes."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from claude_pulse.errors import BudgetExhausted, CooldownActive
from claude_pulse.services.gate import (
    DEFAULT_BUDGET,
    RequestGate,
    cooldown_seconds,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)


def gate(tmp_path: Path, ceiling: int = DEFAULT_BUDGET) -> RequestGate:
    return RequestGate(tmp_path / "gate.json", tmp_path / "gate.lock", lambda: ceiling)


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [
        pytest.param(None, 300, id="absent"), pytest.param(0, 300, id="zero-seen-in-wild"),
        pytest.param(-5, 300, id="negative"), pytest.param(60, 300, id="short"),
        pytest.param(900, 900, id="long"), pytest.param(10**9, 6 * 3600, id="absurd-capped"),
    ],
)
def test_cooldown_is_max_of_retry_after_and_5_minutes(retry_after: float | None,
                                                      expected: float) -> None:
    assert cooldown_seconds(retry_after) == expected


def test_cooldown_blocks_every_caller_until_it_ends(tmp_path: Path) -> None:
    g = gate(tmp_path)
    until = g.note_rate_limited(NOW, retry_after=None)
    assert until == NOW + timedelta(seconds=300)
    other = gate(tmp_path)  # another process's view of the same record
    with pytest.raises(CooldownActive) as info:
        other.acquire(NOW + timedelta(seconds=299))
    assert info.value.until == until
    assert "next request at" in str(info.value)
    assert other.acquire(NOW + timedelta(seconds=301))


def test_clear_cooldown_after_new_token(tmp_path: Path) -> None:
    g = gate(tmp_path)
    g.note_rate_limited(NOW, 600)
    g.clear_cooldown()
    assert g.acquire(NOW)


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
