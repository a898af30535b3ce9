"""The OAuth loopback listener under hostile or clumsy local traffic (oauth/loopback.py).

Anything on this machine can connect to the callback port while a login waits. None of it may
end the wait, hang the listener, or make the app exchange a code: only the browser's redirect
with the right `state` counts, exactly once. After success or timeout the port is closed.

The end-to-end tests run a whole `LoginSession` against the fake server and play the browser
with plain HTTP (the authorize endpoint answers with the redirect; the test follows it by hand),
so "no exchange" is counted by the server itself.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from claude_pulse import config as config_mod
from claude_pulse.core.tokens import TokenSet
from claude_pulse.errors import LoginError, LoginTimeout
from claude_pulse.fake.anthropic import FakeAnthropic
from claude_pulse.oauth.loopback import SUCCESS_TITLE, LoopbackReceiver
from claude_pulse.services.credentials import CredentialStore
from claude_pulse.services.http import UrllibTransport
from claude_pulse.services.login import LoginSession

STATE = "s" * 43


def get(port: int, target: str, *, timeout: float = 5.0,
        host: str = "127.0.0.1") -> tuple[int, str]:
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", target)
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8", "replace")
    finally:
        conn.close()


def refused(port: int, host: str = "127.0.0.1") -> bool:
    try:
        socket.create_connection((host, port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


@pytest.fixture
def receiver() -> Iterator[LoopbackReceiver]:
    with LoopbackReceiver(0) as r:
        r.expect_state(STATE)
        yield r


def _not_done(r: LoopbackReceiver) -> bool:
    with pytest.raises(LoginTimeout):
        r.wait(0.05)
    return True


# ---- bound to loopback only ----

def _other_local_addresses() -> list[str]:
    """This machine's non-loopback IPv4 addresses (may be none in a sandbox)."""
    found: set[str] = set()
    with contextlib.suppress(OSError):
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.add(str(info[4][0]))
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("10.255.255.255", 1))  # no packet is sent; picks the outgoing interface
        found.add(s.getsockname()[0])
    return sorted(a for a in found if not a.startswith(("127.", "0.")))


def test_listens_on_loopback_only(receiver: LoopbackReceiver) -> None:
    addresses = {s.server_address[0] for s in receiver._servers}
    assert addresses <= {"127.0.0.1", "::1"}
    # Another loopback address of the same /8 is not 127.0.0.1: nothing answers there...
    assert refused(receiver.port, "127.0.0.2")
    # ...nor on any other address of this machine.
    for address in _other_local_addresses():
        assert refused(receiver.port, address), address
    assert get(receiver.port, "/callback?code=x&state=wrong")[0] == 400  # but loopback works


# ---- requests that must not end the wait ----

@pytest.mark.parametrize(
    ("target", "status", "title"),
    [
        pytest.param("/", 404, "Not found", id="root"),
        pytest.param("/favicon.ico", 404, "Not found", id="favicon"),
        pytest.param(f"/callbackx?code=c&state={STATE}", 404, "Not found", id="path-prefix"),
        pytest.param(f"/other/callback?code=c&state={STATE}", 404, "Not found", id="wrong-path"),
        pytest.param("/callback", 400, "Not a login answer", id="no-params"),
        pytest.param(f"/callback?state={STATE}", 400, "Not a login answer", id="state-no-code"),
        pytest.param("/callback?code=c", 400, "State mismatch", id="missing-state"),
        pytest.param("/callback?code=c&state=", 400, "State mismatch", id="empty-state"),
        pytest.param("/callback?code=c&state=forged", 400, "State mismatch", id="wrong-state"),
        pytest.param(f"/callback?code=c&state={STATE}x", 400, "State mismatch",
                     id="state-with-suffix"),
        pytest.param(f"/callback?code=c&state={STATE[:-1]}", 400, "State mismatch",
                     id="state-prefix"),
        pytest.param("/callback?error=access_denied&state=forged", 400, "State mismatch",
                     id="error-with-wrong-state"),
        pytest.param("/callback?code=<script>alert(1)</script>&state=x", 400, "State mismatch",
                     id="html-in-code"),
    ],
)
def test_stray_request_is_answered_and_ignored(receiver: LoopbackReceiver, target: str,
                                               status: int, title: str) -> None:
    got, page = get(receiver.port, target)
    assert got == status and title in page
    assert "<script>" not in page
    assert _not_done(receiver)


