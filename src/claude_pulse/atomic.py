"""Crash-safe file writes: a private temp file beside the target, fsync, then `os.replace`.

A process killed at any moment leaves either the old file or the new one, never half of one.
The temp file is created with the final mode (0600 by default), so a secret is never readable by
others, not even briefly (unlike write-then-chmod).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = [
    "finish_interrupted_write",
    "leftover_temp_files",
    "read_json",
    "write_atomic",
    "write_json_atomic",
]

# A live writer needs milliseconds between creating its temp file and renaming it; a temp file
# older than this was left by a process that died.
ABANDONED_AFTER_S = 5.0


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace `path` with `data` atomically; the file has `mode` from its first byte."""
    # A unique name, not a secret: os.urandom avoids importing `secrets` (~5 ms per CLI call).
    tmp = path.with_name(f".{path.name}.{os.urandom(4).hex()}{_TMP_SUFFIX}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


_TMP_SUFFIX = ".tmp"


def leftover_temp_files(path: Path) -> list[Path]:
    """Temp files of `write_atomic(path)` that were never renamed, oldest first."""
    found = []
    for tmp in path.parent.glob(f".{path.name}.*{_TMP_SUFFIX}"):
        try:
            found.append((tmp.stat().st_mtime, tmp))
        except OSError:
            continue  # renamed or removed meanwhile
    return [tmp for _, tmp in sorted(found)]


def finish_interrupted_write(path: Path, is_complete: Callable[[bytes], bool]) -> bool:
    """Complete the rename a killed writer did not get to; remove the other leftovers.

    A leftover temp file that `is_complete` accepts and that is newer than `path` holds the
    newest data (it was fully written and fsynced; only the `os.replace` is missing), so it
    becomes `path`. Older or torn leftovers are deleted: they may hold secrets. Returns True
    when `path` was replaced.
    """
    try:
        current = path.stat().st_mtime
    except FileNotFoundError:
        current = float("-inf")
    now, adopted = time.time(), False
    for tmp in leftover_temp_files(path):
        try:
            mtime = tmp.stat().st_mtime
            if now - mtime < ABANDONED_AFTER_S:
                continue  # another process may be about to rename it
            if mtime >= current and is_complete(tmp.read_bytes()):
                os.replace(tmp, path)
                current, adopted = mtime, True
            else:
                tmp.unlink()
        except OSError:
            continue  # raced with another process doing the same; theirs wins
    return adopted


def write_json_atomic(path: Path, value: Any, mode: int = 0o600) -> None:
    text = json.dumps(value, indent=2, sort_keys=False) + "\n"
    write_atomic(path, text.encode("utf-8"), mode)


def read_json(path: Path) -> Any:
    """Parse a JSON file. Raises FileNotFoundError, or ValueError for bad JSON/encoding.

    A UTF-8 byte-order mark is accepted: Windows PowerShell 5 writes one when a user saves a
    file "as UTF8". UTF-16 (what it writes by default) gets a message that says so.
    """
    raw = path.read_bytes()
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
