"""The Linux app-menu entry: exact files, valid per desktop-file-validate, written by the command
and by turning on start at login; the Tk class it names is the one Tk really uses."""

from __future__ import annotations

import os
import subprocess
import sys
import tkinter as tk
import types
from pathlib import Path

import pytest

from claude_pulse.errors import PulseError
from claude_pulse.platform.autostart import (
    app_menu_entry,
    autostart_for_platform,
    icon_path,
)
from claude_pulse.platform.dock import hide_dock_icon
from support.helpers import require_program

# The app-menu entry is a Linux feature (the command refuses elsewhere; see the last test).
linux_desktop = pytest.mark.skipif(sys.platform in ("win32", "darwin"),
                                   reason="the Linux app menu")


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "claude_pulse", *args], capture_output=True,
                          text=True, timeout=60, env={**os.environ, **env}, check=False)


def _validate(path: Path) -> None:
    result = subprocess.run([require_program("desktop-file-validate"), str(path)],
                            capture_output=True, text=True, timeout=30, check=False)
    # It prints hints and errors; an error sets the exit code. Hints count as failures too.
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


@linux_desktop
def test_menu_entry_files(tmp_path: Path) -> None:
    script = tmp_path / "venv" / "bin" / "claude-pulse"
    script.parent.mkdir(parents=True)
    script.write_text("")
    entry = app_menu_entry(environ={"XDG_DATA_HOME": str(tmp_path / "data")},
                           user_home=tmp_path / "home", scripts=[script.parent])
    assert not entry.is_installed()
    entry.install()
    assert entry.is_installed()

    assert entry.path == tmp_path / "data" / "applications" / "claude-pulse.desktop"
    assert entry.path.read_text(encoding="utf-8") == (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Name=Claude Pulse\n"
        "Comment=Claude Pro/Max usage limits in the system tray\n"
        f"Exec={script}\n"
        "Icon=claude-pulse\n"
        "Terminal=false\n"
        "Categories=Utility;\n"
        "Keywords=Claude;Anthropic;usage;limits;\n"
        "StartupWMClass=Claude-pulse\n"
    )
    assert entry.icon == (tmp_path / "data" / "icons" / "hicolor" / "256x256" / "apps" /
                          "claude-pulse.png")
    logo = icon_path()
    assert logo is not None and entry.icon.read_bytes() == logo.read_bytes()
    for path in (entry.path, entry.icon):
        mode = path.stat().st_mode & 0o777
        assert mode & 0o022 == 0, oct(mode)  # names a program to run: not writable by others
    _validate(entry.path)

    mtime = entry.path.stat().st_mtime_ns
    entry.install()
    assert entry.path.stat().st_mtime_ns == mtime  # idempotent


@linux_desktop
def test_autostart_file_is_valid_too(tmp_path: Path) -> None:
    autostart = autostart_for_platform("linux", environ={}, user_home=tmp_path / "home",
                                       executable=tmp_path / "my python" / "python3", scripts=[])
    autostart.enable()
    _validate(tmp_path / "home" / ".config" / "autostart" / "claude-pulse.desktop")


def test_start_at_login_adds_the_menu_entry_and_keeps_it_when_turned_off(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data")}
    autostart = autostart_for_platform("linux", environ=env, user_home=tmp_path / "home",
                                       scripts=[])
    menu = tmp_path / "data" / "applications" / "claude-pulse.desktop"
    icon = tmp_path / "data" / "icons" / "hicolor" / "256x256" / "apps" / "claude-pulse.png"
    autostart.enable()
    assert menu.is_file() and icon.is_file()
    autostart.disable()
    assert not autostart.is_enabled()
    assert menu.is_file() and icon.is_file()  # the menu entry is not start at login


def test_a_refused_menu_entry_is_a_pulse_error(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.write_text("a file where the folder should be")
    entry = app_menu_entry(environ={"XDG_DATA_HOME": str(data)}, user_home=tmp_path, scripts=[])
    with pytest.raises(PulseError, match="Could not add Claude Pulse to the app menu"):
        entry.install()


@linux_desktop
def test_install_desktop_entry_command(tmp_path: Path, pulse_home: Path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path / "data")}
    first = _cli("install-desktop-entry", env=env)
    assert first.returncode == 0, first.stderr
    menu = tmp_path / "data" / "applications" / "claude-pulse.desktop"
    assert first.stdout.splitlines()[0] == f"Added Claude Pulse to the app menu: {menu}"
    assert menu.is_file()
    assert "Exec=" in menu.read_text(encoding="utf-8")
    assert not pulse_home.exists()  # the command has nothing to do with the home folder
    again = _cli("install-desktop-entry", env=env)
    assert again.returncode == 0 and again.stderr == ""


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_install_desktop_entry_is_for_linux(
    platform: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    from claude_pulse import cli

    monkeypatch.setattr(sys, "platform", platform)
    assert cli.main(["install-desktop-entry"]) == 1
    assert "install-desktop-entry is for Linux desktops" in capsys.readouterr().err


@pytest.mark.gui
def test_startup_wm_class_is_tks_class_for_our_root(display: str) -> None:
    root = tk.Tk(className="claude-pulse")  # as app.py creates it
    try:
        assert root.winfo_class() == "Claude-pulse"
    finally:
        root.destroy()


# --- macOS: no Dock icon ---------------------------------------------------------------------


class _NSApplication:
    """What rubicon's ObjCClass("NSApplication").sharedApplication answers on macOS."""

    def __init__(self, accepts: bool) -> None:
        self.policies: list[int] = []
        self._accepts = accepts

    def setActivationPolicy_(self, policy: int) -> bool:
        self.policies.append(policy)
        return self._accepts


def _fake_rubicon(monkeypatch: pytest.MonkeyPatch, app: _NSApplication) -> list[str]:
    asked: list[str] = []

    def objc_class(name: str) -> types.SimpleNamespace:
        asked.append(name)
        return types.SimpleNamespace(sharedApplication=app)

    objc = types.ModuleType("rubicon.objc")
    objc.ObjCClass = objc_class  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "rubicon", types.ModuleType("rubicon"))
    monkeypatch.setitem(sys.modules, "rubicon.objc", objc)
    monkeypatch.setattr(sys, "platform", "darwin")
    return asked


def test_macos_becomes_an_accessory_app(monkeypatch: pytest.MonkeyPatch) -> None:
    app = _NSApplication(accepts=True)
    asked = _fake_rubicon(monkeypatch, app)
    assert hide_dock_icon()
    assert asked == ["NSApplication"] and app.policies == [1]  # ...ActivationPolicyAccessory


def test_macos_refusal_or_no_rubicon_keeps_the_icon_and_says_so(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    _fake_rubicon(monkeypatch, _NSApplication(accepts=False))
    assert not hide_dock_icon()
    monkeypatch.setitem(sys.modules, "rubicon.objc", None)  # import fails
    assert not hide_dock_icon()
    assert [r.getMessage()[:26] for r in caplog.records] == [
        "macOS refused the accessor", "cannot hide the Dock icon:"]


def test_other_systems_do_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "rubicon.objc", None)
    monkeypatch.setattr(sys, "platform", "linux")
    assert not hide_dock_icon()
