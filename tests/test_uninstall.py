"""`claude-pulse uninstall`: everything the app put outside its home goes, the home only with
--purge (after a question), files that are not ours never.

The Linux test is the issue's "done when": the real tray app runs with start at login on, the
app-menu entry is installed, and `uninstall --purge --yes` leaves no file under a private HOME.
Windows and macOS are forced on Linux through the registry fake and a private LaunchAgents
folder, the way those systems answer.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from claude_pulse.commands.uninstall import uninstall
from claude_pulse.errors import PulseError
from claude_pulse.fake.anthropic import FakeAnthropic
from claude_pulse.home import Home
from claude_pulse.platform import footprint as footprint_mod
from claude_pulse.platform.autostart import autostart_for_platform
from claude_pulse.platform.autostart._windows import APPROVED_KEY, RUN_KEY
from claude_pulse.platform.footprint import footprint_for_platform
from claude_pulse.platform.instance import QUIT, SHOW, SingleInstance
from claude_pulse.wiring import Services
from support.fakes import FakeRegistry
from support.fixtures_display import finish, processes_with_env, spawn_pulse
from support.fixtures_server import seed_credentials
from support.helpers import wait_until

NOTIFICATION_KEYS = r"Software\Classes\AppUserModelId"


def _files(root: Path) -> list[str]:
    """Every file (and symlink) under `root`, relative; directories alone do not count."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if p.is_file() or p.is_symlink())


def _home_with_files(root: Path) -> Home:
    home = Home(root)
    home.ensure()
    for path in (home.config, home.credentials, home.snapshot, home.history):
        path.write_text("{}", encoding="utf-8")
    home.logs.mkdir()
    (home.logs / "cli.log").write_text("log\n", encoding="utf-8")
    return home


def _run(home: Home, pieces: list[footprint_mod.Piece], **kwargs: object) -> tuple[int, str]:
    out = io.StringIO()
    code = uninstall(home, pieces, out=out, quit_timeout_s=2.0, **kwargs)  # type: ignore[arg-type]
    return code, out.getvalue()


# --- Windows, through the registry fake -----------------------------------------------------


def test_windows_removes_our_registry_entries_and_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    reg = FakeRegistry()
    reg.keys[RUN_KEY] = {"OneDrive": ("C:\\onedrive.exe", reg.REG_SZ)}
    autostart_for_platform("win32", executable=tmp_path / "python.exe", scripts=[],
                           registry=reg).enable()
    # Task Manager's "disabled" mark, and desktop-notifier's registration in its own spelling
    # (SOFTWARE, not Software: registry paths ignore case), for 0.1.0's id and today's.
    reg.keys[APPROVED_KEY] = {"ClaudePulse": (b"\x03" + bytes(11), reg.REG_BINARY),
                              "OneDrive": (b"\x02" + bytes(11), reg.REG_BINARY)}
    for app_id in ("ClaudePulse", "Claude Pulse", "Other.App"):
        with reg.CreateKeyEx(reg.HKEY_CURRENT_USER,
                             f"SOFTWARE\\Classes\\AppUserModelId\\{app_id}") as key:
            reg.SetValueEx(key, "DisplayName", 0, reg.REG_SZ, app_id)
    # The footprint exactly as the app builds it, with Windows' answers (its imports first:
    # asyncio cannot be imported while sys.platform says win32).
    import claude_pulse.ui.notify  # noqa: F401

    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(footprint_mod, "winreg_module", lambda: reg)
    pieces = Services.outside_home().footprint
    monkeypatch.undo()

    code, out = _run(Home(tmp_path / "home"), pieces, purge=False, yes=False)
    assert code == 0, out
    assert reg.keys[RUN_KEY] == {"OneDrive": ("C:\\onedrive.exe", reg.REG_SZ)}
    assert list(reg.keys[APPROVED_KEY]) == ["OneDrive"]
    assert f"{NOTIFICATION_KEYS}\\ClaudePulse" not in reg.keys
    assert f"{NOTIFICATION_KEYS}\\Claude Pulse" not in reg.keys
    assert f"{NOTIFICATION_KEYS}\\Other.App" in reg.keys
    assert out.count("Removed ") == 4
    assert "Removed start at login (HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run" \
        "\\ClaudePulse)" in out

    again, out = _run(Home(tmp_path / "home"), pieces, purge=False, yes=False)
    assert again == 0 and "Found nothing of Claude Pulse's outside its home folder." in out


