"""Reading what a caller pipes to us (Claude Code's status-line JSON), bounded in size and time.

Cheap on purpose (os and time; select, threading or json only on the path that needs them): the
status line's fast path (`fastline`) reads stdin through this before deciding anything.
"""

from __future__ import annotations

import os
import time

TYPE_CHECKING = False  # typing itself costs ~2 ms per status line; mypy reads this as True
if TYPE_CHECKING:
    from typing import IO, Any

__all__ = ["STDIN_LIMIT", "STDIN_TIMEOUT_S", "read_stdin"]

STDIN_LIMIT = 256 * 1024  # Claude Code's JSON is a few kB
STDIN_TIMEOUT_S = 0.3
# Once some input has arrived, a pause this long ends the read if what we have is complete JSON
# (in case a caller forgets to close the pipe).
_STDIN_IDLE_S = 0.05


def read_stdin(stream: IO[Any] | None, *, timeout: float = STDIN_TIMEOUT_S,
               limit: int = STDIN_LIMIT, use_thread: bool | None = None) -> bytes | None:
    """What a non-interactive stdin holds, or None (a terminal, no stdin, nothing in time).

    Reads the file descriptor directly: a thread blocked in Python's buffered stdin would hold
    its lock at interpreter exit. POSIX waits with `select`; Windows cannot select on a pipe, so
    a daemon thread reads there (`use_thread` forces either way, for tests).
    """
    try:
        if stream is None or stream.isatty():
            return None
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):  # closed, or replaced by something odd
        return None
    if use_thread is None:
        use_thread = os.name != "posix"
    data = _read_in_thread(fd, timeout, limit) if use_thread else _read_select(fd, timeout, limit)
    return data or None


def _read_select(fd: int, timeout: float, limit: int) -> bytes:
    import select

    deadline = time.monotonic() + timeout
    buf = bytearray()
    while len(buf) < limit:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        wait = min(remaining, _STDIN_IDLE_S) if buf else remaining
        try:
            ready, _, _ = select.select([fd], [], [], wait)
        except (OSError, ValueError):
            break
        if not ready:
            if buf and _complete_json(buf):
                break
            continue
        try:
            chunk = os.read(fd, min(65536, limit - len(buf)))
        except OSError:
            break
        if not chunk:
            break
        buf += chunk
    return bytes(buf)


def _read_in_thread(fd: int, timeout: float, limit: int) -> bytes:
    import threading

    chunks: list[bytes] = []
    lock = threading.Lock()

    def pump() -> None:
        size = 0
        while size < limit:
            try:
                chunk = os.read(fd, min(65536, limit - size))
            except OSError:
                return
            if not chunk:
                return
            with lock:
                chunks.append(chunk)
            size += len(chunk)

    reader = threading.Thread(target=pump, name="statusline-stdin", daemon=True)
    reader.start()
    reader.join(timeout)
    with lock:
        return b"".join(chunks)


def _complete_json(buf: bytearray) -> bool:
    import json

    try:
        json.loads(bytes(buf))
    except ValueError:
        return False
    return True
