"""The poller driver end to end: real HTTP to the fake server, a fake scheduler, the real gate.

Each scenario is a row of spec §6 / design.md §2 as the user experiences it: what the app shows,
what it asked the server, and what it told the user.
"""

from __future__ import annotations

import json
import os
import queue
import random
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from claude_pulse import config as config_mod
from claude_pulse.core.status import AppStatus, Phase
from claude_pulse.errors import ServerError
from claude_pulse.fake.anthropic import FakeAnthropic, Reply
from claude_pulse.home import Home
from claude_pulse.wiring import Services
from support.fakes import Clock, FakeScheduler, RecordingNotifier
from support.fixtures_server import seed_credentials


class NoJitter(random.Random):
    """Every poll exactly on the interval (the ±10 % jitter has its own test in test_polling)."""

    def random(self) -> float:
        return 0.5


class Harness:
    def __init__(self, server: FakeAnthropic, home: Path) -> None:
        self.server = server
        self.clock = Clock()
        self.scheduler = FakeScheduler(self.clock)
        self.notifier = RecordingNotifier()
        self.statuses: list[AppStatus] = []
        self.main: queue.Queue[Callable[[], None]] = queue.Queue()
        h = Home(home)
        h.ensure()
        config_mod.update(h.config, **server.config_overrides(), callback_port=0)
        self.services = Services(h, clock=self.clock, notifier=self.notifier, rng=NoJitter())
        self.poller = self.services.poller(scheduler=self.scheduler, post=self.main.put,
                                           on_status=self.statuses.append)

    def login(self, scope: str | None = None) -> None:
        seed_credentials(self.services.home.root, self.server, now=self.clock.now, scope=scope)

    def settle(self) -> AppStatus:
        """Wait for the worker's answer and run it on 'the main thread' (this one)."""
        self.main.get(timeout=10)()
        return self.poller.status

    def tick(self) -> AppStatus:
        self.scheduler.fire_next()
        return self.settle()

    def usage(self, session: float, weekly: float = 50.0, session_resets_h: float = 3) -> None:
        now = self.clock.now
        self.server.usage = {
            "five_hour": {"utilization": session,
                          "resets_at": (now + timedelta(hours=session_resets_h)).isoformat()},
            "seven_day": {"utilization": weekly,
                          "resets_at": (now + timedelta(days=3, hours=12)).isoformat()},
        }

    def cli(self) -> Services:
        """Another process on the same home folder (`status`, `statusline`)."""
        return Services(self.services.home, clock=self.clock, notifier=self.notifier)

    def usage_requests(self) -> int:
        return len(self.server.requests_to("usage"))


@pytest.fixture
def app(fake_server: FakeAnthropic, pulse_home: Path) -> Any:
    harness = Harness(fake_server, pulse_home)
    yield harness
    harness.poller.stop()


def session_pct(status: AppStatus) -> float | None:
    assert status.snapshot is not None and status.snapshot.usage.session is not None
    return status.snapshot.usage.session.utilization


def test_no_credentials_launches_signed_out_and_makes_no_request(app: Harness) -> None:
    app.poller.start()
    assert app.poller.status.phase is Phase.SIGNED_OUT
    assert app.usage_requests() == 0 and app.scheduler.timers == []


def test_normal_operation_polls_every_interval_and_shows_the_servers_numbers(
        app: Harness) -> None:
    app.login()
    app.usage(42.0)
    app.poller.start()
    status = app.settle()
    assert status.phase is Phase.OK and session_pct(status) == 42.0
    assert app.scheduler.next_delay() == 180  # the default interval (issue 18)
    req = app.server.requests_to("usage")[0]
    assert req.headers["anthropic-beta"] == "oauth-2025-04-20"
    assert req.headers["user-agent"].startswith("claude-pulse/")
    app.usage(47.0)
    assert session_pct(app.tick()) == 47.0
    assert app.usage_requests() == 2


def test_a_poll_takes_the_answer_another_process_just_got(app: Harness) -> None:
    app.login()
    app.usage(42.0)
    app.poller.start()
    app.settle()
    # The status line (another process) fetches 150 s later, and gets new numbers.
    app.clock.now += timedelta(seconds=150)
    app.usage(44.0)
    assert app.cli().fetcher.fetch() is not None
    assert app.usage_requests() == 2
    status = app.tick()  # the tray's poll, 30 s later
    assert session_pct(status) == 44.0 and app.usage_requests() == 2
    assert app.scheduler.next_delay() == pytest.approx(150, abs=1)  # 180 s after that answer


