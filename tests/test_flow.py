"""The two legs of the OAuth flow, and both grants against the fake server."""

from __future__ import annotations

import urllib.parse
from datetime import datetime, timedelta, timezone

import pytest

from claude_pulse.core.tokens import TokenSet
from claude_pulse.errors import (
    ApiError,
    BadResponse,
    LoginError,
    RateLimited,
    ReauthRequired,
    ServerError,
)
from claude_pulse.fake import samples
from claude_pulse.fake.anthropic import FakeAnthropic, Reply
from claude_pulse.oauth.constants import CLIENT_ID, MANUAL_REDIRECT_URI
from claude_pulse.oauth.flow import (
    PendingLogin,
    check_callback,
    exchange_code,
    parse_pasted_code,
    refresh_tokens,
    start_login,
    token_set_from_response,
)
from claude_pulse.oauth.pkce import s256_challenge
from claude_pulse.services.http import UrllibTransport

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
REDIRECT = "http://localhost:19532/callback"


def clock() -> datetime:
    return NOW


def authorize(pending: PendingLogin) -> dict[str, str]:
    """What a browser does: GET the authorize URL and read the redirect's query."""
    resp = UrllibTransport().request("GET", pending.authorize_url, headers={}, timeout=5)
    assert resp.status == 302, resp.body[:200]
    location = resp.header("location") or ""
    query = urllib.parse.urlsplit(location).query
    return {k: v[0] for k, v in urllib.parse.parse_qs(query).items()}


def logged_in(fake: FakeAnthropic) -> TokenSet:
    data = fake.issue_tokens()
    return token_set_from_response(data, NOW)


# -- first leg ------------------------------------------------------------------------------------

def test_authorize_url_carries_every_parameter_in_claude_codes_order() -> None:
    pending = start_login("https://claude.ai/oauth/authorize", REDIRECT)
    split = urllib.parse.urlsplit(pending.authorize_url)
    pairs = urllib.parse.parse_qsl(split.query)
    assert [k for k, _ in pairs] == ["code", "client_id", "response_type", "redirect_uri", "scope",
                                     "code_challenge", "code_challenge_method", "state"]
    q = dict(pairs)
    assert q["code"] == "true" and q["client_id"] == CLIENT_ID and q["response_type"] == "code"
    assert q["redirect_uri"] == REDIRECT
    assert q["scope"] == "user:inference user:profile"
    assert q["code_challenge"] == s256_challenge(pending.code_verifier)
    assert q["code_challenge_method"] == "S256"
    assert q["state"] == pending.state
    assert pending.code_verifier not in pending.authorize_url


def test_authorize_url_keeps_an_existing_query() -> None:
    pending = start_login("https://example.test/authorize?tenant=x", REDIRECT)
    assert pending.authorize_url.startswith("https://example.test/authorize?tenant=x&code=true&")


def test_each_login_has_fresh_state_and_verifier() -> None:
    a, b = (start_login("https://x.test/a", REDIRECT) for _ in range(2))
    assert a.state != b.state and a.code_verifier != b.code_verifier


def test_pending_repr_hides_state_and_verifier() -> None:
    pending = start_login("https://x.test/a", REDIRECT)
    assert pending.state not in repr(pending) and pending.code_verifier not in repr(pending)


PENDING = PendingLogin("the-state", "v" * 43, REDIRECT, "https://x.test/a")


