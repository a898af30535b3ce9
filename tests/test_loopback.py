"""The loopback receiver, driven by a scripted HTTP "browser" on real sockets."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from claude_pulse.core.http import HttpResponse
from claude_pulse.errors import LoginError, LoginTimeout
from claude_pulse.oauth.loopback import SUCCESS_TITLE, LoopbackReceiver
from claude_pulse.services.http import UrllibTransport

STATE = "expected-state-value"


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(4) as executor:
        yield executor


@pytest.fixture
def receiver() -> Iterator[LoopbackReceiver]:
    with LoopbackReceiver(0) as rx:
        rx.expect_state(STATE)
        yield rx


def get(url: str) -> HttpResponse:
    return UrllibTransport().request("GET", url, headers={}, timeout=10)


def browse(pool: ThreadPoolExecutor, rx: LoopbackReceiver, query: str,
           path: str = "/callback", host: str = "127.0.0.1") -> Future[HttpResponse]:
    return pool.submit(get, f"http://{host}:{rx.port}{path}?{query}")


def text(resp: HttpResponse) -> str:
    return resp.body.decode("utf-8")


def test_redirect_uri_says_localhost_and_the_chosen_port(receiver: LoopbackReceiver) -> None:
    assert receiver.port > 0
    assert receiver.redirect_uri == f"http://localhost:{receiver.port}/callback"


def test_callback_returns_params_and_browser_sees_success(
        receiver: LoopbackReceiver, pool: ThreadPoolExecutor) -> None:
    page = browse(pool, receiver, f"code=C1&state={STATE}&extra=dropped")
    assert receiver.wait(5) == {"code": "C1", "state": STATE}
    assert not page.done()  # held open until the exchange is known
    receiver.finish(True, "Logged in as pulse@example.com.")
    resp = page.result(5)
    assert resp.status == 200
    assert SUCCESS_TITLE in text(resp) and "pulse@example.com" in text(resp)
    assert resp.header("referrer-policy") == "no-referrer"
    assert resp.header("cache-control") == "no-store"


@pytest.mark.parametrize(("path", "query", "status"), [
    pytest.param("/favicon.ico", "", 404, id="favicon"),
    pytest.param("/", "code=C1&state=" + STATE, 404, id="wrong-path"),
    pytest.param("/callback", "", 400, id="no-params"),
    pytest.param("/callback", "foo=bar", 400, id="unrelated-params"),
])
def test_stray_requests_do_not_end_the_wait(receiver: LoopbackReceiver, pool: ThreadPoolExecutor,
                                            path: str, query: str, status: int) -> None:
    assert browse(pool, receiver, query, path).result(5).status == status
    with pytest.raises(LoginTimeout):
        receiver.wait(0.3)
    # ... and the real callback still works afterwards.
    page = browse(pool, receiver, f"code=C2&state={STATE}")
    assert receiver.wait(5)["code"] == "C2"
    receiver.finish(True)
    assert page.result(5).status == 200


@pytest.mark.parametrize("query", [
    pytest.param("code=C1&state=wrong", id="wrong-state"),
    pytest.param("code=C1", id="no-state"),
    pytest.param("error=access_denied&state=wrong", id="error-wrong-state"),
])
def test_wrong_state_gets_error_page_and_is_not_used(
        receiver: LoopbackReceiver, pool: ThreadPoolExecutor, query: str) -> None:
    resp = browse(pool, receiver, query).result(5)
    assert resp.status == 400 and "State mismatch" in text(resp)
    with pytest.raises(LoginTimeout, match="1 answer"):
        receiver.wait(0.3)


def test_callback_before_state_is_known_is_refused(pool: ThreadPoolExecutor) -> None:
    with LoopbackReceiver(0) as rx:
        resp = browse(pool, rx, "code=C1&state=anything").result(5)
        assert resp.status == 400


def test_error_callback_with_right_state_ends_the_wait(
        receiver: LoopbackReceiver, pool: ThreadPoolExecutor) -> None:
    page = browse(pool, receiver, f"error=access_denied&error_description=no&state={STATE}")
    assert receiver.wait(5) == {"error": "access_denied", "error_description": "no",
                                "state": STATE}
    receiver.finish(False, "The login was denied.")
    resp = page.result(5)
    assert resp.status == 400 and "Login failed" in text(resp)


@pytest.mark.parametrize(("success", "detail"), [
    pytest.param(True, "Logged in as <script>alert(1)</script>@x.", id="success-detail"),
    pytest.param(False, "<img src=x onerror=alert(1)> & \"quotes\"", id="failure-detail"),
])
def test_everything_echoed_is_escaped(receiver: LoopbackReceiver, pool: ThreadPoolExecutor,
                                      success: bool, detail: str) -> None:
    page = browse(pool, receiver, f"code=C1&state={STATE}")
    receiver.wait(5)
    receiver.finish(success, detail)
    body = text(page.result(5))
    assert "<script>" not in body and "<img" not in body
    assert "&lt;" in body


def test_parameters_are_not_echoed_into_the_page(receiver: LoopbackReceiver,
                                                 pool: ThreadPoolExecutor) -> None:
    body = text(browse(pool, receiver, "code=%3Cscript%3E&state=%3Cmarquee%3E").result(5))
    assert "<script>" not in body and "<marquee>" not in body


def test_repeated_callbacks_keep_the_first(receiver: LoopbackReceiver,
                                           pool: ThreadPoolExecutor) -> None:
    first = browse(pool, receiver, f"code=C1&state={STATE}")
    assert receiver.wait(5)["code"] == "C1"
    second = browse(pool, receiver, f"code=C2&state={STATE}").result(5)
    assert "already finished" in text(second)
    receiver.finish(True)
    assert first.result(5).status == 200
    assert receiver.wait(0)["code"] == "C1"


def test_timeout_is_real_and_clear() -> None:
    with LoopbackReceiver(0) as rx:
        started = time.monotonic()
        with pytest.raises(LoginTimeout, match=r"within 1 s.*--timeout.*--manual"):
            rx.wait(1.0)
        assert 0.9 <= time.monotonic() - started < 3


def test_cancel_from_another_thread_ends_the_wait_quickly() -> None:
    with LoopbackReceiver(0) as rx:
        threading.Timer(0.2, rx.cancel).start()
        started = time.monotonic()
        with pytest.raises(LoginError, match="cancelled"):
            rx.wait(30)
        assert time.monotonic() - started < 2


def test_a_busy_fixed_port_falls_back_to_a_free_one(
        pool: ThreadPoolExecutor, caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as blocker:  # another program holds the configured port
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        port = blocker.getsockname()[1]
        with caplog.at_level("WARNING"), LoopbackReceiver(port) as rx:
            assert rx.port not in (0, port)
            assert rx.redirect_uri == f"http://localhost:{rx.port}/callback"  # follows the port
            rx.expect_state(STATE)
            page = browse(pool, rx, f"code=C1&state={STATE}")
            assert rx.wait(5) == {"code": "C1", "state": STATE}
            rx.finish(True)
            assert page.result(5).status == 200
    assert f"callback port {port} is busy" in caplog.text


@pytest.mark.parametrize("winerror", [pytest.param(10048, id="WSAEADDRINUSE-time-wait"),
                                      pytest.param(10013, id="WSAEACCES-excluded-range")])
def test_a_fixed_port_windows_refuses_falls_back(monkeypatch: pytest.MonkeyPatch,
                                                 winerror: int) -> None:
    """Windows refuses a port still in TIME_WAIT after the last login (our sockets are
    exclusive there, so no SO_REUSEADDR), with WinError 10048; an excluded range gives 10013."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        fixed = probe.getsockname()[1]
    real_bind = socketserver.TCPServer.server_bind

    def windows_bind(server: socketserver.TCPServer) -> None:
        if server.server_address[1] == fixed:
            raise OSError(winerror, "Only one usage of each socket address is normally permitted")
        real_bind(server)

    monkeypatch.setattr(socketserver.TCPServer, "server_bind", windows_bind)
    with LoopbackReceiver(fixed) as rx:
        assert rx.port != fixed and rx.redirect_uri.endswith(f":{rx.port}/callback")


