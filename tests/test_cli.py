"""The command line as a user runs it: a real subprocess, real exit codes, one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from claude_pulse import __version__
from claude_pulse.fake.anthropic import FakeAnthropic
from support.fixtures_server import seed_credentials


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "claude_pulse", *args], capture_output=True,
                          text=True, timeout=60, input=stdin)


def test_help_lists_every_command() -> None:
    out = cli("--help")
    assert out.returncode == 0
    for word in ("login", "logout", "status", "statusline", "--demo", "--version"):
        assert word in out.stdout


def test_version() -> None:
    out = cli("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"claude-pulse {__version__}"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        pytest.param(["bogus"], "invalid choice", id="unknown-command"),
        pytest.param(["status", "--jsn"], "unrecognized arguments", id="unknown-flag"),
        pytest.param(["login", "--timeout", "abc"], "not a number of seconds", id="bad-timeout"),
        pytest.param(["login", "--timeout", "-3"], "between 0 and 86400", id="negative-timeout"),
        pytest.param(["--demo", "status"], "--demo runs the tray app", id="demo-with-command"),
    ],
)
def test_wrong_usage_exits_2_with_a_message(args: list[str], fragment: str) -> None:
    out = cli(*args)
    assert out.returncode == 2
    assert fragment in out.stderr
    assert "Traceback" not in out.stderr


def test_status_without_login_is_one_clear_line() -> None:
    out = cli("status")
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [
        "claude-pulse: Not logged in. Run `claude-pulse login`."
    ]
    assert out.stdout == ""


@pytest.mark.parametrize(("args", "verbose"), [
    pytest.param(["status"], False, id="none"),
    pytest.param(["--verbose", "status"], True, id="before"),
    pytest.param(["status", "--verbose"], True, id="after"),
    pytest.param(["status", "-v", "--json"], True, id="short-after"),
    pytest.param(["login", "--manual", "--verbose"], True, id="login"),
    pytest.param(["-v", "logout"], True, id="logout-before"),
])
def test_verbose_is_taken_before_or_after_the_command(args: list[str], verbose: bool) -> None:
    from claude_pulse.cli import build_parser

    assert build_parser().parse_args(args).verbose is verbose


def test_status_verbose_after_the_command_logs_debug(
        fake_config: Path, fake_server: FakeAnthropic, pulse_home: Path) -> None:
    seed_credentials(pulse_home, fake_server)
    done = cli("status", "--verbose")
    assert done.returncode == 0, done.stderr
    assert "DEBUG" in done.stderr and "GET usage" in done.stderr, done.stderr
    quiet = cli("status")
    assert quiet.returncode == 0 and "DEBUG" not in quiet.stderr
