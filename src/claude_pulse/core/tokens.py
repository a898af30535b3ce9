"""OAuth tokens as a value, and how fresh they are at a given moment (pure; no I/O).

Three states, after google-auth's FRESH/STALE/INVALID::

    FRESH         more than REFRESH_MARGIN left: use it
    REFRESH_DUE   still valid, but inside the margin: refresh now, fall back to it if that fails
    EXPIRED       at or past `expires_at`: refresh, or the user must log in again
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Any

__all__ = ["REFRESH_MARGIN", "TokenSet", "TokenState", "token_state"]

# Claude Code treats a token as expired 5 minutes early (protocol.md §2.3; spec §3.4). The margin
# also covers clock skew and the few seconds a poll spends in flight.
REFRESH_MARGIN = timedelta(minutes=5)


class TokenState(Enum):
    FRESH = "fresh"
    REFRESH_DUE = "refresh_due"
    EXPIRED = "expired"


@dataclass(frozen=True)
class TokenSet:
    """What the token endpoint gave us. `expires_at` is timezone-aware UTC."""

    access_token: str
    refresh_token: str
    expires_at: datetime
    token_type: str = "Bearer"  # noqa: S105 - a type name, not a secret
    scope: str = ""
    email: str | None = None
    # When the whole login ends (the token response's refresh_token_expires_in; refreshing does
    # not extend it). None: the server did not say.
    refresh_expires_at: datetime | None = None

    def __repr__(self) -> str:
        # Secrets never reach a log line, a traceback or a debugger's variable view.
        return (
            f"TokenSet(access_token='***', refresh_token='***', "
            f"expires_at={self.expires_at.isoformat()!r}, token_type={self.token_type!r}, "
            f"scope={self.scope!r}, email={self.email!r}, "
            f"refresh_expires_at={_iso(self.refresh_expires_at)!r})"
        )

    __str__ = __repr__

    def to_json(self) -> dict[str, Any]:
        # `expires_at` in epoch seconds, as spec §3.5 shows it.
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": int(self.expires_at.timestamp()),
            "token_type": self.token_type,
            "scope": self.scope,
            "email": self.email,
            # Written as null too: the store keeps unknown keys, and a new login without the
            # field must not inherit the previous login's end.
            "refresh_expires_at": None if self.refresh_expires_at is None
            else int(self.refresh_expires_at.timestamp()),
        }

    @classmethod
    def from_json(cls, data: Any) -> TokenSet:
        """Rebuild from `to_json()` output. Raises ValueError naming the first bad field."""
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        access, refresh = data.get("access_token"), data.get("refresh_token")
        if not isinstance(access, str) or not access:
            raise ValueError("access_token is missing")
        if not isinstance(refresh, str) or not refresh:
            raise ValueError("refresh_token is missing")
        token_type = data.get("token_type", "Bearer")
        scope = data.get("scope", "")
        email = data.get("email")
        if not isinstance(token_type, str) or not isinstance(scope, str):
            raise ValueError("token_type and scope must be strings")
        if email is not None and not isinstance(email, str):
            raise ValueError("email must be a string")
        return cls(access, refresh, _expiry(data.get("expires_at")), token_type or "Bearer",
                   scope, email or None, _login_end(data.get("refresh_expires_at")))


def _login_end(value: Any) -> datetime | None:
    # Only shown and warned about: a bad value must not make a working login unreadable.
    if value is None:
        return None
    try:
        return _expiry(value, "refresh_expires_at")
    except ValueError:
        return None


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _expiry(value: Any, where: str = "expires_at") -> datetime:
    # Epoch seconds as written by to_json; an ISO 8601 string is accepted for hand-edited files.
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(float(value), tz=timezone.utc)
        except (OverflowError, OSError, ValueError) as exc:
            raise ValueError(f"{where} is out of range") from exc
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValueError(f"{where} is not a date") from exc
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        try:
            return parsed.astimezone(timezone.utc)
        except OverflowError as exc:  # e.g. year 1 with a positive offset
            raise ValueError(f"{where} is out of range") from exc
    raise ValueError(f"{where} is missing")


def token_state(
    tokens: TokenSet, now: datetime, refresh_margin: timedelta = REFRESH_MARGIN
) -> TokenState:
    if now >= tokens.expires_at:
        return TokenState.EXPIRED
    if now >= tokens.expires_at - refresh_margin:
        return TokenState.REFRESH_DUE
    return TokenState.FRESH
