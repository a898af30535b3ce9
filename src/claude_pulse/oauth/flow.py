"""The OAuth authorization-code flow as data between two legs (after MSAL's auth_code_flow).

`start_login()` returns a `PendingLogin` (state, verifier, redirect URI, authorize URL). Whatever
brings the code back — the loopback receiver or a pasted `code#state` — hands it to
`check_callback()`/`parse_pasted_code()`, then `exchange_code()` trades it for a `TokenSet`.
`refresh_tokens()` is the other grant. Wire format per protocol.md §2.2 and design.md §2: a JSON
body (not the spec's form body), `state` also sent in the exchange.

Token-endpoint failures map onto the error tree: `invalid_grant` on refresh → ReauthRequired,
on exchange → CodeRefused (a LoginError) — and nothing else ends a login (issue #18 item 3);
429 → RateLimited; 5xx and a 403 (Cloudflare, a regional block) → ServerError; other 4xx →
ApiError; anything unreadable → BadResponse; no answer → NetworkError (from the transport).
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from claude_pulse.config import DEFAULT_TOKEN_TIMEOUT_S, DEFAULT_USER_AGENT
from claude_pulse.core.http import HttpResponse, HttpTransport, parse_retry_after
from claude_pulse.core.tokens import TokenSet
from claude_pulse.errors import (
    ApiError,
    BadResponse,
    CodeRefused,
    LoginError,
    RateLimited,
    ReauthRequired,
    ServerError,
)
from claude_pulse.oauth.constants import CLIENT_ID, SCOPES
from claude_pulse.oauth.pkce import TokenBytes, make_state, make_verifier, s256_challenge

__all__ = [
    "TOKEN_TIMEOUT_S",
    "PendingLogin",
    "check_callback",
    "exchange_code",
    "parse_pasted_code",
    "refresh_tokens",
    "start_login",
    "token_set_from_response",
]

log = logging.getLogger(__name__)

# The whole request's deadline (config's token_timeout_seconds by default). Claude Code gives the
# token endpoint 15 s per read (protocol.md §2.2); a total deadline needs more room.
TOKEN_TIMEOUT_S = float(DEFAULT_TOKEN_TIMEOUT_S)
# Honest identification; deliberately not `config.user_agent`, which users may set to a
# `claude-code/…` value for the usage endpoint — that prefix is refused here (protocol.md §5.2).
_TOKEN_HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json, text/plain, */*",
    "User-Agent": DEFAULT_USER_AGENT,
}
# Only an OAuth error *code* from the server is ever echoed (never free text, never values).
_ERROR_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# Callbacks may carry only these back to the caller (MSAL copies only whitelisted error fields).
_ERROR_FIELDS = ("error", "error_description")


@dataclass(frozen=True)
class PendingLogin:
    """One login attempt between opening the browser and exchanging the code."""

    state: str
    code_verifier: str
    redirect_uri: str
    authorize_url: str

    def __repr__(self) -> str:
        return f"PendingLogin(redirect_uri={self.redirect_uri!r}, state='***', verifier='***')"


def start_login(
    authorize_endpoint: str, redirect_uri: str, *, token_bytes: TokenBytes = secrets.token_bytes
) -> PendingLogin:
    verifier = make_verifier(token_bytes)
    state = make_state(token_bytes)
    # Order and `code=true` as Claude Code's buildAuthUrl (protocol.md §1.2).
    params = {
        "code": "true",
        "client_id": CLIENT_ID,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "scope": SCOPES,
        "code_challenge": s256_challenge(verifier),
        "code_challenge_method": "S256",
        "state": state,
    }
    sep = "&" if urllib.parse.urlsplit(authorize_endpoint).query else "?"
    url = authorize_endpoint + sep + urllib.parse.urlencode(params)
    return PendingLogin(state, verifier, redirect_uri, url)


def check_callback(pending: PendingLogin, params: Mapping[str, str]) -> str:
    """The authorization code from a redirect's query, after checking `state`."""
    # Bytes: compare_digest raises TypeError on non-ASCII text, and `state` comes from outside.
    if not secrets.compare_digest(params.get("state", "").encode(), pending.state.encode()):
        raise LoginError("The login answer did not match this login attempt (state mismatch).")
    if "error" in params:
        raise LoginError(_denied_message(params))
    code = params.get("code", "")
    if not code:
        raise LoginError("The login answer carried no authorization code.")
    return code


def parse_pasted_code(text: str) -> dict[str, str]:
    """`code#state` as the manual page shows it (or a pasted callback URL) → query-like params."""
    text = text.strip().strip("'\"")
    if "code=" in text and ("?" in text or "&" in text):
        query = urllib.parse.urlsplit(text).query or text
        pairs = urllib.parse.parse_qs(query, keep_blank_values=True)
        return {k: v[0] for k, v in pairs.items() if k in ("code", "state", *_ERROR_FIELDS)}
    code, sep, state = text.partition("#")
    if not sep or not code or not state:
        raise LoginError("That is not the full code: copy all of it, including the part after '#'.")
    return {"code": code, "state": state}


def exchange_code(
    transport: HttpTransport,
    token_url: str,
    pending: PendingLogin,
    code: str,
    *,
    clock: Callable[[], datetime],
    timeout: float = TOKEN_TIMEOUT_S,
) -> TokenSet:
    body = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": pending.redirect_uri,
        "client_id": CLIENT_ID,
        "code_verifier": pending.code_verifier,
        "state": pending.state,
    }
    resp = _post(transport, token_url, body, timeout, "authorization_code")
    if _oauth_error(resp) == "invalid_grant":
        raise CodeRefused(
            "The login code was refused (invalid_grant): it expired or was already used. "
            "Run `claude-pulse login` again."
        )
    now = clock()
    return token_set_from_response(_payload(resp, token_url, now), now)


