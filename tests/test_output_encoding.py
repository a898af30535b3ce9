"""Output that survives any code page (issue 13 item 3).

Windows Python writes a pipe in the ANSI code page (cp1252, cp932 …), and Claude Code reads the
`statusline` pipe as UTF-8. `PYTHONIOENCODING` forces the same stream encoding on Linux, so these
tests see exactly what a Windows pipe would get: before the fix `statusline` printed nothing for
an over-budget week (`UnicodeEncodeError` on `▲`) and `status` died on cp932 at `—`.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from claude_pulse.fake.anthropic import FakeAnthropic
from support.fakes import usage_payload
from support.fixtures_server import seed_credentials

CODE_PAGES = [pytest.param("cp1252", id="cp1252"), pytest.param("cp932", id="cp932")]


def log_in_over_budget(server: FakeAnthropic, home: Path) -> None:
    seed_credentials(home, server)
    # 91% of the week used with ~57% of it elapsed: over budget (▲)
    server.usage = usage_payload(42.0, 91.0)


def run(encoding: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ, PYTHONIOENCODING=encoding)
    env.pop("PYTHONUTF8", None)
    return subprocess.run([sys.executable, "-m", "claude_pulse", *args], capture_output=True,
                          stdin=subprocess.DEVNULL, timeout=60, env=env, check=False)


@pytest.mark.parametrize("encoding", CODE_PAGES)
def test_statusline_on_a_pipe_is_utf8(fake_server: FakeAnthropic, fake_config: Path,
                                      pulse_home: Path, encoding: str) -> None:
    log_in_over_budget(fake_server, pulse_home)
    out = run(encoding, "statusline")
    assert out.returncode == 0, out.stderr
    line = out.stdout.decode("utf-8")  # strict: a cp1252 `·` (0xB7) would not decode
    assert line.startswith("5h 42% · resets ")
    assert line.rstrip().endswith("7d 91% ▲")
    assert b"Traceback" not in out.stderr


@pytest.mark.parametrize("encoding", CODE_PAGES)
def test_status_on_a_pipe_is_utf8(fake_server: FakeAnthropic, fake_config: Path,
                                  pulse_home: Path, encoding: str) -> None:
    log_in_over_budget(fake_server, pulse_home)
    out = run(encoding, "status")
    assert out.returncode == 0, out.stderr
    text = out.stdout.decode("utf-8")
    assert text.splitlines()[0] == "Claude Pulse — pulse.user@example.com"
    assert "42%" in text and "91%" in text and "· Over budget" in text
    assert b"Traceback" not in out.stderr


@pytest.mark.parametrize("encoding", CODE_PAGES)
def test_status_json_on_a_pipe_is_utf8(fake_server: FakeAnthropic, fake_config: Path,
                                       pulse_home: Path, encoding: str) -> None:
    log_in_over_budget(fake_server, pulse_home)
    out = run(encoding, "status", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout.decode("utf-8"))
    assert data["session"]["utilization"] == 42.0 and data["weekly"]["over_budget"] is True


def test_errors_on_a_pipe_are_utf8_too() -> None:
    out = run("cp932", "status")  # not logged in: one line on stderr
    assert out.returncode == 1
    assert out.stderr.decode("utf-8").strip() == (
        "claude-pulse: Not logged in. Run `claude-pulse login`.")


@pytest.mark.skipif(os.name != "posix", reason="pty is POSIX")
def test_a_console_keeps_its_encoding_and_replaces_what_it_cannot_show(
        fake_server: FakeAnthropic, fake_config: Path, pulse_home: Path) -> None:
    """A terminal gets its own encoding (here cp1252), `?` for what it lacks, never a crash."""
    import pty

    log_in_over_budget(fake_server, pulse_home)
    main, child = pty.openpty()
    env = dict(os.environ, PYTHONIOENCODING="cp1252")
    proc = subprocess.Popen([sys.executable, "-m", "claude_pulse", "statusline"],
                            stdin=child, stdout=child, stderr=child, env=env)
    os.close(child)
    received = b""
    deadline = time.monotonic() + 60
    try:
        while proc.poll() is None or select.select([main], [], [], 0)[0]:
            if time.monotonic() > deadline:
                raise AssertionError(f"statusline did not finish: {received!r}")
            if select.select([main], [], [], 0.1)[0]:
                try:
                    chunk = os.read(main, 4096)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                received += chunk
    finally:
        os.close(main)
        proc.wait(timeout=10)
    assert proc.returncode == 0, received
    text = received.decode("cp1252")
    assert text.startswith("5h 42% · resets ")  # `·` exists in cp1252
    assert text.rstrip().endswith("7d 91% ?")  # `▲` does not
    assert "Traceback" not in text
