"""TokenManager scenarios (after MSAL's matrix): fresh, refresh-due, expired × server up/down/
refusing; rotation persisted; single flight across threads and processes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from claude_pulse.config import Config
from claude_pulse.core.tokens import TokenSet, TokenState
from claude_pulse.errors import (
    CredentialsError,
    NetworkError,
    NotLoggedIn,
    ReauthRequired,
    ServerError,
)
from claude_pulse.fake.anthropic import FakeAnthropic, Reply
from claude_pulse.services.credentials import CredentialStore
from claude_pulse.services.http import UrllibTransport
from claude_pulse.services.tokens import TokenManager
from claude_pulse.services.usage_client import UsageClient

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
EXPIRES_IN = {
    TokenState.FRESH: timedelta(hours=1),
    TokenState.REFRESH_DUE: timedelta(minutes=2),
    TokenState.EXPIRED: timedelta(minutes=-1),
}


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1/oauth/token"


class Setup:
    def __init__(self, fake: FakeAnthropic, home: Path, token_url: str | None = None) -> None:
        self.fake = fake
        self.store = CredentialStore(home / "credentials.json")
        self.config = Config(**{**fake.config_overrides(),
                                **({"token_url": token_url} if token_url else {})})
        self.manager = TokenManager(self.store, UrllibTransport(), lambda: self.config,
                                    clock=lambda: NOW, lock_path=home / "credentials.lock")
        self.refreshed: list[str] = []
        self.manager.on_refresh.append(lambda: self.refreshed.append("x"))

    def log_in(self, state: TokenState) -> TokenSet:
        data = self.fake.issue_tokens()
        tokens = TokenSet(data["access_token"], data["refresh_token"], NOW + EXPIRES_IN[state],
                          scope=data["scope"], email="pulse.user@example.com")
        self.store.save(tokens)
        return tokens


@pytest.fixture
def setup(fake_server: FakeAnthropic, pulse_home: Path) -> Setup:
    return Setup(fake_server, pulse_home)


def test_not_logged_in(setup: Setup) -> None:
    with pytest.raises(NotLoggedIn, match="claude-pulse login"):
        setup.manager.access_token()
    assert setup.manager.state() is None and setup.manager.email is None


def test_fresh_token_is_returned_without_any_request(setup: Setup) -> None:
    tokens = setup.log_in(TokenState.FRESH)
    assert setup.manager.access_token() == tokens.access_token
    assert setup.fake.requests == [] and setup.refreshed == []
    assert setup.manager.state() is TokenState.FRESH
    assert setup.manager.email == "pulse.user@example.com"


@pytest.mark.parametrize("state", [
    pytest.param(TokenState.REFRESH_DUE, id="refresh-due"),
    pytest.param(TokenState.EXPIRED, id="expired"),
])
def test_aging_token_and_available_server_returns_new_token_and_persists_rotation(
        setup: Setup, state: TokenState) -> None:
    old = setup.log_in(state)
    new_access = setup.manager.access_token()
    saved = setup.store.load()
    assert saved is not None
    assert new_access != old.access_token and saved.access_token == new_access
    assert saved.refresh_token != old.refresh_token
    assert saved.expires_at == NOW + timedelta(hours=8)
    assert saved.email == "pulse.user@example.com"
    assert setup.fake.refresh_count == 1 and setup.refreshed == ["x"]
    # The saved refresh token is the live one: it refreshes again; the old one is dead.
    setup.manager.refresh()
    assert setup.fake.refresh_count == 2


@pytest.mark.parametrize("reply", [
    pytest.param(Reply.server_error(503), id="503"),
    pytest.param(Reply.rate_limited(60), id="429"),
    pytest.param(Reply.truncated_json(), id="bad-body"),
    pytest.param(Reply(400, json={"type": "error", "error": {"type": "invalid_request_error"}}),
                 id="400-not-grant"),
])
def test_refresh_due_token_and_failing_server_returns_old_token(
        setup: Setup, reply: Reply, caplog: pytest.LogCaptureFixture) -> None:
    old = setup.log_in(TokenState.REFRESH_DUE)
    setup.fake.queue("token", reply)
    assert setup.manager.access_token() == old.access_token
    assert setup.store.load() == old and setup.refreshed == []
    assert "using the current token" in caplog.text
    assert old.access_token not in caplog.text


def test_refresh_due_token_and_unreachable_server_returns_old_token(
        fake_server: FakeAnthropic, pulse_home: Path) -> None:
    setup = Setup(fake_server, pulse_home, token_url=closed_port_url())
    old = setup.log_in(TokenState.REFRESH_DUE)
    assert setup.manager.access_token() == old.access_token


def test_expired_token_and_unreachable_server_raises_network_error(
        fake_server: FakeAnthropic, pulse_home: Path) -> None:
    setup = Setup(fake_server, pulse_home, token_url=closed_port_url())
    setup.log_in(TokenState.EXPIRED)
    with pytest.raises(NetworkError):
        setup.manager.access_token()


def test_expired_token_and_failing_server_raises_server_error(setup: Setup) -> None:
    setup.log_in(TokenState.EXPIRED)
    setup.fake.queue("token", Reply.server_error(502))
    with pytest.raises(ServerError):
        setup.manager.access_token()


@pytest.mark.parametrize("state", [
    pytest.param(TokenState.REFRESH_DUE, id="refresh-due"),
    pytest.param(TokenState.EXPIRED, id="expired"),
])
def test_invalid_grant_means_log_in_again(setup: Setup, state: TokenState) -> None:
    old = setup.log_in(state)
    setup.fake.revoke_refresh_tokens()
    with pytest.raises(ReauthRequired, match="claude-pulse login") as info:
        setup.manager.access_token()
    assert old.refresh_token not in str(info.value)
    assert setup.store.load() == old  # kept: `login` replaces it


def test_forced_refresh_after_401(setup: Setup) -> None:
    old = setup.log_in(TokenState.FRESH)
    new = setup.manager.refresh(rejected=old.access_token)
    assert new != old.access_token and setup.fake.refresh_count == 1


def test_forced_refresh_uses_a_token_another_process_already_saved(setup: Setup) -> None:
    setup.log_in(TokenState.FRESH)
    newer = setup.log_in(TokenState.FRESH)  # "another process" saved a new pair
    assert setup.manager.refresh(rejected="the-old-access-token") == newer.access_token
    assert setup.fake.refresh_count == 0


def test_refresh_saves_before_it_returns(setup: Setup) -> None:
    class FailingStore(CredentialStore):
        fail = True

        def save(self, tokens: TokenSet) -> None:
            if self.fail:
                self.fail = False
                raise OSError(28, "No space left on device")
            super().save(tokens)

    store = FailingStore(setup.store.path)
    manager = TokenManager(store, UrllibTransport(), lambda: setup.config, clock=lambda: NOW,
                           lock_path=setup.store.path.with_suffix(".lock"))
    setup.log_in(TokenState.EXPIRED)
    with pytest.raises(CredentialsError, match="No space left"):
        manager.access_token()
    # The rotated pair lives in memory and is written on the next call, without a new refresh.
    token = manager.access_token()
    saved = store.load()
    assert saved is not None and saved.access_token == token
    assert setup.fake.refresh_count == 1


def test_a_failing_callback_does_not_lose_the_new_token(setup: Setup) -> None:
    def boom() -> None:
        raise RuntimeError("callback broke")

    setup.manager.on_refresh.insert(0, boom)
    setup.log_in(TokenState.EXPIRED)
    token = setup.manager.access_token()
    saved = setup.store.load()
    assert saved is not None and saved.access_token == token and setup.refreshed == ["x"]


def test_threads_refresh_once(setup: Setup) -> None:
    setup.log_in(TokenState.EXPIRED)
    setup.fake.queue("token", Reply.slow(0.3))
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(setup.manager.access_token()))
               for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(set(results)) == 1 and len(results) == 5
    assert setup.fake.refresh_count == 1


def test_new_token_works_at_the_usage_endpoint(setup: Setup) -> None:
    setup.log_in(TokenState.EXPIRED)
    setup.fake.expire_access_tokens()
    client = UsageClient(UrllibTransport(), lambda: setup.config, setup.manager)
    assert "five_hour" in client.fetch_usage()[0]


_CHILD = r"""
import json, sys, time
from datetime import datetime, timezone
from pathlib import Path
from claude_pulse.config import Config
from claude_pulse.services.credentials import CredentialStore
from claude_pulse.services.http import UrllibTransport
from claude_pulse.services.tokens import TokenManager
from claude_pulse.services.usage_client import UsageClient