def test_callback_before_the_state_is_known_is_refused() -> None:
    with LoopbackReceiver(0) as r:
        got, page = get(r.port, f"/callback?code=c&state={STATE}")
        assert got == 400 and "State mismatch" in page
        r.expect_state(STATE)
        assert _not_done(r)


def test_other_methods_do_not_count(receiver: LoopbackReceiver) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", receiver.port, timeout=5)
    conn.request("POST", f"/callback?code=c&state={STATE}", body=b"x")
    assert conn.getresponse().status == 501
    conn.close()
    assert _not_done(receiver)


def test_first_valid_callback_wins_and_repeats_change_nothing(
        receiver: LoopbackReceiver) -> None:
    pages: list[tuple[int, str]] = []
    first = threading.Thread(target=lambda: pages.append(
        get(receiver.port, f"/callback?code=first&state={STATE}")))
    first.start()
    assert receiver.wait(5) == {"code": "first", "state": STATE}
    again = get(receiver.port, f"/callback?code=second&state={STATE}")
    assert again[0] == 200 and "already finished" in again[1]
    receiver.finish(True, "Logged in.")
    first.join(5)
    assert pages[0][0] == 200 and SUCCESS_TITLE.split(" —")[0] in pages[0][1]
    assert receiver.wait(0.1)["code"] == "first"


# ---- slow and never-ending requests ----

def _stall(port: int, data: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    if data:
        sock.sendall(data)
    return sock


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="connect-and-say-nothing"),
        pytest.param(b"GET /callback?code=x&st", id="half-a-request-line"),
        pytest.param(b"GET /callback?code=x HTTP/1.1\r\nHost: a\r\n", id="headers-never-end"),
        pytest.param(b"G", id="one-byte"),
    ],
)
def test_stalled_requests_do_not_block_the_real_callback(receiver: LoopbackReceiver,
                                                         data: bytes) -> None:
    stalled = [_stall(receiver.port, data) for _ in range(5)]
    try:
        started = time.monotonic()
        result: list[tuple[int, str]] = []
        browser = threading.Thread(target=lambda: result.append(
            get(receiver.port, f"/callback?code=real&state={STATE}")))
        browser.start()
        assert receiver.wait(5)["code"] == "real"
        receiver.finish(True)
        browser.join(5)
        assert result and result[0][0] == 200
        assert time.monotonic() - started < 2
    finally:
        for sock in stalled:
            sock.close()


def test_close_does_not_wait_for_stalled_connections() -> None:
    r = LoopbackReceiver(0)
    stalled = [_stall(r.port, b"GET /callback?code=x&st") for _ in range(3)]
    try:
        started = time.monotonic()
        r.close()
        assert time.monotonic() - started < 2
        assert refused(r.port)
    finally:
        for sock in stalled:
            sock.close()


@pytest.mark.slow
def test_a_stalled_connection_is_dropped_by_the_listener(receiver: LoopbackReceiver) -> None:
    """A local program that never finishes its request cannot hold a listener thread for long."""
    sock = _stall(receiver.port, b"GET /callback?code=x&st")
    sock.settimeout(6.5)
    try:
        assert sock.recv(1024) is not None  # b"" (closed) or an error page; not a hang
    except TimeoutError:
        pytest.fail("the listener kept a half-sent request open for 6.5 s")
    finally:
        sock.close()


# ---- a burst ----

@pytest.mark.slow
def test_burst_of_50_hostile_requests_neither_hangs_nor_ends_the_wait(
        receiver: LoopbackReceiver) -> None:
    targets = [f"/callback?code=c{i}&state=forged{i}" for i in range(20)]
    targets += [f"/x{i}" for i in range(10)]
    targets += [f"/callback?error=access_denied&state=e{i}" for i in range(10)]
    targets += ["/callback?code=c&state=" + "A" * 4000 for _ in range(10)]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(lambda t: get(receiver.port, t)[0], targets))
    assert len(statuses) == 50 and set(statuses) <= {400, 404}
    assert time.monotonic() - started < 10
    with pytest.raises(LoginTimeout) as info:
        receiver.wait(0.2)
    assert "40 answer(s) from another login attempt were refused" in str(info.value)
    # Still listening, and the real answer still works.
    browser = threading.Thread(target=get, args=(receiver.port,
                                                 f"/callback?code=ok&state={STATE}"))
    browser.start()
    assert receiver.wait(5)["code"] == "ok"
    receiver.finish(True)
    browser.join(5)


