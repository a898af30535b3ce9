"""Make a file or folder private to the current user.

POSIX: mode 0600 for a file, 0700 for a folder. Windows: mode bits mean nothing there, so the
ACL is replaced with ``icacls <path> /inheritance:r /grant:r <DOMAIN\\user>:(F)``: inherited
entries (Users, Administrators, SYSTEM) are dropped and only the user keeps access. A folder
gets ``(OI)(CI)(F)``, so files created inside it later inherit the same single entry from their
first byte.

Failures are logged and reported by the return value, never raised: the files keep their
creation mode (0600 on POSIX) or their profile folder's ACL (Windows), and the app must go on.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

__all__ = ["Runner", "icacls_argv", "restrict_to_user", "run_hidden", "windows_user"]

logger = logging.getLogger(__name__)

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def run_hidden(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """Run a console program without flashing a console window (the tray app is pythonw)."""
    if sys.platform == "win32":
        return subprocess.run(
            list(argv), capture_output=True, text=True, timeout=15, check=False,
            creationflags=subprocess.CREATE_NO_WINDOW,
        )
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=15, check=False)


def restrict_to_user(
    path: Path,
    *,
    platform: str = sys.platform,
    runner: Runner | None = None,
    environ: Mapping[str, str] | None = None,
) -> bool:
    """Let only the current user read or write `path`. True when done, False (logged) if not."""
    if platform != "win32":
        mode = FOLDER_MODE if path.is_dir() else FILE_MODE
        try:
            path.chmod(mode)
        except OSError as exc:
            logger.warning("cannot chmod %o %s: %s", mode, path, exc)
            return False
        return True
    run = run_hidden if runner is None else runner
    user = windows_user(os.environ if environ is None else environ, run)
    if user is None:
        return False
    argv = icacls_argv(path, user, folder=path.is_dir())
    try:
        result = run(argv)
    except (OSError, subprocess.SubprocessError) as exc:
        logger.warning("icacls failed for %s: %s", path, exc)
        return False
    if result.returncode != 0:
        logger.warning("icacls exited with %d for %s: %s", result.returncode, path,
                       (result.stderr or result.stdout or "").strip())
        return False
    return True


def icacls_argv(path: Path, user: str, *, folder: bool) -> list[str]:
    rights = "(OI)(CI)(F)" if folder else "(F)"
    return ["icacls", str(path), "/inheritance:r", "/grant:r", f"{user}:{rights}"]


def windows_user(environ: Mapping[str, str], runner: Runner) -> str | None:
    """``DOMAIN\\user`` from the environment, else from ``whoami``; None (logged) if unknown."""
    name = environ.get("USERNAME", "").strip()
    domain = environ.get("USERDOMAIN", "").strip()
    if name:
        return f"{domain}\\{name}" if domain else name
    try:
        result = runner(["whoami"])
    except (OSError, subprocess.SubprocessError) as exc:
        logger.warning("cannot tell the current user (whoami: %s)", exc)
        return None
    user = (result.stdout or "").strip()
    if result.returncode != 0 or not user:
        logger.warning("cannot tell the current user (whoami exited with %d)", result.returncode)
        return None
    return user
