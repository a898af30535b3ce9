"""macOS: a per-user launchd agent, ``~/Library/LaunchAgents/com.claudepulse.tray.plist``.

launchd loads every plist in that folder at the next login, so the file is what counts. With
`load_now` the backend also runs ``launchctl bootstrap gui/<uid> <plist>`` on enable and
``launchctl bootout gui/<uid>/com.claudepulse.tray`` on disable. It is off by default because,
while the tray app is running, both are harmful: ``bootstrap`` of a ``RunAtLoad`` agent starts a
second copy at once (which then asks the first to show its window), and ``bootout`` sends SIGTERM
to a copy that launchd started at login, so unticking "Start at login" would quit the app.
launchctl failures are logged, never raised.
"""

from __future__ import annotations

import logging
import plistlib
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from claude_pulse.atomic import write_atomic
from claude_pulse.errors import PulseError

__all__ = ["LABEL", "PLIST_NAME", "LaunchAgentAutostart", "Runner", "agent_plist", "run_command"]

logger = logging.getLogger(__name__)

LABEL = "com.claudepulse.tray"
PLIST_NAME = f"{LABEL}.plist"

# By absolute path, like every program we start: a bare name is looked up in PATH, and a
# shell set-up or a project's tooling may put another launchctl first.
LAUNCHCTL = "/bin/launchctl"
Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


def run_command(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=15, check=False)


class LaunchAgentAutostart:
    """Start at login through a LaunchAgent plist in `folder`."""

    def __init__(self, folder: Path, argv: Sequence[str], *, uid: int,
                 runner: Runner | None = None, load_now: bool = False) -> None:
        self.path = folder / PLIST_NAME
        self.content = plistlib.dumps(agent_plist(argv))
        self._uid = uid
        self._run = run_command if runner is None else runner
        self._load_now = load_now

    def __repr__(self) -> str:
        return f"LaunchAgentAutostart({str(self.path)!r})"

    def is_enabled(self) -> bool:
        return self.path.is_file()

    def enable(self) -> None:
        try:
            if self._current() == self.content:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # launchd refuses an agent whose plist is writable by group or others.
            write_atomic(self.path, self.content, mode=0o644)
        except OSError as exc:
            raise PulseError(f"Could not turn on start at login ({self.path}: {exc}).") from exc
        logger.info("start at login on: %s", self.path)
        if self._load_now:
            self._launchctl("bootstrap", f"gui/{self._uid}", str(self.path))

    def disable(self) -> None:
        if not self.path.exists():
            return
        try:
            self.path.unlink()
        except FileNotFoundError:
            return
        except OSError as exc:
            raise PulseError(f"Could not turn off start at login ({self.path}: {exc}).") from exc
        logger.info("start at login off: %s removed", self.path)
        if self._load_now:
            # After the unlink: bootout may terminate this very process.
            self._launchctl("bootout", f"gui/{self._uid}/{LABEL}")

    def _current(self) -> bytes | None:
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return None

    def _launchctl(self, *args: str) -> None:
        argv = [LAUNCHCTL, *args]
        try:
            result = self._run(argv)
        except (OSError, subprocess.SubprocessError) as exc:
            logger.warning("%s failed: %s", " ".join(argv), exc)
            return
        if result.returncode != 0:
            logger.warning("%s exited with %d: %s", " ".join(argv), result.returncode,
                           (result.stderr or result.stdout or "").strip())


def agent_plist(argv: Sequence[str]) -> dict[str, Any]:
    return {
        "Label": LABEL,
        "ProgramArguments": list(argv),
        "RunAtLoad": True,
        # A menu-bar app the user interacts with: no background throttling by launchd.
        "ProcessType": "Interactive",
    }
