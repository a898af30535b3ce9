"""The loopback receiver: a tiny HTTP server that catches the browser's OAuth redirect.

Design after MSAL's `oauth2cli/authcode.py` (style.md rule 10):

* Binds 127.0.0.1 (and ::1 where the OS has it, since browsers may resolve `localhost` to either)
  on `callback_port`; 0 lets the OS choose (RFC 8252 §7.3), and so does a fixed port that is
  busy — another program's, or ours still in TIME_WAIT right after a login (Windows refuses to
  reuse it). The redirect URI says `localhost` and the port actually bound, as every working
  client does (protocol.md §1.4).
* Only a request to `/callback` carrying `code` or `error` counts: the favicon and stray requests
  do not end the wait (feasibility.md §7 saw `/favicon.ico` right after the callback).
* A wrong `state` gets an error page and is otherwise ignored (it may be a forged request, and
  the real answer can still arrive). Everything echoed into HTML is escaped.
* The browser's request is held open until the caller reports how the code exchange went
  (`finish()`), so "Authentication successful" is only ever shown when it is true.
* Servers run in daemon threads and the caller waits on an event in short slices, so the timeout
  is real and Ctrl+C works on Windows too (a blocked `handle_request()` would ignore both).
"""

from __future__ import annotations

import contextlib
import errno
import html
import logging
import os
import secrets
import socket
import socketserver
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from claude_pulse.errors import LoginError, LoginTimeout
from claude_pulse.oauth.constants import CALLBACK_PATH

__all__ = ["SUCCESS_TITLE", "LoopbackReceiver"]

log = logging.getLogger(__name__)

SUCCESS_TITLE = "Authentication successful — you can close this tab"
# How long the browser's request waits for the code exchange (one token request, 15 s, plus an
# optional profile request) before it gets a neutral page.
_OUTCOME_WAIT_S = 45.0
# How long close() lets in-flight pages finish writing (a process may exit right after login).
_DRAIN_S = 5.0
_WAIT_SLICE_S = 0.5
# Codes that mean "this port is taken": EADDRINUSE, and on Windows WSAEADDRINUSE (10048: in
# use, or in TIME_WAIT since our sockets are exclusive there) and WSAEACCES (10013: an excluded
# port range, or another program's exclusive socket).
_BUSY_ERRNOS = {errno.EADDRINUSE, errno.EACCES, 10048, 10013}
_KEPT_PARAMS = ("code", "state", "error", "error_description")


