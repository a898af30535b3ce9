"""Linux and other XDG desktops: a ``.desktop`` file in the user's autostart folder.

Follows the Desktop Application Autostart Specification: a file in
``$XDG_CONFIG_HOME/autostart`` starts at login unless it says ``Hidden=true``; GNOME's
"Startup Applications" turns an entry off by writing ``X-GNOME-Autostart-enabled=false``, so
`is_enabled()` honours both and `enable()` rewrites the file to turn it back on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from claude_pulse.atomic import write_atomic
from claude_pulse.errors import PulseError

__all__ = ["DESKTOP_FILE", "XdgAutostart", "desktop_entry", "exec_line"]

logger = logging.getLogger(__name__)

DESKTOP_FILE = "claude-pulse.desktop"

# Characters that force an Exec argument into double quotes (Desktop Entry spec, "The Exec key").
_RESERVED = frozenset(" \t\n\"'\\><~|&;$*?#()`")


class XdgAutostart:
    """Start at login through ``<folder>/claude-pulse.desktop``."""

    def __init__(self, folder: Path, argv: Sequence[str], *, icon: Path | None = None) -> None:
        self.path = folder / DESKTOP_FILE
        self.content = desktop_entry(argv, icon)

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
        try:
            if self._current() == self.content:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Not a secret, but never group/world-writable: it names a program to run.
            write_atomic(self.path, self.content.encode("utf-8"), mode=0o644)
        except OSError as exc:
            raise PulseError(f"Could not turn on start at login ({self.path}: {exc}).") from exc
        logger.info("start at login on: %s", self.path)

    def disable(self) -> None:
        try:
            self.path.unlink(missing_ok=True)
        except OSError as exc:
            raise PulseError(f"Could not turn off start at login ({self.path}: {exc}).") from exc
        logger.info("start at login off: %s removed", self.path)

    def _current(self) -> str | None:
        try:
            return self.path.read_text(encoding="utf-8")
        except (FileNotFoundError, UnicodeDecodeError):
            return None


def desktop_entry(argv: Sequence[str], icon: Path | None) -> str:
    lines = [
        "[Desktop Entry]",
        "Type=Application",
        "Name=Claude Pulse",
        "Comment=Claude Pro/Max usage limits in the system tray",
        f"Exec={exec_line(argv)}",
    ]
    if icon is not None:
        lines.append(f"Icon={_escape_string(str(icon))}")
    lines += ["Terminal=false", "X-GNOME-Autostart-enabled=true"]
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
