"""The fake server's authorization state: codes, access tokens and rotating refresh tokens.

Rules follow RFC 6749/7636 and what Anthropic is observed to do (protocol.md §2): codes are
single-use and burned on the first exchange attempt even if it fails; PKCE is S256 only; every
refresh rotates the refresh token and the old one is dead. A login (one exchange or `mint`) lives
`login_ttl` seconds: token responses say how long is left in `refresh_token_expires_in`,
refreshing does not extend it, and a refresh after it is `invalid_grant`
(protocol-2026-update.md: observed 27-30 days). All random values come from
`secrets`; all expiry uses the injected clock. Thread-safe: one lock guards everything.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from claude_pulse.oauth.constants import SCOPES

__all__ = ["AccessCheck", "GrantError", "TokenAuthority", "pkce_challenge"]

CODE_TTL_S = 600.0
# The middle of the observed 27-30 days.
LOGIN_TTL_S = 29 * 86400.0
# RFC 7636 §4.1: 43-128 characters from the unreserved set.
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 §4.2: BASE64URL(SHA256(ASCII(verifier))) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _uuid() -> str:
    return str(uuid.UUID(bytes=secrets.token_bytes(16), version=4))


class GrantError(Exception):
    """The grant is refused: answer 400 invalid_grant with this description."""


@dataclass
class _Code:
    redirect_uri: str
    challenge: str
    state: str
    scope: str
    expires_at: float
    used: bool = False


@dataclass
class _Access:
    scope: str
    expires_at: float


@dataclass
class _Refresh:
    scope: str
    login_expires_at: float  # the whole login's end; refreshing keeps it


@dataclass(frozen=True)
class AccessCheck:
    """Result of looking up a bearer token: `status` is "ok", "expired" or "unknown"."""

    status: str
    scope: str = ""

    def has_scope(self, scope: str) -> bool:
        return scope in self.scope.split()


class TokenAuthority:
    def __init__(self, *, access_token_ttl: float, email: str,
                 clock: Callable[[], float], login_ttl: float | None = LOGIN_TTL_S) -> None:
        self.access_token_ttl = access_token_ttl
        self.login_ttl = login_ttl  # None: responses carry no refresh_token_expires_in
        self.email = email
        self.account_uuid = _uuid()
        self.org_uuid = _uuid()
        self._clock = clock
        self._lock = threading.Lock()
        self._codes: dict[str, _Code] = {}
        self._access: dict[str, _Access] = {}
        self._refresh: dict[str, _Refresh] = {}  # live refresh token -> its grant
        self.refresh_count = 0
        self.exchange_count = 0

    # -- authorize ------------------------------------------------------------------------------

    def new_code(self, *, redirect_uri: str, challenge: str, state: str, scope: str) -> str:
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._codes[code] = _Code(redirect_uri, challenge, state, scope,
                                      self._clock() + CODE_TTL_S)
        return code

    # -- token endpoint -------------------------------------------------------------------------

    def exchange(self, *, code: str, redirect_uri: str, verifier: str,
                 state: str | None) -> dict[str, Any]:
        """authorization_code grant. Raises GrantError; the code is burned either way."""
        with self._lock:
            grant = self._codes.get(code)
            if grant is None:
                raise GrantError("Invalid authorization code")
            if grant.used:
                raise GrantError("Authorization code has already been used")
            grant.used = True
            if self._clock() >= grant.expires_at:
                raise GrantError("Authorization code has expired")
            # Byte-identical comparison, as the real server does (protocol.md §1.4).
            if redirect_uri != grant.redirect_uri:
                raise GrantError("Redirect URI does not match the authorization request")
            if not _VERIFIER.fullmatch(verifier):
                raise GrantError("Invalid code_verifier")
            if not hmac.compare_digest(pkce_challenge(verifier), grant.challenge):
                raise GrantError("PKCE verification failed")
            if state is not None and not hmac.compare_digest(state, grant.state):
                raise GrantError("State does not match the authorization request")
            self.exchange_count += 1
            return self._mint_locked(grant.scope)

    def refresh(self, *, refresh_token: str, scope: str | None) -> dict[str, Any]:
        """refresh_token grant: rotate. Raises GrantError for unknown/used/revoked tokens."""
        with self._lock:
            granted = self._refresh.pop(refresh_token, None)
            if granted is None:
                raise GrantError("Refresh token not found or invalid")
            if self._clock() >= granted.login_expires_at:
                raise GrantError("Refresh token has expired")
            self.refresh_count += 1
            # The real backend allows scope changes on refresh (protocol.md §1.3).
            return self._mint_locked(scope or granted.scope, granted.login_expires_at)

    def mint(self, scope: str = SCOPES) -> dict[str, Any]:
        with self._lock:
            return self._mint_locked(scope)

    def _mint_locked(self, scope: str, login_expires_at: float | None = None) -> dict[str, Any]:
        access = "sk-ant-oat01-fake-" + secrets.token_urlsafe(32)
        refresh = "sk-ant-ort01-fake-" + secrets.token_urlsafe(32)
        now = self._clock()
        if login_expires_at is None:  # a new login
            login_expires_at = now + (self.login_ttl if self.login_ttl is not None
                                      else float("inf"))
        self._access[access] = _Access(scope, now + self.access_token_ttl)
        self._refresh[refresh] = _Refresh(scope, login_expires_at)
        lifetime: dict[str, Any] = {}
        if self.login_ttl is not None:
            lifetime["refresh_token_expires_in"] = max(0, int(login_expires_at - now))
        return {
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": int(self.access_token_ttl),
            **lifetime,
            "token_type": "Bearer",
            "scope": scope,
            "account": {"uuid": self.account_uuid, "email_address": self.email},
            "organization": {"uuid": self.org_uuid, "name": f"{self.email}'s Organization"},
        }

    # -- resource endpoints ---------------------------------------------------------------------

    def check(self, token: str) -> AccessCheck:
        with self._lock:
            found = self._access.get(token)
            if found is None:
                return AccessCheck("unknown")
            if self._clock() >= found.expires_at:
                return AccessCheck("expired", found.scope)
            return AccessCheck("ok", found.scope)

    # -- test controls --------------------------------------------------------------------------

    def live_access_tokens(self) -> set[str]:
        """Every access token issued and not expired yet (for a per-token 429 block)."""
        with self._lock:
            now = self._clock()
            return {token for token, grant in self._access.items() if now < grant.expires_at}

    def expire_access_tokens(self) -> None:
        with self._lock:
            for access in self._access.values():
                access.expires_at = float("-inf")

    def revoke_refresh_tokens(self) -> None:
        with self._lock:
            self._refresh.clear()
