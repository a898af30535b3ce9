"""Make a file or folder private to the current user.

POSIX: mode 0600 for a file, 0700 for a folder. Windows: mode bits mean nothing there, so the
ACL is replaced with ``icacls <path> /inheritance:r /grant:r *<SID>:(F)``: inherited entries
(Users, Administrators, SYSTEM) are dropped and only the user keeps access. A folder gets
``(OI)(CI)(F)``, so files created inside it later inherit the same single entry from their first
byte.

Windows details that matter (research/windows-audit.md, "Processes we start"):

- Every program is started by its absolute path in ``%SystemRoot%\\System32``: CreateProcess
  looks in the *current folder* before System32 for a bare name, and `statusline` runs in
  whatever project Claude Code has open, so a planted ``icacls.exe`` there would run.
- The user is named by SID (``*S-1-5-21-…``), read from the process token through ctypes (no
  process at all; ``whoami /user`` is the fallback): a ``DOMAIN\\user`` name does not resolve
  for Entra ID accounts (error 1332).
- icacls and whoami print in the OEM code page, not the ANSI one.
- `has_private_acl` reads the folder's DACL through ctypes, so `Home.ensure()` starts icacls
  only for a folder it created or found with inherited entries — never once per `statusline`.

Failures are logged and reported by the return value, never raised: the files keep their
creation mode (0600 on POSIX) or their profile folder's ACL (Windows), and the app must go on.
"""

from __future__ import annotations

import contextlib
import csv
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

__all__ = [
    "Runner",
    "current_user_sid",
    "has_private_acl",
    "icacls_argv",
    "owner_sid",
    "restrict_to_user",
    "run_hidden",
    "system_program",
    "whoami_sid",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]

FILE_MODE = 0o600
FOLDER_MODE = 0o700
# winnt.h / accctrl.h. SE_DACL_PROTECTED: inherited entries are blocked (`/inheritance:r`).
_SE_DACL_PROTECTED = 0x1000
_TOKEN_QUERY = 0x0008
_TOKEN_USER = 1
_SE_FILE_OBJECT = 1
_DACL_SECURITY_INFORMATION = 4
_OWNER_SECURITY_INFORMATION = 1


def system_program(name: str, environ: Mapping[str, str] | None = None) -> str:
    """The absolute path of a Windows system program (``icacls.exe`` …) in System32."""
    env = os.environ if environ is None else environ
    root = env.get("SystemRoot") or env.get("SYSTEMROOT") or r"C:\Windows"
    return f"{root.rstrip(chr(92))}\\System32\\{name}"