def refresh_tokens(
    transport: HttpTransport,
    token_url: str,
    current: TokenSet,
    *,
    clock: Callable[[], datetime],
    timeout: float = TOKEN_TIMEOUT_S,
) -> TokenSet:
    """One refresh grant. The result carries the rotated refresh token (or the old one if none)."""
    body = {
        "grant_type": "refresh_token",
        "refresh_token": current.refresh_token,
        "client_id": CLIENT_ID,
    }
    resp = _post(transport, token_url, body, timeout, "refresh_token")
    if _oauth_error(resp) == "invalid_grant":
        raise ReauthRequired(
            "Your Claude login is no longer valid (invalid_grant). Run `claude-pulse login` again."
        )
    now = clock()
    return token_set_from_response(_payload(resp, token_url, now), now, previous=current)


def token_set_from_response(
    payload: Any, now: datetime, previous: TokenSet | None = None
) -> TokenSet:
    """Build a TokenSet from a 200 answer (protocol.md §2.3); `expires_at = now + expires_in`,
    `refresh_expires_at = now + refresh_token_expires_in` (protocol-2026-update.md)."""
    if not isinstance(payload, dict):
        raise BadResponse("The token endpoint answered with something other than a JSON object.")
    access = payload.get("access_token")
    refresh = payload.get("refresh_token")
    expires_in = _lifetime(payload.get("expires_in"))
    if not isinstance(access, str) or not access:
        raise BadResponse("The token endpoint's answer has no access_token.")
    if not isinstance(refresh, str) or not refresh:
        # Claude Code keeps the old refresh token when none comes back (protocol.md §2.3).
        if previous is None:
            raise BadResponse("The token endpoint's answer has no refresh_token.")
        refresh = previous.refresh_token
    if expires_in is None:
        raise BadResponse("The token endpoint's answer has no usable expires_in.")
    scope = payload.get("scope")
    token_type = payload.get("token_type")
    login_end = _lifetime(payload.get("refresh_token_expires_in"))
    return TokenSet(
        access_token=access,
        refresh_token=refresh,
        # Whole seconds, as stored (rounded down: never later than the server's expiry).
        expires_at=(now + timedelta(seconds=expires_in)).replace(microsecond=0),
        token_type=token_type if isinstance(token_type, str) and token_type else "Bearer",
        scope=scope if isinstance(scope, str) else (previous.scope if previous else ""),
        email=_email(payload) or (previous.email if previous else None),
        # Refreshing does not extend the login: an answer without the field keeps the old end.
        refresh_expires_at=(now + timedelta(seconds=login_end)).replace(microsecond=0)
        if login_end is not None else (previous.refresh_expires_at if previous else None),
    )


def _lifetime(value: Any) -> float | None:
    """A token answer's `expires_in` / `refresh_token_expires_in` in seconds (the login's
    observed 27-30 days), or None when it is not a number between 0 and ten years."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not 0 < value < 10 * 365 * 86400:  # also false for NaN
        return None
    return float(value)


def _post(
    transport: HttpTransport, url: str, body: dict[str, str], timeout: float, grant: str
) -> HttpResponse:
    resp = transport.request(
        "POST", url, headers=_TOKEN_HEADERS, body=json.dumps(body).encode("utf-8"),
        timeout=timeout,
    )
    log.debug("token endpoint: %s grant -> HTTP %d", grant, resp.status)
    return resp


def _payload(resp: HttpResponse, url: str, now: datetime) -> Any:
    host = urllib.parse.urlsplit(url).netloc or url
    if resp.status == 429:
        raise RateLimited(
            f"{host} is rate-limiting logins (HTTP 429); try again later.",
            parse_retry_after(resp.header("retry-after"), now),
        )
    if resp.status >= 500:
        raise ServerError(f"{host} failed (HTTP {resp.status}); try again later.", resp.status)
    if resp.status == 403 and _oauth_error(resp) is None:
        raise ServerError(
            f"{host} refused the token request (HTTP 403, not a login problem); try again later.",
            resp.status,
        )
    if resp.status != 200:
        error = _oauth_error(resp)
        detail = f" ({error})" if error else ""
        raise ApiError(f"{host} refused the token request: HTTP {resp.status}{detail}.",
                       resp.status)
    try:
        return resp.json()
    except ValueError as exc:
        raise BadResponse(f"{host} answered the token request with something not JSON.") from exc


def _oauth_error(resp: HttpResponse) -> str | None:
    """The OAuth `error` code of a 4xx answer (flat RFC 6749 shape or Anthropic's nested one)."""
    if resp.status < 400 or resp.status >= 500:
        return None
    try:
        payload = resp.json()
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    error = payload.get("error")
    if isinstance(error, dict):
        error = error.get("type")
    if isinstance(error, str) and _ERROR_CODE.match(error):
        return error
    return None


def _email(payload: dict[str, Any]) -> str | None:
    account = payload.get("account")
    if isinstance(account, dict):
        for key in ("email_address", "email"):
            value = account.get(key)
            if isinstance(value, str) and "@" in value:
                return value
    return None


def _denied_message(params: Mapping[str, str]) -> str:
    error = params.get("error", "")
    shown = error if _ERROR_CODE.match(error) else "unknown error"
    if shown == "access_denied":
        return "The login was cancelled or denied in the browser (access_denied)."
    return f"The login failed in the browser ({shown})."
