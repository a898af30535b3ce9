"""Errors by their body, not only their status (issue #18 item 3), against real `status` runs.

A usage/profile 403 means "log in again" only when its JSON says so (`permission_error`, or a
missing-scope / `oauth_scope_insufficient` message). Any other 403 — Cloudflare's HTML, a regional
page, JSON of another type — is a transient refusal: the credentials stay byte-identical, the last
numbers stay (stale), the back-off is the 5xx one, and the next run after the server recovers
works without a login. On the token endpoint only `invalid_grant` ends the login.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from claude_pulse.core.polling import FetchFailed, PollModel, PollPolicy, step
from claude_pulse.core.snapshot import Snapshot
from claude_pulse.core.status import AppStatus, Phase
from claude_pulse.core.usage import parse_usage
from claude_pulse.core.viewmodel import deep_dive_view
from claude_pulse.errors import ReauthRequired, ServerError
from claude_pulse.fake.anthropic import FakeAnthropic, Reply
from claude_pulse.fake.replies import FORBIDDEN_LOGIN, FORBIDDEN_NOT_LOGIN
from claude_pulse.fake.samples import TOKEN_BAD_REQUEST
from claude_pulse.services.credentials import CredentialStore
from support.fakes import usage_payload
from support.fixtures_server import seed_credentials

NOT_LOGIN = "Anthropic refused the request (HTTP 403, not a login problem)"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "claude_pulse", *args], capture_output=True,
                          text=True, timeout=60, env=dict(os.environ))


@pytest.fixture
def creds(fake_server: FakeAnthropic, fake_config: Path, pulse_home: Path) -> Path:
    seed_credentials(pulse_home, fake_server)
    fake_server.usage = usage_payload(42.0)
    assert cli("status").returncode == 0
    return pulse_home / "credentials.json"


@pytest.mark.parametrize("name", sorted(FORBIDDEN_NOT_LOGIN))
def test_a_403_that_is_not_about_the_login_keeps_it(fake_server: FakeAnthropic, creds: Path,
                                                   name: str) -> None:
    before = creds.read_bytes()
    fake_server.queue("usage", FORBIDDEN_NOT_LOGIN[name]())
    out = cli("status", "--json")
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [
        f"claude-pulse: {NOT_LOGIN}. (showing the last good numbers)"]
    data = json.loads(out.stdout)
    assert data["stale"] is True and data["session"]["utilization"] == 42.0
    assert creds.read_bytes() == before
    fake_server.usage = usage_payload(43.0)
    again = cli("status", "--json")  # the server recovered: no login needed
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["session"]["utilization"] == 43.0
    assert creds.read_bytes() == before
    assert fake_server.refresh_count == 0


@pytest.mark.parametrize("name", sorted(FORBIDDEN_LOGIN))
def test_a_403_that_says_the_scope_is_missing_asks_for_a_login(
        fake_server: FakeAnthropic, creds: Path, name: str) -> None:
    fake_server.queue("usage", FORBIDDEN_LOGIN[name]())
    out = cli("status")
    assert out.returncode == 1
    assert "user:profile" in out.stderr and "claude-pulse login" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("reply", [
    pytest.param(Reply.forbidden_cloudflare, id="403-html"),
    pytest.param(lambda: Reply(401, json={"error": "invalid_client"}), id="401-invalid-client"),
    pytest.param(lambda: Reply(400, json=TOKEN_BAD_REQUEST), id="400-invalid-request"),
    pytest.param(lambda: Reply.server_error(503), id="503"),
])
def test_only_invalid_grant_ends_the_login_at_the_token_endpoint(
        fake_server: FakeAnthropic, creds: Path, reply: Callable[[], Reply]) -> None:
    store = CredentialStore(creds)
    tokens = store.load()
    assert tokens is not None
    # An expired access token: the next status must refresh first.
    store.save(dataclasses.replace(tokens,
                                   expires_at=datetime.now(timezone.utc) - timedelta(minutes=1)))
    before = creds.read_bytes()
    fake_server.queue("token", reply())
    out = cli("status")
    assert out.returncode == 1
    assert "login" not in out.stderr.lower().replace("not a login problem", "")
    assert len(out.stderr.strip().splitlines()) == 1
    assert creds.read_bytes() == before
    again = cli("status")
    assert again.returncode == 0, again.stderr
    assert fake_server.refresh_count == 1


def test_invalid_grant_does_end_the_login(fake_server: FakeAnthropic, creds: Path) -> None:
    fake_server.expire_access_tokens()
    fake_server.revoke_refresh_tokens()
    out = cli("status")
    assert out.returncode == 1 and "claude-pulse login" in out.stderr


def test_the_tray_backs_off_like_a_5xx_and_says_when_it_retries() -> None:
    now = datetime(2026, 12, 3, 17, 0, tzinfo=timezone.utc)
    snap = Snapshot(now - timedelta(minutes=5), parse_usage(usage_payload(42.0)), {})
    model = PollModel(AppStatus(Phase.OK, snap))
    error = ServerError(f"{NOT_LOGIN}.", 403)
    new, _ = step(model, FetchFailed(error, 0.5), now, PollPolicy())
    five_xx, _ = step(model, FetchFailed(ServerError("x failed (HTTP 503).", 503), 0.5), now,
                        PollPolicy())
    assert new.status.phase is Phase.SERVER_ERROR and new.status.snapshot is snap
    assert new.status.next_try == five_xx.status.next_try
    assert new.status.next_try is not None and new.status.next_try > now
    view = deep_dive_view(new.status, now, alerts_enabled=True, show_model_limits=False,
                          tz=timezone.utc, hour24=False)
    five_xx_view = deep_dive_view(five_xx.status, now, alerts_enabled=True,
                                  show_model_limits=False, tz=timezone.utc, hour24=False)
    # The window words it like any trouble on their side (no codes there), never "log in".
    assert view.banner == five_xx_view.banner and view.banner is not None
    assert view.banner.action is None and view.banner.detail is not None
    retry = new.status.next_try.astimezone(timezone.utc)
    assert f"at {retry.hour % 12 or 12}:{retry:%M} {'AM' if retry.hour < 12 else 'PM'}" in \
        view.banner.detail  # clock_format 12h honoured
    assert new.status.message == f"{NOT_LOGIN}."  # for the tray's note and the log
    assert not isinstance(error, ReauthRequired)
