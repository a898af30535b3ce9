"""`claude-pulse status [--json]` as a user runs it, against the fake server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from claude_pulse.core.usage import parse_usage
from claude_pulse.fake.anthropic import FakeAnthropic, Reply
from claude_pulse.fake.samples import JULY_2026
from claude_pulse.services.history import HistoryStore
from support.fixtures_server import seed_credentials


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "claude_pulse", *args], capture_output=True,
                          text=True, timeout=60, env=dict(os.environ))


def served(session: float, weekly: float) -> dict[str, Any]:
    now = datetime.now(timezone.utc)
    return {
        "five_hour": {"utilization": session,
                      "resets_at": (now + timedelta(hours=2)).isoformat()},
        "seven_day": {"utilization": weekly,
                      "resets_at": (now + timedelta(days=3)).isoformat()},
        "seven_day_opus": {"utilization": 12.0, "resets_at": None},
    }


def test_status_json_prints_exactly_what_the_server_served(
        fake_server: FakeAnthropic, fake_config: Path, pulse_home: Path) -> None:
    seed_credentials(pulse_home, fake_server)
    fake_server.usage = served(8.0, 68.0)
    out = cli("status", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["session"]["utilization"] == 8.0
    assert data["weekly"]["utilization"] == 68.0
    assert data["weekly"]["over_budget"] is True  # 68% used, ~57% of the week elapsed
    assert 57 <= data["weekly"]["elapsed_percent"] <= 58
    assert 59 <= data["session"]["elapsed_percent"] <= 61
    assert data["limits"] == [{"id": "weekly_scoped:Opus", "label": "Opus (weekly)",
                               "utilization": 12.0, "resets_at": None, "active": False,
                               "binding": False}]
    assert data["stale"] is False and data["account"] == "pulse.user@example.com"
    datetime.fromisoformat(data["fetched_at"])  # ISO 8601 with an offset
    assert datetime.fromisoformat(data["session"]["resets_at"]).utcoffset() is not None
    assert len(fake_server.requests_to("usage")) == 1


def test_status_json_with_the_newest_real_shape(fake_server: FakeAnthropic, fake_config: Path,
                                                pulse_home: Path) -> None:
    seed_credentials(pulse_home, fake_server)
    fake_server.usage = JULY_2026
    data = json.loads(cli("status", "--json").stdout)
    assert [lim["id"] for lim in data["limits"]] == ["session", "weekly_all",
                                                     "weekly_scoped:Fable"]
    assert data["extra_usage"]["used_cents"] == 40843.0


def test_status_text(fake_server: FakeAnthropic, fake_config: Path, pulse_home: Path) -> None:
    seed_credentials(pulse_home, fake_server)
    fake_server.usage = served(42.0, 20.0)
    out = cli("status")
    assert out.returncode == 0
    lines = out.stdout.splitlines()
    assert lines[0] == "Claude Pulse — pulse.user@example.com"
    (session,) = [line for line in lines if line.startswith("Session (5h)")]
    assert "42%" in session
    assert "resets in 1h 59m" in session or "resets in 2h" in session
    assert any("Weekly (7d)" in line and "On track" in line for line in lines)
    assert any("Opus (weekly)" in line and "12%" in line for line in lines)


@pytest.mark.parametrize(
    ("reply", "fragment"),
    [
        pytest.param(Reply.server_error(503), "503", id="server-error"),
        pytest.param(Reply.truncated_json(), "not JSON", id="truncated"),
    ],
)
def test_failure_prints_one_line_and_the_last_numbers_marked_stale(
        fake_server: FakeAnthropic, fake_config: Path, pulse_home: Path, reply: Reply,
        fragment: str) -> None:
    seed_credentials(pulse_home, fake_server)
    fake_server.usage = served(42.0, 20.0)
    assert cli("status").returncode == 0
    fake_server.queue("usage", reply)
    out = cli("status", "--json")
    assert out.returncode == 1
    assert len(out.stderr.strip().splitlines()) == 1 and fragment in out.stderr
    data = json.loads(out.stdout)
    assert data["stale"] is True and data["session"]["utilization"] == 42.0


def test_offline_without_cache_is_one_line(fake_config: Path, pulse_home: Path,
                                           fake_server: FakeAnthropic) -> None:
    seed_credentials(pulse_home, fake_server)
    fake_server.stop()
    out = cli("status")
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and "refused" in out.stderr
    assert "Traceback" not in out.stderr


def test_cooldown_without_cache_says_when_next_try_is(fake_server: FakeAnthropic,
                                                      fake_config: Path,
                                                      pulse_home: Path) -> None:
    seed_credentials(pulse_home, fake_server)
    fake_server.queue("usage", Reply.rate_limited(retry_after=None))
    out = cli("status")
    assert out.returncode == 1 and "next request at" in out.stderr
    again = cli("status")
    assert again.returncode == 1 and "next request at" in again.stderr
    assert len(fake_server.requests_to("usage")) == 1  # the second run did not call


def test_forecast_fields_from_history(fake_server: FakeAnthropic, fake_config: Path,
                                      pulse_home: Path) -> None:
    seed_credentials(pulse_home, fake_server)
    raw = served(50.0, 20.0)
    fake_server.usage = raw
    history = HistoryStore(pulse_home / "history.sqlite3")
    now = datetime.now(timezone.utc)
    for minutes_ago, pct in ((40, 30.0), (20, 40.0), (1, 50.0)):  # 30 points an hour
        earlier = dict(raw, five_hour=dict(raw["five_hour"], utilization=pct))
        history.record(now - timedelta(minutes=minutes_ago), parse_usage(earlier), "api")
    history.close()
    data = json.loads(cli("status", "--json").stdout)
    fc = data["session"]["forecast"]
    assert fc is not None and 25 <= fc["rate_per_hour"] <= 35
    hits = datetime.fromisoformat(fc["hits_limit_at"])
    assert timedelta(minutes=80) < hits - now < timedelta(minutes=120)
    assert fc["text"].startswith("At this pace you reach 100% at")


def test_status_text_rounds_percent_like_the_window() -> None:
    """Regression: `status` rounded 41.6 to "42%" while the tray and window floor it to "41%"."""
    from claude_pulse.core.report import status_text

    now = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
    usage = parse_usage({"five_hour": {"utilization": 41.6,
                                       "resets_at": "2026-11-28T14:00:00+00:00"},
                         "extra_usage": {"is_enabled": True, "used_credits": 40843.0,
                                         "monthly_limit": None}})
    lines = status_text(usage, now, now, tz=timezone.utc).splitlines()
    assert lines[1:3] == ["Session (5h)    41%  resets in 2h (14:00)",
                          "Extra usage   $408.43  of no limit"]


def test_a_window_that_reset_is_not_counted_down(fake_server: FakeAnthropic, fake_config: Path,
                                                 pulse_home: Path) -> None:
    """Before: the last good numbers during a cooldown said "resets in <1m" for a session that
    had reset 10 minutes ago, next to its old (previous window's) percent."""
    seed_credentials(pulse_home, fake_server)
    now = datetime.now(timezone.utc)
    raw = {"five_hour": {"utilization": 77.0,
                         "resets_at": (now - timedelta(minutes=10)).isoformat()},
           "seven_day": {"utilization": 20.0, "resets_at": (now + timedelta(days=3)).isoformat()}}
    (pulse_home / "snapshot.json").write_text(json.dumps(
        {"fetched_at": (now - timedelta(minutes=15)).isoformat(), "source": "api",
         "usage": raw}))
    (pulse_home / "gate.json").write_text(json.dumps(
        {"requests": [], "cooldown_until": (now + timedelta(minutes=5)).timestamp()}))
    out = cli("status")
    assert out.returncode == 0, out.stderr
    session = next(line for line in out.stdout.splitlines() if line.startswith("Session"))
    reset_at = (now - timedelta(minutes=10)).astimezone()
    assert session.split() == ["Session", "(5h)", "–", "reset", "at", f"{reset_at:%H:%M}"]
    assert "77%" not in out.stdout and "<1m" not in out.stdout
    assert fake_server.requests_to("usage") == []


def test_a_fetching_status_loads_only_what_it_uses(
        fake_server: FakeAnthropic, fake_config: Path, pulse_home: Path) -> None:
    # Issue 19 item 2: no desktop toolkit, no log handlers (set up on the first record: a good
    # run logs nothing), no TLS trust store for a loopback server.
    seed_credentials(pulse_home, fake_server)
    fake_server.usage = served(8.0, 68.0)
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "claude_pulse", "status",
                           "--json"], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ), check=True)
    assert json.loads(proc.stdout)["session"]["utilization"] == 8.0
    imported = {line.rsplit("|", 1)[-1].strip()
                for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "claude_pulse.services.usage_client" in imported  # the listing works
    unwanted = ("tkinter", "PIL", "pystray", "asyncio", "logging.handlers", "truststore",
                "claude_pulse.ui", "claude_pulse.platform.logs")
    assert sorted(m for m in imported if m.startswith(unwanted)) == []


def test_a_warning_from_status_still_reaches_the_log(
        fake_server: FakeAnthropic, fake_config: Path, pulse_home: Path) -> None:
    # The handlers are set up on the first record, and that record is in the file.
    seed_credentials(pulse_home, fake_server)
    (pulse_home / "snapshot.json").write_text("not json", encoding="utf-8")
    fake_server.queue("usage", Reply.server_error(500))
    out = cli("status")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    log_text = (pulse_home / "logs" / "cli.log").read_text(encoding="utf-8")
    assert "ignoring unreadable usage cache" in log_text


def test_a_status_that_sends_nothing_loads_no_http_stack(
        fake_server: FakeAnthropic, fake_config: Path, pulse_home: Path) -> None:
    # Issue 19 item 2: urllib.request, http.client and ssl only on the request path. A budget
    # of one request an hour: the second status answers from the snapshot without a request.
    config = json.loads(fake_config.read_text(encoding="utf-8"))
    fake_config.write_text(json.dumps({**config, "max_requests_per_hour": 1}), encoding="utf-8")
    seed_credentials(pulse_home, fake_server)
    fake_server.usage = served(8.0, 68.0)
    assert cli("status", "--json").returncode == 0
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "claude_pulse", "status",
                           "--json"], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ), check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["session"]["utilization"] == 8.0
    assert len(fake_server.requests_to("usage")) == 1
    imported = {line.rsplit("|", 1)[-1].strip()
                for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "claude_pulse.services.fetch" in imported  # the listing works
    assert sorted(imported & {"urllib.request", "http.client", "ssl",
                              "claude_pulse.services.http"}) == []
