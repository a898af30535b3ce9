"""The stdlib transport against real sockets: every failure becomes a NetworkError with a reason."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from claude_pulse.errors import NetworkError
from claude_pulse.services.http import UrllibTransport


@pytest.fixture
def raw_server() -> Iterator[tuple[int, list[bytes]]]:
    """A TCP server whose behaviour each test scripts by the bytes it answers with."""
    replies: list[bytes] = []
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(5)
    sock.settimeout(5)

    def serve() -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                if replies:
                    reply = replies.pop(0)
                    if reply == b"HANG":
                        threading.Event().wait(3)
                    elif reply == b"RST":
                        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                        b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    else:
                        conn.sendall(reply)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield sock.getsockname()[1], replies
    sock.close()


def test_ok_and_http_errors_are_responses(raw_server: tuple[int, list[bytes]]) -> None:
    port, replies = raw_server
    replies.append(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: b\r\n\r\n{}")
    replies.append(b"HTTP/1.1 429 Too Many\r\nRetry-After: 7\r\nContent-Length: 0\r\n\r\n")
    t = UrllibTransport()
    ok = t.request("GET", f"http://127.0.0.1:{port}/", headers={}, timeout=2)
    assert ok.status == 200 and ok.json() == {} and ok.header("x-a") == "b"
    limited = t.request("GET", f"http://127.0.0.1:{port}/", headers={}, timeout=2)
    assert limited.status == 429 and limited.header("Retry-After") == "7"


def test_redirects_are_not_followed(raw_server: tuple[int, list[bytes]]) -> None:
    port, replies = raw_server
    replies.append(b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.2:9/\r\n"
                   b"Content-Length: 0\r\n\r\n")
    resp = UrllibTransport().request("GET", f"http://127.0.0.1:{port}/", headers={}, timeout=2)
    assert resp.status == 302


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        pytest.param(b"HANG", "timeout", id="slow-server"),
        pytest.param(b"RST", "reset", id="reset-before-answer"),
        pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"five", "reset",
                     id="cut-mid-body"),
    ],
)
def test_failures_become_network_errors(raw_server: tuple[int, list[bytes]], reply: bytes,
                                        reason: str) -> None:
    port, replies = raw_server
    replies.append(reply)
    with pytest.raises(NetworkError) as info:
        UrllibTransport().request("GET", f"http://127.0.0.1:{port}/", headers={}, timeout=0.5)
    assert info.value.reason == reason


def test_refused() -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(NetworkError) as info:
        UrllibTransport().request("GET", f"http://127.0.0.1:{port}/", headers={}, timeout=2)
    assert info.value.reason == "refused"


def test_dns_failure() -> None:
    # .invalid is reserved (RFC 2606) and never resolves; no packet leaves the machine for it
    # beyond the local resolver.
    with pytest.raises(NetworkError) as info:
        UrllibTransport().request("GET", "http://claude-pulse-test.invalid/", headers={},
                                  timeout=2)
    assert info.value.reason == "dns"


