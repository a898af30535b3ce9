"""Issue 16 item 1: every request has a TOTAL deadline, not a per-read timeout.

The attack: a server that answers one byte every few seconds. Each byte arrives well within any
per-read timeout, so before the fix `status` hung until the server stopped, a slow token endpoint
held `credentials.lock` (every later run failed "busy refreshing"), and the tray's poll stayed in
flight. Here a real process or the real transport meets the fake server's drip mode.
"""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock

from claude_pulse.config import DEFAULT_TOKEN_TIMEOUT_S, DEFAULT_USAGE_TIMEOUT_S
from claude_pulse.core.snapshot import Snapshot
from claude_pulse.core.status import Phase
from claude_pulse.core.usage import parse_usage
from claude_pulse.errors import NetworkError
from claude_pulse.fake.anthropic import FakeAnthropic, Reply
from claude_pulse.home import Home
from claude_pulse.oauth.constants import OAUTH_BETA
from claude_pulse.services.credentials import CredentialStore
from claude_pulse.services.http import UrllibTransport
from claude_pulse.services.poller import Poller, fetch_deadline_for
from claude_pulse.services.settings import Settings
from claude_pulse.services.snapshot import SnapshotStore
from claude_pulse.wiring import Services
from support.fakes import Clock, FakeScheduler, RecordingNotifier
from support.fixtures_server import seed_credentials


def usage_headers(fake: FakeAnthropic) -> dict[str, str]:
    return {"Authorization": f"Bearer {fake.issue_tokens()['access_token']}",
            "anthropic-beta": OAUTH_BETA}


# ---- the transport ----

@pytest.mark.parametrize("headers", [False, True], ids=["body", "headers-and-body"])
def test_a_dripping_answer_ends_at_the_deadline(fake_server: FakeAnthropic, headers: bool) -> None:
    deadline, drip = 1.0, 0.2  # every byte comes well within any per-read timeout
    fake_server.queue("usage", Reply.drip(drip, headers=headers))
    started = time.monotonic()
    with pytest.raises(NetworkError) as info:
        UrllibTransport().request("GET", fake_server.usage_url, headers=usage_headers(fake_server),
                                  timeout=deadline)
    elapsed = time.monotonic() - started
    assert info.value.reason == "timeout"
    assert "did not answer in time (limit 1 s)" in str(info.value)
    assert deadline - 0.05 <= elapsed < deadline + 0.5
    # The transport is not left broken: the next request is answered at once.
    ok = UrllibTransport().request("GET", fake_server.usage_url,
                                   headers=usage_headers(fake_server), timeout=deadline)
    assert ok.status == 200


