"""A real HTTP CONNECT proxy on 127.0.0.1 that inspects TLS, the way a company's proxy does.

It never connects anywhere but loopback: `routes` maps a CONNECT target ("api.anthropic.com:443")
to a loopback HTTP server (the fake Anthropic). For a routed target the proxy answers
`200 Connection established`, then completes the TLS handshake itself with a certificate for
Anthropic's hosts signed by the test's own root (`certs/tls-inspection-root.pem`, trusted by a
client only through SSL_CERT_FILE) and relays the decrypted bytes. Any other target gets
`403 Forbidden`; a plain (non-CONNECT) proxy request gets `502` and is only recorded, so a test
can prove that loopback traffic never reached the proxy.

    with ConnectProxy({"api.anthropic.com:443": ("127.0.0.1", fake.port)}) as proxy:
        env["HTTPS_PROXY"] = proxy.url

`guarded_cli` runs `claude-pulse` in a child whose sockets may connect to loopback only: should
the app ever ignore the proxy, the test fails instead of reaching a real host.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import ssl
import sys
import threading
from pathlib import Path
from types import TracebackType

__all__ = ["CERTS", "ROOT_CA", "ConnectProxy", "guarded_cli"]

CERTS = Path(__file__).parent / "certs"
ROOT_CA = CERTS / "tls-inspection-root.pem"
_MAX_HEAD = 8192
_IDLE_S = 20.0


class ConnectProxy:
    def __init__(self, routes: dict[str, tuple[str, int]]) -> None:
        for host, _port in routes.values():
            assert host in ("127.0.0.1", "::1"), "the test proxy relays to loopback only"
        self.routes = dict(routes)
        self.connects: list[str] = []  # CONNECT targets, in order (routed or not)
        self.plain_requests: list[str] = []  # request lines of non-CONNECT requests
        self._tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._tls.load_cert_chain(CERTS / "anthropic-hosts.pem", CERTS / "anthropic-hosts.key")
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._port = int(self._listener.getsockname()[1])
        self._closing = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ConnectProxy:
        thread = threading.Thread(target=self._accept, name="test-connect-proxy", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._closing.set()
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        self._listener.close()
        for thread in list(self._threads):
            thread.join(timeout=5)

    def __enter__(self) -> ConnectProxy:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            if self._closing.is_set():
                conn.close()
                return
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            with self._lock:
                self._threads.append(thread)

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(_IDLE_S)
            try:
                head = _read_head(conn)
            except OSError:
                return
            line = head.split(b"\r\n", 1)[0].decode("latin-1")
            method, _, rest = line.partition(" ")
            if method != "CONNECT":
                with self._lock:
                    self.plain_requests.append(line)
                conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n"
                             b"Connection: close\r\n\r\n")
                return
            target = rest.split(" ", 1)[0]
            with self._lock:
                self.connects.append(target)
            route = self.routes.get(target)
            if route is None:
                conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                return
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            try:
                with self._tls.wrap_socket(conn, server_side=True) as tls, \
                        socket.create_connection(route, timeout=_IDLE_S) as upstream:
                    _relay(tls, upstream)
            except (OSError, ssl.SSLError):
                return  # the client refused our certificate, or hung up


def _read_head(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(1024)
        if not chunk or len(data) > _MAX_HEAD:
            raise ConnectionError("no request head")
        data += chunk
    return data


def _relay(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes both ways on one thread (an SSL socket must not be read and written from two)."""
    with selectors.DefaultSelector() as sel:
        sel.register(a, selectors.EVENT_READ, b)
        sel.register(b, selectors.EVENT_READ, a)
        while True:
            ready = sel.select(timeout=_IDLE_S)
            if not ready:
                return
            for key, _ in ready:
                src: socket.socket = key.fileobj  # type: ignore[assignment]
                dst: socket.socket = key.data
                data = src.recv(65536)
                if not data:
                    return
                dst.sendall(data)
                # TLS may hold decrypted bytes the selector cannot see.
                while isinstance(src, ssl.SSLSocket) and src.pending():
                    dst.sendall(src.recv(65536))


# The child: every socket may connect to loopback only, then the real CLI runs.
_GUARD = """
import ipaddress, socket, sys

def _loopback_only(connect):
    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if not ipaddress.ip_address(host).is_loopback:
            raise PermissionError(f"test guard: no connection to {host} outside loopback")
        return connect(self, address)
    return guarded

socket.socket.connect = _loopback_only(socket.socket.connect)
socket.socket.connect_ex = _loopback_only(socket.socket.connect_ex)
from claude_pulse.cli import main
sys.exit(main(sys.argv[1:]))
"""


def guarded_cli(*args: str) -> list[str]:
    """argv for `claude-pulse ARGS` in a child that can reach loopback only."""
    return [sys.executable, "-c", _GUARD, *args]
