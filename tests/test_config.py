"""config.json: defaults, validation messages, corrupt files left alone, atomic saves."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claude_pulse import config
from claude_pulse.config import Config
from claude_pulse.errors import ConfigError

DESIGN_DEFAULTS = {
    "poll_interval_seconds": 60,
    "notifications_enabled": True,
    "notification_thresholds": [80, 90, 95],
    "show_opus_tracking": False,
    "start_with_windows": False,
    "callback_port": 19532,
    "user_agent": "claude-pulse/0.1.0",
    "authorize_url": "https://claude.ai/oauth/authorize",
    "token_url": "https://platform.claude.com/v1/oauth/token",
    "usage_url": "https://api.anthropic.com/api/oauth/usage",
    "profile_url": "https://api.anthropic.com/api/oauth/profile",
}


def test_defaults_are_design_md_contract(tmp_path: Path) -> None:
    loaded = config.load(tmp_path / "missing.json")
    assert loaded.config.to_json() == DESIGN_DEFAULTS
    assert loaded.problems == ()


def write(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value))
    return path


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        pytest.param("poll_interval_seconds", 5, "from 30 to 3600", id="poll-too-fast"),
        pytest.param("poll_interval_seconds", "60", "from 30 to 3600", id="poll-string"),
        pytest.param("poll_interval_seconds", True, "from 30 to 3600", id="poll-bool"),
        pytest.param("notifications_enabled", "yes", "true or false", id="notif-string"),
        pytest.param("notification_thresholds", [80, 150], "from 1 to 100", id="thr-range"),
        pytest.param("notification_thresholds", 80, "a list", id="thr-not-list"),
        pytest.param("callback_port", 80, "1024 to 65535", id="port-privileged"),
        pytest.param("callback_port", 70000, "1024 to 65535", id="port-too-big"),
        pytest.param("user_agent", "", "non-empty", id="ua-empty"),
        pytest.param("usage_url", "ftp://x", "http:// or https://", id="url-scheme"),
    ],
)
def test_bad_value_warns_with_file_key_and_range_and_falls_back(
    tmp_path: Path, key: str, value: Any, allowed: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path / "config.json", {key: value, "show_opus_tracking": True})
    loaded = config.load(path)
    assert getattr(loaded.config, key) == getattr(Config(), key)
    assert loaded.config.show_opus_tracking is True  # other keys still apply
    (problem,) = loaded.problems
    assert str(path) in problem and key in problem and allowed in problem
    assert problem in caplog.text


def test_valid_values_are_used(tmp_path: Path) -> None:
    path = write(tmp_path / "c.json", {"poll_interval_seconds": 120.0,
                                       "notification_thresholds": [95, 50, 50],
                                       "callback_port": 0})
    cfg = config.load(path).config
    assert cfg.poll_interval_seconds == 120
    assert cfg.notification_thresholds == (50, 95)
    assert cfg.callback_port == 0


@pytest.mark.parametrize(
    "content",
    [pytest.param(b"{not json", id="syntax"), pytest.param(b"\xff\xfe{}", id="binary"),
     pytest.param(b"", id="empty")],
)
def test_corrupt_file_is_reported_and_never_overwritten(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "config.json"
    path.write_bytes(content)
    loaded = config.load(path)
    assert not loaded.file_is_valid
    assert loaded.config == Config()
    assert str(path) in loaded.problems[0] and "left as it is" in loaded.problems[0]
    with pytest.raises(ConfigError) as info:
        config.update(path, notifications_enabled=False)
    assert "not saving over it" in str(info.value)
    assert path.read_bytes() == content


def test_not_an_object_is_reported(tmp_path: Path) -> None:
    loaded = config.load(write(tmp_path / "c.json", [1, 2]))
    assert "expected a JSON object" in loaded.problems[0]
    with pytest.raises(ConfigError):
        config.update(tmp_path / "c.json", notifications_enabled=False)


def test_update_keeps_unknown_keys_and_other_values(tmp_path: Path) -> None:
    path = write(tmp_path / "config.json", {"my_note": "keep me", "poll_interval_seconds": 90})
    loaded = config.load(path)
    assert any("unknown key 'my_note'" in p for p in loaded.problems)
    cfg = config.update(path, notifications_enabled=False)
    assert cfg.notifications_enabled is False
    on_disk = json.loads(path.read_text())
    assert on_disk == {"my_note": "keep me", "poll_interval_seconds": 90,
                       "notifications_enabled": False}
    assert config.load(path).config.extra == {"my_note": "keep me"}


def test_update_creates_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    config.update(path, start_with_windows=True)
    assert json.loads(path.read_text()) == {"start_with_windows": True}
    if os.name == "posix":
        assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["config.json"]  # no temp files left


def test_update_rejects_unknown_key(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        config.update(tmp_path / "c.json", pol_interval=3)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from([*sorted(DESIGN_DEFAULTS), "other"]),
                       st.none() | st.booleans() | st.integers() | st.floats() | st.text()
                       | st.lists(st.integers() | st.floats() | st.text(), max_size=12)))
def test_any_json_object_loads_without_raising(raw: dict[str, Any]) -> None:
    loaded = config.parse(raw)
    assert isinstance(loaded.config, Config)
    assert 30 <= loaded.config.poll_interval_seconds <= 3600