@pytest.fixture
def endless_body() -> Iterator[int]:
    """A server whose answer has no Content-Length and whose body never ends (a byte each 0.1 s):
    cut at the deadline, it must not pass for a complete, short body."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Connection: close\r\n\r\n{")
            while not stop.wait(0.1):
                try:
                    conn.sendall(b" ")
                except OSError:
                    return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(listener.getsockname()[1])
    stop.set()
    listener.close()
    thread.join(timeout=5)


def test_a_body_without_length_cut_at_the_deadline_is_a_timeout(endless_body: int) -> None:
    with pytest.raises(NetworkError) as info:
        UrllibTransport().request("GET", f"http://127.0.0.1:{endless_body}/", headers={},
                                  timeout=0.5)
    assert info.value.reason == "timeout"


# ---- `claude-pulse status` as a process ----

def run_status(env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "claude_pulse", "status"], capture_output=True,
                          text=True, timeout=120, env=env or dict(os.environ), check=False)
    return proc, time.monotonic() - started


def write_config(home: Path, fake: FakeAnthropic, **keys: object) -> None:
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    config = {**fake.config_overrides(), "callback_port": 0, **keys}
    (home / "config.json").write_text(json.dumps(config), encoding="utf-8")


def expire_stored_token(home: Path) -> None:
    store = CredentialStore(home / "credentials.json")
    tokens = store.load()
    assert tokens is not None
    store.save(replace(tokens, expires_at=datetime.now(timezone.utc) - timedelta(minutes=1)))


def lock_is_free(home: Path) -> bool:
    try:
        with FileLock(str(home / "credentials.lock"), timeout=0):
            return True
    except TimeoutError:
        return False


def one_line(proc: subprocess.CompletedProcess[str]) -> str:
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


def test_status_ends_at_the_usage_deadline(fake_server: FakeAnthropic, pulse_home: Path) -> None:
    write_config(pulse_home, fake_server, usage_timeout_seconds=3)
    seed_credentials(pulse_home, fake_server)
    fake_server.queue("usage", Reply.drip(1.0))
    proc, elapsed = run_status()
    assert "did not answer in time (limit 3 s)" in one_line(proc)
    assert elapsed < 3 + 2


def test_status_ends_at_the_token_deadline_and_frees_the_lock(
        fake_server: FakeAnthropic, pulse_home: Path) -> None:
    write_config(pulse_home, fake_server, token_timeout_seconds=3)
    seed_credentials(pulse_home, fake_server)
    expire_stored_token(pulse_home)  # so `status` must refresh first
    fake_server.queue("token", Reply.drip(1.0))
    proc, elapsed = run_status()
    assert "did not answer in time (limit 3 s)" in one_line(proc)
    assert elapsed < 3 + 2
    assert lock_is_free(pulse_home)
    # The next run is not told another process is "busy refreshing": the lock went with it.
    # (The fake rotated the refresh token before dripping its answer, so that login is spent,
    # exactly as when a real answer is lost on the way.)
    again, elapsed = run_status()
    assert "busy refreshing" not in one_line(again)
    assert elapsed < 5


def test_statusline_shows_its_cached_line_stale_at_the_deadline(
        fake_server: FakeAnthropic, pulse_home: Path) -> None:
    """Claude Code runs `statusline` every few seconds: before the fix each stuck run lived on
    (one ~25 MB process per poll interval). Now it prints the cached numbers, marked stale."""
    write_config(pulse_home, fake_server, usage_timeout_seconds=3)
    seed_credentials(pulse_home, fake_server)
    now = datetime.now(timezone.utc)
    raw = {"five_hour": {"utilization": 42.0, "resets_at": (now + timedelta(hours=1)).isoformat()},
           "seven_day": {"utilization": 20.0, "resets_at": (now + timedelta(days=3)).isoformat()}}
    SnapshotStore(pulse_home / "snapshot.json").save(
        Snapshot(now - timedelta(hours=1), parse_usage(raw), raw, "api"))  # due for a fetch
    fake_server.queue("usage", Reply.drip(1.0))
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "claude_pulse", "statusline"],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                          check=False)
    elapsed = time.monotonic() - started
    assert elapsed < 3 + 2
    assert proc.stdout.startswith("5h 42%") and "(stale" in proc.stdout, proc.stdout
    assert len(fake_server.requests_to("usage")) == 1


# The child: name resolution hangs (a dead DNS server), and sockets reach loopback only.
_HUNG_RESOLVER = """
import socket, sys, time
real = socket.getaddrinfo

def hung(host, *args, **kwargs):
    if host not in ("127.0.0.1", "localhost", "::1"):
        time.sleep(60)
    return real(host, *args, **kwargs)

socket.getaddrinfo = hung
from claude_pulse.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_hung_name_lookup_ends_at_the_deadline_too(
        fake_server: FakeAnthropic, pulse_home: Path) -> None:
    write_config(pulse_home, fake_server, usage_timeout_seconds=3,
                 usage_url="https://usage.pulse.invalid/api/oauth/usage")
    seed_credentials(pulse_home, fake_server)
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", _HUNG_RESOLVER, "status"], capture_output=True,
                          text=True, timeout=60, check=False)
    elapsed = time.monotonic() - started
    assert "usage.pulse.invalid did not answer in time (limit 3 s)" in one_line(proc)
    assert elapsed < 3 + 2


@pytest.mark.slow
def test_status_under_a_five_second_drip_with_the_default_deadlines(tmp_path: Path) -> None:
    """The issue's case as stated: 1 byte every 5 s, default deadlines (15 s usage, 30 s token),
    both attacks at once in two homes so the test costs one token deadline. The time is counted
    from the dripped request's arrival: the deadline is the request's, and under load the
    interpreter's start alone has taken over 2 s."""
    def attack(endpoint: str, home: Path) -> tuple[subprocess.CompletedProcess[str], float, bool]:
        with FakeAnthropic() as fake:
            write_config(home, fake)
            seed_credentials(home, fake)
            if endpoint == "token":
                expire_stored_token(home)
            fake.queue(endpoint, Reply.drip(5.0))
            proc, _ = run_status({**os.environ, "CLAUDE_PULSE_HOME": str(home)})
            elapsed = time.monotonic() - fake.requests_to(endpoint)[0].at
            return proc, elapsed, lock_is_free(home)

    with ThreadPoolExecutor(2) as pool:
        usage = pool.submit(attack, "usage", tmp_path / "usage")
        token = pool.submit(attack, "token", tmp_path / "token")
        for future, limit in ((usage, DEFAULT_USAGE_TIMEOUT_S), (token, DEFAULT_TOKEN_TIMEOUT_S)):
            proc, elapsed, free = future.result()
            assert f"did not answer in time (limit {limit} s)" in one_line(proc)
            assert elapsed < limit + 2
            assert free


