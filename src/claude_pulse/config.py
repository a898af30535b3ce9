"""`config.json`: the user's settings, with defaults, validation and atomic saving.

Rules (design.md §3): every key has a default; a bad value is reported (file, key, what is
allowed) and that key falls back to its default; unknown keys are kept and reported; a file that is
not valid JSON is reported and never overwritten.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from claude_pulse import __version__
from claude_pulse.atomic import read_json, write_json_atomic
from claude_pulse.config_keys import (
    CLOCK_FORMATS,
    DEFAULT_POLL_INTERVAL_S,
    DEFAULT_TOKEN_TIMEOUT_S,
    DEFAULT_USAGE_TIMEOUT_S,
    LOGIN_SOURCES,
    MAX_POLL_INTERVAL_S,
    MAX_REQUESTS_PER_HOUR,
    MIN_POLL_INTERVAL_S,
)
from claude_pulse.config_keys import NULL as _NULL
from claude_pulse.config_keys import RULES as _RULES
from claude_pulse.errors import ConfigError

__all__ = [
    "CLOCK_FORMATS",
    "DEFAULT_TOKEN_TIMEOUT_S",
    "DEFAULT_USAGE_TIMEOUT_S",
    "DEFAULT_USER_AGENT",
    "LOGIN_SOURCES",
    "MAX_POLL_INTERVAL_S",
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


@dataclass(frozen=True)
class Config:
    poll_interval_seconds: int = DEFAULT_POLL_INTERVAL_S
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
