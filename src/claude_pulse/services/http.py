"""The HTTP seam's stdlib implementation (the protocol and response type are `core.http`).

Everything that talks to a server takes a `core.http.HttpTransport`, so tests can aim it at the
fake server on loopback (real sockets, no mocks) and nothing else in the app imports urllib. Library
errors become `NetworkError` here, with a `reason` the poller and the user can act on.

`timeout` is a TOTAL deadline for the whole request (connect, headers, body), not a per-read
timeout: a server that sends one byte every few seconds never trips a per-read timeout, and would
hold `status`, the refresh lock or the tray's poll for as long as it liked. A timer shuts the
request's socket down when the deadline passes, which wakes whatever read is blocked on it. Name
resolution is the one step it cannot cut short (the system resolver has its own time limits).
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from claude_pulse.core.http import HttpResponse
from claude_pulse.errors import NetworkError

__all__ = ["UrllibTransport"]

# A usage or token answer is a few kB; anything far larger is not what we asked for.
MAX_BODY_BYTES = 1 << 20


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # An API that answers with a redirect is misconfigured or a captive portal; following it
    # would send the bearer token somewhere we did not choose.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class _Deadline:
    """The end of one request's time: past it, every socket of the request is shut down."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        self.expired = False
        self._done = False
        self._lock = threading.Lock()
        self._watched: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self.expire)
        self._timer.daemon = True
        self._timer.name = "pulse-http-deadline"

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        with self._lock:
            watched, self._watched = self._watched, []
        for sock in watched:
            sock.close()

    def remaining(self) -> float:
        return max(self.at - time.monotonic(), 0.001)

    def watch(self, sock: socket.socket) -> None:
        # A duplicate of the socket: shutting it down ends the connection even after TLS has
        # taken the original over (wrap_socket detaches it), and it is ours to close.
        dup = sock.dup()
        with self._lock:
            self._watched.append(dup)
            expired = self.expired
        if expired:
            _shutdown(dup)

    def finish(self) -> bool:
        """The answer is in: the timer can no longer fire. Whether it fired before."""
        with self._lock:
            self._done = True
            return self.expired

    def expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            watched = list(self._watched)
        for sock in watched:
            _shutdown(sock)


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed or never connected: nothing to wake
        sock.shutdown(socket.SHUT_RDWR)


class _Request(urllib.request.Request):
    deadline: _Deadline


def _watched_connection(http_class: Any, deadline: _Deadline) -> Callable[..., Any]:
    """`http_class`, whose socket is created within the deadline and watched by it."""

    def make(*args: Any, **kwargs: Any) -> Any:
        conn = http_class(*args, **kwargs)
        create = conn._create_connection

        def create_watched(address: Any, timeout: Any = None, source_address: Any = None) -> Any:
            # Each read also times out at the deadline, should the timer not wake it.
            sock = create(address, deadline.remaining(), source_address)
            deadline.watch(sock)
            return sock

        conn._create_connection = create_watched
        return conn

    return make


class _DeadlineOpen:
    # Mixed into the HTTP and HTTPS handlers: every connection they open is watched.
    def do_open(self, http_class: Any, req: Any, **http_conn_args: Any) -> Any:
        deadline = getattr(req, "deadline", None)
        if deadline is not None:
            http_class = _watched_connection(http_class, deadline)
        return super().do_open(http_class, req, **http_conn_args)  # type: ignore[misc]


class _HTTPHandler(_DeadlineOpen, urllib.request.HTTPHandler):
    pass


class _HTTPSHandler(_DeadlineOpen, urllib.request.HTTPSHandler):
    pass


class UrllibTransport:
    """`HttpTransport` on urllib: TLS verified by the system store, redirects not followed,
    `timeout` a total deadline."""

    def __init__(self) -> None:
        self._opener = urllib.request.build_opener(_NoRedirect(), _HTTPHandler(), _HTTPSHandler())

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None = None,
        timeout: float,
    ) -> HttpResponse:
        req = _Request(url, data=body, headers=dict(headers), method=method)
        host = urllib.parse.urlsplit(url).netloc
        with _Deadline(timeout) as deadline:
            req.deadline = deadline
            try:
                return self._send(req, host, deadline)
            except NetworkError as err:
                if deadline.expired:
                    raise _too_slow(host, timeout) from err
                raise

    def _send(self, req: _Request, host: str, deadline: _Deadline) -> HttpResponse:
        try:
            with self._opener.open(req, timeout=deadline.remaining()) as resp:
                response = HttpResponse(resp.status, _read(resp), _lower(resp.headers))
        except urllib.error.HTTPError as err:
            try:
                data = _read(err)
            except NetworkError:
                data = b""
            response = HttpResponse(err.code, data, _lower(err.headers))
        except urllib.error.URLError as err:
            raise _network_error(err.reason, host) from err
        except (OSError, http.client.HTTPException) as err:
            raise _network_error(err, host) from err
        if deadline.finish():
            # A body without Content-Length just ends when its socket is shut down.
            raise NetworkError(f"{host} did not answer in time", "timeout")
        return response


def _read(resp: Any) -> bytes:
    try:
        data: bytes = resp.read(MAX_BODY_BYTES + 1)
    except (OSError, http.client.HTTPException) as err:
        raise _network_error(err, "the server") from err
    # read(amt) returns a short body instead of raising when the peer closes early.
    declared = (resp.headers.get("Content-Length") or "").strip() if resp.headers else ""
    if declared.isdigit() and len(data) < min(int(declared), MAX_BODY_BYTES):
        raise NetworkError("connection to the server was cut off mid-answer", "reset")
    return data[:MAX_BODY_BYTES]


def _lower(headers: Any) -> dict[str, str]:
    if headers is None:
        return {}
    return {k.lower(): v for k, v in headers.items()}


def _too_slow(host: str, seconds: float) -> NetworkError:
    return NetworkError(f"{host} did not answer in time (limit {seconds:g} s)", "timeout")


def _network_error(reason: object, host: str) -> NetworkError:
    if isinstance(reason, socket.gaierror):
        return NetworkError(f"cannot resolve {host} (offline or DNS failure)", "dns")
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return NetworkError(f"{host} did not answer in time", "timeout")
    if isinstance(reason, ConnectionRefusedError):
        return NetworkError(f"{host} refused the connection", "refused")
    if isinstance(reason, (ConnectionResetError, http.client.IncompleteRead,
                           http.client.RemoteDisconnected, ConnectionAbortedError)):
        return NetworkError(f"connection to {host} was cut off", "reset")
    if isinstance(reason, ssl.SSLError):
        return NetworkError(f"secure connection to {host} failed ({reason.reason})", "tls")
    if isinstance(reason, str) and "timed out" in reason:
        return NetworkError(f"{host} did not answer in time", "timeout")
    return NetworkError(f"cannot reach {host} ({reason.__class__.__name__})", "network")
