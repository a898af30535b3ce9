"""The HTTP seam's stdlib implementation (the protocol and response type are `core.http`).

Everything that talks to a server takes a `core.http.HttpTransport`, so tests can aim it at the
fake server on loopback (real sockets, no mocks) and nothing else in the app imports urllib. Library
errors become `NetworkError` here, with a `reason` the poller and the user can act on.

`timeout` is a TOTAL deadline for the whole request (connect, headers, body), not a per-read
timeout: a server that sends one byte every few seconds never trips a per-read timeout, and would
hold `status`, the refresh lock or the tray's poll for as long as it liked. A timer shuts the
request's socket down when the deadline passes, which wakes whatever read is blocked on it; the
name is looked up on a thread of its own, so a hung resolver cannot outlast the deadline either.

Certificates are checked against the OS trust store (`truststore`: the Windows and macOS stores,
so a company's TLS-inspection root is trusted as the browser trusts it; OpenSSL's defaults on
Linux), plus `SSL_CERT_FILE` / `SSL_CERT_DIR` when set. Proxies are urllib's (`HTTPS_PROXY`,
`HTTP_PROXY`, `NO_PROXY`, and the Windows or macOS system settings; no PAC or WPAD), except that
loopback URLs — the fake server, the demo, the login callback — never go through one. A request
that fails at the proxy says so, naming the proxy and where it was set.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import logging
import os
import socket
import ssl
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from claude_pulse.core.http import HttpResponse
from claude_pulse.errors import NetworkError

__all__ = ["UrllibTransport", "is_loopback", "tls_context"]

log = logging.getLogger(__name__)

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
        self.connected = False  # a TCP connection (to the server or the proxy) was made
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
    via_proxy: tuple[str, str] | None = None  # (host:port, where it was set)


def is_loopback(host: str | None) -> bool:
    """Whether `host` (a name or address, no port) is this machine's loopback."""
    if not host:
        return False
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _proxy_source(scheme: str) -> str:
    """Where the proxy for `scheme` came from, in the words a user would look for."""
    for name in (f"{scheme}_proxy", f"{scheme.upper()}_PROXY"):
        if os.environ.get(name):
            return name.upper() if sys.platform == "win32" else name
    if sys.platform == "win32":
        return "the Windows proxy settings"
    if sys.platform == "darwin":
        return "the macOS network settings"
    return "the environment"


class _ProxyHandler(urllib.request.ProxyHandler):
    """urllib's proxies (environment, NO_PROXY, Windows registry, macOS settings), except for
    loopback hosts: the fake server, the demo and the login callback are on this machine."""

    def proxy_open(self, req: Any, proxy: str, type: str) -> Any:
        if is_loopback(urllib.parse.urlsplit(req.full_url).hostname):
            return None
        scheme, before = req.type, req.host
        result = super().proxy_open(req, proxy, type)
        if req.host != before:  # set_proxy ran: this request goes through the proxy
            req.via_proxy = (req.host, _proxy_source(scheme))
        return result


def tls_context() -> ssl.SSLContext:
    """The OS trust store, plus SSL_CERT_FILE / SSL_CERT_DIR when set."""
    try:
        # Imported here, on the first HTTPS request: `statusline` from cache never pays for it.
        import truststore

        context: ssl.SSLContext = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    except ImportError as exc:  # an OS truststore does not support (e.g. a very old macOS)
        log.warning("the OS trust store is not available (%s); using OpenSSL's", exc)
        context = ssl.create_default_context()
    cafile = os.environ.get("SSL_CERT_FILE") or None
    capath = os.environ.get("SSL_CERT_DIR") or None
    if cafile or capath:
        # On Linux OpenSSL reads these by itself; the Windows and macOS stores do not.
        try:
            context.load_verify_locations(cafile=cafile, capath=capath)
        except (OSError, ssl.SSLError) as exc:
            where = f"SSL_CERT_FILE ({cafile})" if cafile else f"SSL_CERT_DIR ({capath})"
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise NetworkError(f"the certificates in {where} cannot be used: {reason}",
                               "tls") from None
    return context


