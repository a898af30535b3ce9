"""Everything Claude Pulse puts outside its home folder, so that `uninstall` can take it away.

=========  ==============================================================================
Windows    the Run value and Task Manager's mark for it (start at login); the notification
           registration ``HKCU\\Software\\Classes\\AppUserModelId\\<app id>`` that
           desktop-notifier writes for an unpackaged app
Linux      the autostart file, the app-menu entry and its icon in the hicolor theme
macOS      the LaunchAgent plist
=========  ==============================================================================

Each piece is named from the constants its writer uses, so a new location cannot be forgotten
here without a test noticing. `remove()` is idempotent and raises `OSError`/`PulseError`.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from claude_pulse.platform.autostart import written_files
from claude_pulse.platform.autostart._windows import (
    APPROVED_KEY,
    RUN_KEY,
    VALUE_NAME,
    WinReg,
    winreg_module,
)

__all__ = ["NOTIFICATION_KEY", "Piece", "footprint_for_platform"]

logger = logging.getLogger(__name__)

NOTIFICATION_KEY = r"Software\Classes\AppUserModelId"


class Piece(Protocol):
    """One thing of ours outside the home folder."""

    @property
    def what(self) -> str:
        """For the user: what it is and where."""

    def exists(self) -> bool: ...

    def remove(self) -> None: ...


@dataclass(frozen=True)
class FilePiece:
    path: Path
    label: str

    @property
    def what(self) -> str:
        return f"{self.label} ({self.path})"

    def exists(self) -> bool:
        return self.path.is_file() or self.path.is_symlink()

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


@dataclass(frozen=True)
class RegistryEntry:
    """A value under an HKCU key, or (with `name` None) the whole key, which must have no
    subkeys (winreg refuses those)."""

    registry: WinReg
    key: str
    name: str | None
    label: str

    @property
    def what(self) -> str:
        where = self.key if self.name is None else f"{self.key}\\{self.name}"
        return f"{self.label} (HKCU\\{where})"

    def exists(self) -> bool:
        reg = self.registry
        try:
            with reg.OpenKey(reg.HKEY_CURRENT_USER, self.key, 0, reg.KEY_READ) as key:
                if self.name is not None:
                    reg.QueryValueEx(key, self.name)
        except FileNotFoundError:
            return False
        return True

    def remove(self) -> None:
        reg = self.registry
        with contextlib.suppress(FileNotFoundError):
            if self.name is None:
                reg.DeleteKey(reg.HKEY_CURRENT_USER, self.key)
                return
            with reg.OpenKey(reg.HKEY_CURRENT_USER, self.key, 0, reg.KEY_SET_VALUE) as key:
                reg.DeleteValue(key, self.name)


def footprint_for_platform(
    platform: str | None = None,
    *,
    app_ids: Iterable[str] = (),
    environ: Mapping[str, str] | None = None,
    user_home: Path | None = None,
    registry: WinReg | None = None,
) -> list[Piece]:
    """What `platform` (default: this one) may hold of ours; `app_ids` are the notification
    AppUserModelIDs."""
    platform = sys.platform if platform is None else platform
    if platform == "win32":
        reg = winreg_module() if registry is None else registry
        pieces: list[Piece] = [
            RegistryEntry(reg, RUN_KEY, VALUE_NAME, "start at login"),
            # Written by Windows when the user turns the entry off in Task Manager.
            RegistryEntry(reg, APPROVED_KEY, VALUE_NAME, "Task Manager's start-up setting"),
        ]
        pieces += [RegistryEntry(reg, f"{NOTIFICATION_KEY}\\{app_id}", None,
                                 "notification registration")
                   for app_id in dict.fromkeys(app_ids)]
        return pieces
    return [FilePiece(path, label)
            for label, path in written_files(platform, environ=environ, user_home=user_home)]
