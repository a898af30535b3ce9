"""Start at login: one small interface, one backend per operating system.

=========  ==============================================================================
Windows    value ``ClaudePulse`` under ``HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run``
Linux      ``$XDG_CONFIG_HOME/autostart/claude-pulse.desktop`` (XDG Autostart spec), plus the
           app-menu entry (`AppMenuEntry`), which turning it on installs too
macOS      ``~/Library/LaunchAgents/com.claudepulse.tray.plist`` (a launchd LaunchAgent)
=========  ==============================================================================

`is_enabled()` reads what is really installed (the tray menu's check mark), `enable()` and
`disable()` are idempotent, and `disable()` removes exactly what `enable()` added. Both raise
`PulseError` with a message for the user when the OS refuses.

The command started at login is the installed script when there is one (on Windows the
`claude-pulse-tray.exe` gui-script, which opens no console window), else the current
interpreter with ``-m claude_pulse`` (``pythonw.exe`` on Windows, for the same reason).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import sysconfig
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Protocol

from claude_pulse.errors import PulseError
from claude_pulse.platform.autostart._linux import AppMenuEntry, XdgAutostart
from claude_pulse.platform.autostart._macos import PLIST_NAME, LaunchAgentAutostart, Runner
from claude_pulse.platform.autostart._windows import WindowsAutostart, WinReg

__all__ = [
    "AppMenuEntry",
    "Autostart",
    "LaunchAgentAutostart",
    "WinReg",
    "WindowsAutostart",
    "XdgAutostart",
    "app_menu_entry",
    "autostart_for_platform",
    "icon_path",
    "launch_argv",
    "script_dirs",
    "sync_autostart",
    "written_files",
    "xdg_config_home",
    "xdg_data_home",
]

logger = logging.getLogger(__name__)

CONSOLE_SCRIPT = "claude-pulse"
WINDOWS_GUI_SCRIPT = "claude-pulse-tray.exe"


class Autostart(Protocol):
    """What the tray menu and `sync_autostart` need from a backend."""

    def is_enabled(self) -> bool: ...

    def enable(self) -> None: ...

    def disable(self) -> None: ...


def autostart_for_platform(
    platform: str = sys.platform,
    *,
    environ: Mapping[str, str] | None = None,
    user_home: Path | None = None,
    executable: Path | None = None,
    scripts: Sequence[Path] | None = None,
    registry: WinReg | None = None,
    runner: Runner | None = None,
    uid: int | None = None,
    load_now: bool = False,
) -> Autostart:
    """The backend for `platform` (``sys.platform`` values; anything else gets XDG).

    Every argument is a seam for tests; the app calls it with none. `load_now` (macOS only)
    also runs ``launchctl bootstrap``/``bootout``; see `LaunchAgentAutostart` for why it is off.
    """
    env, home = _user(environ, user_home)
    argv = _argv(platform, executable, scripts)
    if platform == "win32":
        return WindowsAutostart(_command_line(argv), registry=registry)
    if platform == "darwin":
        if uid is None:
            uid = _current_uid()
        return LaunchAgentAutostart(
            _launch_agents(home), argv, uid=uid, runner=runner, load_now=load_now,
        )
    return _xdg(env, home, argv)


def app_menu_entry(
    *,
    environ: Mapping[str, str] | None = None,
    user_home: Path | None = None,
    executable: Path | None = None,
    scripts: Sequence[Path] | None = None,
) -> AppMenuEntry:
    """The Linux app-menu entry; it starts the same command as start at login."""
    env, home = _user(environ, user_home)
    return _xdg(env, home, _argv("linux", executable, scripts)).menu


def written_files(platform: str = sys.platform, *, environ: Mapping[str, str] | None = None,
                  user_home: Path | None = None) -> list[tuple[str, Path]]:
    """Every file start at login and the app menu may write on `platform`, with a label.

    (On Windows they write registry values only.)
    """
    env, home = _user(environ, user_home)
    if platform == "win32":
        return []
    if platform == "darwin":
        return [("start at login", _launch_agents(home) / PLIST_NAME)]
    xdg = _xdg(env, home, [CONSOLE_SCRIPT])
    return [("start at login", xdg.path), ("app menu entry", xdg.menu.path),
            ("app menu icon", xdg.menu.icon)]


def _xdg(env: Mapping[str, str], home: Path, argv: Sequence[str]) -> XdgAutostart:
    menu = AppMenuEntry(xdg_data_home(env, home), argv, logo=icon_path())
    return XdgAutostart(xdg_config_home(env, home) / "autostart", argv, icon=icon_path(),
                        menu=menu)


def _launch_agents(home: Path) -> Path:
    return home / "Library" / "LaunchAgents"


def sync_autostart(config_value: bool, autostart: Autostart) -> bool:
    """Make the installed state follow the `start_with_windows` config key; return the result.

    Called once at startup (the config key wins). When on, `enable()` runs even if an entry is
    there: it is a no-op for a current entry and rewrites one that names an old interpreter or
    script (a moved venv). Failures are logged, never raised, because a refused registry write
    must not stop the tray app.
    """
    try:
        if config_value:
            autostart.enable()
        elif autostart.is_enabled():
            autostart.disable()
    except PulseError as exc:
        logger.warning("start at login: %s", exc)
    return autostart.is_enabled()


def launch_argv(platform: str, executable: Path, scripts: Sequence[Path]) -> list[str]:
    """The command line that starts the tray app, as a list of arguments."""
    name = WINDOWS_GUI_SCRIPT if platform == "win32" else CONSOLE_SCRIPT
    for folder in scripts:
        script = folder / name
        if script.is_file():
            return [str(script)]
    program = executable
    if platform == "win32":
        # python.exe would open a console window at every login; pythonw.exe opens none.
        pythonw = executable.with_name("pythonw.exe")
        if pythonw.is_file():
            program = pythonw
        else:
            logger.warning("no pythonw.exe beside %s; start at login will show a console",
                           executable)
    return [str(program), "-m", "claude_pulse"]


def script_dirs(executable: Path) -> list[Path]:
    """Where pip puts our scripts for this interpreter: its own folder (venv), then its schemes.

    The interpreter path is used as is, never resolved: resolving a venv's python symlink
    would leave the venv.
    """
    found: list[Path] = [executable.parent]
    schemes = [sysconfig.get_default_scheme(), sysconfig.get_preferred_scheme("user")]
    for scheme in schemes:
        try:
            found.append(Path(sysconfig.get_path("scripts", scheme)))
        except KeyError:
            continue
    unique: list[Path] = []
    for folder in found:
        if folder not in unique:
            unique.append(folder)
    return unique


def icon_path() -> Path | None:
    """The packaged logo as a file path (None when the package is not on a file system)."""
    logo = resources.files("claude_pulse") / "assets" / "logo.png"
    return logo if isinstance(logo, Path) else None


def _user(environ: Mapping[str, str] | None, user_home: Path | None,
          ) -> tuple[Mapping[str, str], Path]:
    return (os.environ if environ is None else environ,
            Path.home() if user_home is None else user_home)


def _argv(platform: str, executable: Path | None, scripts: Sequence[Path] | None) -> list[str]:
    exe = Path(sys.executable) if executable is None else executable
    return launch_argv(platform, exe, script_dirs(exe) if scripts is None else list(scripts))


def _command_line(argv: Sequence[str]) -> str:
    # The program is always quoted: an unquoted path with spaces in a Run value is both broken
    # and a known privilege-escalation pattern (CWE-428).
    program, *args = argv
    line = f'"{program}"'
    return f"{line} {subprocess.list2cmdline(args)}" if args else line


def xdg_config_home(environ: Mapping[str, str], home: Path) -> Path:
    return _xdg_dir(environ, "XDG_CONFIG_HOME", home / ".config")


def xdg_data_home(environ: Mapping[str, str], home: Path) -> Path:
    return _xdg_dir(environ, "XDG_DATA_HOME", home / ".local" / "share")


def _xdg_dir(environ: Mapping[str, str], name: str, default: Path) -> Path:
    # The XDG Base Directory spec says a relative value is invalid and must be ignored.
    value = environ.get(name, "")
    if value and Path(value).is_absolute():
        return Path(value)
    return default


def _current_uid() -> int:
    if sys.platform != "win32":
        return os.getuid()
    return 0  # only reached by tests asking for the macOS backend on Windows
