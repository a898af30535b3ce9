"""The login's own expiry (issue #18 item 4).

Token responses carry `refresh_token_expires_in` (observed 27-30 days; refreshing does not extend
it). It is stored as `refresh_expires_at` in credentials.json, shown by `status` ("Login renews
until 29 Dec" / "Login expires in 2 days"), given as `login_expires_at` by `status --json`, shown
in the window's footer, and announced once 3 days and once 1 day before, remembered like the other
alerts. Without the field everything behaves as before.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from claude_pulse.core.alerts import AlertMemory, AlertSettings, evaluate
from claude_pulse.core.format import login_expiry
from claude_pulse.core.snapshot import Snapshot
from claude_pulse.core.status import AppStatus, Phase
from claude_pulse.core.tokens import TokenSet
from claude_pulse.core.usage import Usage, parse_usage
from claude_pulse.core.viewmodel import deep_dive_view
from claude_pulse.fake.anthropic import FakeAnthropic
from claude_pulse.oauth.flow import token_set_from_response
from claude_pulse.services.credentials import CredentialStore

UTC = timezone.utc
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "claude_pulse", *args], capture_output=True,
                          text=True, timeout=60, env=dict(os.environ))


def save_from(fake: FakeAnthropic, home: Path, expired_access: bool = False) -> None:
    """Save what the token endpoint answered, as the app's own login does."""
    minted = fake.issue_tokens()
    tokens = token_set_from_response(minted, datetime.now(UTC))
    if expired_access:
        tokens = dataclasses.replace(tokens, expires_at=datetime.now(UTC) - timedelta(minutes=1))
    CredentialStore(home / "credentials.json").save(tokens)


# ---- storage ----


def test_the_token_response_field_is_stored_and_survives_a_refresh() -> None:
    first = token_set_from_response({"access_token": "a", "refresh_token": "r",
                                     "expires_in": 28800, "refresh_token_expires_in": 86400 * 29},
                                    NOW)
    assert first.refresh_expires_at == NOW + timedelta(days=29)
    assert first.to_json()["refresh_expires_at"] == int((NOW + timedelta(days=29)).timestamp())
    assert TokenSet.from_json(first.to_json()) == first
    # A refresh answer without the field keeps the login's end: refreshing does not extend it.
    later = NOW + timedelta(days=2)
    second = token_set_from_response({"access_token": "b", "refresh_token": "s",
                                      "expires_in": 28800}, later, previous=first)
    assert second.refresh_expires_at == first.refresh_expires_at
    third = token_set_from_response({"access_token": "c", "refresh_token": "t", "expires_in": 1,
                                     "refresh_token_expires_in": 86400}, later, previous=second)
    assert third.refresh_expires_at == later + timedelta(days=1)


@pytest.mark.parametrize("value", [None, "29 days", True, -5, 0, float("nan"), 10**12])
def test_an_unusable_field_is_as_if_absent(value: object) -> None:
    tokens = token_set_from_response({"access_token": "a", "refresh_token": "r",
                                      "expires_in": 60, "refresh_token_expires_in": value}, NOW)
    assert tokens.refresh_expires_at is None
    assert tokens.to_json()["refresh_expires_at"] is None
    assert TokenSet.from_json(tokens.to_json()) == tokens


def test_credentials_of_an_older_version_load_without_it() -> None:
    tokens = TokenSet.from_json({"access_token": "a", "refresh_token": "r",
                                 "expires_at": int(NOW.timestamp())})
    assert tokens.refresh_expires_at is None
    # A bad value (hand-edited, another version's) never makes a working login unreadable.
    for bad in ("soon", 10**30, [], True):
        odd = TokenSet.from_json({"access_token": "a", "refresh_token": "r",
                                  "expires_at": int(NOW.timestamp()), "refresh_expires_at": bad})
        assert odd.refresh_expires_at is None and odd.refresh_token == "r"


# ---- wording ----


@pytest.mark.parametrize(("left", "text"), [
    (timedelta(days=26, hours=3), "Login renews until 29 Dec"),
    (timedelta(days=3, hours=1), "Login renews until 6 Dec"),
    (timedelta(days=3), "Login expires in 3 days"),
    (timedelta(days=2, hours=5), "Login expires in 2 days"),
    (timedelta(days=1, hours=2), "Login expires in 1 day"),
    (timedelta(hours=5, minutes=10), "Login expires in 5h 10m"),
    (timedelta(0), "Login expired"),
    (-timedelta(days=1), "Login expired"),
])
def test_login_expiry_wording(left: timedelta, text: str) -> None:
    assert login_expiry(NOW + left, NOW, UTC) == text


# ---- real status processes ----


def test_status_shows_and_json_carries_the_login_expiry(fake_server: FakeAnthropic,
                                                        fake_config: Path,
                                                        pulse_home: Path) -> None:
    save_from(fake_server, pulse_home, expired_access=True)  # the status run refreshes first
    out = cli("status")
    assert out.returncode == 0, out.stderr
    until = datetime.now(UTC) + timedelta(days=29)
    local = until.astimezone()
    assert f"Login renews until {local.day} {local:%b}" in out.stdout
    data = json.loads(cli("status", "--json").stdout)
    at = datetime.fromisoformat(data["login_expires_at"])
    assert at.utcoffset() is not None
    assert abs((at - until).total_seconds()) < 120
    stored = json.loads((pulse_home / "credentials.json").read_text(encoding="utf-8"))
    assert abs(stored["refresh_expires_at"] - until.timestamp()) < 120
    assert fake_server.refresh_count == 1


