"""Start at login: the exact registry value, .desktop file and LaunchAgent plist, on and off."""

from __future__ import annotations

import os
import plistlib
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from claude_pulse.errors import PulseError
from claude_pulse.platform.autostart import (
    Autostart,
    autostart_for_platform,
    icon_path,
    launch_argv,
    sync_autostart,
)
from claude_pulse.platform.autostart._linux import exec_line
from claude_pulse.platform.autostart._windows import APPROVED_KEY, RUN_KEY
from support.fakes import FakeRegistry

# --- fakes -----------------------------------------------------------------------------------


class FakeRunner:
    def __init__(self, returncode: int = 0, error: OSError | None = None) -> None:
        self.calls: list[list[str]] = []
        self.returncode, self.error = returncode, error

    def __call__(self, argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        self.calls.append(list(argv))
        if self.error is not None:
            raise self.error
        return subprocess.CompletedProcess(list(argv), self.returncode, "", "launchctl: error")


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


@pytest.fixture
def python_home(tmp_path: Path) -> Path:
    """An interpreter folder with a space in its name, as under C:\\Program Files."""
    folder = tmp_path / "Program Files" / "Python311"
    folder.mkdir(parents=True)
    return folder


# --- the command line -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("platform", "files", "expected"),
    [
        pytest.param("win32", ["python.exe", "pythonw.exe", "Scripts/claude-pulse-tray.exe"],
                     ["{d}/Scripts/claude-pulse-tray.exe"], id="windows-gui-script"),
        pytest.param("win32", ["python.exe", "pythonw.exe", "Scripts/claude-pulse.exe"],
                     ["{d}/pythonw.exe", "-m", "claude_pulse"], id="windows-pythonw-not-console"),
        pytest.param("win32", ["python.exe"], ["{d}/python.exe", "-m", "claude_pulse"],
                     id="windows-no-pythonw"),
        pytest.param("linux", ["python.exe", "Scripts/claude-pulse"],
                     ["{d}/Scripts/claude-pulse"], id="linux-script"),
        pytest.param("linux", ["python.exe", "Scripts/claude-pulse-tray.exe"],
                     ["{d}/python.exe", "-m", "claude_pulse"], id="linux-python-m"),
        pytest.param("darwin", ["python.exe", "Scripts/claude-pulse"],
                     ["{d}/Scripts/claude-pulse"], id="macos-script"),
    ],
)
def test_launch_argv(python_home: Path, platform: str, files: list[str],
                     expected: list[str]) -> None:
    for name in files:
        _touch(python_home / name)
    argv = launch_argv(platform, python_home / "python.exe",
                       [python_home / "missing", python_home / "Scripts"])
    assert argv == [part.format(d=python_home) for part in expected]


# --- Windows ---------------------------------------------------------------------------------


def _windows(python_home: Path, registry: FakeRegistry) -> Autostart:
    return autostart_for_platform("win32", executable=python_home / "python.exe",
                                  scripts=[python_home / "Scripts"], registry=registry)


@pytest.mark.parametrize(
    ("files", "command"),
    [
        pytest.param(["Scripts/claude-pulse-tray.exe"],
                     '"{d}/Scripts/claude-pulse-tray.exe"', id="gui-script"),
        pytest.param(["pythonw.exe"], '"{d}/pythonw.exe" -m claude_pulse', id="pythonw"),
    ],
)
def test_windows_writes_exactly_one_run_value(
    python_home: Path, files: list[str], command: str
) -> None:
    for name in files:
        _touch(python_home / name)
    registry = FakeRegistry()
    registry.keys[RUN_KEY] = {"OneDrive": ("C:\\onedrive.exe", 1)}
    autostart = _windows(python_home, registry)
    expected = command.format(d=python_home)

    assert not autostart.is_enabled()
    autostart.enable()
    autostart.enable()  # twice is harmless: one write
    assert registry.log == [("set", RUN_KEY, "ClaudePulse", expected, FakeRegistry.REG_SZ)]
    assert autostart.is_enabled()

    autostart.disable()
    autostart.disable()
    assert registry.log[1:] == [("delete", RUN_KEY, "ClaudePulse")]
    assert registry.keys[RUN_KEY] == {"OneDrive": ("C:\\onedrive.exe", 1)}
    assert not autostart.is_enabled()


def test_windows_rewrites_a_stale_command(python_home: Path) -> None:
    _touch(python_home / "pythonw.exe")
    registry = FakeRegistry()
    registry.keys[RUN_KEY] = {"ClaudePulse": ('"D:\\old venv\\pythonw.exe" -m claude_pulse', 1)}
    autostart = _windows(python_home, registry)
    assert autostart.is_enabled()
    autostart.enable()
    assert registry.keys[RUN_KEY]["ClaudePulse"] == (
        f'"{python_home}/pythonw.exe" -m claude_pulse', 1)