class LoopbackReceiver:
    """Listens until one valid callback arrives. Use as a context manager (or call `close()`)."""

    def __init__(self, port: int = 0, *, host: str = "127.0.0.1", ipv6: bool = True) -> None:
        self._expected_state: str | None = None
        self._result: dict[str, str] | None = None
        self._cancelled = False
        self._mismatches = 0
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._outcome = threading.Event()
        self._outcome_page = ("Login finished", "Return to Claude Pulse to see the result.")
        self._active = 0
        self._idle = threading.Condition(self._lock)
        self._servers = _bind(self, host, port, ipv6)
        self.port: int = self._servers[0].server_address[1]
        self._threads = [
            threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.1},
                             name="oauth-callback", daemon=True)
            for s in self._servers
        ]
        for thread in self._threads:
            thread.start()
        log.debug("callback listener on port %d (%d socket(s))", self.port, len(self._servers))

    @property
    def redirect_uri(self) -> str:
        return f"http://localhost:{self.port}{CALLBACK_PATH}"

    def expect_state(self, state: str) -> None:
        """Set before the browser is opened; callbacks before this are refused."""
        with self._lock:
            self._expected_state = state

    def wait(self, timeout: float) -> dict[str, str]:
        """Block until a callback with the right state arrives; return its parameters."""
        deadline = time.monotonic() + timeout
        while not self._done.wait(max(0.0, min(_WAIT_SLICE_S, deadline - time.monotonic()))):
            if time.monotonic() >= deadline:
                refused = (
                    f" ({self._mismatches} answer(s) from another login attempt were refused)"
                    if self._mismatches else ""
                )
                raise LoginTimeout(
                    f"No answer from the browser within {timeout:.0f} s{refused}. Run "
                    "`claude-pulse login` again, with `--timeout` for more time or `--manual` "
                    "if the browser cannot reach this computer."
                )
        with self._lock:
            if self._cancelled or self._result is None:
                raise LoginError("Login was cancelled.")
            return dict(self._result)

    def deliver(self, params: dict[str, str]) -> bool:
        """Accept a pasted answer (the window's "Paste code") as if the browser had sent it;
        False when its state is not this login's, or an answer is already in."""
        with self._lock:
            expected = self._expected_state
            got = params.get("state", "").encode()
            if self._result is not None or self._cancelled or expected is None or \
                    not secrets.compare_digest(got, expected.encode()):
                return False
            self._result = {k: v for k, v in params.items() if k in _KEPT_PARAMS}
        self._outcome.set()  # no browser page is waiting for this one
        self._done.set()
        return True

    def finish(self, success: bool, detail: str = "") -> None:
        """Tell the waiting browser page how the login ended (the detail is escaped)."""
        if success:
            self._outcome_page = (SUCCESS_TITLE, detail)
        else:
            self._outcome_page = ("Login failed", detail or "Return to Claude Pulse for details.")
        self._outcome.set()

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
        self._done.set()
        self.finish(False, "The login was cancelled.")

    def close(self) -> None:
        if not self._outcome.is_set():
            self.finish(False, "The login was abandoned.")
        self._done.set()
        with self._lock:
            self._idle.wait_for(lambda: self._active == 0, timeout=_DRAIN_S)
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=_DRAIN_S)

    def __enter__(self) -> LoopbackReceiver:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- called from handler threads ------------------------------------------------------------

    def _handle(self, path: str, query: str) -> tuple[int, str, str]:
        """(status, title, detail) for one GET; records the first valid callback."""
        if path != CALLBACK_PATH:
            return 404, "Not found", "This address only receives Claude Pulse's login answer."
        params = {k: v[0] for k, v in urllib.parse.parse_qs(query).items() if k in _KEPT_PARAMS}
        if "code" not in params and "error" not in params:
            return 400, "Not a login answer", "This address only receives Claude Pulse's login."
        with self._lock:
            if self._result is not None or self._cancelled:
                return 200, "This login has already finished", "You can close this tab."
            expected = self._expected_state
            got = params.get("state", "").encode()  # bytes: non-ASCII text makes it raise
            if expected is None or not secrets.compare_digest(got, expected.encode()):
                self._mismatches += 1
                log.warning("login callback with a wrong state refused (not exchanged)")
                return 400, "State mismatch", (
                    "This answer does not belong to the login Claude Pulse is waiting for, so it "
                    "was not used. Close this tab and use the newest login link."
                )
            self._result = params
            self._done.set()
        self._outcome.wait(_OUTCOME_WAIT_S)
        title, detail = self._outcome_page
        return (200 if title == SUCCESS_TITLE else 400), title, detail

    def _enter(self) -> None:
        with self._lock:
            self._active += 1

    def _leave(self) -> None:
        with self._lock:
            self._active -= 1
            self._idle.notify_all()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "ClaudePulse"
    sys_version = ""
    # A local program that opens a connection and never finishes its request must not hold a
    # thread and a socket for the rest of the login (socket timeout for reads).
    timeout = 5.0

    def do_GET(self) -> None:
        receiver = self.server.receiver
        receiver._enter()
        try:
            parts = urllib.parse.urlsplit(self.path)
            status, title, detail = receiver._handle(parts.path, parts.query)
            self._page(status, title, detail)
        finally:
            receiver._leave()

    def _page(self, status: int, title: str, detail: str) -> None:
        body = _PAGE.format(title=html.escape(title), detail=html.escape(detail)).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        # The callback URL holds the code: never send it on as a Referer.
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
        self.send_header("Connection", "close")
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # The request line carries the code and state: log the path only.
        log.debug("callback listener: %s %s -> %s", self.command,
                  urllib.parse.urlsplit(self.path).path, code)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("callback listener: %s", format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # On Windows SO_REUSEADDR lets a second socket steal a bound port; elsewhere it only skips
    # TIME_WAIT, which a fixed port re-used for a quick second login needs.
    allow_reuse_address = os.name != "nt"

    def __init__(self, address: tuple[str, int], family: socket.AddressFamily,
                 receiver: LoopbackReceiver) -> None:
        self.address_family = family
        self.receiver = receiver
        super().__init__(address, _Handler, bind_and_activate=False)
        try:
            exclusive = getattr(socket, "SO_EXCLUSIVEADDRUSE", None)
            if exclusive is not None:
                self.socket.setsockopt(socket.SOL_SOCKET, exclusive, 1)
            if family == socket.AF_INET6:
                self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            self.server_bind()
            self.server_activate()
        except BaseException:
            self.server_close()
            raise

    def server_bind(self) -> None:
        # HTTPServer.server_bind would call getfqdn(), a reverse DNS lookup that can stall.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "localhost", self.server_address[1]

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A browser closing its connection early is normal; never print a traceback to stderr.
        log.debug("callback listener: request from %s failed", client_address, exc_info=True)


_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Claude Pulse</title>
<style>body{{font-family:system-ui,sans-serif;background:#1a1a1a;color:#fff;display:flex;
justify-content:center;padding-top:15vh}}main{{max-width:32rem}}h1{{font-size:1.4rem}}
p{{color:#bbb}}b{{color:#D97757}}</style></head>
<body><main><p><b>Claude Pulse</b></p><h1 id="result">{title}</h1>
<p id="detail">{detail}</p></main></body></html>
"""


class _Busy(Exception):
    """The port is taken (another program, or a socket of ours still closing)."""


def _bind(receiver: LoopbackReceiver, host: str, port: int, ipv6: bool) -> list[_Server]:
    if port:
        try:
            return _bind_pair(receiver, host, port, ipv6)
        except _Busy:
            # The redirect URI follows the port, and any loopback port is a valid redirect
            # (RFC 8252 §7.3), so a busy fixed port costs nothing but this line.
            log.warning("login: callback port %d is busy (another program, or the last login's "
                        "socket still closing); using a free port instead", port)
    for _ in range(5):
        try:
            return _bind_pair(receiver, host, 0, ipv6)
        except _Busy:
            continue  # the OS picked a v4 port that is busy on v6: pick again
    raise LoginError("Cannot find a free port for the login answer.")


def _bind_pair(receiver: LoopbackReceiver, host: str, port: int, ipv6: bool) -> list[_Server]:
    """`host` on `port` (0: any) and, where the OS has it, ::1 on the same port."""
    try:
        first = _Server((host, port), socket.AF_INET, receiver)
    except OSError as exc:
        if exc.errno in _BUSY_ERRNOS:
            raise _Busy() from None
        raise LoginError(f"Cannot listen for the login answer on {host}: {exc}") from exc
    if not ipv6 or not socket.has_ipv6:
        return [first]
    try:
        second = _Server(("::1", first.server_address[1]), socket.AF_INET6, receiver)
    except OSError as exc:
        if exc.errno not in _BUSY_ERRNOS:
            log.debug("no IPv6 loopback for the callback (%s)", exc.strerror or exc)
            return [first]
        first.server_close()
        raise _Busy() from None
    return [first, second]
