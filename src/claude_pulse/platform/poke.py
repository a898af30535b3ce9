"""Tell the running tray something, cheaply: one line over its single-instance socket.

`claude-pulse statusline` calls this right after it saved a new snapshot from Claude Code's feed,
so the tray shows the new numbers at once instead of at its next wake-up, and needs no timer
watching the file. It runs on the status line's path, many times a minute, so it imports only
the standard library (no wiring, config, logging or pathlib), never raises, never waits past
its deadline, and costs one failed `open` when no tray runs (`platform.instance` removes the
record when the tray stops; a record left by a killed tray just gets a refused connection).

The protocol is `platform.instance`'s: read ``tray.port`` (port and secret, 0600), connect to
127.0.0.1:<port>, send ``<secret> <message>\\n``, read one line (``ok``).
"""

from __future__ import annotations

import json
import os
import socket
import stat
import time

__all__ = ["FEED", "poke_tray"]

# The status line saved new numbers from Claude Code's feed (the tray takes it: platform.instance).
FEED = "feed"

_MAX_RECORD = 4096  # the record is ~120 bytes; a larger file is not ours
_MAX_REPLY = 64
# Non-blocking: a FIFO in place of the record must not hang the status line (as `fastline`).
_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
               | getattr(os, "O_BINARY", 0))


def poke_tray(port_record_path: str, message: str, timeout_s: float = 0.25) -> bool:
    """Send `message` to the tray whose record is at `port_record_path`; True when it
    answered ``ok`` within `timeout_s` seconds. Never raises."""
    deadline = time.monotonic() + timeout_s
    try:
        record = json.loads(_read_record(port_record_path))
        port, secret = record["port"], record["secret"]
        if not (isinstance(port, int) and not isinstance(port, bool) and 0 < port < 65536
                and isinstance(secret, str) and secret.isalnum() and secret.isascii()):
            return False
        if not message.isascii() or not message.isprintable() or " " in message:
            return False
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        with socket.create_connection(("127.0.0.1", port), timeout=remaining) as conn:
            conn.sendall(f"{secret} {message}\n".encode("ascii"))
            reply = b""
            while b"\n" not in reply and len(reply) < _MAX_REPLY:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                conn.settimeout(remaining)
                chunk = conn.recv(_MAX_REPLY)
                if not chunk:
                    break
                reply += chunk
        return reply.split(b"\n", 1)[0].strip() == b"ok"
    except Exception:  # no tray, a stale record, a busy port: the numbers are saved anyway
        return False


def _read_record(path: str) -> bytes:
    """The record's bytes (at most _MAX_RECORD); OSError for anything but a regular file."""
    fd = os.open(path, _OPEN_FLAGS)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path} is not a regular file")
        return os.read(fd, _MAX_RECORD)
    finally:
        os.close(fd)