@pytest.mark.parametrize(("params", "expected"), [
    pytest.param({"code": "C1", "state": "the-state"}, "C1", id="ok"),
    pytest.param({"code": "C1", "state": "other"}, "state mismatch", id="wrong-state"),
    pytest.param({"code": "C1"}, "state mismatch", id="no-state"),
    pytest.param({"error": "access_denied", "state": "the-state"}, "denied", id="denied"),
    pytest.param({"error": "access_denied", "state": "x"}, "state mismatch",
                 id="denied-wrong-state"),
    pytest.param({"error": "<script>", "state": "the-state"}, "unknown error",
                 id="odd-error-not-echoed"),
    pytest.param({"error": "server_error", "state": "the-state"}, "server_error",
                 id="other-error"),
    pytest.param({"code": "", "state": "the-state"}, "no authorization code", id="empty-code"),
])
def test_check_callback(params: dict[str, str], expected: str) -> None:
    if expected == "C1":
        assert check_callback(PENDING, params) == "C1"
        return
    with pytest.raises(LoginError, match=expected):
        check_callback(PENDING, params)


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param("abc#xyz", {"code": "abc", "state": "xyz"}, id="code-hash-state"),
    pytest.param("  abc#xyz\n", {"code": "abc", "state": "xyz"}, id="whitespace"),
    pytest.param("'abc#xyz'", {"code": "abc", "state": "xyz"}, id="quoted"),
    pytest.param("https://platform.claude.com/oauth/code/callback?code=abc&state=xyz",
                 {"code": "abc", "state": "xyz"}, id="whole-url"),
    pytest.param("abc", None, id="no-state"),
    pytest.param("abc#", None, id="empty-state"),
    pytest.param("#xyz", None, id="empty-code"),
    pytest.param("", None, id="empty"),
])
def test_parse_pasted_code(text: str, expected: dict[str, str] | None) -> None:
    if expected is None:
        with pytest.raises(LoginError, match="full code"):
            parse_pasted_code(text)
    else:
        assert parse_pasted_code(text) == expected


# -- token answers --------------------------------------------------------------------------------

GOOD = {"access_token": "A", "refresh_token": "R", "expires_in": 28800, "scope": "s",
        "token_type": "Bearer", "account": {"email_address": "u@example.com"}}
PREVIOUS = TokenSet("oldA", "oldR", NOW, scope="old-scope", email="old@example.com")


@pytest.mark.parametrize(("payload", "previous", "expected"), [
    pytest.param(GOOD, None, TokenSet("A", "R", NOW + timedelta(hours=8), "Bearer", "s",
                                      "u@example.com"), id="full"),
    pytest.param({"access_token": "A", "expires_in": 60}, PREVIOUS,
                 TokenSet("A", "oldR", NOW + timedelta(seconds=60), "Bearer", "old-scope",
                          "old@example.com"), id="refresh-keeps-old-refresh-token"),
    pytest.param({**GOOD, "account": {"email": "p@example.com"}, "token_type": ""}, None,
                 TokenSet("A", "R", NOW + timedelta(hours=8), "Bearer", "s", "p@example.com"),
                 id="email-key-variant"),
])
def test_token_set_from_response(payload: dict[str, object], previous: TokenSet | None,
                                 expected: TokenSet) -> None:
    assert token_set_from_response(payload, NOW, previous) == expected


@pytest.mark.parametrize("payload", [
    pytest.param([], id="not-object"),
    pytest.param({**GOOD, "access_token": None}, id="no-access"),
    pytest.param({**GOOD, "refresh_token": ""}, id="no-refresh-on-login"),
    pytest.param({**GOOD, "expires_in": "28800"}, id="expires-in-text"),
    pytest.param({**GOOD, "expires_in": True}, id="expires-in-bool"),
    pytest.param({**GOOD, "expires_in": 0}, id="expires-in-zero"),
    pytest.param({**GOOD, "expires_in": -5}, id="expires-in-negative"),
])
def test_token_set_from_response_rejects(payload: object) -> None:
    with pytest.raises(BadResponse):
        token_set_from_response(payload, NOW)


# -- against the fake server ----------------------------------------------------------------------

def test_exchange_sends_json_and_returns_tokens(fake_server: FakeAnthropic) -> None:
    pending = start_login(fake_server.authorize_url, REDIRECT)
    params = authorize(pending)
    code = check_callback(pending, params)
    tokens = exchange_code(UrllibTransport(), fake_server.token_url, pending, code, clock=clock)
    assert tokens.email == "pulse.user@example.com"
    assert tokens.expires_at == NOW + timedelta(seconds=28800)
    (req,) = fake_server.requests_to("token")
    assert req.headers["content-type"] == "application/json"
    assert req.json == {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                        "client_id": CLIENT_ID, "code_verifier": pending.code_verifier,
                        "state": pending.state}
    assert "anthropic-beta" not in req.headers