def test_without_the_field_status_is_as_before(fake_config: Path, pulse_home: Path) -> None:
    with FakeAnthropic(login_ttl=None) as fake:
        config = json.loads(fake_config.read_text(encoding="utf-8"))
        fake_config.write_text(json.dumps({**config, **fake.config_overrides()}),
                               encoding="utf-8")
        save_from(fake, pulse_home)
        out = cli("status")
        assert out.returncode == 0, out.stderr
        assert "Login" not in out.stdout
        assert json.loads(cli("status", "--json").stdout)["login_expires_at"] is None


# ---- window and notifications ----


def test_the_window_footer_shows_it() -> None:
    snap = Snapshot(NOW, parse_usage({"five_hour": {"utilization": 5.0}}), {})
    status = AppStatus(Phase.OK, snap, login_expires_at=NOW + timedelta(days=2, hours=1))
    view = deep_dive_view(status, NOW, alerts_enabled=True, show_model_limits=False, tz=UTC)
    assert view.login_text == "Login expires in 2 days"
    assert deep_dive_view(AppStatus(Phase.OK, snap), NOW, alerts_enabled=True,
                          show_model_limits=False).login_text is None


def run(expires_at: datetime | None, days_before: list[float],
        settings: AlertSettings | None = None) -> list[list[str]]:
    """Evaluate at each moment (days before the end), carrying the memory like the poller."""
    settings = settings or AlertSettings()
    memory = AlertMemory()
    shown = []
    for days in days_before:
        now = (expires_at or NOW) - timedelta(days=days)
        alerts, memory = evaluate(Usage(None, None), memory, settings, now,
                                  login_expires_at=expires_at)
        shown.append([a.title for a in alerts])
        memory = AlertMemory.from_json(json.loads(json.dumps(memory.to_json())))  # restarts
    return shown


def test_one_notification_three_days_and_one_a_day_before() -> None:
    end = NOW + timedelta(days=10)
    shown = run(end, [10, 4, 3.0, 2.9, 2.5, 1.5, 1.0, 0.5, 0.1])
    assert shown == [[], [], ["Your Claude Pulse login expires in 3 days"], [], [], [],
                     ["Your Claude Pulse login expires in 1 day"], [], []]


def test_starting_late_shows_only_the_most_urgent_one() -> None:
    shown = run(NOW + timedelta(days=5), [0.5, 0.4])
    assert shown == [["Your Claude Pulse login expires in 12h"], []]
    assert run(NOW + timedelta(days=5), [2.2]) == [["Your Claude Pulse login expires in 2 days"]]


def test_a_new_login_is_announced_again_and_disabled_alerts_stay_quiet() -> None:
    memory = AlertMemory()
    end = NOW + timedelta(days=3)
    alerts, memory = evaluate(Usage(None, None), memory, AlertSettings(), NOW,
                              login_expires_at=end)
    assert len(alerts) == 1 and alerts[0].body == "Log in again to keep your numbers coming."
    later_end = end + timedelta(days=29)
    alerts, memory = evaluate(Usage(None, None), memory, AlertSettings(), later_end -
                              timedelta(days=2), login_expires_at=later_end)
    assert [a.key for a in alerts] == ["login:3d"]
    assert run(NOW + timedelta(days=5), [2.5, 0.5], AlertSettings(enabled=False)) == [[], []]
    assert run(None, [2, 1, 0]) == [[], [], []]


def test_the_tray_warns_once_and_remembers_it_across_a_restart(fake_server: FakeAnthropic,
                                                               pulse_home: Path) -> None:
    from test_poller import Harness

    app = Harness(fake_server, pulse_home)
    tok = fake_server.issue_tokens()
    end = (app.clock.now + timedelta(days=2, hours=12)).replace(microsecond=0)
    app.services.credentials.save(dataclasses.replace(
        token_set_from_response(tok, app.clock.now), refresh_expires_at=end))
    app.poller.start()
    status = app.settle()
    assert status.login_expires_at == end
    app.tick()
    expiry = [a for a in app.notifier.sent if a.kind == "login_expiry"]
    assert [a.title for a in expiry] == ["Your Claude Pulse login expires in 2 days"]
    app.poller.stop()
    again = Harness(fake_server, pulse_home)  # a restart reads the alert memory
    again.clock.now = app.clock.now + timedelta(minutes=10)  # the snapshot aged: it fetches
    again.poller.start()
    assert again.settle().phase is Phase.OK
    assert [a for a in again.notifier.sent if a.kind == "login_expiry"] == []
    again.poller.stop()


def test_a_login_end_learnt_by_a_refresh_reaches_the_window_and_the_warnings(
        fake_server: FakeAnthropic, pulse_home: Path) -> None:
    # Credentials of an older version (no refresh_expires_at); the app runs for days, and a
    # refresh brings the field: no restart is needed to show it and warn.
    from test_poller import Harness

    app = Harness(fake_server, pulse_home)
    app.login()
    app.poller.start()
    assert app.settle().login_expires_at is None
    saved = app.services.credentials.load()
    assert saved is not None
    end = (app.clock.now + timedelta(days=2)).replace(microsecond=0)
    app.services.credentials.save(dataclasses.replace(saved, refresh_expires_at=end))
    status = app.tick()
    assert status.login_expires_at == end
    assert [a.key for a in app.notifier.sent if a.kind == "login_expiry"] == ["login:3d"]
    app.poller.stop()
