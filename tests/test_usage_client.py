"""UsageClient against the fake server: headers, timeouts, and the 401/403/429/5xx table."""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import pytest

from claude_pulse.config import Config
from claude_pulse.core.tokens import TokenSet, TokenState
from claude_pulse.errors import (
    ApiError,
    BadResponse,
    NetworkError,
    RateLimited,
    ReauthRequired,
    ServerError,
)
from claude_pulse.fake.anthropic import FakeAnthropic, Reply
from claude_pulse.fake.replies import FORBIDDEN_NOT_LOGIN
from claude_pulse.services.credentials import CredentialStore
from claude_pulse.services.http import UrllibTransport
from claude_pulse.services.tokens import TokenManager
from claude_pulse.services.usage_client import Profile, UsageClient, plan_label

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
USAGE = {"five_hour": {"utilization": 8.0, "resets_at": "2026-11-28T15:17:29+00:00"},
         "seven_day": {"utilization": 68.0, "resets_at": "2026-12-01T03:59:59+00:00"},
         "unknown_key": {"kept": True}}


class StubTokens:
    """A token source handing out real tokens minted by the fake, in a chosen state."""

    def __init__(self, fake: FakeAnthropic, state: TokenState = TokenState.FRESH) -> None:
        self.fake = fake
        self.token = fake.issue_tokens()["access_token"]
        self._state = state
        self.refreshes: list[str | None] = []

    def clock(self) -> datetime:
        return NOW

    def access_token(self) -> str:
        return str(self.token)

    def refresh(self, rejected: str | None = None) -> str:
        self.refreshes.append(rejected)
        self.token = self.fake.issue_tokens()["access_token"]
        self._state = TokenState.FRESH
        return str(self.token)

    def state(self) -> TokenState | None:
        return self._state


@pytest.fixture
def fake(fake_server: FakeAnthropic) -> FakeAnthropic:
    fake_server.usage = USAGE
    return fake_server


def client_for(fake: FakeAnthropic, tokens: StubTokens | TokenManager, **config: object
               ) -> UsageClient:
    cfg = Config(**{**fake.config_overrides(), **config})  # type: ignore[arg-type]
    return UsageClient(UrllibTransport(), lambda: cfg, tokens)


def test_fetch_usage_returns_the_raw_object_with_the_right_headers(fake: FakeAnthropic) -> None:
    tokens = StubTokens(fake)
    assert client_for(fake, tokens, user_agent="my-agent/2").fetch_usage()[0] == USAGE
    (req,) = fake.requests_to("usage")
    assert req.headers["authorization"] == f"Bearer {tokens.token}"
    assert req.headers["anthropic-beta"] == "oauth-2025-04-20"
    assert req.headers["user-agent"] == "my-agent/2"
    assert req.headers["accept"] == "application/json"
    assert req.headers["content-type"] == "application/json"


def test_default_user_agent_is_claude_pulse(fake: FakeAnthropic) -> None:
    client_for(fake, StubTokens(fake)).fetch_usage()
    assert fake.requests_to("usage")[0].headers["user-agent"].startswith("claude-pulse/")


def test_fetch_profile(fake: FakeAnthropic) -> None:
    profile = client_for(fake, StubTokens(fake)).fetch_profile()
    assert profile == Profile("pulse.user@example.com", "Max 5x", "default_claude_max_5x")


def test_fetch_profile_for_a_login_not_saved_yet(fake: FakeAnthropic) -> None:
    """During a login: the new token is used as it is; a refusal is not "refreshed" away."""
    stored = StubTokens(fake)
    new = fake.issue_tokens()
    tokens = TokenSet(new["access_token"], new["refresh_token"], NOW + timedelta(hours=8))
    client = client_for(fake, stored)
    assert client.fetch_profile(tokens).email == "pulse.user@example.com"
    sent = fake.requests_to("profile")[-1].headers["authorization"]
    assert sent == f"Bearer {new['access_token']}"
    fake.expire_access_tokens()
    with pytest.raises(ReauthRequired):
        client.fetch_profile(tokens)
    assert stored.refreshes == []