def test_a_poll_asks_itself_when_the_other_process_got_no_answer(app: Harness) -> None:
    app.login()
    app.usage(42.0)
    app.poller.start()
    app.settle()
    app.clock.now += timedelta(seconds=150)
    app.server.queue("usage", Reply.server_error(503))
    with pytest.raises(ServerError):
        app.cli().fetcher.fetch()
    app.usage(44.0)
    status = app.tick()
    assert session_pct(status) == 44.0 and app.usage_requests() == 3


def test_api_401_refreshes_and_retries(app: Harness) -> None:
    app.login()
    app.poller.start()
    app.settle()
    app.server.expire_access_tokens()
    status = app.tick()
    assert status.phase is Phase.OK
    assert app.server.refresh_count == 1
    # The retry is a usage request too: the shared budget counts all three.
    assert app.usage_requests() == 3 and len(app.services.gate.peek().requests) == 3


def test_refresh_token_invalid_means_log_in_again_with_a_notification(app: Harness) -> None:
    app.login()
    app.poller.start()
    app.settle()
    app.server.expire_access_tokens()
    app.server.revoke_refresh_tokens()
    status = app.tick()
    assert status.phase is Phase.REAUTH
    assert status.snapshot is not None  # last numbers stay visible, marked stale
    assert [a.kind for a in app.notifier.sent][-1] == "reauth"
    assert app.scheduler.timers == []  # no more requests until the user logs in


def test_403_scope_means_log_in_again(app: Harness) -> None:
    app.login()
    app.server.queue("usage", Reply.forbidden_scope())
    app.poller.start()
    assert app.settle().phase is Phase.REAUTH


def test_429_cools_down_keeps_stale_numbers_and_refuses_refresh_now(
        app: Harness, pulse_home: Path) -> None:
    app.login()
    app.usage(42.0)
    app.poller.start()
    app.settle()
    app.server.queue("usage", Reply.rate_limited(retry_after=None))
    status = app.tick()
    assert status.phase is Phase.RATE_LIMITED and status.is_stale
    assert session_pct(status) == 42.0
    assert app.scheduler.next_delay() == pytest.approx(1200, abs=1)  # 5 min + 15 min
    message = app.poller.refresh_now()
    assert message is not None and "next request at" in message
    assert app.usage_requests() == 2

    # Another process (the CLI) respects the same cooldown: no request, stale numbers, exit 0.
    out = subprocess.run([sys.executable, "-m", "claude_pulse", "status", "--json"],
                         capture_output=True, text=True, timeout=60,
                         env={**_env(), "CLAUDE_PULSE_HOME": str(pulse_home)})
    assert out.returncode == 0, out.stderr
    shown = json.loads(out.stdout)
    assert shown["stale"] is True and shown["session"]["utilization"] == 42.0
    assert app.usage_requests() == 2

    # When the cooldown ends, polling resumes by itself.
    status = app.tick()
    assert status.phase is Phase.OK and app.usage_requests() == 3


def test_long_retry_after_is_honoured(app: Harness) -> None:
    app.login()
    app.poller.start()
    app.settle()
    app.server.queue("usage", Reply.rate_limited(retry_after=1800))
    app.tick()
    assert app.scheduler.next_delay() == pytest.approx(1800 + 900, abs=1)


@pytest.mark.parametrize(
    ("reply", "phase"),
    [
        pytest.param(Reply.server_error(503), Phase.SERVER_ERROR, id="5xx-html"),
        pytest.param(Reply.truncated_json(), Phase.SERVER_ERROR, id="truncated-json"),
    ],
)
def test_server_errors_back_off_then_recover(app: Harness, reply: Reply, phase: Phase) -> None:
    app.login()
    app.poller.start()
    app.settle()
    app.server.queue("usage", reply, reply)
    assert app.tick().phase is phase
    first = app.scheduler.next_delay()
    assert app.tick().phase is phase
    second = app.scheduler.next_delay()
    assert 24 <= first <= 36 and 48 <= second <= 72
    assert app.tick().phase is Phase.OK


def test_offline_shows_offline_and_recovers(app: Harness) -> None:
    app.login()
    app.poller.start()
    app.settle()
    app.server.stop()  # the port now refuses connections, as when the network is down
    status = app.tick()
    assert status.phase is Phase.OFFLINE and status.is_stale
    assert 24 <= app.scheduler.next_delay() <= 36  # calm retry, no busy loop
    status = app.tick()
    assert status.phase is Phase.OFFLINE
    assert 48 <= app.scheduler.next_delay() <= 72


