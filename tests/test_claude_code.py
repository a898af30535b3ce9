"""Claude Code's login, read-only: a fake Claude Code home in the real shapes, a fake `security`
for the macOS Keychain, and `status` / `statusline` run as real processes against the fake
server, whose request log proves that nothing ever asked the token endpoint."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from claude_pulse.config import Config
from claude_pulse.core.snapshot import Snapshot
from claude_pulse.core.tokens import TokenSet, TokenState
from claude_pulse.core.usage import parse_usage
from claude_pulse.errors import CredentialsError, NotLoggedIn, ReauthRequired
from claude_pulse.fake.anthropic import FakeAnthropic
from claude_pulse.services.claude_code import (
    EXPIRED_MESSAGE,
    REJECTED_MESSAGE,
    ClaudeCodeLogin,
    SelectedLogin,
    claude_code_dir,
    keychain_reader,
    keychain_service,
    parse_credentials,
)
from claude_pulse.services.credentials import CredentialStore
from claude_pulse.services.snapshot import SnapshotStore
from support.fakes import usage_payload

UTC = timezone.utc
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def cc_credentials(access: str, expires_at: datetime, **extra: Any) -> dict[str, Any]:
    """Claude Code's `.credentials.json`, in the shape it writes (expiresAt in milliseconds)."""
    return {"claudeAiOauth": {
        "accessToken": access,
        "refreshToken": "sk-ant-ort01-cc-refresh-never-used",
        "expiresAt": int(expires_at.timestamp() * 1000),
        "scopes": ["user:inference", "user:profile", "user:sessions:claude_code"],
        "subscriptionType": "max",
        "rateLimitTier": "default_claude_max_5x",
        **extra,
    }}