@pytest.mark.parametrize(("org_type", "tier", "expected"), [
    pytest.param("claude_max", "default_claude_max_20x", "Max 20x", id="max-20x"),
    pytest.param("claude_max", "default_claude_max_5x", "Max 5x", id="max-5x"),
    pytest.param("claude_max", None, "Max", id="max-no-tier"),
    pytest.param("claude_pro", "default_claude_ai", "Pro", id="pro"),
    pytest.param("claude_team", None, "Team", id="team"),
    pytest.param("claude_enterprise", None, "Enterprise", id="enterprise"),
    pytest.param("claude_free", "default_claude_ai", "Free", id="cancelled"),
    pytest.param("something_new", None, None, id="unknown"),
    pytest.param(None, None, None, id="missing"),
])
def test_plan_label(org_type: object, tier: object, expected: str | None) -> None:
    assert plan_label(org_type, tier) == expected


def test_401_refreshes_once_and_retries_once(fake: FakeAnthropic) -> None:
    tokens = StubTokens(fake)
    old = tokens.token
    fake.queue("usage", Reply.unauthorized())
    assert client_for(fake, tokens).fetch_usage()[0] == USAGE
    assert tokens.refreshes == [old]
    first, second = fake.requests_to("usage")
    assert first.headers["authorization"] != second.headers["authorization"]


def test_401_twice_means_log_in_again(fake: FakeAnthropic) -> None:
    tokens = StubTokens(fake)
    fake.queue("usage", Reply.unauthorized(), Reply.unauthorized())
    with pytest.raises(ReauthRequired, match="claude-pulse login"):
        client_for(fake, tokens).fetch_usage()
    assert len(tokens.refreshes) == 1 and len(fake.requests_to("usage")) == 2


@pytest.mark.parametrize("fetch", [
    pytest.param(UsageClient.fetch_usage, id="usage"),
    pytest.param(UsageClient.fetch_profile, id="profile"),
])
def test_403_scope_error_means_log_in_again(fake: FakeAnthropic,
                                            fetch: Callable[[UsageClient], object]) -> None:
    fake.queue("usage", Reply.forbidden_scope())
    fake.queue("profile", Reply.forbidden_scope())
    tokens = StubTokens(fake)
    with pytest.raises(ReauthRequired, match=r"user:profile.*log"):
        fetch(client_for(fake, tokens))
    assert tokens.refreshes == []


@pytest.mark.parametrize("name", sorted(FORBIDDEN_NOT_LOGIN))
@pytest.mark.parametrize("fetch", [
    pytest.param(UsageClient.fetch_usage, id="usage"),
    pytest.param(UsageClient.fetch_profile, id="profile"),
])
def test_other_403s_are_a_server_refusal_not_a_login_problem(
        fake: FakeAnthropic, fetch: Callable[[UsageClient], object], name: str) -> None:
    fake.queue("usage", FORBIDDEN_NOT_LOGIN[name]())
    fake.queue("profile", FORBIDDEN_NOT_LOGIN[name]())
    tokens = StubTokens(fake)
    with pytest.raises(ServerError, match=r"HTTP 403, not a login problem") as info:
        fetch(client_for(fake, tokens))
    assert info.value.status == 403 and not isinstance(info.value, ReauthRequired)
    assert tokens.refreshes == []


@pytest.mark.parametrize(("retry_after", "expected"), [
    pytest.param("120", 120.0, id="seconds"),
    pytest.param("0", 0.0, id="zero"),
    pytest.param(format_datetime(NOW + timedelta(minutes=10), usegmt=True), 600.0,
                 id="http-date"),
    pytest.param(None, None, id="absent"),
    pytest.param("later", None, id="garbage"),
])
def test_429_with_fresh_token_is_rate_limited(fake: FakeAnthropic, retry_after: str | None,
                                              expected: float | None) -> None:
    headers = {"retry-after": retry_after} if retry_after is not None else {}
    fake.queue("usage", Reply(429, json={"error": {"type": "rate_limit_error"}}, headers=headers))
    tokens = StubTokens(fake)
    with pytest.raises(RateLimited) as info:
        client_for(fake, tokens).fetch_usage()
    assert info.value.retry_after == expected and info.value.status == 429
    assert tokens.refreshes == [] and len(fake.requests_to("usage")) == 1


