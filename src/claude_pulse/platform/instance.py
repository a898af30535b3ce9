"""One tray app per user: a lock file, plus a loopback socket to wake the running copy.

The first copy holds an exclusive OS lock on ``tray.lock`` (fcntl on POSIX, msvcrt on
Windows, through `filelock`), so a killed copy never blocks the next start: the OS drops the
lock with the process. It then listens on ``127.0.0.1:<random port>`` and records the port and
a random secret in ``tray.port`` (0600). A second copy fails to take the lock, reads the record
and sends one line, ``<secret> <message>\\n``; the first answers ``ok`` and calls `on_message`
on its listener thread (the GUI must hand the call to its own thread). Other local users cannot
read the record, so they cannot send anything. Of the CLI commands only `uninstall` (QUIT) and
`statusline` (FEED, through the stdlib-only `platform.poke`) send; none listens.

Each connection is served on its own short-lived thread with a total deadline for its line, so
one idle or dribbling client cannot make a second launch report "did not answer"; at most
`MAX_CONNECTIONS` are served at once (more are closed at once). Warnings about refused
connections are rate-limited, so a flood of them cannot rotate the real log away.

On Windows a process may bring its window to the front only if the foreground process allows
it, so the second copy (which the user just launched, so it may) first calls
`AllowSetForegroundWindow` for the running copy's pid from the record; without it the window
would only flash in the taskbar.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import os
import secrets
import socket
import sys
import threading
import time
from collections.abc import Callable, Collection
from typing import Any

from filelock import FileLock, Timeout

from claude_pulse.atomic import read_json, write_json_atomic
from claude_pulse.home import Home
from claude_pulse.platform.poke import FEED, poke_tray  # FEED: from `claude-pulse statusline`

__all__ = ["FEED", "QUIT", "SHOW", "RateLimitedLog", "SingleInstance", "allow_foreground"]

logger = logging.getLogger(__name__)

SHOW = "show"
QUIT = "quit"  # from `claude-pulse uninstall`, before it removes the app's files
NOTIFY_TIMEOUT_S = 2.0
# A client has this long, in total, to send its line: a real second launch sends it at once.
LINE_DEADLINE_S = 1.0
MAX_CONNECTIONS = 16
# At most this many warnings about refused connections per minute; the rest are counted.
WARNINGS_PER_MINUTE = 5
_MAX_LINE = 512


class SingleInstance:
    """`acquire()` once at tray start-up; when it returns False, `notify_running()` and exit."""

    def __init__(self, home: Home, on_message: Callable[[str], None], *,
                 messages: Collection[str] = (SHOW,)) -> None:
        self._home = home
        self._on_message = on_message
        self._messages = frozenset(messages)
        self._lock: FileLock | None = None
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._secret = ""
        self._closing = threading.Event()
        self._handling = threading.Lock()  # on_message calls run one at a time, in order
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._warnings = RateLimitedLog(logger, WARNINGS_PER_MINUTE, 60.0)

    @property
    def port(self) -> int | None:
        """The listener's port while this copy is the running one."""
        return self._listener.getsockname()[1] if self._listener is not None else None

    def acquire(self) -> bool:
        """Become the running copy (True), or find that another one is running (False)."""
        if self._lock is not None:
            return True
        self._home.ensure()
        lock = FileLock(self._home.instance_lock, mode=0o600, thread_local=False)
        try:
            lock.acquire(blocking=False)
        except Timeout:
            return False
        self._lock = lock
        try:
            self._listen()
        except OSError as exc:
            # Still the only copy; a second launch will just say that we run.
            logger.error("single instance: cannot listen for other launches: %s", exc)
        return True

    def other_is_running(self) -> bool:
        """Whether a running copy holds the lock (asked without becoming the instance)."""
        if self._lock is not None or not self._home.instance_lock.exists():
            return False
        probe = FileLock(self._home.instance_lock, mode=0o600, thread_local=False)
        try:
            probe.acquire(blocking=False)
        except Timeout:
            return True
        probe.release()
        return False

    def notify_running(self, message: str = SHOW, timeout_s: float = NOTIFY_TIMEOUT_S) -> bool:
        """Send `message` to the running copy; False if it does not answer within `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while True:
            # The running copy may be starting: its record can be missing or not listening yet.
            if self._send(message, deadline):
                return True
            if time.monotonic() + 0.05 >= deadline:
                return False
            time.sleep(0.05)

    def release(self) -> None:
        """Stop listening, delete our record and drop the lock. Safe to call twice."""
        self._closing.set()
        listener, self._listener = self._listener, None
        if listener is not None:
            port = listener.getsockname()[1]
            # close() alone does not wake a thread blocked in accept() on Linux or macOS;
            # a connection does, on every OS.
            with contextlib.suppress(OSError), socket.create_connection(
                ("127.0.0.1", port), timeout=1.0
            ):
                pass
            listener.close()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        if self._lock is not None:
            if self._read_record().get("secret") == self._secret:
                with contextlib.suppress(OSError):
                    self._home.instance_port.unlink()
            self._lock.release()
            self._lock = None

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            if sys.platform == "win32":
                # Without it another program could bind the same port and take our connections.
                listener.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
            listener.bind(("127.0.0.1", 0))
            listener.listen(8)
            self._secret = secrets.token_hex(32)
            record = {"port": listener.getsockname()[1], "secret": self._secret,
                      "pid": os.getpid()}
            write_json_atomic(self._home.instance_port, record)
        except OSError:
            listener.close()
            raise
        self._closing.clear()
        self._listener = listener
        self._thread = threading.Thread(
            target=self._serve, args=(listener,), name="single-instance", daemon=True
        )
        self._thread.start()

    def _serve(self, listener: socket.socket) -> None:
        while True:
            try:
                conn, _addr = listener.accept()  # blocks; no timeout, no polling
            except ConnectionError:
                continue  # the client gave up before we accepted
            except OSError:
                if not self._closing.is_set():
                    logger.exception("single instance: listener failed")
                return
            if self._closing.is_set():
                conn.close()
                return
            if not self._slots.acquire(blocking=False):
                conn.close()  # a flood: the ones already being served finish within 1 s
                self._warnings.warning("single instance: too many connections at once; "
                                       "one was closed unread")
                continue
            threading.Thread(target=self._handle, args=(conn,), name="single-instance-conn",
                             daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        try:
            with conn:
                message = self._receive(conn)
            if message is not None:
                with self._handling:
                    self._dispatch(message)
        finally:
            self._slots.release()

    def _dispatch(self, message: str) -> None:
        try:
            self._on_message(message)
        except Exception:
            logger.exception("single instance: handling %r failed", message)

    def _receive(self, conn: socket.socket) -> str | None:
        try:
            # A total deadline, not a per-read timeout: a client dribbling one byte at a time
            # must not hold its thread (or a slot) for long.
            line = _read_line(conn, time.monotonic() + LINE_DEADLINE_S)
            secret, _, message = line.partition(" ")
            if not hmac.compare_digest(secret.encode(), self._secret.encode()):
                conn.sendall(b"denied\n")
                self._warnings.warning("single instance: a connection without the secret "
                                       "was refused")
                return None
            if message not in self._messages:
                conn.sendall(b"unknown\n")
                self._warnings.warning("single instance: unknown message %r", message[:40])
                return None
            conn.sendall(b"ok\n")
        except OSError as exc:
            logger.debug("single instance: connection dropped: %s", exc)
            return None
        return message

    def _send(self, message: str, deadline: float) -> bool:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        allow_foreground(self._read_record().get("pid"))
        # The client side of the protocol is the status line's poke (stdlib only, bounded).
        if poke_tray(str(self._home.instance_port), message, remaining):
            return True
        logger.debug("single instance: no answer from the running copy")
        return False

    def _read_record(self) -> dict[str, Any]:
        try:
            record = read_json(self._home.instance_port)
        except (OSError, ValueError):
            return {}
        return record if isinstance(record, dict) else {}


def allow_foreground(pid: object) -> bool:
    """Windows: let process `pid` take the foreground (its next SetForegroundWindow works)."""
    if sys.platform != "win32" or not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    import ctypes
    from ctypes import wintypes

    try:
        allow = ctypes.windll.user32.AllowSetForegroundWindow
        allow.argtypes = (wintypes.DWORD,)
        allow.restype = wintypes.BOOL
        allowed = bool(allow(pid))
    except (AttributeError, OSError):
        allowed = False
    if not allowed:  # e.g. this launch is not in the foreground itself; the window still opens
        logger.debug("single instance: AllowSetForegroundWindow(%d) refused", pid)
    return allowed


def _read_line(conn: socket.socket, deadline: float) -> str:
    """One line of at most _MAX_LINE bytes, all of it by `deadline` (TimeoutError otherwise)."""
    data = b""
    while b"\n" not in data and len(data) < _MAX_LINE:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no full line in time")
        conn.settimeout(remaining)
        chunk = conn.recv(_MAX_LINE - len(data))
        if not chunk:
            break
        data += chunk
    return data.split(b"\n", 1)[0].decode("utf-8", errors="replace").strip()


class RateLimitedLog:
    """At most `limit` warnings per `period_s`; the rest are counted and reported with the next
    warning allowed. Checked only when something is logged: no timer."""

    def __init__(self, log: logging.Logger, limit: int, period_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._log = log
        self._limit = limit
        self._period_s = period_s
        self._clock = clock
        self._lock = threading.Lock()
        self._window_start = float("-inf")
        self._count = 0
        self._suppressed = 0

    def warning(self, msg: str, *args: object) -> None:
        with self._lock:
            now = self._clock()
            if now - self._window_start >= self._period_s:
                suppressed, self._suppressed = self._suppressed, 0
                self._window_start, self._count = now, 0
            else:
                suppressed = 0
            if self._count >= self._limit:
                self._suppressed += 1
                return
            self._count += 1
        if suppressed:
            self._log.warning("%d more warnings like these were not logged", suppressed)
        self._log.warning(msg, *args)
