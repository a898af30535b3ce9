"""The one exception tree of Claude Pulse.

Library errors (urllib, json, OSError) are translated at the boundary that meets them, so callers
only ever see these::

    PulseError
     ├── ConfigError            config.json unreadable or not JSON (bad values only warn)
     ├── CredentialsError       credentials.json unusable (set aside only if it does not parse)
     ├── AuthError
     │    ├── NotLoggedIn       no credentials at all
     │    ├── ReauthRequired    refresh token rejected (invalid_grant) or scope missing (403)
     │    └── LoginError        the browser login did not complete
     │         └── LoginTimeout
     ├── ApiError(status)       the server answered, but not with usable data
     │    ├── RateLimited(retry_after)
     │    ├── ServerError       5xx: retry later with back-off
     │    └── BadResponse       not JSON, or JSON of the wrong shape
     ├── NetworkError           no answer: offline, DNS, refused, reset, timed out
     ├── StorageError           a file or folder of the home cannot be used (a FIFO, another
     │                          user's, writable by others, a lock held too long)
     └── CooldownActive(until)  we chose not to call: a 429 cooldown or its probation spacing
          └── BudgetExhausted   our own limit: the hourly request budget (max_requests_per_hour)
                                is spent, or the probation spacing after a 429 is not over

Every message is meant to be shown to the user as is: one line, no token values.
"""

from __future__ import annotations

from datetime import datetime

__all__ = [
    "ApiError",
    "AuthError",
    "BadResponse",
    "BudgetExhausted",
    "ConfigError",
    "CooldownActive",
    "CredentialsError",
    "LoginError",
    "LoginTimeout",
    "NetworkError",
    "NotLoggedIn",
    "PulseError",
    "RateLimited",
    "ReauthRequired",
    "ServerError",
    "StorageError",
]


class PulseError(Exception):
    """Root of every error Claude Pulse raises on purpose."""


class ConfigError(PulseError):
    """The config file cannot be used at all (it is left untouched)."""


class CredentialsError(PulseError):
    """The credentials cannot be used (unreadable, or set aside as corrupt) or saved."""


class AuthError(PulseError):
    """Anything that ends with the user needing to log in."""


class NotLoggedIn(AuthError):
    """There are no credentials."""

    def __init__(self, message: str = "Not logged in. Run `claude-pulse login`.") -> None:
        super().__init__(message)


class ReauthRequired(AuthError):
    """The refresh token was rejected or the token lacks a scope: log in again."""


class LoginError(AuthError):
    """The browser login failed (denied, state mismatch, bad code)."""


class LoginTimeout(LoginError):
    """No callback arrived before the timeout."""


class CodeRefused(LoginError):
    """The token endpoint refused the authorization code (invalid_grant): mistyped, expired or
    already used. A pasted code may be pasted again; the login attempt itself is still valid."""


class ApiError(PulseError):
    """The server answered with something other than usable data."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class RateLimited(ApiError):
    """HTTP 429. `retry_after` is the server's hint in seconds (None when absent or unusable)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message, status=429)
        self.retry_after = retry_after


class ServerError(ApiError):
    """HTTP 5xx (or another status worth retrying later)."""


class BadResponse(ApiError):
    """The body was not JSON, or not the shape we know."""


class NetworkError(PulseError):
    """No usable answer: offline, DNS failure, refused, reset, or timed out."""

    def __init__(self, message: str, reason: str = "network") -> None:
        super().__init__(message)
        self.reason = reason  # "dns", "refused", "reset", "timeout", "network"


class StorageError(PulseError):
    """A file or folder in the home cannot be used as it is; the message says how to fix it."""


class CooldownActive(PulseError):
    """We decided not to call the usage endpoint until `until` (shared 429 cooldown or ceiling)."""

    def __init__(self, message: str, until: datetime) -> None:
        super().__init__(message)
        self.until = until


class BudgetExhausted(CooldownActive):
    """Our own limit, not the server's answer: the rolling hour's request budget is spent, or
    the spacing of the probation hour after a 429 has not passed."""
