"""`logout` leaves no token behind (issue 16, item 5).

A torn `credentials.json` is set aside as `credentials.json.corrupt-<time>` and can still hold a
working refresh token; a save Windows refused waits in a `.pending` file; a killed writer leaves
a `.tmp` file. Each test builds those with real `claude-pulse` processes against the fake server,
runs `logout`, then searches every byte under the home for the tokens.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from claude_pulse.fake.anthropic import FakeAnthropic
from support.fixtures_server import seed_credentials
from support.os_faults import run_cli


def _tokens_in(home: Path) -> set[str]:
    found: set[str] = set()
    for path in home.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            found.update(token for token in _TOKENS if token.encode() in data)
    return found


_TOKENS: list[str] = []


def _remember(home: Path) -> None:
    raw = json.loads((home / "credentials.json").read_text(encoding="utf-8"))
    _TOKENS.extend([raw["access_token"], raw["refresh_token"]])


def test_logout_removes_every_file_that_holds_a_token(
        fake_server: FakeAnthropic, pulse_home: Path, fake_config: Path) -> None:
    _TOKENS.clear()
    seed_credentials(pulse_home, fake_server)
    _remember(pulse_home)
    creds = pulse_home / "credentials.json"

    # 1. A torn file: set aside by the next run, refresh token and all.
    creds.write_bytes(creds.read_bytes()[:-40])
    torn = run_cli(pulse_home, "status")
    assert torn.code == 1 and "kept it as credentials.json.corrupt-" in torn.stderr
    (aside,) = pulse_home.glob("credentials.json.corrupt-*")

    # 2. A new login whose refresh Windows could not rename: the rotated tokens wait in .pending.
    seed_credentials(pulse_home, fake_server)
    raw = json.loads(creds.read_text(encoding="utf-8"))
    raw["expires_at"] = "2000-01-01T00:00:00+00:00"
    creds.write_text(json.dumps(raw), encoding="utf-8")
    _remember(pulse_home)
    blocked = run_cli(pulse_home, "status",
                      faults=[{"call": "replace", "name": "credentials.json", "winerror": 32}])
    assert blocked.code == 0, blocked.stderr
    (pending,) = pulse_home.glob(".credentials.json.*.pending")
    _TOKENS.append(json.loads(pending.read_text(encoding="utf-8"))["refresh_token"])

    # 3. A writer killed before its rename.
    stale = pulse_home / ".credentials.json.0badf00d.tmp"
    stale.write_bytes(creds.read_bytes())
    os.utime(stale, (0, 0))
    assert _tokens_in(pulse_home) == set(_TOKENS)

    out = run_cli(pulse_home, "logout")
    assert out.code == 0, out.stderr
    (line,) = out.stdout.strip().splitlines()
    for path in (aside, pending, stale, creds):
        assert path.name in line
        assert not path.exists()
    assert _tokens_in(pulse_home) == set()
    assert (pulse_home / "config.json").exists()  # settings are not part of a login

    again = run_cli(pulse_home, "logout")
    assert again.code == 0 and "Already logged out" in again.stdout


def test_a_file_that_cannot_be_removed_is_one_line(
        fake_server: FakeAnthropic, pulse_home: Path, fake_config: Path) -> None:
    seed_credentials(pulse_home, fake_server)
    run = run_cli(pulse_home, "logout", faults=[{"call": "unlink", "name": "credentials.json",
                                                 "errno": 30}])
    assert run.code == 1 and "Traceback" not in run.stderr
    (line,) = run.stderr_lines
    assert "credentials.json" in line and "Read-only file system" in line
    assert "delete it yourself" in line


def test_an_unreadable_file_is_never_set_aside(
        fake_server: FakeAnthropic, pulse_home: Path, fake_config: Path) -> None:
    """Permission or I/O errors leave the file (and its working refresh token) where it is."""
    seed_credentials(pulse_home, fake_server)
    before = (pulse_home / "credentials.json").read_bytes()
    for errno in (13, 5):  # EACCES, EIO
        run = run_cli(pulse_home, "status",
                      faults=[{"call": "read", "name": "credentials.json", "errno": errno}])
        assert run.code == 1 and "Traceback" not in run.stderr
        (line,) = run.stderr_lines
        assert "it was left as it is" in line
        assert (pulse_home / "credentials.json").read_bytes() == before
        assert not list(pulse_home.glob("*.corrupt-*"))
