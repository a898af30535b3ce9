"""Linux and other XDG desktops: ``claude-pulse.desktop`` files for start at login and the menu.

Start at login follows the Desktop Application Autostart Specification: a file in
``$XDG_CONFIG_HOME/autostart`` starts at login unless it says ``Hidden=true``; GNOME's
"Startup Applications" turns an entry off by writing ``X-GNOME-Autostart-enabled=false``, so
`is_enabled()` honours both and `enable()` rewrites the file to turn it back on.

The app-menu entry is ``$XDG_DATA_HOME/applications/claude-pulse.desktop`` with the logo in the
hicolor icon theme (``$XDG_DATA_HOME/icons/hicolor/256x256/apps/claude-pulse.png``). Its desktop
file id, ``claude-pulse``, is also what notifications name in their ``desktop-entry`` hint, so a
desktop shows them with our name and icon. Turning on start at login installs it too.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from claude_pulse.atomic import write_atomic
from claude_pulse.errors import PulseError

__all__ = ["DESKTOP_FILE", "DESKTOP_ID", "ICON_SIZE", "AppMenuEntry", "XdgAutostart",
           "desktop_entry", "exec_line"]

logger = logging.getLogger(__name__)

DESKTOP_ID = "claude-pulse"
DESKTOP_FILE = f"{DESKTOP_ID}.desktop"
ICON_SIZE = 256  # the packaged logo's size; hicolor wants the file in the folder of its size

# Characters that force an Exec argument into double quotes (Desktop Entry spec, "The Exec key").
_RESERVED = frozenset(" \t\n\"'\\><~|&;$*?#()`")


class AppMenuEntry:
    """The app-menu entry: a desktop file under `data_home` and the logo in the icon theme."""

    def __init__(self, data_home: Path, argv: Sequence[str], *, logo: Path | None) -> None:
        self.path = data_home / "applications" / DESKTOP_FILE
        self.icon = data_home / "icons" / "hicolor" / f"{ICON_SIZE}x{ICON_SIZE}" / "apps" / \
            f"{DESKTOP_ID}.png"
        self._logo = logo
        self.content = desktop_entry(argv, DESKTOP_ID if logo is not None else None,
                                     menu=True)

    def __repr__(self) -> str:
        return f"AppMenuEntry({str(self.path)!r})"

    def is_installed(self) -> bool:
        return self.path.is_file()

    def install(self) -> None:
        """Write the icon, then the entry (so a menu never shows the entry without its icon)."""
        try:
            if self._logo is not None:
                _write_if_changed(self.icon, self._logo.read_bytes())
            _write_if_changed(self.path, self.content.encode("utf-8"))
        except OSError as exc:
            raise PulseError(f"Could not add Claude Pulse to the app menu ({exc}).") from exc
        logger.info("app menu entry: %s", self.path)


class XdgAutostart:
    """Start at login through ``<folder>/claude-pulse.desktop``; `enable()` also adds `menu`."""

    def __init__(self, folder: Path, argv: Sequence[str], *, icon: Path | str | None,
                 menu: AppMenuEntry) -> None:
        self.path = folder / DESKTOP_FILE
        self.content = desktop_entry(argv, icon)
        self.menu = menu

    def __repr__(self) -> str:
        return f"XdgAutostart({str(self.path)!r})"

    def is_enabled(self) -> bool:
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return False
        except OSError as exc:
            logger.warning("cannot read %s: %s", self.path, exc)
            return False
        entry = _desktop_group(text)
        return not (
            entry.get("Hidden", "").lower() == "true"
            or entry.get("X-GNOME-Autostart-enabled", "").lower() == "false"
        )

    def enable(self) -> None:
        # A desktop that starts us at login also lists us, and names our notifications.
        self.menu.install()
        try:
            if not _write_if_changed(self.path, self.content.encode("utf-8")):
                return
        except OSError as exc:
            raise PulseError(f"Could not turn on start at login ({self.path}: {exc}).") from exc
        logger.info("start at login on: %s", self.path)

    def disable(self) -> None:
        try:
            self.path.unlink(missing_ok=True)
        except OSError as exc:
            raise PulseError(f"Could not turn off start at login ({self.path}: {exc}).") from exc
        logger.info("start at login off: %s removed", self.path)



def _write_if_changed(path: Path, content: bytes) -> bool:
    """Write `content` unless the file already holds it; True when it wrote."""
    try:
        if path.read_bytes() == content:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    # Not a secret, but never group/world-writable: a desktop file names a program to run.
    write_atomic(path, content, mode=0o644)
    return True


def desktop_entry(argv: Sequence[str], icon: Path | str | None, *, menu: bool = False) -> str:
    """A desktop file that runs `argv`; `menu` for the app menu, else for autostart.

    `icon` is a file path or an icon-theme name.
    """
    lines = [
        "[Desktop Entry]",
        "Type=Application",
        "Name=Claude Pulse",
        "Comment=Claude Pro/Max usage limits in the system tray",
        f"Exec={exec_line(argv)}",
    ]
    if icon is not None:
        lines.append(f"Icon={_escape_string(str(icon))}")
    lines.append("Terminal=false")
    if menu:
        # StartupWMClass is Tk's class for `Tk(className="claude-pulse")`, so a dock or
        # taskbar groups the Deep Dive window under this entry.
        lines += ["Categories=Utility;", "Keywords=Claude;Anthropic;usage;limits;",
                  "StartupWMClass=Claude-pulse"]
    else:
        lines.append("X-GNOME-Autostart-enabled=true")
    return "\n".join(lines) + "\n"


def exec_line(argv: Sequence[str]) -> str:
    """`argv` as an Exec value: quoted per argument, then escaped as a desktop-file string."""
    return " ".join(_escape_string(_quote_arg(arg)) for arg in argv)


def _quote_arg(arg: str) -> str:
    if arg and not _RESERVED.intersection(arg):
        quoted = arg
    else:
        inner = "".join(f"\\{ch}" if ch in '"`$\\' else ch for ch in arg)
        quoted = f'"{inner}"'
    return quoted.replace("%", "%%")  # a single % starts a field code such as %f


def _escape_string(value: str) -> str:
    # The string escapes are undone before the Exec quoting is parsed, hence the order.
    return (value.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")
            .replace("\r", "\\r"))


def _desktop_group(text: str) -> dict[str, str]:
    entries: dict[str, str] = {}
    in_group = False
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("["):
            in_group = line == "[Desktop Entry]"
        elif in_group and "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            entries[key.strip()] = value.strip()
    return entries
