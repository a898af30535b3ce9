"""Scripted answers for the fake server, and the error bodies Anthropic really sends.

Bodies are copied from protocol.md §2.5, §3.4-§3.6 so that client code is tested against the
shapes it will meet. A `Reply` queued on an endpoint is served once, before normal behaviour.
"""

from __future__ import annotations

import copy
import json as _json
import secrets
from dataclasses import dataclass, field
from typing import Any

from claude_pulse.fake.samples import EDGE_429, JULY_2026

__all__ = [
    "FORBIDDEN_LOGIN",
    "FORBIDDEN_NOT_LOGIN",
    "Reply",
    "api_error",
    "auth_error_body",
    "invalid_grant",
    "invalid_request",
    "request_id",
]

EXPIRED_MESSAGE = (
    "OAuth token has expired. Please obtain a new token or refresh your existing token."
)
INVALID_BEARER_MESSAGE = "Invalid bearer token"
NO_OAUTH_MESSAGE = "OAuth authentication is currently not supported."
SCOPE_MESSAGE = "OAuth token does not meet scope requirement user:profile"
REGION_MESSAGE = "Request not allowed"


def request_id() -> str:
    return "req_fake" + secrets.token_hex(12)


def api_error(kind: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """Anthropic's API error envelope: {"type":"error","error":{...},"request_id":...}."""
    error: dict[str, Any] = {"type": kind, "message": message}
    if details is not None:
        error["details"] = details
    return {"type": "error", "error": error, "request_id": request_id()}


def auth_error_body(expired: bool) -> dict[str, Any]:
    if expired:
        return api_error("authentication_error", EXPIRED_MESSAGE,
                         {"error_visibility": "user_facing", "error_code": "token_expired"})
    return api_error("authentication_error", INVALID_BEARER_MESSAGE)


def invalid_request() -> dict[str, Any]:
    return api_error("invalid_request_error", "Invalid request format")


def invalid_grant(description: str) -> dict[str, Any]:
    return {"error": "invalid_grant", "error_description": description}


# Shape of a Cloudflare origin-error page: HTML where the client expects JSON.
_HTML_ERROR = """<!DOCTYPE html>
<html lang="en-US"><head><title>api.anthropic.com | {status}: {reason}</title>
<meta charset="UTF-8"></head>
<body><div id="cf-wrapper"><h1><span class="cf-error-type">Error</span>
<span class="cf-error-code">{status}</span></h1><h2>{reason}</h2>
<p>Cloudflare Ray ID: <strong>{ray}</strong></p></div></body></html>
"""

_CLOUDFLARE_1010 = """<!DOCTYPE html>
<html lang="en-US"><head><title>Access denied | api.anthropic.com used Cloudflare to restrict \
access</title><meta charset="UTF-8"></head>
<body><div id="cf-wrapper"><h1><span class="cf-error-type">Error</span>
<span class="cf-error-code">1010</span></h1>
<h2 class="cf-subheadline">The owner of this website (api.anthropic.com) has banned your access
based on your browser's signature.</h2>
<p>Cloudflare Ray ID: <strong>{ray}</strong></p></div></body></html>
"""

_REASONS = {500: "Internal server error", 502: "Bad gateway", 503: "Service unavailable",
            504: "Gateway time-out", 520: "Web server is returning an unknown error",
            522: "Connection timed out", 529: "Overloaded"}


@dataclass
class Reply:
    """One scripted answer. `body` wins over `json`; with neither, the body is empty.

    `passthrough=True` means: after `delay`, answer as the endpoint normally would (auth checks
    included). `cut_body=True` sends the headers with the full Content-Length, then half the body,
    then closes the connection. `drip_s > 0` sends the answer one byte every `drip_s` seconds:
    the body only, or with `drip_headers=True` the status line and headers too (the attack a
    per-read timeout never notices).
    """

    status: int = 200
    json: Any = None
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    cut_body: bool = False
    passthrough: bool = False
    drip_s: float = 0.0
    drip_headers: bool = False

    def payload(self) -> tuple[bytes, dict[str, str]]:
        """The body bytes and the headers to send (Content-Type added for JSON)."""
        headers = {k.lower(): v for k, v in self.headers.items()}
        if self.body is not None:
            return self.body, headers
        if self.json is None:
            return b"", headers
        headers.setdefault("content-type", "application/json")
        return _json.dumps(self.json).encode("utf-8"), headers

    @classmethod
    def rate_limited(cls, retry_after: float | None = None) -> Reply:
        """429 as the usage endpoint sends it (protocol.md §3.6), often with `retry-after: 0`."""
        headers: dict[str, str] = {}
        if retry_after is not None:
            value = int(retry_after) if float(retry_after).is_integer() else retry_after
            headers["retry-after"] = str(value)
        return cls(429, json=copy.deepcopy(EDGE_429), headers=headers)

    @classmethod
    def server_error(cls, status: int = 503, html: bool = True) -> Reply:
        """A 5xx: Cloudflare's HTML page, or Anthropic's JSON api_error/overloaded_error."""
        reason = _REASONS.get(status, "Server error")
        if html:
            page = _HTML_ERROR.format(status=status, reason=reason, ray=secrets.token_hex(8))
            return cls(status, body=page.encode("utf-8"),
                       headers={"content-type": "text/html; charset=UTF-8"})
        kind = "overloaded_error" if status == 529 else "api_error"
        return cls(status, json=api_error(kind, reason))

    @classmethod
    def truncated_json(cls) -> Reply:
        """200 with a complete HTTP body that is cut-off JSON."""
        return cls(200, body=b'{"five_hour":{"utilization":42.0,"resets_at":"2026-',
                   headers={"content-type": "application/json"})

    @classmethod
    def unauthorized(cls, expired: bool = True) -> Reply:
        """401 authentication_error: expired token, or an unknown one (protocol.md §3.5)."""
        return cls(401, json=auth_error_body(expired))

    @classmethod
    def forbidden_scope(cls) -> Reply:
        """403 for a token without user:profile (protocol.md §3.4)."""
        return cls(403, json=api_error("permission_error", SCOPE_MESSAGE,
                                       {"error_visibility": "user_facing"}))

    @classmethod
    def forbidden_scope_insufficient(cls) -> Reply:
        """403 naming the missing scope in the OAuth error shape: also a login problem."""
        return cls(403, json={"error": "oauth_scope_insufficient",
                              "error_description": "The access token lacks scope user:profile"})

    @classmethod
    def forbidden_cloudflare(cls) -> Reply:
        """403 from Cloudflare's edge (error 1010, a refused browser signature): HTML, not JSON,
        and nothing to do with the login."""
        page = _CLOUDFLARE_1010.format(ray=secrets.token_hex(8))
        return cls(403, body=page.encode("utf-8"),
                   headers={"content-type": "text/html; charset=UTF-8"})

    @classmethod
    def forbidden_region(cls) -> Reply:
        """403 for a request from an unsupported region: a short HTML page."""
        page = f"<html><head><title>403 Forbidden</title></head><body>{REGION_MESSAGE}</body>" \
               "</html>"
        return cls(403, body=page.encode("utf-8"), headers={"content-type": "text/html"})

    @classmethod
    def forbidden_json(cls) -> Reply:
        """403 JSON of another type than permission_error (Anthropic's "forbidden")."""
        return cls(403, json=api_error("forbidden", REGION_MESSAGE))

    @classmethod
    def slow(cls, seconds: float) -> Reply:
        """The endpoint's normal answer, after `seconds`."""
        return cls(200, delay=seconds, passthrough=True)

    @classmethod
    def drip(cls, every_s: float, *, headers: bool = False) -> Reply:
        """The endpoint's normal answer, one byte every `every_s` seconds (headers too, if
        asked): a server that is never silent long enough for a per-read timeout."""
        return cls(200, passthrough=True, drip_s=every_s, drip_headers=headers)

    @classmethod
    def reset(cls, json: Any = None) -> Reply:
        """A 200 whose body is cut in half by a closed connection."""
        return cls(200, json=JULY_2026 if json is None else json, cut_body=True)


# The 403s by what they mean for the login (item 3 of issue #18): test parameter sets.
FORBIDDEN_LOGIN = {"permission_error": Reply.forbidden_scope,
                   "oauth_scope_insufficient": Reply.forbidden_scope_insufficient}
FORBIDDEN_NOT_LOGIN = {"cloudflare_html": Reply.forbidden_cloudflare,
                       "regional_html": Reply.forbidden_region,
                       "other_json": Reply.forbidden_json}