def run_hidden(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """Run a console program without flashing a console window (the tray app is pythonw).

    Output is decoded from the OEM code page, what Windows console programs write to a pipe.
    """
    if sys.platform == "win32":
        return subprocess.run(
            list(argv), capture_output=True, text=True, encoding="oem", errors="replace",
            timeout=15, check=False, stdin=subprocess.DEVNULL,
            creationflags=subprocess.CREATE_NO_WINDOW,
        )
    return subprocess.run(list(argv), capture_output=True, text=True, errors="replace",
                          timeout=15, check=False, stdin=subprocess.DEVNULL)


def restrict_to_user(
    path: Path,
    *,
    platform: str = sys.platform,
    runner: Runner | None = None,
    environ: Mapping[str, str] | None = None,
    sid: Callable[[], str | None] | None = None,
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
    user_sid = (current_user_sid if sid is None else sid)() or whoami_sid(run, environ)
    if user_sid is None:
        return False
    argv = icacls_argv(path, user_sid, folder=path.is_dir(), environ=environ)
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


def icacls_argv(path: Path, sid: str, *, folder: bool,
                environ: Mapping[str, str] | None = None) -> list[str]:
    rights = "(OI)(CI)(F)" if folder else "(F)"
    return [system_program("icacls.exe", environ), str(path), "/inheritance:r", "/grant:r",
            f"*{sid}:{rights}"]


def whoami_sid(runner: Runner, environ: Mapping[str, str] | None = None) -> str | None:
    """The user's SID from ``whoami /user /fo csv /nh`` (``"host\\bob","S-1-5-21-…"``)."""
    argv = [system_program("whoami.exe", environ), "/user", "/fo", "csv", "/nh"]
    try:
        result = runner(argv)
    except (OSError, subprocess.SubprocessError) as exc:
        logger.warning("cannot tell the current user (whoami: %s)", exc)
        return None
    rows = [row for row in csv.reader((result.stdout or "").splitlines()) if row]
    found = rows[0][-1].strip() if rows else ""
    if result.returncode != 0 or not found.startswith("S-1-"):
        logger.warning("cannot tell the current user (whoami exited with %d)", result.returncode)
        return None
    return found


def current_user_sid() -> str | None:
    """The SID of the user this process runs as, from its token (Windows; None elsewhere)."""
    return _guarded(_token_sid, None)


def has_private_acl(path: Path) -> bool:
    """Whether `path`'s DACL blocks inherited entries — what `restrict_to_user` leaves.

    Read through ctypes, without starting a process. False when it cannot be read (or not on
    Windows): the caller then applies the ACL, which is always safe.
    """
    return _guarded(lambda: _dacl_protected(path), False)


def owner_sid(path: Path) -> str | None:
    """The SID of `path`'s owner (Windows, through ctypes); None when unknown or elsewhere."""
    return _guarded(lambda: _owner(path), None)


def _guarded(read: Callable[[], T], default: T) -> T:
    """A Win32 read that must never stop the app: any failure (a missing export, a ctypes
    argument error) is logged and gives `default`."""
    if sys.platform != "win32":
        return default
    try:
        return read()
    except Exception as exc:  # ctypes.ArgumentError is no OSError
        logger.warning("Win32 security read failed: %s", exc)
        return default


def _token_sid() -> str | None:
    if sys.platform != "win32":
        return None
    import ctypes
    from ctypes import wintypes

    advapi32 = ctypes.WinDLL("advapi32", use_last_error=True)
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.GetCurrentProcess.restype = wintypes.HANDLE  # a pointer-sized pseudo-handle
    process = wintypes.HANDLE(kernel32.GetCurrentProcess())
    token = wintypes.HANDLE()
    if not advapi32.OpenProcessToken(process, _TOKEN_QUERY, ctypes.byref(token)):
        return None
    try:
        size = wintypes.DWORD()
        advapi32.GetTokenInformation(token, _TOKEN_USER, None, 0, ctypes.byref(size))
        buffer = ctypes.create_string_buffer(size.value)
        if not advapi32.GetTokenInformation(token, _TOKEN_USER, buffer, size,
                                            ctypes.byref(size)):
            return None
        # TOKEN_USER starts with SID_AND_ATTRIBUTES, whose first field is the PSID.
        psid = ctypes.cast(buffer, ctypes.POINTER(ctypes.c_void_p))[0]
        return _sid_text(ctypes.c_void_p(psid))
    finally:
        kernel32.CloseHandle(token)


def _dacl_protected(path: Path) -> bool:
    if sys.platform != "win32":
        return False
    import ctypes
    from ctypes import wintypes

    with _security_descriptor(path, _DACL_SECURITY_INFORMATION) as found:
        if found is None:
            return False
        _, descriptor = found
        advapi32 = ctypes.WinDLL("advapi32", use_last_error=True)
        control, revision = wintypes.WORD(), wintypes.DWORD()
        if not advapi32.GetSecurityDescriptorControl(descriptor, ctypes.byref(control),
                                                     ctypes.byref(revision)):
            return False
        return bool(control.value & _SE_DACL_PROTECTED)


def _owner(path: Path) -> str | None:
    if sys.platform != "win32":
        return None
    with _security_descriptor(path, _OWNER_SECURITY_INFORMATION) as found:
        return None if found is None else _sid_text(found[0])


@contextlib.contextmanager
def _security_descriptor(path: Path, info: int) -> Iterator[tuple[object, object] | None]:
    """GetNamedSecurityInfoW for `info` (owner or DACL): (the owner SID, the descriptor), or
    None when it fails; the descriptor is freed on leaving."""
    if sys.platform != "win32":
        yield None
        return
    import ctypes

    advapi32 = ctypes.WinDLL("advapi32", use_last_error=True)
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    owner, dacl, descriptor = ctypes.c_void_p(), ctypes.c_void_p(), ctypes.c_void_p()
    wants_owner = info == _OWNER_SECURITY_INFORMATION
    status = advapi32.GetNamedSecurityInfoW(
        str(path), _SE_FILE_OBJECT, info, ctypes.byref(owner) if wants_owner else None, None,
        None if wants_owner else ctypes.byref(dacl), None, ctypes.byref(descriptor))
    if status != 0:
        yield None
        return
    try:
        yield owner, descriptor
    finally:
        kernel32.LocalFree(descriptor)


def _sid_text(psid: object) -> str | None:
    """A SID in its S-1-5-… form (ConvertSidToStringSidW), or None."""
    if sys.platform != "win32":
        return None
    import ctypes
    from ctypes import wintypes

    advapi32 = ctypes.WinDLL("advapi32", use_last_error=True)
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    text = wintypes.LPWSTR()
    if not advapi32.ConvertSidToStringSidW(psid, ctypes.byref(text)):
        return None
    try:
        return text.value
    finally:
        kernel32.LocalFree(text)
