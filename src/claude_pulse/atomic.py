"""The files in the home folder: crash-safe writes and careful reads.

Writes go to a private temp file beside the target, are fsynced, then renamed over it with
`os.replace`: a process killed at any moment leaves either the old file or the new one, never
half of one. The temp file is created with the final mode (0600 by default), so a secret is never
readable by others, not even briefly (unlike write-then-chmod).

Windows refuses `os.replace` (and an open) with a *sharing violation* — PermissionError with
winerror 5, 32 or 33 — while another process has the file open: our own `statusline` reading
it, an antivirus scanner, the indexer, OneDrive. Those are retried with back-off for about a
second. When the rename is still refused, a writer that asks for it (`keep_if_blocked`, the
credentials) keeps its complete temp file under a `.pending` name instead of deleting it, and
`finish_interrupted_write` adopts it at the next load: a rotated refresh token is never lost to a
scanner.

Every state file and the log are opened by `open_regular`: non-blocking, and refusing anything
that is not a regular file (`NotRegularFile`), since a FIFO or a device at a state file would
otherwise hang every command. Writes rename over whatever is there, so a cache heals.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

__all__ = [
    "MAX_READ_BYTES",
    "NotRegularFile",
    "ReplaceBlocked",
    "file_kind",
    "finish_interrupted_write",
    "is_sharing_violation",
    "leftover_temp_files",
    "open_regular",
    "read_bytes",
    "read_json",
    "retry_sharing_violations",
    "write_atomic",
    "write_json_atomic",
]

T = TypeVar("T")

# A live writer needs milliseconds between creating its temp file and renaming it; a temp file
# older than this was left by a process that died.
ABANDONED_AFTER_S = 5.0
# Every file we read is a few kB; anything this large is not one of ours.
MAX_READ_BYTES = 4 * 1024 * 1024

# ERROR_ACCESS_DENIED, ERROR_SHARING_VIOLATION, ERROR_LOCK_VIOLATION (winerror.h).
SHARING_VIOLATIONS = frozenset({5, 32, 33})
# About a second in all, backing off: scanners and indexers hold a file for milliseconds.
_RETRY_DELAYS_S = (0.01, 0.02, 0.04, 0.08, 0.15, 0.25, 0.45)

_TMP_SUFFIX = ".tmp"
_PENDING_SUFFIX = ".pending"
_O_BINARY = getattr(os, "O_BINARY", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class NotRegularFile(OSError):
    """A state file that is a FIFO, a device, a socket or a folder: never opened for use."""

    def __init__(self, path: Path, kind: str) -> None:
        super().__init__(errno.EINVAL, f"a {kind}, not a regular file", str(path))
        self.kind = kind


class ReplaceBlocked(OSError):
    """`os.replace` stayed refused (Windows sharing violation); the data waits in `kept`."""

    def __init__(self, cause: OSError, kept: Path) -> None:
        super().__init__(cause.errno, cause.strerror, cause.filename)
        self.kept = kept


def is_sharing_violation(exc: BaseException) -> bool:
    """Windows' "the file is in use by another process" (never raised on POSIX)."""
    return isinstance(exc, PermissionError) and \
        getattr(exc, "winerror", None) in SHARING_VIOLATIONS


def retry_sharing_violations(operation: Callable[[], T]) -> T:
    """Run `operation`, retrying a sharing violation with back-off for about a second."""
    for delay in _RETRY_DELAYS_S:
        try:
            return operation()
        except PermissionError as exc:
            if not is_sharing_violation(exc):
                raise
        time.sleep(delay)
    return operation()


def file_kind(mode: int) -> str:
    """What an `st_mode` is, in words for a message."""
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISFIFO(mode):
        return "FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "character device"
    if stat.S_ISBLK(mode):
        return "block device"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special file"


