"""`config.json`: the user's settings, with defaults, validation and atomic saving.

Rules (design.md §3): every key has a default; a bad value is reported (file, key, what is
allowed) and that key falls back to its default; unknown keys are kept and reported; a file that is
not valid JSON is reported and never overwritten.
"""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from claude_pulse import __version__
from claude_pulse.atomic import read_json, write_json_atomic
from claude_pulse.errors import ConfigError

__all__ = [
    "CLOCK_FORMATS",
    "DEFAULT_TOKEN_TIMEOUT_S",
    "DEFAULT_USAGE_TIMEOUT_S",
    "DEFAULT_USER_AGENT",
    "LOGIN_SOURCES",
    "MAX_REQUESTS_PER_HOUR",
    "MIN_POLL_INTERVAL_S",
    "Config",
    "ConfigSource",
    "LoadedConfig",
    "allowed",
    "check",
    "load",
    "parse",
    "update",
]

log = logging.getLogger(__name__)

DEFAULT_USER_AGENT = f"claude-pulse/{__version__}"
# The usage endpoint allows a client that is not Claude Code about 28-30 requests per trailing
# hour (research/protocol-2026-update.md); one every 180 s ran 96 minutes without a 429. Faster
# than 60 s would only spend the hourly budget (below) in the first minutes of each hour.
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


@dataclass(frozen=True)
class Config:
    poll_interval_seconds: int = 180
    max_requests_per_hour: int = 20
    notifications_enabled: bool = True
    notification_thresholds: tuple[int, ...] = (80, 90, 95)
    # None: the same as notification_thresholds (which then covers both windows).
    weekly_notification_thresholds: tuple[int, ...] | None = None
    pace_alerts: bool = True
    time_aware_alerts: bool = False
    show_opus_tracking: bool = False
    show_charts: bool = True  # the Deep Dive's usage charts (collapsed from the window)
    start_with_windows: bool = False
    callback_port: int = 19532
    login_source: str = "pulse"
    clock_format: str = "24h"
    user_agent: str = DEFAULT_USER_AGENT
    usage_timeout_seconds: int = DEFAULT_USAGE_TIMEOUT_S
    token_timeout_seconds: int = DEFAULT_TOKEN_TIMEOUT_S
    authorize_url: str = "https://claude.ai/oauth/authorize"
    token_url: str = "https://platform.claude.com/v1/oauth/token"  # noqa: S105 - a URL
    usage_url: str = "https://api.anthropic.com/api/oauth/usage"
    profile_url: str = "https://api.anthropic.com/api/oauth/profile"
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def hour24(self) -> bool:
        return self.clock_format != "12h"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.extra)
        for f in fields(self):
            if f.name != "extra":
                value = getattr(self, f.name)
                out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    @property
    def weekly_thresholds(self) -> tuple[int, ...]:
        if self.weekly_notification_thresholds is None:
            return self.notification_thresholds
        return self.weekly_notification_thresholds


# What everything that reads settings takes: a call that returns the current ones (the tray app
# passes `Settings.current`, so a changed value applies at once; a command passes a fixed value).
ConfigSource = Callable[[], Config]


@dataclass(frozen=True)
class LoadedConfig:
    """A config plus what was wrong with the file (each problem is one user-facing line)."""

    config: Config
    problems: tuple[str, ...] = ()
    file_is_valid: bool = True


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
_NULL = object()


def _or_null(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def nullable(v: Any) -> Any:
        return _NULL if v is None else check(v)

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
_RULES: dict[str, tuple[Callable[[Any], Any], str]] = {
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


def allowed(key: str) -> str:
    """What `key` accepts, in words ("true or false"); KeyError for a key that does not exist."""
    return _RULES[key][1]


def check(key: str, value: Any) -> Any:
    """The cleaned value for `key`, as the loader would take it; ConfigError saying what is
    allowed otherwise. The Preferences window validates through this too: one set of rules."""
    rule = _RULES.get(key)
    if rule is None:
        raise ConfigError(f"{key!r} is not a setting")
    cleaned = rule[0](value)
    if cleaned is None:
        raise ConfigError(f"{key} must be {rule[1]}")
    return None if cleaned is _NULL else cleaned


def parse(raw: Any, source: str = "config.json") -> LoadedConfig:
    """Validate a decoded JSON value; never raises."""
    if not isinstance(raw, dict):
        return LoadedConfig(Config(), (f"{source}: expected a JSON object; using defaults",), False)
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    problems: list[str] = []
    defaults = Config()
    for key, value in raw.items():
        rule = _RULES.get(key)
        if rule is None:
            extra[key] = value
            problems.append(f"{source}: unknown key {key!r} kept but ignored")
            continue
        validate, what = rule
        cleaned = validate(value)
        if cleaned is None:
            default = getattr(defaults, key)
            shown = list(default) if isinstance(default, tuple) else default
            problems.append(f"{source}: {key} must be {what}; got {value!r:.60}, using {shown!r}")
        else:
            values[key] = None if cleaned is _NULL else cleaned
    return LoadedConfig(Config(**values, extra=extra), tuple(problems))


def load(path: Path) -> LoadedConfig:
    """Read the config file. A missing file gives the defaults; problems are logged and returned."""
    try:
        raw = read_json(path)
    except FileNotFoundError:
        return LoadedConfig(Config())
    except (OSError, ValueError) as exc:
        problem = (
            f"{path}: cannot be read ({_reason(exc)}); using defaults. "
            "The file was left as it is: fix or delete it."
        )
        log.warning("%s", problem)
        return LoadedConfig(Config(), (problem,), file_is_valid=False)
    loaded = parse(raw, str(path))
    for problem in loaded.problems:
        log.warning("%s", problem)
    return loaded


def update(path: Path, **changes: Any) -> LoadedConfig:
    """Change some keys on disk, keeping everything else (unknown keys too), atomically, and
    return the file as it now is.

    Raises ValueError for a name that is not a key, ConfigError for a value the key does not
    allow (nothing is written), and ConfigError when the file exists but is not valid JSON: we
    never overwrite what the user may still want to repair.
    """
    unknown = set(changes) - set(_RULES)
    if unknown:
        raise ValueError(f"not config keys: {sorted(unknown)}")
    cleaned_changes = {key: check(key, value) for key, value in changes.items()}
    try:
        raw = read_json(path)
    except FileNotFoundError:
        raw = {}
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"{path} cannot be read ({_reason(exc)}); not saving over it. Fix or delete it."
        ) from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} is not a JSON object; not saving over it. Fix or delete it.")
    for key, value in cleaned_changes.items():
        raw[key] = list(value) if isinstance(value, tuple) else value
    cleaned = parse(raw, str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(path, raw, mode=0o600)
    return cleaned


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ValueError) and hasattr(exc, "lineno"):
        return f"not valid JSON: {exc.args[0] if exc.args else exc}"
    if isinstance(exc, OSError):
        return exc.strerror or exc.__class__.__name__
    return str(exc)
