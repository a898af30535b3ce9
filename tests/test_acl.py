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
from claude_pulse.errors import StorageError
from claude_pulse.home import Home
from claude_pulse.platform import acl
from claude_pulse.platform.acl import restrict_to_user, run_hidden
from claude_pulse.platform.logs import configure

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

SID = "S-1-5-21-3623811015-3361044348-30300820-1013"
ENV = {"SystemRoot": r"C:\Windows", "USERDOMAIN": "CORP", "USERNAME": "alice"}
ICACLS = r"C:\Windows\System32\icacls.exe"
WHOAMI = r"C:\Windows\System32\whoami.exe"


@pytest.mark.parametrize(
    ("folder", "rights"),
    [pytest.param(False, "(F)", id="file"),
     pytest.param(True, "(OI)(CI)(F)", id="folder-inherits-to-new-files")],
)
def test_icacls_by_absolute_path_granting_by_sid(tmp_path: Path, folder: bool,
                                                 rights: str) -> None:
    """Never a bare `icacls` (Windows runs one from the current folder first) and never
    `DOMAIN\\user` (unresolvable for Entra ID accounts): System32's, with `*<SID>`."""
    target = tmp_path / "My Files" / "credentials.json"
    if folder:
        target.mkdir(parents=True)
    else:
        target.parent.mkdir()
        target.write_text("{}")
    runner = FakeRunner()
    assert restrict_to_user(target, platform="win32", runner=runner, environ=ENV,
                            sid=lambda: SID)
    assert runner.calls == [[ICACLS, str(target), "/inheritance:r", "/grant:r",
                             f"*{SID}:{rights}"]]


def test_sid_from_absolute_whoami_when_the_token_cannot_be_read(tmp_path: Path) -> None:
    runner = FakeRunner({WHOAMI: (0, f'"corp\\alice","{SID}"\r\n')})
    assert restrict_to_user(tmp_path, platform="win32", runner=runner, environ=ENV,
                            sid=lambda: None)
    assert runner.calls == [[WHOAMI, "/user", "/fo", "csv", "/nh"],
                            [ICACLS, str(tmp_path), "/inheritance:r", "/grant:r",
                             f"*{SID}:(OI)(CI)(F)"]]


def test_without_systemroot_the_default_windows_folder_is_used(tmp_path: Path) -> None:
    runner = FakeRunner({WHOAMI: (0, f'"pc\\bob","{SID}"\n')})
    assert restrict_to_user(tmp_path, platform="win32", runner=runner, environ={},
                            sid=lambda: None)
    assert [argv[0] for argv in runner.calls] == [WHOAMI, ICACLS]


def test_icacls_argument_with_spaces_is_one_argument() -> None:
    # subprocess turns the argv into a Windows command line; the grant must stay one argument.
    line = subprocess.list2cmdline([ICACLS, "C:\\Users\\John Smith\\.claude-pulse\\x.json",
                                    "/inheritance:r", "/grant:r", f"*{SID}:(F)"])
    assert line == (f'{ICACLS} "C:\\Users\\John Smith\\.claude-pulse\\x.json" '
                    f"/inheritance:r /grant:r *{SID}:(F)")


@pytest.mark.parametrize(
    ("runner", "sid"),
    [
        pytest.param(FakeRunner({ICACLS: (1332, "No mapping between account names\n")}), SID,
                     id="icacls-fails"),
        pytest.param(FakeRunner(error=FileNotFoundError(2, "icacls not found")), SID,
                     id="icacls-missing"),
        pytest.param(FakeRunner({WHOAMI: (1, "")}), None, id="user-unknown"),
    ],
)
def test_icacls_failure_is_logged_not_raised(
    tmp_path: Path, runner: FakeRunner, sid: str | None, caplog: pytest.LogCaptureFixture,
) -> None:
    target = tmp_path / "credentials.json"
    target.write_text("{}")
    assert restrict_to_user(target, platform="win32", runner=runner, environ=ENV,
                            sid=lambda: sid) is False
    assert len(runner.calls) == 1
    assert caplog.records and caplog.records[-1].levelname == "WARNING"