def write_atomic(path: Path, data: bytes, mode: int = 0o600, *,
                 keep_if_blocked: bool = False) -> None:
    """Replace `path` with `data` atomically; the file has `mode` from its first byte.

    Raises OSError (the old file is left as it was). With `keep_if_blocked`, a rename that
    Windows keeps refusing raises ReplaceBlocked and leaves the complete data in a `.pending`
    file that the next `finish_interrupted_write(path, …)` adopts.

    A FIFO or a device at `path` is replaced like a file (the rename swaps the name, it never
    opens the target): reads refuse such a file, so a cache heals at its next write. Callers
    that must not write over a file they could not read (config.json) check first.
    """
    # A unique name, not a secret: os.urandom avoids importing `secrets` (~5 ms per CLI call).
    tmp = path.with_name(f".{path.name}.{os.urandom(4).hex()}{_TMP_SUFFIX}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY | _O_CLOEXEC
    fd = os.open(tmp, flags, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()  # torn or not durable: never adopt it
        raise
    try:
        retry_sharing_violations(partial(os.replace, tmp, path))
    except OSError as exc:
        if keep_if_blocked and is_sharing_violation(exc):
            raise ReplaceBlocked(exc, _keep(tmp)) from exc
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def _keep(tmp: Path) -> Path:
    """Mark a complete temp file as pending (adoptable at once); the .tmp itself if that fails."""
    pending = tmp.with_name(tmp.name[: -len(_TMP_SUFFIX)] + _PENDING_SUFFIX)
    try:
        # A new name nobody has open: Windows allows this while the target is busy.
        os.rename(tmp, pending)
    except OSError:
        return tmp  # adopted like a killed writer's temp file, after ABANDONED_AFTER_S
    return pending


def leftover_temp_files(path: Path) -> list[Path]:
    """Temp and pending files of `write_atomic(path)` that were never renamed, oldest first."""
    found = []
    for pattern in (f".{path.name}.*{_TMP_SUFFIX}", f".{path.name}.*{_PENDING_SUFFIX}"):
        for tmp in path.parent.glob(pattern):
            try:
                found.append((tmp.stat().st_mtime, tmp))
            except OSError:
                continue  # renamed or removed meanwhile
    return [tmp for _, tmp in sorted(found)]


def finish_interrupted_write(path: Path, is_complete: Callable[[bytes], bool]) -> Path | None:
    """Complete the renames a writer did not get to; remove the other leftovers.

    A leftover that `is_complete` accepts and that is newer than `path` holds the newest data
    (it was fully written and fsynced; only the `os.replace` is missing), so it becomes `path`.
    A `.pending` file (the rename was refused) counts at any age; a `.tmp` file only once it is
    ABANDONED_AFTER_S old, as its writer may still be about to rename it. Older or torn leftovers
    are deleted: they may hold secrets.

    Returns the file that now holds recovered data: `path`, or the pending file itself while
    Windows still refuses the rename (read that one instead); None when nothing was recovered.
    """
    try:
        current = path.stat().st_mtime
    except FileNotFoundError:
        current = float("-inf")
    now, recovered = time.time(), None
    for tmp in leftover_temp_files(path):
        try:
            mtime = tmp.stat().st_mtime
            if tmp.name.endswith(_TMP_SUFFIX) and now - mtime < ABANDONED_AFTER_S:
                continue  # another process may be about to rename it
            if mtime >= current and is_complete(read_bytes(tmp)):
                current = mtime
                try:
                    retry_sharing_violations(partial(os.replace, tmp, path))
                except OSError as exc:
                    if not is_sharing_violation(exc):
                        raise
                    recovered = tmp  # still blocked: the data stays readable where it is
                else:
                    recovered = path
            elif tmp != recovered:
                tmp.unlink()
        except OSError:
            continue  # raced with another process doing the same; theirs wins
    return recovered


def write_json_atomic(path: Path, value: Any, mode: int = 0o600, *,
                      keep_if_blocked: bool = False) -> None:
    text = json.dumps(value, indent=2, sort_keys=False) + "\n"
    write_atomic(path, text.encode("utf-8"), mode, keep_if_blocked=keep_if_blocked)


def open_regular(path: Path, flags: int = os.O_RDONLY, mode: int = 0o600, *,
                 follow: bool = True) -> int:
    """`os.open` for a file of the home that never blocks and never opens a special file.

    Opens non-blocking (a FIFO with no writer, or no reader, cannot hang us), in binary mode on
    Windows (no newline translation under our own), and refuses — closing it at once — anything
    that is not a regular file, with NotRegularFile. `follow=False` also refuses a symlink at
    `path` (O_NOFOLLOW, POSIX): a file someone else planted must not redirect our writes.
    Sharing violations are retried. Returns the descriptor, in blocking mode again.
    """
    flags |= _O_NONBLOCK | _O_BINARY | _O_CLOEXEC | (0 if follow else _O_NOFOLLOW)
    try:
        fd = retry_sharing_violations(partial(os.open, path, flags, mode))
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # O_WRONLY|O_NONBLOCK on a FIFO nobody reads
            raise NotRegularFile(path, file_kind(stat.S_IFIFO)) from None
        raise
    try:
        st_mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(st_mode):
            raise NotRegularFile(path, file_kind(st_mode))
        if sys.platform != "win32":  # Windows has no O_NONBLOCK to undo
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_bytes(path: Path, limit: int = MAX_READ_BYTES) -> bytes:
    """The content of a regular file (at most `limit` bytes), without ever blocking on it.

    Raises FileNotFoundError, NotRegularFile, another OSError (sharing violations are retried),
    or ValueError when the file is larger than `limit`.
    """
    fd = open_regular(path)
    try:
        chunks, size = [], 0
        while chunk := os.read(fd, min(65536, limit + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise ValueError(f"larger than {limit // (1024 * 1024)} MiB")
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_json(path: Path) -> Any:
    """Parse a JSON file. Raises FileNotFoundError, OSError (NotRegularFile for a FIFO, a device
    or a folder), or ValueError for content that is not JSON or not UTF-8.

    A UTF-8 byte-order mark is accepted: Windows PowerShell 5 writes one when a user saves a
    file "as UTF8". UTF-16 (what it writes by default) gets a message that says so.
    """
    raw = read_bytes(path)
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(raw) > 1 and 0 in raw[:2]):
        raise ValueError("it is UTF-16 text; save it as UTF-8")
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text ({exc.reason})") from exc
    except RecursionError as exc:  # json nests by recursion; a hostile file can exhaust it
        raise ValueError("JSON nested too deeply") from exc


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable on POSIX; Windows cannot open folders this way.
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