def test_code_reuse_is_refused(fake_server: FakeAnthropic) -> None:
    pending = start_login(fake_server.authorize_url, REDIRECT)
    code = check_callback(pending, authorize(pending))
    exchange_code(UrllibTransport(), fake_server.token_url, pending, code, clock=clock)
    with pytest.raises(LoginError, match="already used") as info:
        exchange_code(UrllibTransport(), fake_server.token_url, pending, code, clock=clock)
    assert code not in str(info.value)
    assert fake_server.exchange_count == 1


def test_wrong_verifier_is_refused(fake_server: FakeAnthropic) -> None:
    pending = start_login(fake_server.authorize_url, REDIRECT)
    code = check_callback(pending, authorize(pending))
    forged = PendingLogin(pending.state, "x" * 43, pending.redirect_uri, pending.authorize_url)
    with pytest.raises(LoginError, match="invalid_grant"):
        exchange_code(UrllibTransport(), fake_server.token_url, forged, code, clock=clock)


def test_manual_redirect_page_shows_code_hash_state(fake_server: FakeAnthropic) -> None:
    pending = start_login(fake_server.authorize_url, MANUAL_REDIRECT_URI)
    resp = UrllibTransport().request("GET", pending.authorize_url, headers={}, timeout=5)
    page = resp.body.decode()
    shown = page.split('<code id="auth-code">')[1].split("</code>")[0]
    code = check_callback(pending, parse_pasted_code(shown))
    tokens = exchange_code(UrllibTransport(), fake_server.token_url, pending, code, clock=clock)
    assert tokens.access_token


def test_refresh_rotates_and_kills_the_old_refresh_token(fake_server: FakeAnthropic) -> None:
    old = logged_in(fake_server)
    new = refresh_tokens(UrllibTransport(), fake_server.token_url, old, clock=clock)
    assert new.refresh_token != old.refresh_token and new.access_token != old.access_token
    (req,) = fake_server.requests_to("token")
    assert req.json == {"grant_type": "refresh_token", "refresh_token": old.refresh_token,
                        "client_id": CLIENT_ID}
    with pytest.raises(ReauthRequired, match="claude-pulse login") as info:
        refresh_tokens(UrllibTransport(), fake_server.token_url, old, clock=clock)
    assert old.refresh_token not in str(info.value)


@pytest.mark.parametrize(("reply", "error"), [
    pytest.param(Reply.server_error(503), ServerError, id="503"),
    pytest.param(Reply.server_error(500, html=False), ServerError, id="500-json"),
    pytest.param(Reply.rate_limited(30), RateLimited, id="429"),
    pytest.param(Reply.truncated_json(), BadResponse, id="truncated"),
    pytest.param(Reply(200, json={"access_token": "x"}), BadResponse, id="no-expiry"),
    pytest.param(Reply(400, json=samples.TOKEN_BAD_REQUEST), ApiError,
                 id="400-invalid-request-real-body"),
    pytest.param(Reply(401, json={"error": "invalid_grant"}), ReauthRequired, id="401-grant"),
    # Only invalid_grant ends the login (issue #18 item 3).
    pytest.param(Reply(401, json={"error": "invalid_client"}), ApiError, id="401-other-error"),
    pytest.param(Reply.forbidden_cloudflare(), ServerError, id="403-cloudflare-html"),
])
def test_refresh_failures_are_typed(fake_server: FakeAnthropic, reply: Reply,
                                    error: type[Exception]) -> None:
    fake_server.queue("token", reply)
    with pytest.raises(error) as info:
        refresh_tokens(UrllibTransport(), fake_server.token_url, logged_in(fake_server),
                       clock=clock)
    if isinstance(info.value, RateLimited):
        assert info.value.retry_after == 30.0
