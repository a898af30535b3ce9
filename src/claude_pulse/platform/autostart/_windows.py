"""Windows: a value in the current user's ``Run`` key (no admin rights, no Startup shortcut).

Task Manager's "Startup apps" page can disable a Run entry without deleting it: it writes a
binary value of the same name under ``Explorer\\StartupApproved\\Run`` whose first byte is odd
(0x03 disabled, 0x02 enabled). `is_enabled()` honours that mark, and `enable()` deletes a
"disabled" mark so that turning the option on in our menu really turns it on. We never create
that value ourselves, so `disable()` only deletes the Run value.
"""

from __future__ import annotations

import logging
import sys
from contextlib import AbstractContextManager
from typing import Any, Protocol

from claude_pulse.errors import PulseError

__all__ = ["APPROVED_KEY", "RUN_KEY", "VALUE_NAME", "WinReg", "WindowsAutostart", "winreg_module"]

logger = logging.getLogger(__name__)

RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
APPROVED_KEY = r"Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run"
VALUE_NAME = "ClaudePulse"


class WinReg(Protocol):
    """The part of the `winreg` module we use; the module itself satisfies it."""

    @property
    def HKEY_CURRENT_USER(self) -> int: ...

    @property
    def KEY_READ(self) -> int: ...

    @property
    def KEY_SET_VALUE(self) -> int: ...

    @property
    def REG_SZ(self) -> int: ...

    def OpenKey(
        self, key: Any, sub_key: str, reserved: int = ..., access: int = ..., /
    ) -> AbstractContextManager[Any]: ...

    def CreateKeyEx(
        self, key: Any, sub_key: str, reserved: int = ..., access: int = ..., /
    ) -> AbstractContextManager[Any]: ...

    def QueryValueEx(self, key: Any, name: str, /) -> tuple[Any, int]: ...

    def SetValueEx(
        self, key: Any, value_name: str, reserved: int, type: int, value: str, /
    ) -> None: ...

    def DeleteValue(self, key: Any, value: str, /) -> None: ...

    def DeleteKey(self, key: Any, sub_key: str, /) -> None: ...


class WindowsAutostart:
    """Start at login through ``HKCU\\...\\Run``; `command` is the full, quoted command line."""

    def __init__(self, command: str, *, registry: WinReg | None = None) -> None:
        self.command = command
        self._reg = winreg_module() if registry is None else registry

    def __repr__(self) -> str:
        return f"WindowsAutostart(HKCU\\{RUN_KEY}\\{VALUE_NAME} = {self.command!r})"

    def is_enabled(self) -> bool:
        try:
            return self._installed() is not None and not self._disabled_by_user()
        except OSError as exc:
            logger.warning("cannot read the Run key: %s", exc)
            return False

    def enable(self) -> None:
        reg = self._reg
        try:
            if self._installed() != self.command:
                with reg.CreateKeyEx(reg.HKEY_CURRENT_USER, RUN_KEY, 0, reg.KEY_SET_VALUE) as key:
                    reg.SetValueEx(key, VALUE_NAME, 0, reg.REG_SZ, self.command)
            if self._disabled_by_user():
                with reg.OpenKey(reg.HKEY_CURRENT_USER, APPROVED_KEY, 0, reg.KEY_SET_VALUE) as key:
                    reg.DeleteValue(key, VALUE_NAME)
        except OSError as exc:
            raise PulseError(f"Could not turn on start at login (registry: {exc}).") from exc
        logger.info("start at login on: %s", self.command)

    def disable(self) -> None:
        reg = self._reg
        try:
            with reg.OpenKey(reg.HKEY_CURRENT_USER, RUN_KEY, 0, reg.KEY_SET_VALUE) as key:
                reg.DeleteValue(key, VALUE_NAME)
        except FileNotFoundError:
            return  # the key or the value is already gone
        except OSError as exc:
            raise PulseError(f"Could not turn off start at login (registry: {exc}).") from exc
        logger.info("start at login off")

    def _installed(self) -> str | None:
        value = self._query(RUN_KEY)
        return value if isinstance(value, str) else None

    def _disabled_by_user(self) -> bool:
        value = self._query(APPROVED_KEY)
        return isinstance(value, bytes) and len(value) > 0 and bool(value[0] & 1)

    def _query(self, sub_key: str) -> object:
        reg = self._reg
        try:
            with reg.OpenKey(reg.HKEY_CURRENT_USER, sub_key, 0, reg.KEY_READ) as key:
                value, _kind = reg.QueryValueEx(key, VALUE_NAME)
        except FileNotFoundError:
            return None
        return value


def winreg_module() -> WinReg:
    if sys.platform == "win32":
        import winreg

        return winreg
    raise PulseError("The Windows registry exists only on Windows.")
