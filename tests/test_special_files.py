"""FIFOs, devices and held locks in the home never hang a command (issue 16, item 3).

A FIFO at a state file used to block the first `open()` for ever: every command hung, and a
process stuck on `gate.json` held `gate.lock`, so every other one died with a filelock `Timeout`
traceback. Each test runs the real CLI in a child process against the fake server, with a FIFO
(or a character device, or a lock another process holds) where a state file should be.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from claude_pulse.fake.anthropic import FakeAnthropic
from support.fixtures_server import seed_credentials
from support.os_faults import Run, run_cli

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")

DEADLINE_S = 2.0


def _run(home: Path, *args: str) -> Run:
    run = run_cli(home, *args, timeout=DEADLINE_S + 20)
    assert "Traceback" not in run.stderr + run.stdout, run.stderr
    assert run.seconds < DEADLINE_S, f"{args} took {run.seconds:.1f} s"
    return run


def _fifo(path: Path) -> None:
    path.unlink(missing_ok=True)
    os.mkfifo(path, 0o600)


@pytest.mark.parametrize("command", ["status", "statusline"])
def test_fifo_at_credentials_is_named_in_one_line(logged_in: Path, command: str) -> None:
    _fifo(logged_in / "credentials.json")
    run = _run(logged_in, command)
    if command == "status":
        assert run.code == 1
        (line,) = run.stderr_lines
        assert "credentials.json is a FIFO (named pipe)" in line and "login" in line
    else:  # the fresh snapshot needs no credentials
        assert run.code == 0 and run.stdout.startswith("5h 42%"), run.stdout
    # Left where it is: it is not ours to delete, and nothing was set aside.
    assert (logged_in / "credentials.json").is_fifo()
    assert not list(logged_in.glob("*.corrupt-*"))


def test_login_after_a_fifo_at_credentials_replaces_it(logged_in: Path,
                                                       fake_server: FakeAnthropic) -> None:
    _fifo(logged_in / "credentials.json")
    seed_credentials(logged_in, fake_server)  # what a login's save does
    assert (logged_in / "credentials.json").is_file()
    assert _run(logged_in, "status").code == 0


@pytest.mark.parametrize("name", ["snapshot.json", "gate.json", "alerts.json", "tray.port"])
def test_fifo_at_a_cache_file_costs_nothing_and_is_replaced(
        logged_in: Path, fake_server: FakeAnthropic, name: str) -> None:
    """The caches are ours and can be rebuilt: read as absent, then written over."""
    _fifo(logged_in / name)
    for command in ("status", "statusline"):
        run = _run(logged_in, command)
        assert run.code == 0, run.stderr
        assert "5h 42%" in run.stdout or "Session (5h)" in run.stdout
    if name in ("snapshot.json", "gate.json"):
        # The next good write made a regular file of it again: the shared budget works again.
        assert (logged_in / name).is_file()
        json.loads((logged_in / name).read_text(encoding="utf-8"))


def test_fifo_at_config_is_named_and_the_defaults_are_used(logged_in: Path,
                                                          fake_server: FakeAnthropic) -> None:
    # A cooldown in the shared record: `status` shows the snapshot and calls nobody (with the
    # config unreadable it would call the real Anthropic host, which no test may do).
    gate = logged_in / "gate.json"
    gate.write_text(json.dumps({"requests": [], "cooldown_until": time.time() + 3600}))
    _fifo(logged_in / "config.json")
    before = len(fake_server.requests)
    run = _run(logged_in, "status")
    assert run.code == 0, run.stderr
    config_line, cooldown_line = run.stderr_lines
    assert "config.json: cannot be read (a FIFO (named pipe), not a regular file)" in config_line
    assert "using defaults" in config_line
    assert "rate-limited" in cooldown_line
    assert "Session (5h)" in run.stdout
    assert _run(logged_in, "statusline").stdout.startswith("5h 42%")
    assert len(fake_server.requests) == before
    assert (logged_in / "config.json").is_fifo()  # a user's file: never written over


def test_device_at_snapshot_is_never_read(logged_in: Path) -> None:
    """A character device (here /dev/zero, endless) at a state file is refused, not read."""
    (logged_in / "snapshot.json").unlink()
    (logged_in / "snapshot.json").symlink_to("/dev/zero")
    run = _run(logged_in, "status")
    assert run.code == 0 and "Session (5h)" in run.stdout, run.stdout + run.stderr
    assert (logged_in / "snapshot.json").is_file() and Path("/dev/zero").is_char_device()


def test_logout_removes_a_fifo_at_credentials(logged_in: Path) -> None:
    _fifo(logged_in / "credentials.json")
    run = _run(logged_in, "logout")
    assert run.code == 0 and "credentials.json" in run.stdout
    assert not (logged_in / "credentials.json").exists()


@pytest.fixture
def held_gate_lock(logged_in: Path) -> Iterator[Path]:
    """Another process holding gate.lock (as one stuck on a FIFO at gate.json used to)."""
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from filelock import FileLock\n"
         "lock = FileLock(sys.argv[1]); lock.acquire(); print('held', flush=True); time.sleep(120)",
         str(logged_in / "gate.lock")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        yield logged_in
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()


def test_a_held_gate_lock_is_one_line_not_a_traceback(held_gate_lock: Path) -> None:
    run = run_cli(held_gate_lock, "status", timeout=40)
    assert "Traceback" not in run.stderr
    assert run.code == 1
    (line,) = run.stderr_lines
    assert "gate.lock" in line and "try again" in line
    assert "Session (5h)" in run.stdout  # the last good numbers, marked stale