def write_cc_home(folder: Path, credentials: Any, *, email: str | None = None) -> Path:
    """A Claude Code config folder; returns its credentials file."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ".credentials.json"
    text = credentials if isinstance(credentials, str) else json.dumps(credentials)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    if email is not None:
        (folder / ".claude.json").write_text(json.dumps({
            "numStartups": 12, "oauthAccount": {"emailAddress": email,
                                                "organizationName": "Acme"}}))
    return path


def login_over(folder: Path, now: datetime = NOW, **kwargs: Any) -> ClaudeCodeLogin:
    return ClaudeCodeLogin(folder, clock=lambda: now, account_file=folder / ".claude.json",
                           **kwargs)


# -- where Claude Code keeps it -------------------------------------------------------------------


def test_config_dir_is_claude_config_dir_else_dot_claude(tmp_path: Path) -> None:
    assert claude_code_dir({"CLAUDE_CONFIG_DIR": str(tmp_path / "cc")}) == tmp_path / "cc"
    assert claude_code_dir({"CLAUDE_CONFIG_DIR": "  "}) == Path.home() / ".claude"
    assert claude_code_dir({}) == Path.home() / ".claude"


def test_keychain_item_name_follows_claude_codes_config_dir() -> None:
    assert keychain_service({}) == "Claude Code-credentials"
    digest = hashlib.sha256(b"/Users/ana/.claude-work").hexdigest()[:8]
    assert keychain_service({"CLAUDE_CONFIG_DIR": "/Users/ana/.claude-work"}) == \
        f"Claude Code-credentials-{digest}"


# -- the file's shape -----------------------------------------------------------------------------


def test_parse_keeps_the_access_token_and_never_the_refresh_token() -> None:
    tokens = parse_credentials(cc_credentials("sk-ant-oat01-abc", NOW + timedelta(hours=8)))
    assert tokens.access_token == "sk-ant-oat01-abc"
    assert tokens.refresh_token == ""
    assert tokens.expires_at == NOW + timedelta(hours=8)
    assert "user:profile" in tokens.scope.split()


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        pytest.param([], "no claudeAiOauth", id="not-an-object"),
        pytest.param({"mcpOAuth": {}}, "no claudeAiOauth", id="no-oauth"),
        pytest.param({"claudeAiOauth": {"expiresAt": 1}}, "accessToken", id="no-access"),
        pytest.param({"claudeAiOauth": {"accessToken": 7, "expiresAt": 1}}, "accessToken",
                     id="access-not-text"),
        pytest.param({"claudeAiOauth": {"accessToken": "t"}}, "expiresAt", id="no-expiry"),
        pytest.param({"claudeAiOauth": {"accessToken": "t", "expiresAt": "soon"}}, "expiresAt",
                     id="expiry-not-number"),
        pytest.param({"claudeAiOauth": {"accessToken": "t", "expiresAt": 10**30}}, "range",
                     id="expiry-out-of-range"),
    ],
)
def test_parse_names_what_is_wrong(data: Any, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse_credentials(data)


# -- the file source ------------------------------------------------------------------------------


def test_a_fresh_login_is_used_as_is_and_the_file_never_changes(tmp_path: Path) -> None:
    path = write_cc_home(tmp_path / "cc", cc_credentials("sk-ant-oat01-fresh",
                                                         NOW + timedelta(hours=3)),
                         email="ana@example.com")
    before, mtime = path.read_bytes(), path.stat().st_mtime_ns
    login = login_over(tmp_path / "cc")
    assert login.logged_in()
    assert login.state() is TokenState.FRESH
    assert login.access_token() == "sk-ant-oat01-fresh"
    assert login.email == "ana@example.com"
    assert path.read_bytes() == before and path.stat().st_mtime_ns == mtime
    assert sorted(p.name for p in path.parent.iterdir()) == [".claude.json", ".credentials.json"]


def test_a_token_inside_claude_codes_refresh_margin_is_still_used(tmp_path: Path) -> None:
    # We cannot refresh, so "refresh due" would only cost a second request: use it to the end.
    write_cc_home(tmp_path / "cc", cc_credentials("sk-ant-oat01-x", NOW + timedelta(minutes=2)))
    login = login_over(tmp_path / "cc")
    assert login.state() is TokenState.FRESH
    assert login.access_token() == "sk-ant-oat01-x"


def test_an_expired_login_says_to_run_claude(tmp_path: Path) -> None:
    write_cc_home(tmp_path / "cc", cc_credentials("sk-ant-oat01-old", NOW - timedelta(minutes=1)))
    login = login_over(tmp_path / "cc")
    assert login.logged_in()  # there is a login; it only needs renewing by Claude Code
    assert login.state() is TokenState.EXPIRED
    with pytest.raises(ReauthRequired) as caught:
        login.access_token()
    assert str(caught.value) == EXPIRED_MESSAGE
    with pytest.raises(ReauthRequired, match="run `claude` once"):
        login.refresh("sk-ant-oat01-old")


def test_a_login_claude_code_renewed_is_picked_up(tmp_path: Path) -> None:
    folder = tmp_path / "cc"
    write_cc_home(folder, cc_credentials("sk-ant-oat01-old", NOW - timedelta(minutes=1)))
    login = login_over(folder)
    with pytest.raises(ReauthRequired):
        login.access_token()
    write_cc_home(folder, cc_credentials("sk-ant-oat01-new", NOW + timedelta(hours=8)))
    assert login.access_token() == "sk-ant-oat01-new"


def test_a_rejected_token_is_read_again_never_refreshed(tmp_path: Path) -> None:
    folder = tmp_path / "cc"
    write_cc_home(folder, cc_credentials("sk-ant-oat01-a", NOW + timedelta(hours=8)))
    login = login_over(folder)
    assert login.access_token() == "sk-ant-oat01-a"
    with pytest.raises(ReauthRequired) as caught:
        login.refresh("sk-ant-oat01-a")  # a 401 with the same token on disk
    assert str(caught.value) == REJECTED_MESSAGE
    write_cc_home(folder, cc_credentials("sk-ant-oat01-b", NOW + timedelta(hours=8)))
    assert login.refresh("sk-ant-oat01-a") == "sk-ant-oat01-b"  # Claude Code refreshed


def test_no_claude_code_login(tmp_path: Path) -> None:
    login = login_over(tmp_path / "nothing-here")
    assert not login.logged_in()
    assert login.state() is None and login.email is None
    with pytest.raises(NotLoggedIn) as caught:
        login.access_token()
    message = str(caught.value)
    assert "No Claude Code login found in" in message and "run `claude`" in message
    assert str(tmp_path / "nothing-here" / ".credentials.json") in message
    assert not (tmp_path / "nothing-here").exists()  # looking created nothing


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        pytest.param('{"claudeAiOauth": {"accessToken": "sk-ant-oat01-secret"', "not JSON",
                     id="torn"),
        pytest.param('{"claudeAiOauth": {"accessToken": "sk-ant-oat01-secret"}}', "expiresAt",
                     id="no-expiry"),
        pytest.param("", "not JSON", id="empty"),
        pytest.param("[1, 2]", "claudeAiOauth", id="wrong-shape"),
    ],
)
def test_a_malformed_file_is_one_line_left_untouched(tmp_path: Path, text: str,
                                                     fragment: str) -> None:
    path = write_cc_home(tmp_path / "cc", text)
    login = login_over(tmp_path / "cc")
    with pytest.raises(CredentialsError) as caught:
        login.access_token()
    message = str(caught.value)
    assert fragment in message and str(path) in message and "run `claude`" in message
    assert "\n" not in message and "sk-ant" not in message
    assert not login.logged_in()
    assert path.read_text(encoding="utf-8") == text
    assert [p.name for p in path.parent.iterdir()] == [".credentials.json"]  # not set aside


def test_an_unreadable_file_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "cc"
    folder.mkdir()
    (folder / ".credentials.json").mkdir()  # a folder where the file should be
    with pytest.raises(CredentialsError, match="Could not read Claude Code's login"):
        login_over(folder).access_token()


def test_claude_config_dir_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    write_cc_home(tmp_path / "home" / ".claude",
                  cc_credentials("sk-ant-oat01-default", NOW + timedelta(hours=1)))
    write_cc_home(tmp_path / "work", cc_credentials("sk-ant-oat01-work", NOW + timedelta(hours=1)),
                  email="work@example.com")
    (tmp_path / "home" / ".claude.json").write_text(
        json.dumps({"oauthAccount": {"emailAddress": "home@example.com"}}))

    default = ClaudeCodeLogin.for_environment(lambda: NOW, {}, platform="linux")
    assert default.access_token() == "sk-ant-oat01-default"
    assert default.email == "home@example.com"  # ~/.claude.json, beside ~/.claude
    work_env = {"CLAUDE_CONFIG_DIR": str(tmp_path / "work")}
    work = ClaudeCodeLogin.for_environment(lambda: NOW, work_env, platform="linux")
    assert work.access_token() == "sk-ant-oat01-work"
    assert work.email == "work@example.com"  # <CLAUDE_CONFIG_DIR>/.claude.json


# -- the macOS Keychain, through a fake `security` ------------------------------------------------


def fake_security(folder: Path, *, stdout: str = "", status: int = 0, sleep: float = 0.0,
                  stderr: str = "") -> tuple[Path, Path]:
    """An executable standing in for /usr/bin/security; it records its argv."""
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "argv.json"
    script = folder / "security"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, sys, time\n"
        f"open({str(log)!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n"
        f"time.sleep({sleep!r})\n"
        f"sys.stdout.write({stdout!r})\n"
        f"sys.stderr.write({stderr!r})\n"
        f"sys.exit({status})\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script, log


def argv_seen(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.mark.skipif(os.name != "posix", reason="the fake `security` is a #! script")
def test_macos_reads_the_keychain_item_first(tmp_path: Path) -> None:
    secret = json.dumps(cc_credentials("sk-ant-oat01-keychain", NOW + timedelta(hours=2)))
    security, log = fake_security(tmp_path / "bin", stdout=secret + "\n")
    write_cc_home(tmp_path / "cc", cc_credentials("sk-ant-oat01-file", NOW + timedelta(hours=2)))
    env = {"CLAUDE_CONFIG_DIR": str(tmp_path / "cc")}
    login = ClaudeCodeLogin.for_environment(lambda: NOW, env, platform="darwin",
                                            security=str(security))
    assert login.access_token() == "sk-ant-oat01-keychain"
    assert login.access_token() == "sk-ant-oat01-keychain"
    calls = argv_seen(log)
    assert calls == [["find-generic-password", "-s", keychain_service(env), "-w"]]  # asked once
    assert all("sk-ant" not in arg for arg in calls[0])


@pytest.mark.skipif(os.name != "posix", reason="the fake `security` is a #! script")
def test_macos_hex_secret_is_decoded(tmp_path: Path) -> None:
    secret = json.dumps(cc_credentials("sk-ant-oat01-hex", NOW + timedelta(hours=2),
                                       note="café"))
    security, _ = fake_security(tmp_path / "bin", stdout=secret.encode().hex() + "\n")
    read = keychain_reader("Claude Code-credentials", security=str(security))
    login = ClaudeCodeLogin(tmp_path / "cc", clock=lambda: NOW, keychain=read)
    assert login.access_token() == "sk-ant-oat01-hex"


@pytest.mark.skipif(os.name != "posix", reason="the fake `security` is a #! script")
def test_macos_without_a_keychain_item_uses_the_file(tmp_path: Path) -> None:
    security, log = fake_security(
        tmp_path / "bin", status=44,
        stderr="security: SecKeychainSearchCopyNext: The specified item could not be found "
               "in the keychain.\n")
    write_cc_home(tmp_path / "cc", cc_credentials("sk-ant-oat01-file", NOW + timedelta(hours=2)))
    read = keychain_reader("Claude Code-credentials", security=str(security))
    login = ClaudeCodeLogin(tmp_path / "cc", clock=lambda: NOW, keychain=read)
    assert login.access_token() == "sk-ant-oat01-file"
    assert len(argv_seen(log)) == 1


@pytest.mark.skipif(os.name != "posix", reason="the fake `security` is a #! script")
def test_macos_keychain_errors_are_one_line(tmp_path: Path) -> None:
    security, _ = fake_security(
        tmp_path / "bin", status=36,
        stderr="security: SecKeychainSearchCopyNext: User interaction is not allowed.\n")
    read = keychain_reader("Claude Code-credentials", security=str(security))
    login = ClaudeCodeLogin(tmp_path / "cc", clock=lambda: NOW, keychain=read)
    with pytest.raises(CredentialsError) as caught:
        login.access_token()
    assert str(caught.value) == ("Could not read Claude Code's login from the macOS Keychain "
                                 "(security: SecKeychainSearchCopyNext: User interaction is not "
                                 "allowed.).")
    # ... and the file still works when the Keychain refuses.
    write_cc_home(tmp_path / "cc", cc_credentials("sk-ant-oat01-file", NOW + timedelta(hours=2)))
    assert login.refresh() == "sk-ant-oat01-file"


@pytest.mark.skipif(os.name != "posix", reason="the fake `security` is a #! script")
def test_macos_keychain_that_never_answers_times_out(tmp_path: Path) -> None:
    security, _ = fake_security(tmp_path / "bin", sleep=30)
    read = keychain_reader("Claude Code-credentials", security=str(security), timeout=0.5)
    started = time.monotonic()
    with pytest.raises(CredentialsError, match=r"did not answer within 0\.5 s"):
        ClaudeCodeLogin(tmp_path / "cc", clock=lambda: NOW, keychain=read).access_token()
    assert time.monotonic() - started < 10


def test_no_security_program_means_no_keychain(tmp_path: Path) -> None:
    read = keychain_reader("Claude Code-credentials", security=str(tmp_path / "no-such"))
    assert read() is None


def test_other_platforms_never_ask_the_keychain(tmp_path: Path) -> None:
    security, log = fake_security(tmp_path / "bin", stdout="{}")
    env = {"CLAUDE_CONFIG_DIR": str(tmp_path / "cc")}
    write_cc_home(tmp_path / "cc", cc_credentials("sk-ant-oat01-file", NOW + timedelta(hours=2)))
    for platform in ("win32", "linux"):
        login = ClaudeCodeLogin.for_environment(lambda: NOW, env, platform=platform,
                                                security=str(security))
        assert login.access_token() == "sk-ant-oat01-file"
    assert argv_seen(log) == []


# -- choosing the source --------------------------------------------------------------------------


class _Config:
    def __init__(self, source: str) -> None:
        self.value = Config(login_source=source)

    def __call__(self) -> Config:
        return self.value


def test_the_selected_source_follows_the_setting_and_switching_deletes_nothing(
        tmp_path: Path) -> None:
    from claude_pulse.services.tokens import TokenManager

    ours = CredentialStore(tmp_path / "pulse" / "credentials.json")
    ours.save(TokenSet("sk-ant-oat01-ours", "sk-ant-ort01-ours", NOW + timedelta(hours=8),
                       email="ours@example.com"))
    cc_file = write_cc_home(tmp_path / "cc", cc_credentials("sk-ant-oat01-cc",
                                                            NOW + timedelta(hours=8)),
                            email="cc@example.com")
    config = _Config("pulse")
    manager = TokenManager(ours, transport=None,  # type: ignore[arg-type]  # never refreshes here
                           config=config, clock=lambda: NOW,
                           lock_path=tmp_path / "pulse" / "credentials.lock")
    login = SelectedLogin(config, lambda: manager, login_over(tmp_path / "cc"),
                          clock=lambda: NOW)
    assert (login.access_token(), login.email) == ("sk-ant-oat01-ours", "ours@example.com")
    config.value = Config(login_source="claude-code")
    assert (login.access_token(), login.email) == ("sk-ant-oat01-cc", "cc@example.com")
    login.check()
    config.value = Config(login_source="pulse")
    assert login.access_token() == "sk-ant-oat01-ours"
    assert ours.load() is not None and cc_file.exists()


# -- `status` and `statusline` as the user runs them ----------------------------------------------


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "claude_pulse", *args], capture_output=True,
                          text=True, timeout=60, env={**os.environ, **env})


@pytest.fixture
def cc_config(fake_config: Path) -> Path:
    config = json.loads(fake_config.read_text(encoding="utf-8"))
    config["login_source"] = "claude-code"
    fake_config.write_text(json.dumps(config), encoding="utf-8")
    return fake_config


def test_status_json_uses_claude_codes_token_and_never_the_token_endpoint(
        fake_server: FakeAnthropic, cc_config: Path, pulse_home: Path, tmp_path: Path) -> None:
    minted = fake_server.issue_tokens()
    path = write_cc_home(tmp_path / "cc", cc_credentials(
        minted["access_token"], datetime.now(UTC) + timedelta(hours=8)), email="cc@example.com")
    before, mtime = path.read_bytes(), path.stat().st_mtime_ns
    fake_server.usage = usage_payload(37.0, 12.0)

    out = cli("status", "--json", env={"CLAUDE_CONFIG_DIR": str(tmp_path / "cc")})

    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert (data["session"]["utilization"], data["weekly"]["utilization"]) == (37.0, 12.0)
    assert data["account"] == "cc@example.com" and data["source"] == "api"
    [usage] = fake_server.requests_to("usage")
    assert usage.headers["authorization"] == f"Bearer {minted['access_token']}"
    assert fake_server.requests_to("token") == []
    assert path.read_bytes() == before and path.stat().st_mtime_ns == mtime
    assert not (pulse_home / "credentials.json").exists()  # ours was never needed or made


def test_status_with_an_expired_claude_code_login_is_one_line_and_exit_1(
        fake_server: FakeAnthropic, cc_config: Path, tmp_path: Path) -> None:
    minted = fake_server.issue_tokens()
    path = write_cc_home(tmp_path / "cc", cc_credentials(
        minted["access_token"], datetime.now(UTC) - timedelta(minutes=3)))
    before = path.read_bytes()

    out = cli("status", "--json", env={"CLAUDE_CONFIG_DIR": str(tmp_path / "cc")})

    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [f"claude-pulse: {EXPIRED_MESSAGE}"]
    assert out.stdout == ""
    assert fake_server.requests == []  # neither usage nor token endpoint
    assert path.read_bytes() == before


def test_status_with_an_expired_login_still_shows_the_last_numbers(
        fake_server: FakeAnthropic, cc_config: Path, pulse_home: Path, tmp_path: Path) -> None:
    write_cc_home(tmp_path / "cc", cc_credentials("sk-ant-oat01-old",
                                                  datetime.now(UTC) - timedelta(hours=1)))
    raw = usage_payload(55.0, 20.0)
    SnapshotStore(pulse_home / "snapshot.json").save(
        Snapshot(datetime.now(UTC) - timedelta(minutes=4), parse_usage(raw), raw,
                 source="claude-code"))

    out = cli("status", "--json", env={"CLAUDE_CONFIG_DIR": str(tmp_path / "cc")})

    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [
        f"claude-pulse: {EXPIRED_MESSAGE} (showing the last good numbers)"]
    data = json.loads(out.stdout)
    assert data["session"]["utilization"] == 55.0
    assert data["stale"] is True and data["source"] == "claude-code"
    assert fake_server.requests == []


def test_status_with_a_revoked_claude_code_token_never_refreshes(
        fake_server: FakeAnthropic, cc_config: Path, tmp_path: Path) -> None:
    path = write_cc_home(tmp_path / "cc", cc_credentials(
        "sk-ant-oat01-revoked", datetime.now(UTC) + timedelta(hours=2)))
    before = path.read_bytes()

    out = cli("status", env={"CLAUDE_CONFIG_DIR": str(tmp_path / "cc")})

    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [f"claude-pulse: {REJECTED_MESSAGE}"]
    assert len(fake_server.requests_to("usage")) == 1  # one 401; re-reading found no new token
    assert fake_server.requests_to("token") == []
    assert path.read_bytes() == before


def test_status_without_claude_code_login_names_where_it_looked(
        fake_server: FakeAnthropic, cc_config: Path, tmp_path: Path) -> None:
    out = cli("status", env={"CLAUDE_CONFIG_DIR": str(tmp_path / "none")})
    assert out.returncode == 1
    [line] = out.stderr.strip().splitlines()
    assert line.startswith("claude-pulse: No Claude Code login found in ")
    assert str(tmp_path / "none" / ".credentials.json") in line
    assert fake_server.requests == []


def test_statusline_fetches_with_claude_codes_token_when_the_cache_is_old(
        fake_server: FakeAnthropic, cc_config: Path, tmp_path: Path) -> None:
    minted = fake_server.issue_tokens()
    write_cc_home(tmp_path / "cc", cc_credentials(minted["access_token"],
                                                  datetime.now(UTC) + timedelta(hours=8)))
    fake_server.usage = usage_payload(64.0, 30.0)
    out = subprocess.run([sys.executable, "-m", "claude_pulse", "statusline"], input="",
                         capture_output=True, text=True, timeout=60,
                         env={**os.environ, "CLAUDE_CONFIG_DIR": str(tmp_path / "cc")})
    assert out.returncode == 0, out.stderr
    assert "64%" in out.stdout
    assert len(fake_server.requests_to("usage")) == 1
    assert fake_server.requests_to("token") == []


# -- choosing it from a terminal: `login --from-claude-code` --------------------------------------


def saved_source(config: Path) -> Any:
    return json.loads(config.read_text(encoding="utf-8")).get("login_source")


def test_login_from_claude_code_sets_the_source_without_a_request(
        fake_server: FakeAnthropic, fake_config: Path, pulse_home: Path, tmp_path: Path) -> None:
    from support.fixtures_server import seed_credentials

    seed_credentials(pulse_home, fake_server)
    ours = (pulse_home / "credentials.json").read_bytes()
    path = write_cc_home(tmp_path / "cc", cc_credentials("sk-ant-oat01-cc",
                                                         datetime.now(UTC) + timedelta(hours=5)),
                         email="cc@example.com")
    before = path.read_bytes()

    out = cli("login", "--from-claude-code", env={"CLAUDE_CONFIG_DIR": str(tmp_path / "cc")})

    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == (
        "Using Claude Code's login (cc@example.com), read-only: Claude Pulse never refreshes or "
        "changes it.")
    assert "sk-ant" not in out.stdout + out.stderr
    assert saved_source(fake_config) == "claude-code"
    assert fake_server.requests == []
    assert path.read_bytes() == before
    assert (pulse_home / "credentials.json").read_bytes() == ours  # ours is kept


def test_login_from_claude_code_with_an_expired_login_still_chooses_it(
        fake_server: FakeAnthropic, fake_config: Path, tmp_path: Path) -> None:
    write_cc_home(tmp_path / "cc", cc_credentials("sk-ant-oat01-cc",
                                                  datetime.now(UTC) - timedelta(hours=1)))
    out = cli("login", "--from-claude-code", env={"CLAUDE_CONFIG_DIR": str(tmp_path / "cc")})
    assert out.returncode == 0, out.stderr
    assert EXPIRED_MESSAGE in out.stdout.splitlines()
    assert saved_source(fake_config) == "claude-code"


@pytest.mark.parametrize("content", [None, "{not json"], ids=["missing", "malformed"])
def test_login_from_claude_code_without_a_usable_login_changes_nothing(
        fake_server: FakeAnthropic, fake_config: Path, tmp_path: Path,
        content: str | None) -> None:
    if content is not None:
        write_cc_home(tmp_path / "cc", content)
    config_before = fake_config.read_bytes()
    out = cli("login", "--from-claude-code", env={"CLAUDE_CONFIG_DIR": str(tmp_path / "cc")})
    assert out.returncode == 1
    [line] = out.stderr.strip().splitlines()
    assert "Claude Code" in line and "run `claude`" in line and "Traceback" not in out.stderr
    assert fake_config.read_bytes() == config_before
    assert out.stdout == ""


def test_login_from_claude_code_refuses_browser_flags(fake_config: Path, tmp_path: Path) -> None:
    out = cli("login", "--from-claude-code", "--manual",
              env={"CLAUDE_CONFIG_DIR": str(tmp_path / "cc")})
    assert out.returncode == 2
    assert "leave out --manual" in out.stderr
    assert saved_source(fake_config) is None


def test_a_browser_login_switches_back_to_our_own_login(
        fake_server: FakeAnthropic, cc_config: Path, pulse_home: Path, tmp_path: Path) -> None:
    from claude_pulse.fake.demo import follow_login_redirects
    from claude_pulse.home import Home
    from claude_pulse.services.settings import Settings
    from claude_pulse.wiring import Services

    cc_file = write_cc_home(tmp_path / "cc", cc_credentials("sk-ant-oat01-cc",
                                                            datetime.now(UTC) + timedelta(hours=5)))
    services = Services(Home(pulse_home), Settings(cc_config), open_browser=follow_login_redirects)
    try:
        services.login_session(timeout=20).run()
        assert services.settings.current().login_source == "pulse"
        assert saved_source(cc_config) == "pulse"
        assert cc_file.exists()
    finally:
        services.close()


# -- choosing it in the tray app's first-run face (a real Tk window, in this process) -------------


@pytest.mark.gui
def test_first_run_with_claude_codes_login_offers_it_and_one_click_shows_the_numbers(
        display: str, fake_server: FakeAnthropic, fake_config: Path, pulse_home: Path,
        in_process_app: Any, in_process_services: Any, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from claude_pulse.core.status import Phase
    from support.fixtures_app import Driver
    from support.fixtures_display import click, grab
    from support.helpers import wait_until

    minted = fake_server.issue_tokens()
    cc_file = write_cc_home(tmp_path / "cc", cc_credentials(
        minted["access_token"], datetime.now(UTC) + timedelta(hours=8)), email="cc@example.com")
    before = cc_file.read_bytes()
    fake_server.usage = usage_payload(47.0, 21.0)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "cc"))
    opened: list[str] = []
    app = in_process_app(in_process_services(open_browser=lambda url: bool(opened.append(url))))

    def script(d: Driver) -> None:
        wait_until(lambda: d.on_main(lambda: bool(app._window.login_choice_buttons)), 10,
                   "the first-run choice")
        assert d.phase() is Phase.SIGNED_OUT and opened == []  # no browser behind our back
        assert d.on_main(lambda: app._window.visible)
        button = d.on_main(lambda: app._window.login_choice_buttons[1])

        def centre() -> tuple[str, int, int]:
            return d.on_main(lambda: (button.cget("text"), button.winfo_rootx() +
                                      button.winfo_width() // 2,
                                      button.winfo_rooty() + button.winfo_height() // 2))

        wait_until(lambda: d.on_main(button.winfo_ismapped), 5, "the choice on screen")
        view = d.on_main(lambda: app._window.view)
        assert view.banner is not None and view.banner.title == "You're not logged in"
        grab(display, tmp_path / "app-first-run.png",
             d.on_main(lambda: int(app._window.toplevel.wm_frame(), 16)))
        where = centre()
        assert where[0] == "Use Claude Code's login (read-only)"
        click(display, where[1], where[2])
        wait_until(lambda: d.phase() is Phase.OK, 10, "the first poll with Claude Code's token")
        status = d.on_main(lambda: app._poller.status)
        assert status.snapshot.usage.session.utilization == 47.0
        assert status.account == "cc@example.com"
        assert d.on_main(lambda: app._window.login_choice_buttons) == []

    assert Driver(app).run(script) == 0
    assert saved_source(fake_config) == "claude-code"
    [usage] = fake_server.requests_to("usage")
    assert usage.headers["authorization"] == f"Bearer {minted['access_token']}"
    assert fake_server.requests_to("token") == [] and opened == []
    assert cc_file.read_bytes() == before
    assert not (pulse_home / "credentials.json").exists()
