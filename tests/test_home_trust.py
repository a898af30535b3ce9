"""An untrusted home is refused, and the file system's bad days are one line (issue 16 items 4, 6).

Whoever can write into the home folder can plant a `config.json` that sends the refresh token to
their server, or a `credentials.json` of their own account (login CSRF without a browser). So a
home that is writable by others, belongs to another user or holds another user's files is
refused with one line — never chmod-ed quietly and then trusted. Each test runs the real CLI in a
child process (`tests/support/os_faults.py` when the OS call has to fail on purpose).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from claude_pulse.fake.anthropic import FakeAnthropic
from support.fixtures_server import seed_credentials
from support.os_faults import Run, run_cli

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX owners and modes")

COMMANDS = ["status", "statusline", "logout", "login"]


def _one_line(run: Run) -> str:
    assert "Traceback" not in run.stderr + run.stdout, run.stderr
    assert run.code == 1, run.stdout
    (line,) = run.stderr_lines
    assert line.startswith("claude-pulse: ")
    return line


def _contents(home: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in home.iterdir() if p.is_file()}


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o722])
@pytest.mark.parametrize("command", ["status", "statusline", "login"])
def test_a_home_writable_by_others_is_refused(logged_in: Path, mode: int, command: str) -> None:
    before = _contents(logged_in)
    logged_in.chmod(mode)
    line = _one_line(run_cli(logged_in, command, "--no-browser", timeout=20) if command == "login"
                     else run_cli(logged_in, command))
    assert f"{logged_in} is writable by other users (mode {mode:04o})" in line
    assert f"chmod 700 {logged_in}" in line
    # Not "fixed" behind the user's back, and nothing read, written or removed.
    assert stat.S_IMODE(logged_in.stat().st_mode) == mode
    assert _contents(logged_in) == before


def test_logout_still_removes_the_tokens_from_a_refused_home(logged_in: Path) -> None:
    """Deleting our own token files is safe in a home nobody should trust, and wanted there."""
    logged_in.chmod(0o777)
    run = run_cli(logged_in, "logout")
    assert run.code == 0, run.stderr
    assert "removed credentials.json" in run.stdout
    assert not (logged_in / "credentials.json").exists()
    assert stat.S_IMODE(logged_in.stat().st_mode) == 0o777  # still refused by the others
    assert _one_line(run_cli(logged_in, "status"))


def test_statusline_still_answers_on_stdout_when_its_home_is_refused(logged_in: Path) -> None:
    """Claude Code shows only stdout: an empty status line would hide the problem."""
    logged_in.chmod(0o777)
    run = run_cli(logged_in, "statusline")
    assert run.code == 1 and "Traceback" not in run.stderr
    assert run.stdout == "Claude Pulse: cannot start (run `claude-pulse status`)\n"
    (line,) = run.stderr_lines
    assert "writable by other users" in line


@pytest.mark.parametrize("umask", [0o002, 0o000])
def test_a_permissive_umask_never_locks_the_user_out(fake_server: FakeAnthropic,
                                                     pulse_home: Path, fake_config: Path,
                                                     umask: int) -> None:
    """Ubuntu's default umask is 002: nothing Claude Pulse creates may then trip its own check
    (the lock files were 0664 and refused the next run)."""
    seed_credentials(pulse_home, fake_server)
    old = os.umask(umask)
    try:
        for command in ("status", "statusline", "status", "logout"):
            run = run_cli(pulse_home, command)
            assert run.code == 0, (command, run.stderr)
    finally:
        os.umask(old)
    for path in pulse_home.rglob("*"):
        assert not stat.S_IMODE(path.stat().st_mode) & 0o022, path


def test_an_old_lock_file_with_the_umask_s_mode_is_tightened(logged_in: Path) -> None:
    lock = logged_in / "gate.lock"
    lock.touch()
    lock.chmod(0o664)
    run = run_cli(logged_in, "status")
    assert run.code == 0, run.stderr
    assert stat.S_IMODE(lock.stat().st_mode) == 0o600


def test_a_home_only_readable_by_others_is_made_private(logged_in: Path) -> None:
    logged_in.chmod(0o755)
    run = run_cli(logged_in, "status")
    assert run.code == 0, run.stderr
    assert stat.S_IMODE(logged_in.stat().st_mode) == 0o700


def test_a_home_of_another_user_is_refused(logged_in: Path) -> None:
    run = run_cli(logged_in, "status", faults=[{"call": "geteuid", "uid": 4242}])
    line = _one_line(run)
    assert f"{logged_in} belongs to another user (uid {os.geteuid()})" in line
    assert "CLAUDE_PULSE_HOME" in line


@pytest.mark.parametrize("name", ["config.json", "credentials.json", "logs"])
def test_a_file_others_can_write_is_refused(logged_in: Path, name: str) -> None:
    if name == "logs":  # a good `status` logs nothing, so made none; the tray or a warning would
        (logged_in / name).mkdir(mode=0o700, exist_ok=True)
    (logged_in / name).chmod(0o666 if name != "logs" else 0o777)
    line = _one_line(run_cli(logged_in, "status"))
    assert f"{logged_in / name} is writable by other users" in line
    assert "Remove it if you did not put it there" in line


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="giving a file to another user needs root")
def test_a_file_of_another_user_is_refused(logged_in: Path) -> None:
    planted = logged_in / "config.json"
    os.chown(planted, 4242, 4242)
    line = _one_line(run_cli(logged_in, "status"))
    assert f"{planted} belongs to another user (uid 4242)" in line


def test_a_planted_symlink_of_ours_is_allowed_but_the_log_never_follows_it(
        logged_in: Path) -> None:
    """A link the user made (config.json in a dotfiles repo) is theirs to make."""
    dotfiles = logged_in.parent / "dotfiles-config.json"
    (logged_in / "config.json").rename(dotfiles)
    (logged_in / "config.json").symlink_to(dotfiles)
    run = run_cli(logged_in, "status")
    assert run.code == 0, run.stderr


# --- the file system's bad days (item 4) ------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS)
def test_home_is_a_file(pulse_home: Path, command: str) -> None:
    pulse_home.parent.mkdir(parents=True, exist_ok=True)
    pulse_home.write_text("not a folder")
    run = run_cli(pulse_home, command, timeout=20)
    if command == "logout":  # nothing saved there, and nothing else to say
        assert (run.code, run.stderr) == (0, ""), run.stderr
        assert "Already logged out" in run.stdout
    else:
        line = _one_line(run)
        assert f"{pulse_home} is a file, not a folder: move it away" in line
    assert pulse_home.read_text() == "not a folder"


def test_home_cannot_be_created(pulse_home: Path) -> None:
    run = run_cli(pulse_home, "status", faults=[{"call": "mkdir", "errno": 13}])
    line = _one_line(run)
    assert f"Cannot create {pulse_home} (Permission denied)" in line


_READ_ONLY = [{"call": call, "errno": 30} for call in ("write", "mkdir", "replace", "unlink",
                                                         "rename")]


def test_read_only_home_statusline_still_shows_the_cache(logged_in: Path) -> None:
    run = run_cli(logged_in, "statusline", faults=_READ_ONLY)
    assert run.code == 0 and run.stdout.startswith("5h 42%"), run.stdout + run.stderr
    assert run.stderr == ""


@pytest.mark.parametrize("command", ["status", "logout"])
def test_read_only_home_is_one_line(logged_in: Path, command: str) -> None:
    run = run_cli(logged_in, command, faults=_READ_ONLY)
    line = _one_line(run)
    assert "Read-only file system" in line


@pytest.fixture
def read_only_mount(logged_in: Path) -> Iterator[Path]:
    """The same home, bind-mounted read-only: the real EROFS (root only)."""
    target = Path(tempfile.mkdtemp()) / "ro-home"
    target.mkdir()
    subprocess.run(["mount", "--bind", str(logged_in), str(target)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(target)], check=True)
        yield target
    finally:
        subprocess.run(["umount", str(target)], check=False)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="a read-only bind mount needs root")
def test_a_really_read_only_home(read_only_mount: Path) -> None:
    line = run_cli(read_only_mount, "statusline")
    assert line.code == 0 and line.stdout.startswith("5h 42%"), line.stdout + line.stderr
    assert "Traceback" not in line.stderr
    for command in ("status", "logout"):
        run = run_cli(read_only_mount, command)
        assert "Traceback" not in run.stderr, run.stderr
        assert len(run.stderr_lines) == 1, run.stderr


@pytest.mark.parametrize("call", ["write", "fsync"])
def test_disk_full_during_a_refresh_says_a_new_login_is_needed(
        logged_in: Path, fake_server: FakeAnthropic, call: str) -> None:
    """The server has already retired the old refresh token: never "will try again"."""
    creds = logged_in / "credentials.json"
    raw = json.loads(creds.read_text(encoding="utf-8"))
    raw["expires_at"] = "2000-01-01T00:00:00+00:00"
    creds.write_text(json.dumps(raw), encoding="utf-8")
    run = run_cli(logged_in, "status",
                  faults=[{"call": call, "name": "credentials.json", "errno": 28}])
    assert run.fired and fake_server.refresh_count == 1
    line = run.stderr_lines[0]
    assert "Traceback" not in run.stderr
    assert "No space left on device" in line and "a new login is needed" in line
    assert "again" not in line.replace("log in again", "")
    assert not list(logged_in.glob(".credentials.json.*"))  # no torn temp file left
