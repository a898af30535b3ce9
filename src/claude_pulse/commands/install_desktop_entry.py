"""`claude-pulse install-desktop-entry`: list Claude Pulse in the Linux app menu.

Writes ``~/.local/share/applications/claude-pulse.desktop`` (``$XDG_DATA_HOME`` honoured) and
the logo into the hicolor icon theme; running it again rewrites a stale entry (a moved venv).
Turning on start at login does the same; `claude-pulse uninstall` removes both.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from claude_pulse.errors import PulseError

if TYPE_CHECKING:
    from claude_pulse.wiring import Services

__all__ = ["CREATES_HOME", "run"]

# Nothing here lives in the home folder.
CREATES_HOME = False


def run(args: argparse.Namespace, services: Services) -> int:
    if sys.platform in ("win32", "darwin"):
        raise PulseError("install-desktop-entry is for Linux desktops; on Windows the "
                         "installer adds the Start-menu entry.")
    entry = services.app_menu
    entry.install()
    print(f"Added Claude Pulse to the app menu: {entry.path}")
    print(f"Icon: {entry.icon}")
    return 0
