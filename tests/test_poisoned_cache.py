"""One bad value never poisons the cache (issue #16 item 2), against real `status` processes.

Before: a `resets_at` in year 1 passed the parser, was saved to `snapshot.json`, and from then on
every `status` ended in `OverflowError` (the window's start, `resets_at - 7 days`, has no date),
even during a cooldown with no request; a 401-digit integer utilization crashed the parser.
Now an impossible time is treated as unknown (with a log line), the answer that carried it is
shown but not shared, and an absurd number is bad input: one line, nothing saved.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claude_pulse.core.alerts import AlertMemory, AlertSettings, evaluate
from claude_pulse.core.forecast import forecast
from claude_pulse.core.pace import SESSION_WINDOW, WEEK_WINDOW
from claude_pulse.core.report import status_json, status_text
from claude_pulse.core.snapshot import Snapshot
from claude_pulse.core.status import AppStatus, Phase
from claude_pulse.core.statusline import format_line
from claude_pulse.core.usage import Window, parse_usage
from claude_pulse.core.viewmodel import deep_dive_view, tray_view
from claude_pulse.errors import BadResponse
from claude_pulse.fake.anthropic import FakeAnthropic
from claude_pulse.services.gate import RequestGate
from claude_pulse.services.snapshot import SnapshotStore
from support.fakes import usage_payload
from support.fixtures_server import seed_credentials


def usage_shaped_strategy() -> st.SearchStrategy[dict[str, Any]]:
    """tests/test_fuzz.py's usage-shaped answers, plus the newer fields."""
    from test_fuzz import json_values, scalars, times, usage_shaped

    locked_window = st.fixed_dictionaries({"utilization": scalars}, optional={
        "resets_at": times, "locked_reason": scalars | json_values})
    newer = st.fixed_dictionaries({}, optional={
        "five_hour": locked_window, "seven_day": locked_window,
        "nimbus_quill": st.none() | st.fixed_dictionaries(
            {"utilization": scalars}, optional={"resets_at": times, "locked_reason": scalars}),
        "spend": st.none() | st.fixed_dictionaries({}, optional={
            "used": st.fixed_dictionaries({}, optional={"amount_minor": scalars,
                                                        "exponent": scalars}),
            "enabled": scalars}),
    })
    return st.builds(lambda a, b: {**a, **b}, usage_shaped, newer)


YEAR_1 = "0001-01-01T00:00:00+00:00"
HUGE = int("9" * 401)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "claude_pulse", *args], capture_output=True,
                          text=True, timeout=60, env=dict(os.environ))


def year_one() -> dict[str, Any]:
    return {"five_hour": {"utilization": 55.0, "resets_at": YEAR_1},
            "seven_day": {"utilization": 21.0, "resets_at": "0001-01-01T00:00:00Z"},
            "limits": [{"kind": "weekly_scoped", "percent": 3, "resets_at": YEAR_1,
                        "scope": {"model": {"display_name": "Opus"}}}]}


@pytest.fixture
def logged_in(fake_server: FakeAnthropic, fake_config: Path, pulse_home: Path) -> Path:
    seed_credentials(pulse_home, fake_server)
    fake_server.usage = usage_payload()
    first = cli("status")
    assert first.returncode == 0, first.stderr
    return pulse_home / "snapshot.json"


def test_year_one_reset_gives_one_line_and_leaves_the_snapshot(
        fake_server: FakeAnthropic, logged_in: Path) -> None:
    before = logged_in.read_bytes()
    fake_server.usage = year_one()
    out = cli("status")
    assert "Traceback" not in out.stderr
    assert out.returncode == 0
    assert len(out.stderr.strip().splitlines()) == 1
    assert "five_hour.resets_at is out of range" in out.stderr
    assert "55%" in out.stdout  # the usable parts of the answer are still shown
    assert logged_in.read_bytes() == before
    as_json = json.loads(cli("status", "--json").stdout)
    assert as_json["session"] == {**as_json["session"], "utilization": 55.0, "resets_at": None}
    fake_server.usage = usage_payload(43.0)
    after = cli("status")
    assert after.returncode == 0 and after.stderr == "" and "43%" in after.stdout
    assert logged_in.read_bytes() != before


def test_huge_integer_is_one_line_and_nothing_saved(fake_server: FakeAnthropic,
                                                   logged_in: Path) -> None:
    before = logged_in.read_bytes()
    fake_server.usage = {"five_hour": {"utilization": HUGE, "resets_at": None}}
    for args in (("status",), ("status", "--json"), ("statusline",)):
        out = cli(*args)
        assert "Traceback" not in out.stderr, args
        if args[0] == "status":
            assert out.returncode == 1
            assert len(out.stderr.strip().splitlines()) == 1
            assert "five_hour.utilization is out of range" in out.stderr
            assert "42" in out.stdout  # the last good numbers, stale
        else:
            assert out.stdout.startswith("5h 42%")
        assert logged_in.read_bytes() == before


