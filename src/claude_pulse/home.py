"""Where Claude Pulse keeps its files: `$CLAUDE_PULSE_HOME`, else `~/.claude-pulse`.

Paths are computed when asked, never at import time, so tests and `--demo` can point the whole
app at a temporary folder through the environment.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["HOME_ENV", "Home", "resolve_home"]

HOME_ENV = "CLAUDE_PULSE_HOME"


def resolve_home(environ: Mapping[str, str] | None = None) -> Path:
    """The home folder chosen by the environment (not created)."""
    env = os.environ if environ is None else environ
    custom = env.get(HOME_ENV, "").strip()
    if custom:
        return Path(custom).expanduser()
    return Path.home() / ".claude-pulse"


@dataclass(frozen=True)
class Home:
    """The files inside the home folder. `ensure()` creates the folder with mode 0700."""

    root: Path

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Home:
        return cls(resolve_home(environ))

    @property
    def config(self) -> Path:
        return self.root / "config.json"

    @property
    def credentials(self) -> Path:
        return self.root / "credentials.json"

    @property
    def credentials_lock(self) -> Path:
        return self.root / "credentials.lock"

    @property
    def snapshot(self) -> Path:
        """The last good usage response, shared by every process."""
        return self.root / "snapshot.json"

    @property
    def gate(self) -> Path:
        """The shared request record: 429 cooldown and the hourly ceiling."""
        return self.root / "gate.json"

    @property
    def gate_lock(self) -> Path:
        return self.root / "gate.lock"

    @property
    def alerts(self) -> Path:
        """Alert memory, so a restart does not repeat an alert."""
        return self.root / "alerts.json"

    @property
    def history(self) -> Path:
        return self.root / "history.sqlite3"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def instance_lock(self) -> Path:
        return self.root / "tray.lock"

    @property
    def instance_port(self) -> Path:
        return self.root / "tray.port"

    def ensure(self) -> Path:
        """Create the folder (0700 on POSIX) if needed and return it."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        if os.name == "posix":
            # mkdir's mode is filtered by the umask and ignored for an existing folder.
            os.chmod(self.root, 0o700)
        elif os.name == "nt":
            # One inheritable user-only ACL on the folder makes every file created in it
            # (credentials.json included) private from its first byte.
            from claude_pulse.platform.acl import restrict_to_user

            restrict_to_user(self.root)
        return self.root

    def purge(self) -> list[Path]:
        """Delete every file Claude Pulse keeps here, then the folder if nothing else is left.

        Ours are the files named by this class's properties, with what their writers add to
        the name (`.corrupt-<time>`, SQLite's `-wal`, atomic writes' `.<hex>.tmp`/`.pending`).
        Anything else is kept, with the folder, and returned: `CLAUDE_PULSE_HOME` may point
        at a folder the user shares with other files. Symlinks are removed, never followed.
        """
        ours = re.compile(
            r"\.?(?:" + "|".join(re.escape(name) for name in self._own_names()) + r")(?:[.-].*)?"
        )
        foreign: list[Path] = []
        for entry in sorted(self.root.iterdir()):
            if not ours.fullmatch(entry.name):
                foreign.append(entry)
            elif entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        if not foreign:
            self.root.rmdir()
        return foreign

    def _own_names(self) -> list[str]:
        # One source of truth: a file added as a property here is known to purge() at once.
        props = [name for name, attr in vars(Home).items() if isinstance(attr, property)]
        return sorted({getattr(self, name).name for name in props})
