"""Windows sharing violations never lose a login (issue 13, item 1).

On Windows `os.replace` and `open` fail with PermissionError (winerror 5, 32 or 33) while another
process — our own `statusline`, an antivirus scanner, the indexer, OneDrive — has the file open.
Each test runs a real `claude-pulse status` against the fake server, with those calls failing the
way Windows fails them (`tests/support/os_faults.py`), during a refresh (the stored access token
has expired, so the server rotates the refresh token first). What must hold: the refresh token on
disk is the server's current one, or waits in a pending file the next run adopts; nothing is set
aside; no traceback; a failed snapshot or gate write does not cost the numbers.

The real thing — `os.replace` while another handle has the file open — runs on Windows only
(`test_real_replace_while_the_target_is_open`, marked `windows`).
"""

from __future__ import annotations

import json
import os
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from claude_pulse.atomic import (
    finish_interrupted_write,
    read_bytes,
    retry_sharing_violations,
    write_atomic,
)
from claude_pulse.core.tokens import TokenSet
from claude_pulse.fake.anthropic import FakeAnthropic
from claude_pulse.oauth.flow import refresh_tokens
from claude_pulse.services.credentials import CredentialStore
from claude_pulse.services.http import UrllibTransport
from support.os_faults import Run, run_cli


def _log_in(server: FakeAnthropic, home: Path, *, expired: bool = True) -> TokenSet:
    tok = server.issue_tokens()
    ttl = -60 if expired else tok["expires_in"]
    tokens = TokenSet(tok["access_token"], tok["refresh_token"],
                      datetime.now(timezone.utc) + timedelta(seconds=ttl),
                      scope=tok["scope"], email=tok["account"]["email_address"])
    CredentialStore(home / "credentials.json").save(tokens)
    return tokens


def _status(home: Path, faults: list[dict[str, object]] | None = None) -> Run:
    run = run_cli(home, "status", "--json", faults=faults)
    assert "Traceback" not in run.stderr, run.stderr
    return run


def _pending(home: Path) -> list[Path]:
    return sorted(home.glob(".credentials.json.*"))


def _set_aside(home: Path) -> list[Path]:
    return sorted(home.glob("*.corrupt-*"))


def _assert_live(server: FakeAnthropic, tokens: TokenSet) -> None:
    """The server still accepts this refresh token (a real refresh: it rotates it)."""
    refresh_tokens(UrllibTransport(), server.token_url, tokens,
                   clock=lambda: datetime.now(timezone.utc))


def _stored(home: Path) -> TokenSet:
    tokens = CredentialStore(home / "credentials.json").load()
    assert tokens is not None
    return tokens


@pytest.mark.parametrize("winerror", [5, 32, 33])
@pytest.mark.parametrize("times", [1, 4])
def test_refresh_save_survives_a_few_refused_renames(
        fake_server: FakeAnthropic, pulse_home: Path, fake_config: Path, winerror: int,
        times: int) -> None:
    old = _log_in(fake_server, pulse_home)
    run = _status(pulse_home, [{"call": "replace", "name": "credentials.json",
                                "winerror": winerror, "times": times}])
    assert run.code == 0, run.stderr
    assert run.fired == ["replace credentials.json"] * times
    assert json.loads(run.stdout)["session"] is not None
    assert fake_server.refresh_count == 1
    stored = _stored(pulse_home)
    assert stored.refresh_token != old.refresh_token
    assert _pending(pulse_home) == [] and _set_aside(pulse_home) == []
    _assert_live(fake_server, stored)


@pytest.mark.slow
@pytest.mark.parametrize("winerror", [5, 32])
def test_refused_rename_keeps_the_new_login_for_the_next_run(
        fake_server: FakeAnthropic, pulse_home: Path, fake_config: Path, winerror: int) -> None:
    """Regression: the temp file holding the rotated refresh token was deleted after one
    refused rename, and the next run said the login was no longer valid."""
    old = _log_in(fake_server, pulse_home)
    blocked = [{"call": "replace", "name": "credentials.json", "winerror": winerror}]
    run = _status(pulse_home, blocked)
    assert run.code == 0, run.stderr  # the fetch used the new access token
    assert len(run.fired) >= 5  # retried for about a second
    assert run.seconds >= 1.0
    assert json.loads(run.stdout)["session"] is not None
    assert _set_aside(pulse_home) == []
    # The file on disk is untouched; the new tokens wait beside it.
    assert json.loads((pulse_home / "credentials.json").read_text())["refresh_token"] == \
        old.refresh_token
    (pending,) = _pending(pulse_home)
    assert pending.name.endswith(".pending")

    # The next run, still blocked, reads the pending file: no second refresh, no re-login.
    again = _status(pulse_home, blocked)
    assert again.code == 0, again.stderr
    assert fake_server.refresh_count == 1
    assert _set_aside(pulse_home) == []

    # Once the other program lets go, the next run adopts it.
    free = _status(pulse_home)
    assert free.code == 0, free.stderr
    assert fake_server.refresh_count == 1
    assert _pending(pulse_home) == []
    stored = _stored(pulse_home)
    assert stored.refresh_token != old.refresh_token
    _assert_live(fake_server, stored)


@pytest.mark.parametrize("winerror", [5, 32])
def test_refused_reads_are_retried(fake_server: FakeAnthropic, pulse_home: Path,
                                   fake_config: Path, winerror: int) -> None:
    _log_in(fake_server, pulse_home)
    run = _status(pulse_home, [{"call": "read", "name": "credentials.json",
                                "winerror": winerror, "times": 3}])
    assert run.code == 0, run.stderr
    assert run.fired == ["read credentials.json"] * 3
    assert _set_aside(pulse_home) == [] and _pending(pulse_home) == []
    _assert_live(fake_server, _stored(pulse_home))