def test_other_bind_errors_are_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(_server: socketserver.TCPServer) -> None:
        raise OSError(99, "Cannot assign requested address")

    monkeypatch.setattr(socketserver.TCPServer, "server_bind", broken)
    with pytest.raises(LoginError, match=r"Cannot listen for the login answer on 127\.0\.0\.1"):
        LoopbackReceiver(19532)


def test_fixed_port_can_be_reused_right_after_a_login(pool: ThreadPoolExecutor) -> None:
    with LoopbackReceiver(0) as first:
        port = first.port
        first.expect_state(STATE)
        page = browse(pool, first, f"code=C1&state={STATE}")
        first.wait(5)
        first.finish(True)
        page.result(5)
    with LoopbackReceiver(port) as second:  # TIME_WAIT must not make it "busy"
        assert second.port == port


def test_close_answers_a_held_browser_request(pool: ThreadPoolExecutor) -> None:
    rx = LoopbackReceiver(0)
    rx.expect_state(STATE)
    page = browse(pool, rx, f"code=C1&state={STATE}")
    rx.wait(5)
    rx.close()
    resp = page.result(5)
    assert resp.status == 400 and "abandoned" in text(resp)


def _has_ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _has_ipv6_loopback(), reason="no ::1 on this machine")
def test_ipv6_loopback_also_receives(receiver: LoopbackReceiver, pool: ThreadPoolExecutor) -> None:
    page = browse(pool, receiver, f"code=C6&state={STATE}", host="[::1]")
    assert receiver.wait(5)["code"] == "C6"
    receiver.finish(True)
    assert page.result(5).status == 200