def test_windows_refused_delete_is_reported_and_the_rest_still_goes(tmp_path: Path) -> None:
    reg = FakeRegistry()
    autostart_for_platform("win32", executable=tmp_path / "python.exe", scripts=[],
                           registry=reg).enable()
    key = f"{NOTIFICATION_KEYS}\\ClaudePulse"
    reg.keys[key] = {"DisplayName": ("Claude Pulse", reg.REG_SZ)}
    reg.keys[key + "\\Child"] = {}  # a key with subkeys: winreg.DeleteKey refuses it
    pieces = footprint_for_platform("win32", app_ids=["ClaudePulse"], registry=reg)
    err = io.StringIO()
    sys_stderr, sys.stderr = sys.stderr, err
    try:
        code, out = _run(Home(tmp_path / "home"), pieces, purge=False, yes=False)
    finally:
        sys.stderr = sys_stderr
    assert code == 1
    assert "Removed start at login" in out
    assert "could not remove notification registration (HKCU\\Software\\Classes" in err.getvalue()


# --- macOS -----------------------------------------------------------------------------------


def test_macos_removes_the_launch_agent(tmp_path: Path) -> None:
    autostart_for_platform("darwin", user_home=tmp_path, executable=tmp_path / "python3",
                           scripts=[], uid=501).enable()
    plist = tmp_path / "Library" / "LaunchAgents" / "com.claudepulse.tray.plist"
    assert plist.is_file()
    code, out = _run(Home(tmp_path / "home"),
                     footprint_for_platform("darwin", user_home=tmp_path), purge=False, yes=False)
    assert code == 0
    assert not plist.exists()
    assert f"Removed start at login ({plist})" in out


# --- the home folder -------------------------------------------------------------------------


def test_without_purge_the_home_stays(tmp_path: Path) -> None:
    home = _home_with_files(tmp_path / "home")
    before = _files(home.root)
    code, out = _run(home, [], purge=False, yes=False)
    assert code == 0
    assert _files(home.root) == before
    assert f"Kept {home.root}" in out and "--purge" in out


def test_purge_asks_first_and_no_keeps_everything(tmp_path: Path) -> None:
    home = _home_with_files(tmp_path / "home")
    before = _files(home.root)
    questions: list[str] = []

    def answer(question: str) -> str:
        questions.append(question)
        return "n"

    code, out = _run(home, [], purge=True, yes=False, ask=answer, interactive=True)
    assert code == 1 and "Nothing was removed." in out
    assert questions == [f"Delete {home.root} with your login tokens, settings and usage "
                         "history? [y/N] "]
    assert _files(home.root) == before

    code, out = _run(home, [], purge=True, yes=False, ask=lambda _q: "yes", interactive=True)
    assert code == 0 and not home.root.exists()


def test_purge_without_a_terminal_needs_yes(tmp_path: Path, pulse_home: Path) -> None:
    home = _home_with_files(pulse_home)
    before = _files(home.root)
    result = subprocess.run([sys.executable, "-m", "claude_pulse", "uninstall", "--purge"],
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 1
    assert result.stderr == ("claude-pulse: --purge deletes your login and settings; add --yes "
                             "to do that without a question.\n")
    assert _files(home.root) == before


def test_purge_deletes_only_our_files_in_a_shared_folder(tmp_path: Path) -> None:
    home = _home_with_files(tmp_path / "shared")
    # What our writers leave beside the files: a set-aside corrupt file, SQLite's journal,
    # an interrupted atomic write, a pending save.
    for name in ("credentials.json.corrupt-20261128T120000", "history.sqlite3-wal",
                 ".credentials.json.1a2b3c4d.tmp", ".snapshot.json.5e6f7a8b.pending"):
        (home.root / name).write_text("x", encoding="utf-8")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "precious.txt").write_text("keep me", encoding="utf-8")
    (home.root / "notes.txt").write_text("the user's own", encoding="utf-8")
    (home.root / "photos").mkdir()
    if os.name == "posix":  # (Windows allows symlinks to administrators only)
        (home.root / "logs" / "elsewhere").symlink_to(outside)  # a link inside: never followed

    code, out = _run(home, [], purge=True, yes=True)
    assert code == 0
    assert _files(home.root) == ["notes.txt"] and (home.root / "photos").is_dir()
    assert (outside / "precious.txt").read_text(encoding="utf-8") == "keep me"
    assert "kept the folder, which holds files that are not ours (notes.txt, photos)" in out


def test_purge_of_a_missing_home_creates_nothing(tmp_path: Path) -> None:
    code, out = _run(Home(tmp_path / "none"), [], purge=True, yes=True)
    assert code == 0 and "There is no home folder" in out
    assert not (tmp_path / "none").exists()