def test_429_with_an_expired_token_refreshes_once(fake: FakeAnthropic) -> None:
    fake.queue("usage", Reply.rate_limited(3600))
    tokens = StubTokens(fake, TokenState.EXPIRED)
    assert client_for(fake, tokens).fetch_usage()[0] == USAGE
    assert len(tokens.refreshes) == 1


def test_429_with_a_token_still_valid_is_a_block_not_a_reason_to_refresh(
        fake: FakeAnthropic) -> None:
    """Issue #18 item 2: only a token at or past its expiry may explain a 429; a refresh-due
    one is still valid, and `Retry-After: 3600` can hold the whole account anyway."""
    fake.queue("usage", Reply.rate_limited(3600))
    tokens = StubTokens(fake, TokenState.REFRESH_DUE)
    with pytest.raises(RateLimited) as info:
        client_for(fake, tokens).fetch_usage()
    assert info.value.retry_after == 3600.0
    assert tokens.refreshes == [] and len(fake.requests_to("usage")) == 1


def test_429_again_after_the_refresh_is_rate_limited(fake: FakeAnthropic) -> None:
    fake.queue("usage", Reply.rate_limited(3600), Reply.rate_limited(60))
    tokens = StubTokens(fake, TokenState.EXPIRED)
    with pytest.raises(RateLimited) as info:
        client_for(fake, tokens).fetch_usage()
    assert info.value.retry_after == 60.0 and len(tokens.refreshes) == 1


@pytest.mark.parametrize(("reply", "error", "status"), [
    pytest.param(Reply.server_error(503), ServerError, 503, id="503-html"),
    pytest.param(Reply.server_error(529, html=False), ServerError, 529, id="529-overloaded"),
    pytest.param(Reply.truncated_json(), BadResponse, 200, id="truncated-json"),
    pytest.param(Reply(200, json=[1, 2]), BadResponse, None, id="json-array"),
    pytest.param(Reply(200, json={"five_hour": {"utilization": "lots"}}), BadResponse, None,
                 id="wrong-type"),
    pytest.param(Reply(404, json={}), ApiError, 404, id="404"),
])
def test_failures_are_typed(fake: FakeAnthropic, reply: Reply, error: type[ApiError],
                            status: int | None) -> None:
    fake.queue("usage", reply)
    with pytest.raises(error) as info:
        client_for(fake, StubTokens(fake)).fetch_usage()
    assert type(info.value) is error
    if status is not None:
        assert info.value.status == status


def test_every_request_has_a_timeout(fake: FakeAnthropic) -> None:
    fake.queue("usage", Reply.slow(3))
    cfg = Config(**fake.config_overrides())
    client = UsageClient(UrllibTransport(), lambda: cfg, StubTokens(fake), timeout=0.5)
    with pytest.raises(NetworkError) as info:
        client.fetch_usage()
    assert info.value.reason == "timeout"


def test_connection_refused_is_a_network_error(fake: FakeAnthropic) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = client_for(fake, StubTokens(fake), usage_url=f"http://127.0.0.1:{port}/usage")
    with pytest.raises(NetworkError) as info:
        client.fetch_usage()
    assert info.value.reason == "refused"


def test_expired_on_the_server_with_real_token_manager(fake: FakeAnthropic,
                                                       pulse_home: Path) -> None:
    """The server says 401 while our clock thinks the token is fresh: refresh, retry, save."""
    store = CredentialStore(pulse_home / "credentials.json")
    data = fake.issue_tokens()
    store.save(TokenSet(data["access_token"], data["refresh_token"], NOW + timedelta(hours=8)))
    config = Config(**fake.config_overrides())
    manager = TokenManager(store, UrllibTransport(), lambda: config, clock=lambda: NOW,
                           lock_path=pulse_home / "credentials.lock")
    fake.expire_access_tokens()
    assert UsageClient(UrllibTransport(), lambda: config, manager).fetch_usage()[0] == USAGE
    saved = store.load()
    assert fake.refresh_count == 1 and saved is not None
    assert saved.refresh_token != data["refresh_token"]