# ---- the tray's poller ----

MainQueue = queue.Queue[Callable[[], None]]


def tray_services(fake: FakeAnthropic, pulse_home: Path, **config: object,
                  ) -> tuple[Services, Clock, FakeScheduler, MainQueue]:
    """A logged-in tray's services on a fake clock and scheduler; `main` is its UI thread's
    queue (the test runs what the worker posts)."""
    write_config(pulse_home, fake, **config)
    seed_credentials(pulse_home, fake)
    home = Home(pulse_home)
    clock = Clock()
    services = Services(home, Settings(home.config), clock=clock, notifier=RecordingNotifier())
    return services, clock, FakeScheduler(clock), queue.Queue()


def test_the_tray_marks_a_dripping_poll_stale_at_the_deadline_and_polls_again(
        fake_server: FakeAnthropic, pulse_home: Path) -> None:
    services, _, scheduler, main = tray_services(fake_server, pulse_home,
                                                 usage_timeout_seconds=2)
    poller = services.poller(scheduler=scheduler, post=main.put, on_status=lambda s: None)

    def settle(within: float) -> float:
        started = time.monotonic()
        main.get(timeout=within)()
        return time.monotonic() - started

    try:
        poller.start()
        settle(10)
        assert poller.status.phase is Phase.OK
        fake_server.queue("usage", Reply.drip(0.5))
        scheduler.fire_next()
        assert settle(2 + 1.5) >= 1.9
        status = poller.status
        assert status.phase is Phase.OFFLINE and status.is_stale
        assert "did not answer in time" in (status.message or "")
        delay = scheduler.next_delay()
        assert delay is not None and 24 <= delay <= 36  # the offline back-off
        scheduler.fire_next()  # polls again: the drip did not leave a poll in flight
        settle(10)
        assert poller.status.phase is Phase.OK and not poller.status.is_stale
        assert len(fake_server.requests_to("usage")) == 3
    finally:
        poller.stop()
        services.close()


class HeldFetcher:
    """The real fetcher, except that a fetch started while `hold` is set waits for `release`:
    stuck somewhere no request deadline reaches (a hung file system, name resolution)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.hold = threading.Event()
        self.release = threading.Event()

    def fetch(self, *, min_spacing_s: float | None = None) -> Any:
        if self.hold.is_set():
            self.release.wait(30)
        return self._inner.fetch(min_spacing_s=min_spacing_s)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_a_fetch_stuck_past_its_deadline_fails_and_never_blocks_later_polls(
        fake_server: FakeAnthropic, pulse_home: Path) -> None:
    services, clock, scheduler, main = tray_services(fake_server, pulse_home)
    fetcher = HeldFetcher(services.fetcher)
    poller = Poller(fetcher=fetcher, account=services.login, settings=services.settings,
                    trends=services.trends, clock=clock, scheduler=scheduler, post=main.put,
                    on_status=lambda s: None, notifier=services.notifier)
    deadline = fetch_deadline_for(services.settings.current())
    assert deadline == DEFAULT_TOKEN_TIMEOUT_S + 2 * DEFAULT_USAGE_TIMEOUT_S + 5
    try:
        poller.start()
        main.get(timeout=10)()
        assert poller.status.phase is Phase.OK
        fetcher.hold.set()
        scheduler.fire_next()  # the next poll: stuck
        assert scheduler.next_delay() == deadline  # its watchdog
        assert poller.refresh_now() is None  # still in flight: nothing new yet
        scheduler.fire_next()  # the deadline passes
        status = poller.status
        assert status.phase is Phase.OFFLINE and status.is_stale
        assert status.message == f"The usage check did not finish within {deadline:g} s."
        delay = scheduler.next_delay()
        assert delay is not None and 24 <= delay <= 36  # the offline back-off
        fetcher.hold.clear()
        fetcher.release.set()
        main.get(timeout=10)()  # the stuck fetch's late answer: dropped
        assert poller.status == status
        assert scheduler.next_delay() == delay
        assert poller.refresh_now() is None  # Refresh now works again at once
        main.get(timeout=10)()
        assert poller.status.phase is Phase.OK and not poller.status.is_stale
        delay = scheduler.next_delay()
        assert delay is not None and 162 <= delay <= 198  # the normal interval, ±10 %
        assert len(scheduler.timers) == 1  # and no watchdog left behind
    finally:
        poller.stop()
        services.close()