def test_threshold_alert_fires_once_and_survives_restart(app: Harness,
                                                         fake_server: FakeAnthropic,
                                                         pulse_home: Path) -> None:
    app.login()
    app.usage(85.0)
    app.poller.start()
    app.settle()
    assert [a.title for a in app.notifier.sent] == ["You've used 80% of your session limit"]
    app.tick()
    assert len(app.notifier.sent) == 1
    app.poller.stop()
    again = Harness(fake_server, pulse_home)
    again.clock.now = app.clock.now + timedelta(minutes=4)  # the snapshot is due again
    again.poller.start()
    again.settle()
    assert again.notifier.sent == []
    again.poller.stop()


def test_alerts_off_sends_nothing(app: Harness, pulse_home: Path) -> None:
    app.services.settings.update(notifications_enabled=False)
    app.login()
    app.usage(97.0)
    app.poller.start()
    app.settle()
    assert app.notifier.sent == []


def _env() -> dict[str, str]:
    return dict(os.environ)


def test_each_poll_adds_to_the_charts_and_the_forecast(app: Harness) -> None:
    app.login()
    app.usage(30.0)
    app.poller.start()
    app.settle()
    for pct in (35.0, 40.0, 45.0):
        app.clock.now += timedelta(minutes=5)
        app.usage(pct)
        app.poller.refresh_now()
        status = app.settle()
    assert [v for _, v in status.session_history] == [30.0, 35.0, 40.0, 45.0]
    assert status.session_forecast is not None
    assert status.session_forecast.rate_per_hour == pytest.approx(60.0, rel=0.05)


# ---- settings applied while running (issue 12: no restart) ----------------------------------


def edit_config(home: Path, **changes: Any) -> None:
    """What a user does in an editor while the app runs."""
    path = home / "config.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**data, **changes}), encoding="utf-8")


def test_a_hand_edit_applies_at_the_next_wake_up(app: Harness, pulse_home: Path) -> None:
    """Interval, threshold and User-Agent edited in config.json: the timer already armed is
    re-planned, and the next request and alert use the new values."""
    app.login()
    app.usage(55.0, weekly=20.0)
    app.poller.start()
    app.settle()
    assert app.scheduler.next_delay() == 180 and app.notifier.sent == []
    edit_config(pulse_home, poll_interval_seconds=500, user_agent="edited-by-hand/1",
                notification_thresholds=[50])
    app.scheduler.fire_next()  # the 180 s wake-up notices the edit: no request yet
    assert app.usage_requests() == 1
    assert app.scheduler.next_delay() == 320  # 500 s after the last fetch
    status = app.tick()
    assert status.phase is Phase.OK and app.usage_requests() == 2
    assert app.server.requests_to("usage")[-1].headers["user-agent"] == "edited-by-hand/1"
    assert [a.title for a in app.notifier.sent] == ["You've used 50% of your session limit"]
    assert app.scheduler.next_delay() == 500


def test_a_shorter_interval_from_the_app_applies_at_once(app: Harness) -> None:
    app.login()
    app.poller.start()
    app.settle()
    app.clock.now += timedelta(seconds=20)
    app.services.settings.update(poll_interval_seconds=3600)
    assert app.scheduler.next_delay() == 3580
    app.services.settings.update(poll_interval_seconds=60, user_agent="from-preferences/2")
    assert app.scheduler.next_delay() == 40  # 60 s after the last fetch
    app.clock.now += timedelta(seconds=40)
    app.services.settings.update(poll_interval_seconds=120)  # not yet due at the new interval
    assert app.scheduler.next_delay() == 60
    app.services.settings.update(poll_interval_seconds=60)  # due now: fetch at once
    app.settle()
    assert app.usage_requests() == 2
    assert app.server.requests_to("usage")[-1].headers["user-agent"] == "from-preferences/2"


def test_a_new_usage_url_applies_to_the_next_poll(app: Harness) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    app.login()
    app.poller.start()
    app.settle()
    app.services.settings.update(usage_url=f"http://127.0.0.1:{port}/api/oauth/usage")
    status = app.tick()
    assert status.phase is Phase.OFFLINE and "refused" in (status.message or "")
    assert app.usage_requests() == 1  # the fake server was not asked again
