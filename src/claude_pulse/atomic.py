"""Crash-safe file writes: a private temp file beside the target, fsync, then `os.replace`.

A process killed at any moment leaves either the old file or the new one, never half of one.
The temp file is created with the final mode (0600 by default), so a secret is never readable by
others, not even briefly (unlike write-then-chmod).
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

__all__ = ["read_json", "write_atomic", "write_json_atomic"]


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace `path` with `data` atomically; the file has `mode` from its first byte."""
    # A unique name, not a secret: os.urandom avoids importing `secrets` (~5 ms per CLI call).
    tmp = path.with_name(f".{path.name}.{os.urandom(4).hex()}.tmp")
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


def write_json_atomic(path: Path, value: Any, mode: int = 0o600) -> None:
    text = json.dumps(value, indent=2, sort_keys=False) + "\n"
    write_atomic(path, text.encode("utf-8"), mode)


def read_json(path: Path) -> Any:
    """Parse a JSON file. Raises FileNotFoundError, or ValueError for bad JSON/encoding."""
    raw = path.read_bytes()
    try:
        return json.loads(raw.decode("utf-8"))
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