# --- a running tray app ----------------------------------------------------------------------


@pytest.mark.slow
def test_a_running_app_that_does_not_quit_stops_the_uninstall(tmp_path: Path) -> None:
    home = _home_with_files(tmp_path / "home")
    desktop = tmp_path / "autostart.desktop"
    desktop.write_text("[Desktop Entry]\n", encoding="utf-8")
    running = SingleInstance(home, lambda _m: None, messages=(SHOW,))  # an app without "quit"
    assert running.acquire()
    try:
        with pytest.raises(PulseError, match="still running: quit it from its tray menu"):
            _run(home, [footprint_mod.FilePiece(desktop, "start at login")], purge=True, yes=True)
    finally:
        running.release()
    assert desktop.exists() and home.credentials.exists()  # nothing was removed


def test_a_running_app_is_asked_to_quit_first(tmp_path: Path) -> None:
    home = _home_with_files(tmp_path / "home")
    messages: list[str] = []
    running = SingleInstance(home, lambda m: (messages.append(m),
                                              threading.Thread(target=running.release).start()),
                             messages=(SHOW, QUIT))
    assert running.acquire()
    try:
        code, out = _run(home, [], purge=True, yes=True)
    finally:
        running.release()
    assert messages == [QUIT]
    assert code == 0 and "Asking the running Claude Pulse to quit" in out
    assert not home.root.exists()


# --- Linux, the whole thing with real processes ----------------------------------------------


@pytest.mark.gui
@pytest.mark.tray
@pytest.mark.slow
def test_linux_uninstall_purge_leaves_no_file_of_ours(
    tray_display: str, fake_server: FakeAnthropic, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A private user: HOME and TMPDIR in a temp tree, every XDG variable unset (the defaults
    # under HOME are used, as on a stock desktop), no CLAUDE_PULSE_HOME (~/.claude-pulse).
    user = tmp_path / "user"
    home_dir = user / "home"
    (user / "tmp").mkdir(parents=True)
    home_dir.mkdir()
    for name in ("CLAUDE_PULSE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME",
                 "XDG_STATE_HOME"):
        monkeypatch.delenv(name, raising=False)
    env = {"HOME": str(home_dir), "TMPDIR": str(user / "tmp")}
    assert _files(user) == []

    pulse = Home(home_dir / ".claude-pulse")
    pulse.ensure()
    config = {**fake_server.config_overrides(), "callback_port": 0, "start_with_windows": True}
    pulse.config.write_text(json.dumps(config), encoding="utf-8")
    seed_credentials(pulse.root, fake_server)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "claude_pulse", *args],
                              env={**os.environ, **env}, capture_output=True, text=True,
                              timeout=60, check=False)

    app = spawn_pulse(tray_display, env=env)
    try:
        autostart = home_dir / ".config" / "autostart" / "claude-pulse.desktop"
        menu = home_dir / ".local" / "share" / "applications" / "claude-pulse.desktop"
        icon = (home_dir / ".local" / "share" / "icons" / "hicolor" / "256x256" / "apps" /
                "claude-pulse.png")
        wait_until(lambda: autostart.is_file() and menu.is_file() and icon.is_file(), 20,
                   "start at login (and with it the app-menu entry)")
        wait_until(lambda: pulse.snapshot.is_file(), 20, "the first poll's snapshot")
        assert cli("install-desktop-entry").returncode == 0

        written = _files(user)
        for path in (autostart, menu, icon, pulse.credentials, pulse.config, pulse.snapshot):
            assert path.relative_to(user).as_posix() in written
        assert any(p.startswith("home/.claude-pulse/logs/") for p in written)

        result = cli("uninstall", "--purge", "--yes")
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stderr == ""
        assert "Asking the running Claude Pulse to quit" in result.stdout
        for line in (f"Removed start at login ({autostart})", f"Removed app menu entry ({menu})",
                     f"Removed app menu icon ({icon})", f"Deleted {pulse.root}"):
            assert line in result.stdout
        code, err = finish(app, timeout=10)
        assert code == 0, err
    finally:
        finish(app, timeout=1)
    wait_until(lambda: not processes_with_env("HOME", str(home_dir)), 5, "no leftover process")
    assert _files(user) == []


def test_uninstall_on_a_clean_machine_creates_nothing(tmp_path: Path, pulse_home: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "claude_pulse", "uninstall"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "Found nothing of Claude Pulse's outside its home " \
        "folder."
    assert "pipx uninstall claude-pulse-tray" in result.stdout
    assert not pulse_home.exists()  # neither the home folder nor a log in it
    assert _files(tmp_path) == []