@pytest.mark.parametrize(
    ("approved", "enabled"),
    [
        pytest.param(b"\x03" + bytes(11), False, id="disabled-in-task-manager"),
        pytest.param(b"\x02" + bytes(11), True, id="enabled-in-task-manager"),
    ],
)
def test_windows_honours_task_manager(python_home: Path, approved: bytes, enabled: bool) -> None:
    _touch(python_home / "pythonw.exe")
    registry = FakeRegistry()
    registry.keys[RUN_KEY] = {"ClaudePulse": (f'"{python_home}/pythonw.exe" -m claude_pulse', 1)}
    registry.keys[APPROVED_KEY] = {"ClaudePulse": (approved, FakeRegistry.REG_BINARY)}
    autostart = _windows(python_home, registry)
    assert autostart.is_enabled() is enabled

    autostart.enable()
    assert autostart.is_enabled()
    # Only a "disabled" mark is deleted; the Run value was already right.
    assert registry.log == ([] if enabled else [("delete", APPROVED_KEY, "ClaudePulse")])


def test_windows_refused_write_is_a_pulse_error(python_home: Path) -> None:
    registry = FakeRegistry()
    registry.refuse_writes = True
    autostart = _windows(python_home, registry)
    with pytest.raises(PulseError, match="start at login"):
        autostart.enable()
    assert not autostart.is_enabled()


def test_windows_backend_needs_a_registry_off_windows(python_home: Path) -> None:
    if os.name == "nt":
        pytest.skip("the real registry exists here")
    with pytest.raises(PulseError, match="only on Windows"):
        autostart_for_platform("win32", executable=python_home / "python.exe", scripts=[])


# --- Linux (real files) ----------------------------------------------------------------------


def _xdg(tmp_path: Path, python_home: Path, monkeypatch: pytest.MonkeyPatch) -> Autostart:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return autostart_for_platform("linux", user_home=tmp_path / "home",
                                  executable=python_home / "python3",
                                  scripts=[python_home / "bin"])


def test_linux_desktop_file_written_and_removed(
    tmp_path: Path, python_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = _touch(python_home / "bin" / "claude-pulse")
    autostart = _xdg(tmp_path, python_home, monkeypatch)
    folder = tmp_path / "config" / "autostart"
    desktop = folder / "claude-pulse.desktop"
    _touch(folder / "other-app.desktop")

    assert not autostart.is_enabled()
    autostart.enable()
    assert autostart.is_enabled()
    mtime = desktop.stat().st_mtime_ns
    autostart.enable()
    assert desktop.stat().st_mtime_ns == mtime  # idempotent: not rewritten

    icon = icon_path()
    assert icon is not None and icon.parts[-3:] == ("claude_pulse", "assets", "logo.png")
    assert desktop.read_text(encoding="utf-8") == (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Name=Claude Pulse\n"
        "Comment=Claude Pro/Max usage limits in the system tray\n"
        f'Exec="{script}"\n'  # quoted: the path has a space ("Program Files")
        f"Icon={icon}\n"
        "Terminal=false\n"
        "X-GNOME-Autostart-enabled=true\n"
    )
    if os.name == "posix":
        mode = desktop.stat().st_mode & 0o777
        assert mode & 0o600 == 0o600 and mode & 0o022 == 0, oct(mode)

    autostart.disable()
    autostart.disable()
    assert not desktop.exists()
    assert sorted(p.name for p in folder.iterdir()) == ["other-app.desktop"]
    assert not autostart.is_enabled()


def test_linux_falls_back_to_python_m(
    tmp_path: Path, python_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    autostart = _xdg(tmp_path, python_home, monkeypatch)
    autostart.enable()
    text = (tmp_path / "config" / "autostart" / "claude-pulse.desktop").read_text("utf-8")
    assert f'Exec="{python_home}/python3" -m claude_pulse\n' in text


@pytest.mark.parametrize(
    "line",
    [
        pytest.param("Hidden=true", id="hidden"),
        pytest.param("X-GNOME-Autostart-enabled=false", id="gnome-disabled"),
    ],
)
def test_linux_entry_turned_off_by_the_desktop(
    tmp_path: Path, python_home: Path, monkeypatch: pytest.MonkeyPatch, line: str
) -> None:
    autostart = _xdg(tmp_path, python_home, monkeypatch)
    desktop = _touch(tmp_path / "config" / "autostart" / "claude-pulse.desktop")
    desktop.write_text(f"[Desktop Entry]\nType=Application\nExec=claude-pulse\n{line}\n", "utf-8")
    assert not autostart.is_enabled()
    autostart.enable()
    assert autostart.is_enabled()
    assert "X-GNOME-Autostart-enabled=true\n" in desktop.read_text("utf-8")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(None, "home/.config/autostart", id="unset"),
        pytest.param("relative/cfg", "home/.config/autostart", id="relative-is-ignored"),
        pytest.param("{tmp}/xdg", "xdg/autostart", id="absolute"),
    ],
)
def test_linux_xdg_config_home(tmp_path: Path, value: str | None, expected: str) -> None:
    environ = {} if value is None else {"XDG_CONFIG_HOME": value.format(tmp=tmp_path)}
    autostart = autostart_for_platform("linux", environ=environ, user_home=tmp_path / "home",
                                       executable=tmp_path / "python3", scripts=[])
    autostart.enable()
    assert (tmp_path / expected / "claude-pulse.desktop").is_file()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        pytest.param(["/usr/bin/claude-pulse"], "/usr/bin/claude-pulse", id="plain"),
        pytest.param(["/opt/my apps/python", "-m", "claude_pulse"],
                     '"/opt/my apps/python" -m claude_pulse', id="space"),
        pytest.param(["/opt/100%/claude-pulse"], "/opt/100%%/claude-pulse", id="percent"),
        pytest.param(["/opt/a$b/x"], '"/opt/a\\\\$b/x"', id="dollar"),
        pytest.param(['/opt/say "hi"/x'], '"/opt/say \\\\"hi\\\\"/x"', id="double-quote"),
        pytest.param(["/opt/back\\slash/x"], '"/opt/back\\\\\\\\slash/x"', id="backslash"),
    ],
)
def test_exec_line_quoting(argv: list[str], expected: str) -> None:
    """Desktop Entry spec: quote reserved characters, escape \\ " ` $ inside, then escape \\."""
    assert exec_line(argv) == expected