# ---- the whole login: the server counts the exchanges ----

class Browser:
    """Plays the user's browser: asks the fake authorize endpoint, follows its redirect."""

    def __init__(self) -> None:
        self.url: str | None = None
        self.ready = threading.Event()

    def open(self, url: str) -> bool:
        self.url = url
        self.ready.set()
        return True

    def redirect(self) -> str:
        assert self.ready.wait(5) and self.url is not None
        parts = urllib.parse.urlsplit(self.url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
        conn.request("GET", f"{parts.path}?{parts.query}")
        resp = conn.getresponse()
        location = resp.getheader("location")
        resp.read()
        conn.close()
        assert resp.status == 302 and location is not None
        return location

    def port(self) -> int:
        assert self.url is not None
        redirect_uri = urllib.parse.parse_qs(urllib.parse.urlsplit(self.url).query)
        port = urllib.parse.urlsplit(redirect_uri["redirect_uri"][0]).port
        assert port is not None
        return port


def _session(fake: FakeAnthropic, home: Path, browser: Browser,
             timeout: float) -> tuple[LoginSession, CredentialStore]:
    config = config_mod.parse({**fake.config_overrides(), "callback_port": 0}).config
    store = CredentialStore(home / "credentials.json")
    return LoginSession(lambda: config, store, UrllibTransport(), open_browser=browser.open,
                        timeout=timeout), store


def _run(session: LoginSession) -> tuple[threading.Thread, list[object]]:
    out: list[object] = []

    def target() -> None:
        try:
            out.append(session.run())
        except LoginError as exc:
            out.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    return thread, out


def test_hostile_traffic_never_triggers_an_exchange_and_the_real_login_exchanges_once(
        fake_server: FakeAnthropic, pulse_home: Path) -> None:
    pulse_home.mkdir(parents=True, exist_ok=True)
    browser = Browser()
    session, store = _session(fake_server, pulse_home, browser, timeout=20)
    thread, out = _run(session)
    location = browser.redirect()
    port = browser.port()
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["code"][0]

    # Before the real browser arrives: forged states (even with the real code), stalls, junk.
    stalled = [_stall(port, b"GET /callback?co") for _ in range(5)]
    with ThreadPoolExecutor(max_workers=25) as pool:
        forged = [f"/callback?code={code}&state=forged{i}" for i in range(25)]
        forged += [f"/callback?code={code}" for _ in range(25)]
        assert set(pool.map(lambda t: get(port, t)[0], forged)) == {400}
    assert fake_server.exchange_count == 0 and not store.path.exists()

    status, page = get(port, urllib.parse.urlsplit(location).path + "?" +
                       urllib.parse.urlsplit(location).query)
    assert status == 200 and "Authentication successful" in page
    for _ in range(3):  # the user reloads the page; a restored tab sends it again
        try:
            again = get(port, location.split(str(port), 1)[1])
        except (ConnectionRefusedError, ConnectionResetError, http.client.RemoteDisconnected):
            continue  # the listener is closing or closed: fine too
        assert "already finished" in again[1]
    thread.join(10)
    for sock in stalled:
        sock.close()
    assert isinstance(out[0], TokenSet)
    assert fake_server.exchange_count == 1
    assert store.load() is not None
    assert refused(port)  # stops listening after success


def test_stops_listening_after_timeout(fake_server: FakeAnthropic, pulse_home: Path) -> None:
    browser = Browser()
    session, store = _session(fake_server, pulse_home, browser, timeout=0.5)
    thread, out = _run(session)
    assert browser.ready.wait(5)
    port = browser.port()
    thread.join(10)
    assert isinstance(out[0], LoginTimeout)
    assert refused(port)
    assert fake_server.exchange_count == 0 and not store.path.exists()
