"""Every `config.json` key's rule: its validator and what it allows, in words; and the limits.

Standard library only, and `urllib.parse` only when a URL is checked: the status line's fast path
(`fastline`) validates the file with these same rules before trusting its poll interval, without
loading `config` (dataclasses, logging, typing). `config` builds the `Config` on top of them.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing itself costs ~2 ms per status line; mypy reads this as True
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

__all__ = [
    "CLOCK_FORMATS",
    "DEFAULT_POLL_INTERVAL_S",
    "DEFAULT_TOKEN_TIMEOUT_S",
    "DEFAULT_USAGE_TIMEOUT_S",
    "LOGIN_SOURCES",
    "MAX_POLL_INTERVAL_S",
    "MAX_REQUESTS_PER_HOUR",
    "MAX_TIMEOUT_S",
    "MIN_POLL_INTERVAL_S",
    "NULL",
    "RULES",
]

# The usage endpoint allows a client that is not Claude Code about 28-30 requests per trailing
# hour (research/protocol-2026-update.md); one every 180 s ran 96 minutes without a 429. Faster
# than 60 s would only spend the hourly budget (below) in the first minutes of each hour.
DEFAULT_POLL_INTERVAL_S = 180
MIN_POLL_INTERVAL_S = 60
MAX_POLL_INTERVAL_S = 3600
# The hard ceiling on usage requests in any rolling hour, all processes together (services.gate):
# 20 stays well under the ~28 measured, with room for a second client on the same account.
MAX_REQUESTS_PER_HOUR = 120
# Each request's TOTAL deadline (connect to last byte; services.http). Claude Code allows 5 s for
# usage and 10 s for profile (protocol.md §3.1, §4.1); ours tolerate a slow link, and the token
# endpoint gets twice as long because losing a refresh's answer costs more than a poll.
DEFAULT_USAGE_TIMEOUT_S = 15
DEFAULT_TOKEN_TIMEOUT_S = 30
MAX_TIMEOUT_S = 300
# Where the numbers come from: our own login and polling, or Claude Code's (issue 14).
LOGIN_SOURCES = ("pulse", "claude-code")
CLOCK_FORMATS = ("24h", "12h")
# http:// is allowed only to these hosts (the fake server, a local proxy): anywhere else a planted
# config could make us send the refresh token or the bearer token in clear text.
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _int_in(lo: int, hi: int) -> Callable[[Any], Any]:
    def check(v: Any) -> Any:
        if _is_int(v) or (isinstance(v, float) and v.is_integer()):
            iv = int(v)
            if lo <= iv <= hi:
                return iv
        return None

    return check


def _bool(v: Any) -> Any:
    return v if isinstance(v, bool) else None


def _port(v: Any) -> Any:
    return v if _is_int(v) and (v == 0 or 1024 <= v <= 65535) else None


def _thresholds(v: Any) -> Any:
    if not isinstance(v, list) or len(v) > 10:
        return None
    if not all((_is_int(x) or isinstance(x, float)) and 1 <= x <= 100 for x in v):
        return None
    return tuple(sorted({int(x) for x in v}))


# A validator's answer for a valid JSON null (a validator's plain None means "not allowed").
NULL = object()


def _or_null(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def nullable(v: Any) -> Any:
        return NULL if v is None else check(v)

    return nullable


def _header_text(v: Any) -> Any:
    # Sent as an HTTP header: CR/LF would split it (http.client refuses, with a traceback per
    # request) and anything outside printable ASCII cannot be encoded reliably.
    if not isinstance(v, str) or len(v) > 200:
        return None
    text = v.strip()
    return text if text and all(" " <= ch <= "~" for ch in text) else None


def _choice(options: tuple[str, ...]) -> Callable[[Any], Any]:
    def check(v: Any) -> Any:
        return v if isinstance(v, str) and v in options else None

    return check


def _url(v: Any) -> Any:
    if not isinstance(v, str) or len(v) > 2000 or any(ch <= " " or ch == "\x7f" for ch in v):
        return None
    import urllib.parse  # ~2 ms: only a config that sets a URL pays for it

    try:
        parts = urllib.parse.urlsplit(v)
        host = parts.hostname
    except ValueError:  # a malformed [IPv6] part or port
        return None
    if not host:
        return None
    if parts.scheme == "https":
        return v
    if parts.scheme == "http" and host.lower() in _LOOPBACK_HOSTS:
        return v
    return None


_URL_ALLOWED = "an https:// URL (http:// only for 127.0.0.1, ::1 or localhost)"


# key -> (validator returning the cleaned value or None, description of what is allowed)
RULES: dict[str, tuple[Callable[[Any], Any], str]] = {
    "poll_interval_seconds": (
        _int_in(MIN_POLL_INTERVAL_S, MAX_POLL_INTERVAL_S),
        f"a whole number of seconds from {MIN_POLL_INTERVAL_S} to {MAX_POLL_INTERVAL_S}",
    ),
    "max_requests_per_hour": (
        _int_in(1, MAX_REQUESTS_PER_HOUR),
        f"a whole number of usage requests from 1 to {MAX_REQUESTS_PER_HOUR}",
    ),
    "notifications_enabled": (_bool, "true or false"),
    "notification_thresholds": (_thresholds, "a list of up to 10 percentages from 1 to 100"),
    "weekly_notification_thresholds": (
        _or_null(_thresholds),
        "a list of up to 10 percentages from 1 to 100, or null for the session's",
    ),
    "pace_alerts": (_bool, "true or false"),
    "time_aware_alerts": (_bool, "true or false"),
    "show_opus_tracking": (_bool, "true or false"),
    "show_charts": (_bool, "true or false"),
    "start_with_windows": (_bool, "true or false"),
    "callback_port": (_port, "0 (any free port) or a port from 1024 to 65535"),
    "login_source": (_choice(LOGIN_SOURCES), " or ".join(f'"{o}"' for o in LOGIN_SOURCES)),
    "clock_format": (_choice(CLOCK_FORMATS), '"24h" (14:05) or "12h" (2:05 PM)'),
    "user_agent": (
        _header_text,
        "1 to 200 printable ASCII characters (no control characters such as CR or LF)",
    ),
    "usage_timeout_seconds": (
        _int_in(1, MAX_TIMEOUT_S),
        f"a whole number of seconds from 1 to {MAX_TIMEOUT_S}",
    ),
    "token_timeout_seconds": (
        _int_in(1, MAX_TIMEOUT_S),
        f"a whole number of seconds from 1 to {MAX_TIMEOUT_S}",
    ),
    "authorize_url": (_url, _URL_ALLOWED),
    "token_url": (_url, _URL_ALLOWED),
    "usage_url": (_url, _URL_ALLOWED),
    "profile_url": (_url, _URL_ALLOWED),
}
