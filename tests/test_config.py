"""config.json: defaults, validation messages, corrupt files left alone, atomic saves."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claude_pulse import config
from claude_pulse.config import Config
from claude_pulse.core.tokens import TokenSet
from claude_pulse.errors import ConfigError
from claude_pulse.fake.anthropic import FakeAnthropic
from claude_pulse.services.credentials import CredentialStore
from support.fixtures_server import seed_credentials

DESIGN_DEFAULTS = {
    # Issue 18: one poll per 180 s ran 96 min without a 429 where ~28-30 requests per trailing
    # hour is the measured limit (research/protocol-2026-update.md).
    "poll_interval_seconds": 180,
    "max_requests_per_hour": 20,
    "notifications_enabled": True,
    "notification_thresholds": [80, 90, 95],
    "weekly_notification_thresholds": None,
    "pace_alerts": True,
    "time_aware_alerts": False,
    "show_opus_tracking": False,
    "show_charts": True,
    "start_with_windows": False,
    "callback_port": 19532,
    "login_source": "pulse",
    "clock_format": "24h",
    "user_agent": "claude-pulse/0.1.0",
    # Not in design.md: each request's total deadline (issue 16 item 1).
    "usage_timeout_seconds": 15,
    "token_timeout_seconds": 30,
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
        pytest.param("poll_interval_seconds", 5, "from 60 to 3600", id="poll-too-fast"),
        pytest.param("poll_interval_seconds", 30, "from 60 to 3600", id="poll-old-minimum"),
        pytest.param("poll_interval_seconds", "60", "from 60 to 3600", id="poll-string"),
        pytest.param("poll_interval_seconds", True, "from 60 to 3600", id="poll-bool"),
        pytest.param("max_requests_per_hour", 0, "from 1 to 120", id="budget-zero"),
        pytest.param("max_requests_per_hour", 500, "from 1 to 120", id="budget-too-big"),
        pytest.param("max_requests_per_hour", "20", "from 1 to 120", id="budget-string"),
        pytest.param("notifications_enabled", "yes", "true or false", id="notif-string"),
        pytest.param("notification_thresholds", [80, 150], "from 1 to 100", id="thr-range"),
        pytest.param("notification_thresholds", 80, "a list", id="thr-not-list"),
        pytest.param("callback_port", 80, "1024 to 65535", id="port-privileged"),
        pytest.param("callback_port", 70000, "1024 to 65535", id="port-too-big"),
        pytest.param("user_agent", "", "1 to 200 printable ASCII", id="ua-empty"),
        pytest.param("user_agent", "pulse\u2713", "printable ASCII", id="ua-not-ascii"),
        pytest.param("user_agent", "a\tb", "no control characters", id="ua-tab"),
        pytest.param("usage_url", "ftp://x", "an https:// URL", id="url-scheme"),
        pytest.param("usage_url", "https://", "an https:// URL", id="url-no-host"),
        pytest.param("usage_url", "https://a b/", "an https:// URL", id="url-space"),
        pytest.param("login_source", "claude", '"pulse" or "claude-code"', id="source-unknown"),
        pytest.param("clock_format", "24", '"24h" (14:05) or "12h"', id="clock-unknown"),
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
    cfg = config.update(path, notifications_enabled=False).config
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


def test_update_refuses_a_bad_value_and_writes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path / "config.json", {"poll_interval_seconds": 90})
    with pytest.raises(ConfigError, match="poll_interval_seconds must be a whole number"):
        config.update(path, poll_interval_seconds=5)
    with pytest.raises(ConfigError, match="no control characters"):
        config.update(path, user_agent="x\r\ny")
    assert json.loads(path.read_text()) == {"poll_interval_seconds": 90}


@pytest.mark.parametrize(("key", "value", "cleaned"), [
    pytest.param("login_source", "claude-code", "claude-code", id="source"),
    pytest.param("weekly_notification_thresholds", None, None, id="weekly-same-as-session"),
    pytest.param("weekly_notification_thresholds", [70], (70,), id="weekly-own"),
    pytest.param("notification_thresholds", [90.0, 80], (80, 90), id="thresholds-sorted"),
    pytest.param("user_agent", "  claude-cli/2.1 (external)  ", "claude-cli/2.1 (external)",
                 id="ua-stripped"),
    pytest.param("usage_url", "http://127.0.0.1:9/u", "http://127.0.0.1:9/u", id="loopback"),
])
def test_check_cleans_as_the_loader_does(key: str, value: Any, cleaned: Any) -> None:
    assert config.check(key, value) == cleaned
    assert getattr(config.parse({key: value}).config, key) == cleaned


def test_check_says_what_is_allowed() -> None:
    with pytest.raises(ConfigError) as info:
        config.check("callback_port", 80)
    assert str(info.value) == f"callback_port must be {config.allowed('callback_port')}"
    with pytest.raises(ConfigError):
        config.check("no_such_key", 1)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from([*sorted(DESIGN_DEFAULTS), "other"]),
                       st.none() | st.booleans() | st.integers() | st.floats() | st.text()
                       | st.lists(st.integers() | st.floats() | st.text(), max_size=12)))
def test_any_json_object_loads_without_raising(raw: dict[str, Any]) -> None:
    loaded = config.parse(raw)
    assert isinstance(loaded.config, Config)
    assert 30 <= loaded.config.poll_interval_seconds <= 3600


# --- hostile and careless config files, as `claude-pulse status` meets them (issue 16) --------


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def status_process(home: Path) -> subprocess.CompletedProcess[str]:
    """`claude-pulse status` in `home`. Every request that is not for loopback goes to a proxy
    port nobody listens on, so a config that falls back to Anthropic's URLs reaches nothing."""
    dead = f"http://127.0.0.1:{_closed_port()}"
    env = {**os.environ, "CLAUDE_PULSE_HOME": str(home), "HTTP_PROXY": dead, "HTTPS_PROXY": dead,
           "http_proxy": dead, "https_proxy": dead, "NO_PROXY": "127.0.0.1,localhost,::1",
           "no_proxy": "127.0.0.1,localhost,::1"}
    return subprocess.run([sys.executable, "-m", "claude_pulse", "status"], capture_output=True,
                          text=True, timeout=60, env=env)