def test_a_poisoned_file_from_an_older_version_is_survived_during_a_cooldown(
        fake_server: FakeAnthropic, logged_in: Path, pulse_home: Path) -> None:
    # What an older Claude Pulse saved; a cooldown means no request can replace it.
    logged_in.write_text(json.dumps({"fetched_at": datetime.now(timezone.utc).isoformat(),
                                     "source": "api", "usage": year_one()}), encoding="utf-8")
    now = datetime.now(timezone.utc)
    RequestGate(pulse_home / "gate.json", pulse_home / "gate.lock").note_rate_limited(now, 600)
    requests = len(fake_server.requests_to("usage"))
    for args in (("status",), ("status", "--json"), ("statusline",)):
        out = cli(*args)
        assert "Traceback" not in out.stderr, (args, out.stderr)
        assert out.returncode == 0, (args, out.stderr)
        assert "55" in out.stdout
    assert len(fake_server.requests_to("usage")) == requests


def test_the_tray_and_deep_dive_render_a_poisoned_file(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.json"
    now = datetime.now(timezone.utc)
    path.write_text(json.dumps({"fetched_at": now.isoformat(), "usage": year_one()}),
                    encoding="utf-8")
    snap = SnapshotStore(path).load()
    assert snap is not None and snap.usage.session is not None
    assert snap.usage.session.resets_at is None
    render(snap, now)


def test_a_poisoned_fetched_at_makes_the_file_unusable_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps({"fetched_at": YEAR_1, "usage": usage_payload()}), encoding="utf-8")
    assert SnapshotStore(path).load() is None


@pytest.mark.parametrize("value", [
    pytest.param(HUGE, id="401-digit-integer"),
    pytest.param(-HUGE, id="401-digit-negative"),
    pytest.param(1e300, id="absurd-float"),
    pytest.param(10**7, id="ten-million-percent"),
])
def test_absurd_numbers_are_bad_input(value: Any) -> None:
    for payload in ({"five_hour": {"utilization": value}},
                    {"limits": [{"kind": "weekly_all", "percent": value}]},
                    {"extra_usage": {"used_credits": int(value) * 10**9}}):
        with pytest.raises(BadResponse, match="out of range"):
            parse_usage(payload)


@pytest.mark.parametrize("when", [
    "0001-01-01T00:00:00+00:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
    "1970-01-01T00:00:00Z", "2999-01-01T00:00:00Z",
])
def test_times_outside_a_sane_range_are_unknown(when: str,
                                                caplog: pytest.LogCaptureFixture) -> None:
    usage = parse_usage({"five_hour": {"utilization": 5, "resets_at": when}})
    assert usage.session == Window(5.0, None)
    assert usage.problems and "five_hour.resets_at is out of range" in usage.problems[0]
    assert any("out of range" in r.getMessage() for r in caplog.records)


def render(snap: Snapshot, now: datetime) -> None:
    usage = snap.usage
    format_line(usage, now)
    status_json(usage, snap.fetched_at, now)
    status_text(usage, snap.fetched_at, now)
    for window, length in ((usage.session, SESSION_WINDOW), (usage.weekly, WEEK_WINDOW)):
        if window is not None and window.resets_at is not None:
            points = [(window.resets_at - length, 0.0), (now, window.utilization or 0.0)]
            forecast(points, window, now, length=length)
    for phase in (Phase.OK, Phase.RATE_LIMITED, Phase.SERVER_ERROR):
        status = AppStatus(phase, snap, now + timedelta(minutes=5))
        deep_dive_view(status, now, alerts_enabled=True, show_model_limits=True)
        tray_view(status, now)


finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=200, deadline=None)
@given(util=finite | st.integers(), other=finite,
       reset=st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)))
def test_any_snapshot_that_parses_renders_with_forecasts(util: Any, other: float,
                                                         reset: datetime) -> None:
    now = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)
    raw = {"five_hour": {"utilization": util, "resets_at": reset.isoformat() + "Z"},
           "seven_day": {"utilization": other, "resets_at": reset.isoformat() + "+05:00"}}
    try:
        usage = parse_usage(raw)
    except BadResponse:
        return
    render(Snapshot(now, usage, raw), now)


def test_a_slow_burn_rate_never_overflows_the_forecast() -> None:
    now = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)
    window = Window(10.0, now + timedelta(days=3))
    points = [(now - timedelta(minutes=50), 10.0), (now, 10.0 + 1e-12)]
    fc = forecast(points, window, now, length=WEEK_WINDOW)
    assert fc is not None and fc.hits_limit_at is None


@settings(max_examples=200, deadline=None)
@given(raw=usage_shaped_strategy())
def test_any_parsed_answer_survives_every_surface_and_the_alerts(raw: dict[str, Any]) -> None:
    now = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
    try:
        usage = parse_usage(raw)
    except BadResponse:
        return
    render(Snapshot(now, usage, raw), now)
    memory = AlertMemory()
    for step in range(3):  # fresh, remembered (through JSON), a day later
        moment = now + timedelta(days=step // 2)
        _, memory = evaluate(usage, memory, AlertSettings(time_aware=step == 1), moment,
                             login_expires_at=moment + timedelta(days=2))
        memory = AlertMemory.from_json(json.loads(json.dumps(memory.to_json())))