def _watched_connection(http_class: Any, deadline: _Deadline) -> Callable[..., Any]:
    """`http_class`, whose socket is created within the deadline and watched by it."""

    def make(*args: Any, **kwargs: Any) -> Any:
        conn = http_class(*args, **kwargs)
        create = conn._create_connection

        def create_watched(address: Any, timeout: Any = None, source_address: Any = None) -> Any:
            error: OSError | None = None
            for ip in _resolve(address[0], address[1], deadline):
                try:
                    # Each read also times out at the deadline, should the timer not wake it.
                    sock = create((ip, address[1]), deadline.remaining(), source_address)
                except OSError as exc:  # the next address, as create_connection would
                    error = exc
                    continue
                deadline.connected = True
                deadline.watch(sock)
                return sock
            raise error or OSError(f"no address for {address[0]}")

        conn._create_connection = create_watched
        return conn

    return make


def _resolve(host: str, port: int, deadline: _Deadline) -> list[str]:
    """The addresses of `host`, looked up on a thread of their own so the deadline holds even
    when the resolver hangs (that thread is left to finish by itself)."""
    try:
        ipaddress.ip_address(host.strip("[]"))
        return [host.strip("[]")]  # already an address: nothing to look up
    except ValueError:
        pass
    answer: list[Any] = []
    done = threading.Event()

    def look_up() -> None:
        try:
            answer.append(socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM))
        except OSError as exc:
            answer.append(exc)
        finally:
            done.set()

    threading.Thread(target=look_up, name="pulse-http-resolve", daemon=True).start()
    if not done.wait(deadline.remaining()):
        raise TimeoutError(f"looking up {host} took too long")
    result = answer[0]
    if isinstance(result, OSError):
        raise result
    return list(dict.fromkeys(str(info[4][0]) for info in result))


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
    """HTTPS with `tls_context()`, made on the first HTTPS request (not for loopback HTTP)."""

    def __init__(self) -> None:
        # Not HTTPSHandler.__init__: from 3.12 it builds a default context right away.
        urllib.request.AbstractHTTPHandler.__init__(self)
        self._tls: ssl.SSLContext | None = None
        self._tls_lock = threading.Lock()

    def https_open(self, req: Any) -> Any:
        with self._tls_lock:
            if self._tls is None:
                self._tls = tls_context()
        return self.do_open(http.client.HTTPSConnection, req, context=self._tls)


class UrllibTransport:
    """`HttpTransport` on urllib: TLS verified by the system store, redirects not followed,
    `timeout` a total deadline."""

    def __init__(self) -> None:
        # Reads the proxy settings (environment, registry) once, here.
        self._opener = urllib.request.build_opener(
            _ProxyHandler(), _NoRedirect(), _HTTPHandler(), _HTTPSHandler())

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
                if req.via_proxy is not None:
                    raise _through_proxy(err, req.via_proxy, host, deadline, timeout) from err
                if deadline.expired or err.reason == "timeout":  # every wait ends at the deadline
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


def _through_proxy(err: NetworkError, proxy: tuple[str, str], host: str, deadline: _Deadline,
                   timeout: float) -> NetworkError:
    """The error of a request sent through a proxy, saying which part failed."""
    hostport, source = proxy
    cause = err.__cause__
    detail = str(cause.reason if isinstance(cause, urllib.error.URLError) else cause or "")
    if not deadline.connected:
        why = {"refused": "it refused the connection", "dns": "its name does not resolve",
               "timeout": f"no answer within {timeout:g} s"}.get(err.reason, err.reason)
        return NetworkError(f"cannot reach the proxy {hostport} set in {source} ({why})",
                            err.reason)
    if detail.startswith("Tunnel connection failed"):
        status = detail.partition(":")[2].strip() or "no reason given"
        return NetworkError(f"the proxy {hostport} set in {source} would not connect to {host} "
                            f"({status})", "network")
    too_slow = deadline.expired or err.reason == "timeout"
    message = str(_too_slow(host, timeout) if too_slow else err).rstrip(".")
    return NetworkError(f"{message}, through the proxy {hostport} set in {source}", err.reason)


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