def test_control_characters_in_user_agent_are_a_config_message(
        fake_server: FakeAnthropic, fake_config: Path, pulse_home: Path) -> None:
    """Before: every request died with `ValueError: Invalid header value` and a traceback."""
    seed_credentials(pulse_home, fake_server)
    settings_ = json.loads(fake_config.read_text())
    fake_config.write_text(json.dumps({**settings_, "user_agent": "pulse\r\nX-Injected: 1"}))
    out = status_process(pulse_home)
    assert "Traceback" not in out.stderr
    (line,) = out.stderr.splitlines()
    assert "user_agent" in line and "control characters" in line and str(fake_config) in line
    assert out.returncode == 0, out.stderr  # the default User-Agent was used instead
    (request,) = fake_server.requests_to("usage")
    assert request.headers["user-agent"] == config.DEFAULT_USER_AGENT


def test_a_utf8_bom_is_accepted(fake_server: FakeAnthropic, fake_config: Path,
                                pulse_home: Path) -> None:
    """PowerShell 5's `Set-Content -Encoding UTF8` writes a BOM; before, the file was refused."""
    seed_credentials(pulse_home, fake_server)
    fake_config.write_bytes(b"\xef\xbb\xbf" + fake_config.read_bytes())
    out = status_process(pulse_home)
    assert out.returncode == 0 and out.stderr == "", out.stderr
    assert len(fake_server.requests_to("usage")) == 1
    # And saving keeps the file usable (the BOM is not needed back).
    config.update(fake_config, notifications_enabled=False)
    assert json.loads(fake_config.read_text(encoding="utf-8"))["notifications_enabled"] is False


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_gets_a_message_naming_the_encoding(
        fake_server: FakeAnthropic, fake_config: Path, pulse_home: Path, encoding: str) -> None:
    seed_credentials(pulse_home, fake_server)
    fake_config.write_bytes(fake_config.read_text().encode(encoding))
    out = status_process(pulse_home)
    assert "Traceback" not in out.stderr
    first = out.stderr.splitlines()[0]
    assert str(fake_config) in first and "UTF-16" in first and "UTF-8" in first
    assert "left as it is" in first


@pytest.mark.parametrize("key", ["authorize_url", "token_url", "usage_url", "profile_url"])
def test_http_urls_are_refused_unless_loopback(tmp_path: Path, key: str) -> None:
    """A planted config must not send the refresh token or the bearer token in clear text."""
    path = write(tmp_path / "config.json", {key: "http://evil.example.com/steal"})
    loaded = config.load(path)
    assert getattr(loaded.config, key) == getattr(Config(), key)
    (problem,) = loaded.problems
    assert key in problem and "https://" in problem and "127.0.0.1" in problem
    for host in ("127.0.0.1", "[::1]", "localhost"):
        ok = write(tmp_path / "ok.json", {key: f"http://{host}:8080/x"})
        assert getattr(config.load(ok).config, key) == f"http://{host}:8080/x"
    for sneaky in ("http://127.0.0.1.evil.example/x", "http://localhost.evil.example/x",
                   "http://evil.example/127.0.0.1", "http://user@evil.example/x"):
        bad = write(tmp_path / "bad.json", {key: sneaky})
        assert getattr(config.load(bad).config, key) == getattr(Config(), key), sneaky


def test_a_planted_http_token_url_never_gets_the_refresh_token(
        fake_server: FakeAnthropic, fake_config: Path, pulse_home: Path) -> None:
    """`status` with an expired token and `token_url: http://<another host>`: one config line,
    and the refresh token is not sent there (the default https URL is used, which the test's
    dead proxy swallows)."""
    tok = fake_server.issue_tokens()
    CredentialStore(pulse_home / "credentials.json").save(TokenSet(
        tok["access_token"], tok["refresh_token"],
        datetime.now(timezone.utc) - timedelta(minutes=1), scope=tok["scope"]))
    settings_ = json.loads(fake_config.read_text())
    fake_config.write_text(json.dumps({**settings_, "token_url": "http://evil.example/token"}))
    out = status_process(pulse_home)
    assert "Traceback" not in out.stderr
    lines = out.stderr.splitlines()
    assert "token_url" in lines[0] and "https://" in lines[0]
    assert fake_server.requests_to("token") == []
