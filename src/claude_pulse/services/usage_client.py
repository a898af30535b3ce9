"""The usage and profile endpoints (protocol.md §3-§4), through the HTTP seam.

One call = at most two requests: a 401 refreshes the token once and retries once (Claude Code's
`handleOAuth401Error`); so does a 429 while the token is at or past its expiry, because the
server also answers 429 for expired tokens (design.md §2). A 429 with a token still valid is a
real block: a refresh would not lift it (issue #18 item 2). Everything else becomes a typed error
from `claude_pulse.errors`. The shared 429 cooldown (`RequestGate`) is the caller's business.
"""

from __future__ import annotations

import logging
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from claude_pulse.config import ConfigSource
from claude_pulse.core.http import HttpResponse, HttpTransport, parse_retry_after
from claude_pulse.core.tokens import TokenSet, TokenState, token_state
from claude_pulse.core.usage import Usage, parse_usage
from claude_pulse.errors import ApiError, BadResponse, RateLimited, ReauthRequired, ServerError
from claude_pulse.oauth.constants import OAUTH_BETA

__all__ = ["REFUSED_NOT_LOGIN", "Profile", "TokenSource", "UsageClient", "plan_label"]

log = logging.getLogger(__name__)

# Surfaces that schedule a retry add when ("; retrying at 17:30" in the window's banner).
REFUSED_NOT_LOGIN = "Anthropic refused the request (HTTP 403, not a login problem)."

# organization_type → plan (Claude Code's fetchProfileInfo, protocol.md §4.1).
_PLANS = {
    "claude_max": "Max",
    "claude_pro": "Pro",
    "claude_team": "Team",
    "claude_enterprise": "Enterprise",
    "claude_free": "Free",
}


class TokenSource(Protocol):
    """What the client needs from `TokenManager`."""

    clock: Callable[[], datetime]

    def access_token(self) -> str: ...

    def refresh(self, rejected: str | None = None) -> str: ...

    def state(self) -> TokenState | None: ...


@dataclass(frozen=True)
class Profile:
    email: str | None
    plan: str | None  # "Pro", "Max 5x", "Max 20x", "Team", "Enterprise", "Free", or None
    rate_limit_tier: str | None = None


def plan_label(organization_type: Any, rate_limit_tier: Any) -> str | None:
    plan = _PLANS.get(organization_type) if isinstance(organization_type, str) else None
    if plan == "Max" and isinstance(rate_limit_tier, str):
        for multiple in ("20x", "5x"):
            if rate_limit_tier.endswith(f"_{multiple}"):
                return f"Max {multiple}"
    return plan


