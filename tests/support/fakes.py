"""Stand-ins for seams: a settable clock, a scheduler, a notifier (the poller's), a usage
answer; a registry. The tests and bench/ both use these (bench puts tests/ on sys.path).

Time only moves when a test moves it (or fires a timer), so schedules can be asserted exactly.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from claude_pulse.core.alerts import Alert

__all__ = ["Clock", "FakeRegistry", "FakeScheduler", "RecordingNotifier", "claude_code_stdin",
           "usage_payload"]


class Clock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now


class FakeScheduler:
    """Pending timers in a list; `fire_next` moves the clock to the earliest and runs it."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.timers: list[tuple[datetime, int, Callable[[], None]]] = []
        self._seq = 0

    def call_later(self, delay_s: float, fn: Callable[[], None]) -> Callable[[], None]:
        self._seq += 1
        entry = (self.clock.now + timedelta(seconds=delay_s), self._seq, fn)
        self.timers.append(entry)
        return lambda: self.timers.remove(entry) if entry in self.timers else None

    def next_delay(self) -> float | None:
        if not self.timers:
            return None
        return (min(self.timers)[0] - self.clock.now).total_seconds()

    def fire_next(self) -> None:
        entry = min(self.timers)
        self.timers.remove(entry)
        self.clock.now = max(self.clock.now, entry[0])
        entry[2]()


class RecordingNotifier:
    def __init__(self) -> None:
        self.sent: list[Alert] = []

    def notify(self, alert: Alert) -> None:
        self.sent.append(alert)


def usage_payload(session: float = 42.0, weekly: float = 20.0, now: datetime | None = None, *,
                  session_resets_in: timedelta = timedelta(hours=2),
                  weekly_resets_in: timedelta = timedelta(days=3)) -> dict[str, Any]:
    """The usage endpoint's answer for two windows (utilization in %, ISO reset times)."""
    now = now or datetime.now(timezone.utc)
    return {
        "five_hour": {"utilization": session, "resets_at": (now + session_resets_in).isoformat()},
        "seven_day": {"utilization": weekly, "resets_at": (now + weekly_resets_in).isoformat()},
    }


def claude_code_stdin(session: float = 23.5, weekly: float = 68.0, now: datetime | None = None,
                      *, session_resets_in: timedelta = timedelta(hours=3, seconds=90),
                      weekly_resets_in: timedelta = timedelta(days=2)) -> bytes:
    """What Claude Code pipes to its `statusLine` command: `rate_limits` (percent, epoch
    seconds) among the other keys it sends."""
    now = now or datetime.now(timezone.utc)
    return json.dumps({
        "hook_event_name": "Status", "session_id": "s1", "model": {"display_name": "Opus"},
        "workspace": {"current_dir": "/tmp"}, "cost": {"total_cost_usd": 0.01},
        "rate_limits": {
            "five_hour": {"used_percentage": session,
                          "resets_at": int((now + session_resets_in).timestamp())},
            "seven_day": {"used_percentage": weekly,
                          "resets_at": int((now + weekly_resets_in).timestamp())},
        },
    }).encode("utf-8")


# --- the Windows registry -------------------------------------------------------------------


class _Handle:
    def __init__(self, path: str, access: int) -> None:
        self.path, self.access = path, access

    def __enter__(self) -> _Handle:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


_Values = dict[str, tuple[Any, int]]  # value name -> (value, type)


class _KeyPaths(dict[str, _Values]):
    """Key paths compare case-insensitively, as in the real registry ("SOFTWARE" = "Software")."""

    def __getitem__(self, path: str) -> _Values:
        return super().__getitem__(path.casefold())

    def __setitem__(self, path: str, value: _Values) -> None:
        super().__setitem__(path.casefold(), value)

    def __delitem__(self, path: str) -> None:
        super().__delitem__(path.casefold())

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and super().__contains__(path.casefold())

    def setdefault(self, path: str, default: _Values) -> _Values:
        return super().setdefault(path.casefold(), default)


class FakeRegistry:
    """The winreg calls we make (start at login, uninstall): key -> {name: (value, type)}."""

    HKEY_CURRENT_USER = 0x80000001
    KEY_READ = 0x20019
    KEY_SET_VALUE = 0x0002
    REG_SZ = 1
    REG_BINARY = 3

    def __init__(self) -> None:
        self.keys = _KeyPaths()
        self.log: list[tuple[Any, ...]] = []
        self.refuse_writes = False

    def OpenKey(self, key: int, sub_key: str, reserved: int = 0,
                access: int = 0x20019) -> _Handle:
        assert key == self.HKEY_CURRENT_USER and reserved == 0
        if sub_key not in self.keys:
            raise FileNotFoundError(2, "The system cannot find the file specified")
        return _Handle(sub_key, access)

    def CreateKeyEx(self, key: int, sub_key: str, reserved: int = 0,
                    access: int = 0x20006) -> _Handle:
        assert key == self.HKEY_CURRENT_USER and reserved == 0
        self.keys.setdefault(sub_key, {})
        return _Handle(sub_key, access)

    def QueryValueEx(self, key: _Handle, name: str) -> tuple[Any, int]:
        assert key.access & self.KEY_READ == self.KEY_READ
        try:
            return self.keys[key.path][name]
        except KeyError:
            raise FileNotFoundError(2, "The system cannot find the file specified") from None

    def SetValueEx(self, key: _Handle, name: str, reserved: int, kind: int, value: str) -> None:
        assert key.access & self.KEY_SET_VALUE and reserved == 0
        if self.refuse_writes:
            raise PermissionError(5, "Access is denied")
        self.keys[key.path][name] = (value, kind)
        self.log.append(("set", key.path, name, value, kind))

    def DeleteValue(self, key: _Handle, name: str) -> None:
        assert key.access & self.KEY_SET_VALUE
        if self.refuse_writes:
            raise PermissionError(5, "Access is denied")
        if name not in self.keys[key.path]:
            raise FileNotFoundError(2, "The system cannot find the file specified")
        del self.keys[key.path][name]
        self.log.append(("delete", key.path, name))

    def DeleteKey(self, key: int, sub_key: str) -> None:
        assert key == self.HKEY_CURRENT_USER
        if self.refuse_writes:
            raise PermissionError(5, "Access is denied")
        if sub_key not in self.keys:
            raise FileNotFoundError(2, "The system cannot find the file specified")
        if any(other.startswith(sub_key.casefold() + "\\") for other in self.keys):
            raise PermissionError(5, "Access is denied")  # what winreg says about subkeys
        del self.keys[sub_key]
        self.log.append(("delete-key", sub_key))
