"""Where the home folder is, and when a file in it can be trusted: the rules `home` applies,
in the standard library only, so the status line's fast path (`fastline`) applies the same
ones without loading `home` (pathlib, dataclasses, re, shutil).
"""

from __future__ import annotations

import os
import stat

TYPE_CHECKING = False  # typing itself costs ~2 ms per status line; mypy reads this as True
if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["CONFIG_NAME", "FOLDER_NAME", "HOME_ENV", "SNAPSHOT_NAME", "home_folder", "untrusted"]

HOME_ENV = "CLAUDE_PULSE_HOME"
FOLDER_NAME = ".claude-pulse"  # in the user's home, unless HOME_ENV says otherwise
CONFIG_NAME = "config.json"
SNAPSHOT_NAME = "snapshot.json"


def home_folder(environ: Mapping[str, str] | None = None) -> str:
    """The home folder chosen by the environment (not created); RuntimeError when the user's
    own home cannot be determined (as `pathlib.Path.home()`)."""
    env = os.environ if environ is None else environ
    custom = env.get(HOME_ENV, "").strip()
    folder = os.path.expanduser(custom) if custom else \
        os.path.join(os.path.expanduser("~"), FOLDER_NAME)
    if folder.startswith("~"):
        raise RuntimeError("Could not determine home directory.")
    return folder


def untrusted(info: os.stat_result, uid: int, *, is_link: bool) -> str | None:
    """Why an entry (or the folder) cannot be trusted on POSIX, or None: it belongs to another
    user, or others can write it."""
    if info.st_uid != uid:
        return f"belongs to another user (uid {info.st_uid})"
    # A symlink's own mode means nothing (always 0777 on Linux); its owner does.
    if not is_link and stat.S_IMODE(info.st_mode) & 0o022:
        return f"is writable by other users (mode {stat.S_IMODE(info.st_mode):04o})"
    return None
