"""Where Claude Pulse keeps its files: `$CLAUDE_PULSE_HOME`, else `~/.claude-pulse`.

Paths are computed when asked, never at import time, so tests and `--demo` can point the whole
app at a temporary folder through the environment.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from claude_pulse.atomic import file_kind
from claude_pulse.errors import StorageError
from claude_pulse.home_trust import CONFIG_NAME, HOME_ENV, SNAPSHOT_NAME, home_folder, untrusted

__all__ = ["HOME_ENV", "Home", "resolve_home"]



def resolve_home(environ: Mapping[str, str] | None = None) -> Path:
    """The home folder chosen by the environment (not created)."""
    return Path(home_folder(environ))


@dataclass(frozen=True)
class Home:
    """The files inside the home folder. `ensure()` creates the folder with mode 0700."""

    root: Path

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Home:
        return cls(resolve_home(environ))

    @property
    def config(self) -> Path:
        return self.root / CONFIG_NAME

    @property
    def credentials(self) -> Path:
        return self.root / "credentials.json"

    @property
    def credentials_lock(self) -> Path:
        return self.root / "credentials.lock"

    @property
    def snapshot(self) -> Path:
        """The last good usage response, shared by every process."""
        return self.root / SNAPSHOT_NAME

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

    def ensure(self, *, platform: str = sys.platform) -> Path:
        """Create the folder if needed, check that it can be trusted, and return it.

        A new folder is private from the start: mode 0700 on POSIX, one inheritable user-only
        ACL on Windows, so every file created in it later (credentials.json included) is
        private from its first byte. On Windows the ACL is applied only to a folder created
        here or found with inherited entries (read through the Win32 API, no process), so a
        `statusline` starts no icacls.

        An existing POSIX folder is refused — StorageError, one line — when it belongs to
        another user, is writable by others, or holds a file of another user's or one others
        can write: whoever could write there could have planted a config that sends the login
        elsewhere, or a credentials file of their own. It is never silently chmod-ed and then
        trusted; a folder only *readable* by others is made 0700. On Windows a home owned by
        another account (its owner SID, read through ctypes) is refused the same way.
        """
        root = self.root
        try:
            found = root.stat()
        except FileNotFoundError:
            found = None
        except OSError as exc:
            raise StorageError(f"Cannot use {root} ({_reason(exc)}).") from None
        if found is None:
            try:
                root.mkdir(mode=0o700, parents=True)
            except FileExistsError:  # another process was faster: check theirs like any other
                return self.ensure(platform=platform)
            except OSError as exc:
                raise StorageError(
                    f"Cannot create {root} ({_reason(exc)}): check that its parent folder is "
                    f"writable, or set {HOME_ENV} to another folder."
                ) from None
            # mkdir's mode is filtered by the umask; on Windows it means nothing at all.
            _restrict(root, platform)
            return root
        if not stat.S_ISDIR(found.st_mode):
            raise StorageError(
                f"{root} is a {file_kind(found.st_mode)}, not a folder: move it away, or set "
                f"{HOME_ENV} to another folder."
            )
        if platform == "win32":
            _check_owner_on_windows(root)
            if not _has_private_acl(root):
                _restrict(root, platform)
        else:
            _check_trusted(root, found)
            if stat.S_IMODE(found.st_mode) & 0o077:
                # Only readable by others (checked above): tighten it. A failure (a read-only
                # file system) is logged; the files keep their own 0600 and reading still works.
                _restrict(root, platform)
        return root

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


# platform.acl is imported only when needed: subprocess and ctypes cost milliseconds, and a
# `statusline` in a private home of its own needs neither.
def _restrict(root: Path, platform: str) -> None:
    from claude_pulse.platform.acl import restrict_to_user

    restrict_to_user(root, platform=platform)


def _has_private_acl(root: Path) -> bool:
    from claude_pulse.platform.acl import has_private_acl

    return has_private_acl(root)


# Owners a user's own folder may have besides the user: an elevated process creates files owned
# by BUILTIN\Administrators; SYSTEM owns what services and installers create.
_WINDOWS_OWNERS_TRUSTED = frozenset({"S-1-5-32-544", "S-1-5-18"})


def _check_owner_on_windows(root: Path) -> None:
    """Refuse a home another account owns (it could have planted a config or a login). Mode
    bits mean nothing on Windows; an unknown owner or user (ctypes failed) is not refused."""
    from claude_pulse.platform.acl import current_user_sid, owner_sid

    owner, me = owner_sid(root), current_user_sid()
    if owner and me and owner != me and owner not in _WINDOWS_OWNERS_TRUSTED:
        raise StorageError(
            f"{root} belongs to another account ({owner}), so Claude Pulse will not use it: "
            f"someone else could have changed what is in it. Set {HOME_ENV} to a folder of "
            "your own."
        )


def _check_trusted(root: Path, found: os.stat_result) -> None:
    """Refuse a folder (or an entry in it) that someone other than us can write or owns."""
    if sys.platform == "win32":  # no owners or mode bits to read: the ACL is set at creation
        return
    uid = os.geteuid()
    fix = f"Check what is in it, then run `chmod 700 {root}`" \
        if found.st_uid == uid else f"Set {HOME_ENV} to a folder of your own"
    problem = untrusted(found, uid, is_link=False)
    if problem:
        raise StorageError(
            f"{root} {problem}, so Claude Pulse will not use it: someone else could have "
            f"changed what is in it. {fix}."
        )
    try:
        entries = list(os.scandir(root))
    except OSError as exc:
        raise StorageError(f"Cannot list {root} ({_reason(exc)}).") from None
    for entry in entries:
        try:
            info = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            continue  # removed meanwhile
        except OSError as exc:
            raise StorageError(f"Cannot check {entry.path} ({_reason(exc)}).") from None
        problem = untrusted(info, uid, is_link=entry.is_symlink())
        if problem and info.st_uid == uid and entry.name.endswith(".lock") \
                and stat.S_ISREG(info.st_mode):
            # Our own lock files carry no data (only the OS lock on them counts), and older
            # versions created them with the umask's mode (0664 under umask 002): tighten.
            with contextlib.suppress(OSError):
                os.chmod(entry.path, 0o600)
            continue
        if problem:
            raise StorageError(
                f"{entry.path} {problem}, so Claude Pulse will not use {root}: someone else "
                "could have planted it. Remove it if you did not put it there."
            )


def _reason(exc: OSError) -> str:
    return exc.strerror or exc.__class__.__name__