class FakeWindowsAcl:
    """icacls, the DACL read and the owner, faked together: a folder icacls ran on reads as
    private; the owner is the user unless a test says otherwise."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.runner = FakeRunner()
        monkeypatch.setattr(acl, "run_hidden", self.runner)
        monkeypatch.setattr(acl, "current_user_sid", lambda: SID)
        monkeypatch.setattr(acl, "has_private_acl", self._private)
        self.owner: str | None = SID
        monkeypatch.setattr(acl, "owner_sid", lambda path: self.owner)
        monkeypatch.setenv("SystemRoot", r"C:\Windows")
        self.private: set[str] = set()

    def _private(self, path: Path) -> bool:
        return str(path) in self.private or any(argv[1] == str(path) for argv in self.runner.calls)


def test_home_acl_is_applied_once_not_per_command(pulse_home: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: every CLI call (every `statusline`) started icacls."""
    fake = FakeWindowsAcl(monkeypatch)
    home = Home.from_env()
    home.ensure(platform="win32")  # creates it: the ACL, once
    assert fake.runner.calls == [[ICACLS, str(pulse_home), "/inheritance:r", "/grant:r",
                                  f"*{SID}:(OI)(CI)(F)"]]
    for _ in range(3):  # later commands: the DACL is read, no process started
        home.ensure(platform="win32")
    assert len(fake.runner.calls) == 1


def test_home_found_without_the_acl_gets_it(pulse_home: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    pulse_home.mkdir()  # e.g. made by an older version, or by hand, inheriting the profile's
    fake = FakeWindowsAcl(monkeypatch)
    Home.from_env().ensure(platform="win32")
    Home.from_env().ensure(platform="win32")
    assert [argv[0] for argv in fake.runner.calls] == [ICACLS]


@pytest.mark.parametrize(("owner", "refused"), [
    pytest.param("S-1-5-21-3623811015-3361044348-30300820-1099", True, id="another-user"),
    pytest.param(SID, False, id="the-user"),
    pytest.param("S-1-5-32-544", False, id="administrators-elevated-process"),
    pytest.param(None, False, id="unknown-ctypes-failed"),
])
def test_a_home_another_account_owns_is_refused_on_windows(
        pulse_home: Path, monkeypatch: pytest.MonkeyPatch, owner: str | None,
        refused: bool) -> None:
    pulse_home.mkdir()
    fake = FakeWindowsAcl(monkeypatch)
    fake.owner = owner
    if refused:
        with pytest.raises(StorageError, match=r"belongs to another account \(S-1-5-21-.*1099\)"):
            Home.from_env().ensure(platform="win32")
        assert fake.runner.calls == []  # not "fixed" with icacls and then trusted
    else:
        Home.from_env().ensure(platform="win32")


def test_a_second_statusline_starts_no_process(pulse_home: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The real `statusline` command, twice, with Windows' home set-up: icacls runs for the
    first (the home is new) and never again."""
    from claude_pulse import cli
    from claude_pulse import home as home_mod

    fake = FakeWindowsAcl(monkeypatch)
    real_ensure = home_mod.Home.ensure
    monkeypatch.setattr(home_mod.Home, "ensure",
                        lambda self, platform="win32": real_ensure(self, platform=platform))
    monkeypatch.setattr(subprocess, "Popen", _no_process)
    try:
        for _ in range(2):
            cli.main(["statusline"])
    finally:
        configure(None, console=False)  # drop the log handlers the command installed
    assert [argv[0] for argv in fake.runner.calls] == [ICACLS]


def _no_process(*args: object, **kwargs: object) -> None:
    raise AssertionError(f"a process was started: {args!r}")


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


def test_a_failing_win32_read_never_stops_the_app(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The ctypes reads run on every command: any failure (here: no WinDLL at all, as a
    missing export or a ctypes argument error would be) gives the safe default."""
    monkeypatch.setattr(sys, "platform", "win32")
    try:
        results = (acl.current_user_sid(), acl.has_private_acl(tmp_path),
                   acl.owner_sid(tmp_path))
    finally:
        monkeypatch.undo()
    assert results == (None, False, None)