home, config, start = Path(sys.argv[1]), Config(**json.loads(sys.argv[2])), float(sys.argv[3])
manager = TokenManager(CredentialStore(home / "credentials.json"), UrllibTransport(),
                       lambda: config,
                       clock=lambda: datetime.now(timezone.utc),
                       lock_path=home / "credentials.lock")
time.sleep(max(0.0, start - time.time()))
token = manager.access_token()
UsageClient(UrllibTransport(), lambda: config, manager).fetch_usage()
print(json.dumps({"token": token}))
"""


@pytest.mark.slow
def test_two_processes_refresh_once_and_both_work(setup: Setup, pulse_home: Path) -> None:
    data = setup.fake.issue_tokens()
    setup.store.save(TokenSet(data["access_token"], data["refresh_token"],
                              datetime.now(timezone.utc) - timedelta(minutes=1)))
    setup.fake.expire_access_tokens()
    # The refresh that wins takes a while, so the other process is surely waiting on the lock.
    setup.fake.queue("token", Reply.slow(0.5))
    start = time.time() + 1.5
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    args = [sys.executable, "-c", _CHILD, str(pulse_home),
            json.dumps(setup.fake.config_overrides()), str(start)]
    children = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
                for _ in range(2)]
    outputs = [child.communicate(timeout=60) for child in children]
    for child, (_, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err.decode()
    tokens = {json.loads(out)["token"] for out, _ in outputs}
    assert setup.fake.refresh_count == 1
    assert len(tokens) == 1
    saved = setup.store.load()
    assert saved is not None and tokens == {saved.access_token}
    assert len(setup.fake.requests_to("usage")) == 2