def test_an_unreadable_file_is_never_set_aside(fake_server: FakeAnthropic, pulse_home: Path,
                                               fake_config: Path) -> None:
    """Regression: one failed read renamed a valid credentials.json to .corrupt-… (logged out)."""
    _log_in(fake_server, pulse_home, expired=False)
    before = (pulse_home / "credentials.json").read_bytes()
    run = _status(pulse_home, [{"call": "read", "name": "credentials.json", "winerror": 32}])
    assert run.code == 1
    (line,) = run.stderr_lines
    assert line.startswith("claude-pulse: Could not read ") and "left as it is" in line
    assert "sk-ant" not in run.stdout + run.stderr
    assert (pulse_home / "credentials.json").read_bytes() == before
    assert _set_aside(pulse_home) == []
    assert _status(pulse_home).code == 0  # nothing was lost


@pytest.mark.parametrize("name", ["snapshot.json", "gate.json"])
@pytest.mark.parametrize("winerror", [5, 32])
def test_a_failed_snapshot_or_gate_write_keeps_the_numbers(
        fake_server: FakeAnthropic, pulse_home: Path, fake_config: Path, name: str,
        winerror: int) -> None:
    _log_in(fake_server, pulse_home)
    run = _status(pulse_home, [{"call": "replace", "name": name, "winerror": winerror}])
    assert run.code == 0, run.stderr
    assert run.stderr == ""
    assert run.fired and set(run.fired) == {f"replace {name}"}
    assert json.loads(run.stdout)["session"] is not None
    _assert_live(fake_server, _stored(pulse_home))


@pytest.mark.slow
def test_statusline_keeps_its_line_when_the_snapshot_is_in_use(
        fake_server: FakeAnthropic, pulse_home: Path, fake_config: Path) -> None:
    _log_in(fake_server, pulse_home)
    run = run_cli(pulse_home, "statusline",
                  faults=[{"call": "replace", "name": "snapshot.json", "winerror": 32},
                          {"call": "replace", "name": "gate.json", "winerror": 32}])
    assert run.code == 0, run.stderr
    assert run.stdout.startswith("5h ") and "Traceback" not in run.stderr


# ---- the building blocks ----


def _sharing_violation(winerror: int) -> PermissionError:
    exc = PermissionError(13, "The process cannot access the file", "x")
    exc.winerror = winerror  # type: ignore[attr-defined]
    return exc


def test_retry_gives_up_after_about_a_second(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr("claude_pulse.atomic.time.sleep", slept.append)
    calls = 0

    def refuse() -> None:
        nonlocal calls
        calls += 1
        raise _sharing_violation(32)

    with pytest.raises(PermissionError):
        retry_sharing_violations(refuse)
    assert 0.9 <= sum(slept) <= 1.2 and calls == len(slept) + 1
    assert slept == sorted(slept)  # backing off


def test_a_plain_permission_error_is_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("claude_pulse.atomic.time.sleep", pytest.fail)
    calls = 0

    def refuse() -> None:
        nonlocal calls
        calls += 1
        raise PermissionError(13, "Permission denied")  # POSIX: retrying cannot help

    with pytest.raises(PermissionError):
        retry_sharing_violations(refuse)
    assert calls == 1


def test_pending_file_is_adopted_at_once_but_a_fresh_tmp_is_not(tmp_path: Path) -> None:
    target = tmp_path / "credentials.json"
    write_atomic(target, b'{"v": "old"}')
    fresh_tmp = tmp_path / ".credentials.json.0000aaaa.tmp"
    fresh_tmp.write_bytes(b'{"v": "being written"}')
    pending = tmp_path / ".credentials.json.0000bbbb.pending"
    pending.write_bytes(b'{"v": "new"}')
    assert finish_interrupted_write(target, lambda data: True) == target
    assert read_bytes(target) == b'{"v": "new"}'
    assert fresh_tmp.exists() and not pending.exists()


# ---- Windows only: the real sharing violation ----


@pytest.mark.windows
@pytest.mark.skipif(sys.platform != "win32", reason="a real Windows sharing violation")
def test_real_replace_while_the_target_is_open(tmp_path: Path) -> None:
    """A reader holds the file open (as Python's open() does: no FILE_SHARE_DELETE) for 0.3 s:
    the write waits for it instead of failing or losing the data."""
    target = tmp_path / "credentials.json"
    write_atomic(target, b'{"v": "old"}')
    reader = open(target, "rb")  # noqa: SIM115 - held open on purpose
    threading.Timer(0.3, reader.close).start()
    write_atomic(target, b'{"v": "new"}', keep_if_blocked=True)
    assert read_bytes(target) == b'{"v": "new"}'
    assert [p.name for p in tmp_path.iterdir()] == ["credentials.json"]


@pytest.mark.windows
@pytest.mark.skipif(sys.platform != "win32", reason="a real Windows sharing violation")
def test_real_replace_blocked_for_good_keeps_a_pending_file(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path / "credentials.json")
    tokens = TokenSet("sk-ant-oat01-a", "sk-ant-ort01-b",
                      datetime.now(timezone.utc) + timedelta(hours=1))
    store.save(tokens)
    with open(store.path, "rb"):
        store.save(TokenSet("sk-ant-oat01-c", "sk-ant-ort01-d", tokens.expires_at))
        pending = [p for p in tmp_path.iterdir() if p.name.endswith(".pending")]
        assert len(pending) == 1
        loaded = store.load()  # reads the pending file while the rename is still refused
        assert loaded is not None and loaded.refresh_token == "sk-ant-ort01-d"
    loaded = store.load()
    assert loaded is not None and loaded.refresh_token == "sk-ant-ort01-d"
    assert os.listdir(tmp_path) == ["credentials.json"]
