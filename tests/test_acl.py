"""File protection: exact icacls command lines (fake runner) and real POSIX modes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from claude_pulse.atomic import write_atomic, write_json_atomic
from claude_pulse.home import Home
from claude_pulse.platform.acl import restrict_to_user, run_hidden

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX modes")


class FakeRunner:
    """Answers by program name; records every argv."""

    def __init__(self, answers: dict[str, tuple[int, str]] | None = None,
                 error: OSError | None = None) -> None:
        self.answers = answers or {}
        self.error = error
        self.calls: list[list[str]] = []

    def __call__(self, argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        self.calls.append(list(argv))
        if self.error is not None:
            raise self.error
        code, out = self.answers.get(argv[0], (0, "processed 1 files\n"))
        return subprocess.CompletedProcess(list(argv), code, out, "")


@pytest.fixture
def umask_0() -> Iterator[None]:
    """The most permissive umask, so only our own modes protect the files."""
    old = os.umask(0)
    yield
    os.umask(old)


# --- Windows (fake icacls) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "folder", "calls"),
    [
        pytest.param({"USERDOMAIN": "CORP", "USERNAME": "alice"}, False,
                     [["icacls", "{p}", "/inheritance:r", "/grant:r", "CORP\\alice:(F)"]],
                     id="file"),
        pytest.param({"USERDOMAIN": "CORP", "USERNAME": "alice"}, True,
                     [["icacls", "{p}", "/inheritance:r", "/grant:r",
                       "CORP\\alice:(OI)(CI)(F)"]],
                     id="folder-inherits-to-new-files"),
        pytest.param({"USERNAME": "alice"}, False,
                     [["icacls", "{p}", "/inheritance:r", "/grant:r", "alice:(F)"]],
                     id="no-domain"),
        pytest.param({}, False,
                     [["whoami"],
                      ["icacls", "{p}", "/inheritance:r", "/grant:r", "laptop\\bob:(F)"]],
                     id="whoami"),
        pytest.param({"USERDOMAIN": "CORP", "USERNAME": "John Smith"}, False,
                     [["icacls", "{p}", "/inheritance:r", "/grant:r", "CORP\\John Smith:(F)"]],
                     id="space-in-name"),
    ],
)
def test_icacls_argv(tmp_path: Path, environ: dict[str, str], folder: bool,
                     calls: list[list[str]]) -> None:
    target = tmp_path / "My Files" / "credentials.json"
    if folder:
        target.mkdir(parents=True)
    else:
        target.parent.mkdir()
        target.write_text("{}")
    runner = FakeRunner({"whoami": (0, "laptop\\bob\r\n")})
    assert restrict_to_user(target, platform="win32", runner=runner, environ=environ)
    assert runner.calls == [[part.format(p=target) for part in argv] for argv in calls]


def test_icacls_argument_with_spaces_is_one_argument() -> None:
    # subprocess turns the argv into a Windows command line; the grant must stay one argument.
    line = subprocess.list2cmdline(["icacls", "C:\\Users\\John Smith\\.claude-pulse\\x.json",
                                    "/inheritance:r", "/grant:r", "CORP\\John Smith:(F)"])
    assert line == ('icacls "C:\\Users\\John Smith\\.claude-pulse\\x.json" /inheritance:r '
                    '/grant:r "CORP\\John Smith:(F)"')


@pytest.mark.parametrize(
    ("runner", "environ", "calls"),
    [
        pytest.param(FakeRunner({"icacls": (1332, "No mapping between account names\n")}),
                     {"USERNAME": "alice"}, 1, id="icacls-fails"),
        pytest.param(FakeRunner(error=FileNotFoundError(2, "icacls not found")),
                     {"USERNAME": "alice"}, 1, id="icacls-missing"),
        pytest.param(FakeRunner({"whoami": (1, "")}), {}, 1, id="user-unknown"),
    ],
)
def test_icacls_failure_is_logged_not_raised(
    tmp_path: Path, runner: FakeRunner, environ: dict[str, str], calls: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    target = tmp_path / "credentials.json"
    target.write_text("{}")
    assert restrict_to_user(target, platform="win32", runner=runner, environ=environ) is False
    assert len(runner.calls) == calls
    assert caplog.records and caplog.records[-1].levelname == "WARNING"


# --- POSIX (real files) ----------------------------------------------------------------------


@posix_only
@pytest.mark.parametrize(
    ("make", "mode"),
    [
        pytest.param("file", 0o600, id="file-0600"),
        pytest.param("folder", 0o700, id="folder-0700"),
    ],
)
def test_posix_restrict_to_user(tmp_path: Path, make: str, mode: int) -> None:
    target = tmp_path / "target"
    if make == "file":
        target.write_text("{}")
        target.chmod(0o666)
    else:
        target.mkdir()
        target.chmod(0o777)
    assert restrict_to_user(target, platform="linux")
    assert stat.S_IMODE(target.stat().st_mode) == mode


@posix_only
def test_posix_missing_path_is_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    assert restrict_to_user(tmp_path / "gone", platform="linux") is False
    assert "gone" in caplog.text


@posix_only
@pytest.mark.usefixtures("umask_0")
@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda p: write_atomic(p, b"secret"), id="write_atomic"),
        pytest.param(lambda p: write_json_atomic(p, {"refresh_token": "x"}), id="write_json"),
    ],
)
def test_new_credentials_are_0600_from_creation(
    pulse_home: Path, write: Callable[[Path], None]
) -> None:
    home = Home.from_env()
    home.ensure()
    write(home.credentials)
    assert stat.S_IMODE(os.stat(home.credentials).st_mode) == 0o600


@posix_only
@pytest.mark.usefixtures("umask_0")
@pytest.mark.parametrize("existing_mode", [pytest.param(None, id="new"),
                                           pytest.param(0o755, id="existing-0755")])
def test_home_folder_is_0700(pulse_home: Path, existing_mode: int | None) -> None:
    if existing_mode is not None:
        pulse_home.mkdir()
        pulse_home.chmod(existing_mode)
    Home.from_env().ensure()
    assert stat.S_IMODE(os.stat(pulse_home).st_mode) == 0o700


def test_run_hidden_runs_a_real_program() -> None:
    result = run_hidden([sys.executable, "-c", "print('hi')"])
    assert (result.returncode, result.stdout) == (0, "hi\n")