# --- macOS -----------------------------------------------------------------------------------


def _macos(tmp_path: Path, python_home: Path, runner: FakeRunner,
           load_now: bool = True) -> Autostart:
    return autostart_for_platform("darwin", user_home=tmp_path / "Users" / "me",
                                  executable=python_home / "python3",
                                  scripts=[python_home / "bin"], runner=runner, uid=501,
                                  load_now=load_now)


def test_macos_plist_and_launchctl(tmp_path: Path, python_home: Path) -> None:
    script = _touch(python_home / "bin" / "claude-pulse")
    runner = FakeRunner()
    autostart = _macos(tmp_path, python_home, runner)
    plist = tmp_path / "Users" / "me" / "Library" / "LaunchAgents" / "com.claudepulse.tray.plist"

    assert not autostart.is_enabled()
    autostart.enable()
    autostart.enable()
    assert plistlib.loads(plist.read_bytes()) == {
        "Label": "com.claudepulse.tray",
        "ProgramArguments": [str(script)],
        "RunAtLoad": True,
        "ProcessType": "Interactive",
    }
    assert "KeepAlive" not in plist.read_text("utf-8")
    if os.name == "posix":
        assert plist.stat().st_mode & 0o022 == 0
    assert runner.calls == [["/bin/launchctl", "bootstrap", "gui/501", str(plist)]]
    assert autostart.is_enabled()

    autostart.disable()
    autostart.disable()
    assert not plist.exists()
    assert runner.calls[1:] == [["/bin/launchctl", "bootout", "gui/501/com.claudepulse.tray"]]
    assert not autostart.is_enabled()


def test_macos_default_does_not_touch_launchd(tmp_path: Path, python_home: Path) -> None:
    runner = FakeRunner()
    autostart = _macos(tmp_path, python_home, runner, load_now=False)
    autostart.enable()
    assert autostart.is_enabled()
    autostart.disable()
    assert runner.calls == []


@pytest.mark.parametrize(
    ("returncode", "error"),
    [
        pytest.param(5, None, id="launchctl-error"),
        pytest.param(0, FileNotFoundError(2, "no launchctl"), id="no-launchctl"),
    ],
)
def test_macos_launchctl_failure_is_logged_and_the_plist_counts(
    tmp_path: Path, python_home: Path, returncode: int, error: OSError | None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    runner = FakeRunner(returncode, error)
    autostart = _macos(tmp_path, python_home, runner)
    autostart.enable()
    assert autostart.is_enabled()
    assert "launchctl bootstrap" in caplog.text
    autostart.disable()
    assert not autostart.is_enabled()
    assert len(runner.calls) == 2


# --- sync with the config key ----------------------------------------------------------------


class RecordingAutostart:
    def __init__(self, installed: bool, fail: bool = False) -> None:
        self.installed, self.fail = installed, fail
        self.calls: list[str] = []

    def is_enabled(self) -> bool:
        return self.installed

    def enable(self) -> None:
        self.calls.append("enable")
        if self.fail:
            raise PulseError("Could not turn on start at login (registry: denied).")
        self.installed = True

    def disable(self) -> None:
        self.calls.append("disable")
        self.installed = False


@pytest.mark.parametrize(
    ("config_value", "installed", "calls", "result"),
    [
        pytest.param(True, False, ["enable"], True, id="on-installs"),
        pytest.param(False, True, ["disable"], False, id="off-removes"),
        pytest.param(True, True, ["enable"], True, id="on-refreshes-the-entry"),
        pytest.param(False, False, [], False, id="off-already"),
    ],
)
def test_sync_autostart(config_value: bool, installed: bool, calls: list[str],
                        result: bool) -> None:
    autostart = RecordingAutostart(installed)
    assert sync_autostart(config_value, autostart) is result
    assert autostart.calls == calls


def test_sync_autostart_logs_a_failure(caplog: pytest.LogCaptureFixture) -> None:
    autostart = RecordingAutostart(installed=False, fail=True)
    assert sync_autostart(True, autostart) is False
    assert "registry: denied" in caplog.text