class UsageClient:
    def __init__(
        self,
        transport: HttpTransport,
        config: ConfigSource,
        tokens: TokenSource,
        *,
        timeout: float | None = None,
        on_retry: Callable[[str], object] = lambda what: None,
    ) -> None:
        self._transport = transport
        self._config = config
        self._tokens = tokens
        self._timeout = timeout  # None: the config's usage_timeout_seconds, read per request
        # Told before a retry ("usage" or "profile"): the retry is one more request to count.
        self._on_retry = on_retry

    def __repr__(self) -> str:
        return f"UsageClient({self._config().usage_url!r})"

    def fetch_usage(self) -> tuple[dict[str, Any], Usage]:
        """The usage JSON object as the server sent it, and what `parse_usage` made of it
        (BadResponse for a shape we cannot use)."""
        payload = self._get_json(self._config().usage_url, "usage", self._tokens)
        usage = parse_usage(payload)
        assert isinstance(payload, dict)  # parse_usage accepts only objects
        return payload, usage

    def fetch_profile(self, tokens: TokenSet | None = None) -> Profile:
        """The account behind the stored login, or behind `tokens` (a login not saved yet: one
        request, no refresh)."""
        source = self._tokens if tokens is None else _FixedToken(tokens, self._tokens.clock)
        payload = self._get_json(self._config().profile_url, "profile", source)
        if not isinstance(payload, dict):
            raise BadResponse("The profile answer is not a JSON object.")
        account = payload.get("account")
        org = payload.get("organization")
        account = account if isinstance(account, dict) else {}
        org = org if isinstance(org, dict) else {}
        email = account.get("email") or account.get("email_address")
        tier = org.get("rate_limit_tier")
        return Profile(
            email if isinstance(email, str) and email else None,
            plan_label(org.get("organization_type"), tier),
            tier if isinstance(tier, str) else None,
        )

    def _get_json(self, url: str, what: str, tokens: TokenSource) -> Any:
        resp = self._get(url, what, tokens)
        try:
            return resp.json()
        except ValueError as exc:
            raise BadResponse(
                f"The {what} answer from {_host(url)} is not JSON.", resp.status
            ) from exc

    def _get(self, url: str, what: str, tokens: TokenSource) -> HttpResponse:
        token = tokens.access_token()
        resp = self._send(url, token, what)
        expired = resp.status == 429 and tokens.state() is TokenState.EXPIRED
        if resp.status == 401 or expired:
            # 401: refresh once (another process may already have: refresh() checks). 429 with an
            # expired token: the server sends 429 for expired tokens too (design.md §2).
            log.info("%s: HTTP %d; refreshing the token and retrying once", what, resp.status)
            token = tokens.refresh(rejected=token)
            self._on_retry(what)
            resp = self._send(url, token, what)
        return self._check(resp, url, what)

    def _send(self, url: str, token: str, what: str) -> HttpResponse:
        headers = {
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": self._config().user_agent,
            "Authorization": f"Bearer {token}",
            "anthropic-beta": OAUTH_BETA,
        }
        timeout = self._timeout or float(self._config().usage_timeout_seconds)
        started = time.monotonic()
        resp = self._transport.request("GET", url, headers=headers, timeout=timeout)
        log.debug("GET %s -> HTTP %d in %.2f s", what, resp.status, time.monotonic() - started)
        return resp

    def _check(self, resp: HttpResponse, url: str, what: str) -> HttpResponse:
        host = _host(url)
        status = resp.status
        if 200 <= status < 300:
            return resp
        if status == 401:
            raise ReauthRequired(
                f"{host} rejected the login even after a refresh. Run `claude-pulse login` again."
            )
        if status == 403:
            if _is_login_refusal(resp):
                raise ReauthRequired(
                    f"{host} refused access to {what} (HTTP 403: the login lacks the "
                    "user:profile permission). Run `claude-pulse login` again."
                )
            # Cloudflare, a regional block, another JSON error: nothing a new login would fix
            # (protocol-2026-update.md), so the login is kept and we retry like after a 5xx.
            log.warning("%s: HTTP 403 that is not about the login (%s, %d bytes)", what,
                        resp.header("content-type") or "no content type", len(resp.body))
            raise ServerError(REFUSED_NOT_LOGIN, status)
        if status == 429:
            retry_after = parse_retry_after(resp.header("retry-after"), self._tokens.clock())
            hint = f" (Retry-After {retry_after:.0f} s)" if retry_after is not None else ""
            raise RateLimited(f"{host} is rate-limiting {what} requests{hint}.", retry_after)
        if status >= 500:
            raise ServerError(f"{host} failed to answer ({what}: HTTP {status}).", status)
        raise ApiError(f"{host} answered the {what} request with HTTP {status}.", status)


def _is_login_refusal(resp: HttpResponse) -> bool:
    """Whether a 403's JSON says the login lacks a permission (issue #18 item 3)."""
    try:
        payload = resp.json()
    except ValueError:
        return False  # HTML (Cloudflare, a regional page) or nothing
    if not isinstance(payload, dict):
        return False
    error = payload.get("error")
    if isinstance(error, dict):
        kind, message = error.get("type"), error.get("message")
    else:
        kind, message = error, payload.get("error_description")
    if kind in ("permission_error", "oauth_scope_insufficient"):
        return True
    return isinstance(message, str) and "scope" in message.lower()


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc or url


class _FixedToken:
    """A token source for a login we just got and have not saved: no refresh possible."""

    def __init__(self, tokens: TokenSet, clock: Callable[[], datetime]) -> None:
        self._tokens = tokens
        self.clock = clock

    def access_token(self) -> str:
        return self._tokens.access_token

    def refresh(self, rejected: str | None = None) -> str:
        raise ReauthRequired("The new login was refused by the profile endpoint.")

    def state(self) -> TokenState | None:
        return token_state(self._tokens, self.clock())
