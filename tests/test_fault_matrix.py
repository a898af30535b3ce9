"""The fault matrix: every row of spec §6 and design.md §2, plus the network's other bad days.

Each scenario drives the real poller (`services.poller.Poller`, deciding with `core.polling.step`)
over real HTTP against the fake Anthropic server, after one good poll, then injects one fault and
runs the next poll. It checks what a user would notice:

* the phase the app ends in and the banner / one-line message it shows,
* how many requests it made (no retry storms) and when it will try again,
* that `credentials.json` is byte-for-byte unchanged (or, after a refresh, holds a rotated refresh
  token the server still accepts), `config.json` is byte-for-byte unchanged, and the usage history
  gained exactly one row per good answer and none for a bad one.

A second table runs `claude-pulse status` as a subprocess for the same faults: exit code, one line
on stderr, no traceback. docs/reliability.md is the matrix these tests prove.
"""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from claude_pulse.config import DEFAULT_USAGE_TIMEOUT_S
from claude_pulse.core.http import HttpResponse
from claude_pulse.core.status import AppStatus, Phase
from claude_pulse.core.statusline import format_line
from claude_pulse.core.tokens import REFRESH_MARGIN, TokenSet
from claude_pulse.core.viewmodel import deep_dive_view
from claude_pulse.errors import LoginTimeout
from claude_pulse.fake.anthropic import FakeAnthropic, Reply
from claude_pulse.home import Home
from claude_pulse.oauth.flow import refresh_tokens
from claude_pulse.services.http import UrllibTransport
from claude_pulse.services.settings import Settings
from claude_pulse.wiring import Services
from support.fakes import Clock, FakeScheduler, RecordingNotifier, usage_payload
from support.fixtures_server import seed_credentials

# The slow-response scenarios cut the usage requests' timeout to this (through the transport
# seam), so they cost a fraction of a second instead of the default deadline.
SHORT_TIMEOUT_S = 0.3
assert SHORT_TIMEOUT_S < DEFAULT_USAGE_TIMEOUT_S


class UsageTimeoutCap:
    """The real transport, with the usage endpoint's timeout cut to `cap` once it is set, and
    `after_usage` run after each usage answer (a test moves its clock there)."""

    def __init__(self) -> None:
        self.cap: float | None = None
        self.after_usage: Callable[[], None] | None = None
        self._inner = UrllibTransport()

    def request(self, method: str, url: str, *, headers: Mapping[str, str],
                body: bytes | None = None, timeout: float) -> HttpResponse:
        usage = url.endswith("/usage")
        if self.cap is not None and usage:
            timeout = min(timeout, self.cap)
        resp = self._inner.request(method, url, headers=headers, body=body, timeout=timeout)
        if usage and self.after_usage is not None:
            self.after_usage()
        return resp








def closed_port() -> int:
    """A loopback port nothing listens on (bound once, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class App:
    """The app below the GUI, built from the test's home folder and config.json on disk."""

    def __init__(self, server: FakeAnthropic, home: Path, config_path: Path) -> None:
        self.server = server
        self.home = Home(home)
        self.home.ensure()
        self.clock = Clock()
        self.scheduler = FakeScheduler(self.clock)
        self.notifier = RecordingNotifier()
        self.main: queue.Queue[Callable[[], None]] = queue.Queue()
        self.transport = UsageTimeoutCap()
        self.services = Services(self.home, Settings(config_path), clock=self.clock,
                                 transport=self.transport, notifier=self.notifier)
        self.poller = self.services.poller(scheduler=self.scheduler, post=self.main.put,
                                           on_status=lambda s: None)

    # -- setting the scene --

    def login(self, expires_in: float | None = None, scope: str | None = None) -> TokenSet:
        return seed_credentials(self.home.root, self.server, now=self.clock.now,
                                expires_in=expires_in, scope=scope)

    def stored(self) -> TokenSet:
        tokens = self.services.credentials.load()
        assert tokens is not None
        return tokens

    def expire_at_next_poll(self, offset_s: float) -> None:
        """Make the stored token expire `offset_s` after the next poll runs (client's view)."""
        delay = self.scheduler.next_delay()
        assert delay is not None
        when = self.clock.now + timedelta(seconds=delay + offset_s)
        self.services.credentials.save(replace(self.stored(), expires_at=when))

    def reconfigure(self, usage_timeout: float | None = None, **changes: Any) -> None:
        """Point the running app at other URLs (they apply at once), or cut the usage timeout."""
        if changes:
            self.services.settings.update(**changes)
        if usage_timeout is not None:
            self.transport.cap = usage_timeout

    def set_usage(self, session: float, *, session_resets_in: timedelta = timedelta(hours=3),
                  weekly: float = 50.0) -> None:
        self.server.usage = usage_payload(session, weekly, session_resets_in=session_resets_in)

    # -- running it --

    def settle(self) -> AppStatus:
        self.main.get(timeout=15)()
        return self.poller.status

    def tick(self) -> AppStatus:
        self.scheduler.fire_next()
        return self.settle()

    def usage_requests(self) -> int:
        return len(self.server.requests_to("usage"))

    def history_rows(self) -> int:
        return len(self.services.history.points("session", datetime(2000, 1, 1,
                                                                    tzinfo=timezone.utc)))


@pytest.fixture
def app(fake_server: FakeAnthropic, pulse_home: Path, fake_config: Path) -> Any:
    harness = App(fake_server, pulse_home, fake_config)
    yield harness
    harness.poller.stop()
    harness.services.history.close()


# ---- the injections: each changes the world between the good poll and the next one ----

def _expired_token(app: App) -> None:
    app.expire_at_next_poll(-10)


def _refresh_token_revoked(app: App) -> None:
    app.expire_at_next_poll(-10)
    app.server.revoke_refresh_tokens()


def _server_expired_access(app: App) -> None:
    app.server.expire_access_tokens()


def _401_after_refresh_too(app: App) -> None:
    app.server.queue("usage", Reply.unauthorized(), Reply.unauthorized(expired=False))


def _403_scope(app: App) -> None:
    app.server.queue("usage", Reply.forbidden_scope())


def _429(retry_after: float | None) -> Callable[[App], None]:
    def inject(app: App) -> None:
        app.server.queue("usage", Reply.rate_limited(retry_after=retry_after))
    return inject


def _429_while_token_due(app: App) -> None:
    # The refresh before the request fails (5xx), so the app uses its still-valid token: a 429
    # then is a real block, which a new token would not lift (issue #18 item 2).
    app.expire_at_next_poll(120)
    app.server.queue("token", Reply.server_error(503, html=False))
    app.server.queue("usage", Reply.rate_limited(retry_after=0))


def _429_as_the_token_expires(app: App) -> None:
    # Fresh when the request goes, expired when the 429 comes back: the server answers 429 for
    # expired tokens too (design.md §2), so one refresh and one retry are allowed.
    margin = REFRESH_MARGIN.total_seconds()
    app.expire_at_next_poll(margin + 2)
    app.server.queue("usage", Reply.rate_limited(retry_after=0))

    def answered() -> None:
        app.clock.now += timedelta(seconds=margin + 10)  # (expiry is stored to the second)
        app.transport.after_usage = None

    app.transport.after_usage = answered


def _queue(reply: Reply) -> Callable[[App], None]:
    def inject(app: App) -> None:
        app.server.queue("usage", reply)
    return inject


def _offline(app: App) -> None:
    app.reconfigure(usage_url=f"http://127.0.0.1:{closed_port()}/api/oauth/usage")


def _dns_failure(app: App) -> None:
    app.reconfigure(usage_url="https://api.anthropic.invalid/api/oauth/usage")


def _slow_answer(app: App) -> None:
    app.reconfigure(usage_timeout=SHORT_TIMEOUT_S)
    app.server.queue("usage", Reply.slow(SHORT_TIMEOUT_S * 3))


def _redirect_elsewhere(app: App) -> None:
    app.server.queue("usage", Reply(302, headers={"location": app.server.profile_url}))


def _resets_in_past(app: App) -> None:
    app.set_usage(77.0, session_resets_in=timedelta(hours=-1))


def _expires_during_poll(app: App) -> None:
    # Fresh when the app reads it; dead by the time the server looks at it.
    app.server.queue("usage", Reply(delay=0.4, passthrough=True))
    timer = threading.Timer(0.15, app.server.expire_access_tokens)
    timer.daemon = True
    timer.start()


def _refresh_endpoint_down_token_due(app: App) -> None:
    app.expire_at_next_poll(120)
    app.reconfigure(token_url=f"http://127.0.0.1:{closed_port()}/v1/oauth/token")


def _refresh_endpoint_down_token_expired(app: App) -> None:
    app.expire_at_next_poll(-10)
    app.reconfigure(token_url=f"http://127.0.0.1:{closed_port()}/v1/oauth/token")


def _refresh_endpoint_5xx_token_expired(app: App) -> None:
    app.expire_at_next_poll(-10)
    app.server.queue("token", Reply.server_error(502))


def _hourly_budget(app: App) -> None:
    gate = app.services.gate  # other processes used the rest of the hour's budget just now
    for _ in range(gate.budget - app.usage_requests()):
        gate.acquire(app.clock.now)


def _credentials_deleted(app: App) -> None:
    app.services.credentials.path.unlink()


def _credentials_corrupt(app: App) -> None:
    app.services.credentials.path.write_bytes(b'{"access_token": "sk-ant-oat01-x", "refr')


# The next poll after a good answer: the default 180 s, jittered ±10 % (issue 18).
OK_NEXT = (162, 198)


@dataclass(frozen=True)
class Row:
    inject: Callable[[App], None]
    phase: Phase
    banner: str | None  # the Deep Dive banner title; None: no banner (all well)
    message: str | None  # part of the one-line message; None: no message
    credentials: str  # "same" bytes, "rotated" (new live refresh token), "aside" (set aside)
    history: int  # rows added by the poll
    usage_requests: int  # requests the poll made to the usage endpoint
    refreshes: int  # refresh grants the server performed
    retry_in: tuple[float, float] | None  # next poll between (lo, hi) seconds; None: none armed
    stale: bool = False  # the last good numbers are kept, marked stale


# The banner titles (core.viewmodel.banner).
EXPIRED = "Your login has expired"
SLOW_DOWN = "Anthropic asked us to slow down"
SERVER = "Anthropic's servers are having trouble"
OFFLINE = "You're offline"
SIGNED_OUT = "You're not logged in"

ROWS = [
    # --- spec §6 ---
    pytest.param(Row(_expired_token, Phase.OK, None, None, "rotated", 1, 1, 1, OK_NEXT),
                 id="spec-token-expired-auto-refresh"),
    pytest.param(Row(_refresh_token_revoked, Phase.REAUTH, EXPIRED, "no longer valid",
                     "same", 0, 0, 0, None, stale=True),
                 id="spec-refresh-token-invalid-reauth"),
    pytest.param(Row(_server_expired_access, Phase.OK, None, None, "rotated", 1, 2, 1, OK_NEXT),
                 id="spec-401-refresh-and-retry"),
    pytest.param(Row(_401_after_refresh_too, Phase.REAUTH, EXPIRED,
                     "even after a refresh", "rotated", 0, 2, 1, None, stale=True),
                 id="spec-401-after-refresh-reauth"),
    pytest.param(Row(_429(None), Phase.RATE_LIMITED, SLOW_DOWN, "rate-limited", "same", 0,
                     1, 0, (1200, 1200), stale=True),
                 id="issue18-429-cooldown-5-min-plus-15"),
    pytest.param(Row(_queue(Reply.server_error(529, html=False)), Phase.SERVER_ERROR,
                     SERVER, "HTTP 529", "same", 0, 1, 0, (24, 36), stale=True),
                 id="spec-5xx-json-backoff"),
    pytest.param(Row(_offline, Phase.OFFLINE, OFFLINE, "refused the connection", "same", 0, 0,
                     0, (24, 36), stale=True),
                 id="spec-network-unavailable"),
    # --- design.md §2 ---
    pytest.param(Row(_403_scope, Phase.REAUTH, "Log in again", "user:profile", "same", 0, 1, 0,
                     None, stale=True),
                 id="design-403-permission-error-reauth"),
    pytest.param(Row(_429(0), Phase.RATE_LIMITED, SLOW_DOWN, "rate-limited", "same", 0, 1,
                     0, (1200, 1200), stale=True),
                 id="issue18-429-retry-after-0-means-20-min"),
    pytest.param(Row(_429(3600), Phase.RATE_LIMITED, SLOW_DOWN, "rate-limited", "same", 0,
                     1, 0, (4500, 4500), stale=True),
                 id="issue18-429-retry-after-3600-means-75-min"),
    pytest.param(Row(_429_while_token_due, Phase.RATE_LIMITED, SLOW_DOWN, "rate-limited",
                     "same", 0, 1, 0, (1200, 1200), stale=True),
                 id="issue18-429-with-a-valid-token-no-refresh-no-retry"),
    pytest.param(Row(_429_as_the_token_expires, Phase.OK, None, None, "rotated", 1, 2, 1,
                     OK_NEXT),
                 id="design-429-with-an-expired-token-refreshes-once"),
    pytest.param(Row(_hourly_budget, Phase.RATE_LIMITED, SLOW_DOWN,
                     "request budget (20 per hour) used up", "same", 0, 0, 0, (3300, 3600),
                     stale=True),
                 id="issue18-hourly-budget-spent"),
    # --- the network's other bad days ---
    pytest.param(Row(_queue(Reply.server_error(503)), Phase.SERVER_ERROR, SERVER,
                     "HTTP 503", "same", 0, 1, 0, (24, 36), stale=True),
                 id="html-503-page"),
    pytest.param(Row(_queue(Reply.truncated_json()), Phase.SERVER_ERROR, SERVER,
                     "not JSON", "same", 0, 1, 0, (24, 36), stale=True),
                 id="truncated-json"),
    pytest.param(Row(_queue(Reply(200, json={"five_hour": "42%"})), Phase.SERVER_ERROR,
                     SERVER, "five_hour", "same", 0, 1, 0, (24, 36), stale=True),
                 id="json-of-the-wrong-shape"),
    pytest.param(Row(_queue(Reply(200, body=b"")), Phase.SERVER_ERROR, SERVER,
                     "not JSON", "same", 0, 1, 0, (24, 36), stale=True),
                 id="empty-200"),
    pytest.param(Row(_slow_answer, Phase.OFFLINE, OFFLINE, "did not answer in time", "same", 0,
                     1, 0, (24, 36), stale=True),
                 id="slower-than-client-timeout"),
    pytest.param(Row(_queue(Reply.reset()), Phase.OFFLINE, OFFLINE, "cut off", "same", 0, 1,
                     0, (24, 36), stale=True),
                 id="connection-reset-mid-body"),
    pytest.param(Row(_dns_failure, Phase.OFFLINE, OFFLINE, "cannot resolve", "same", 0, 0, 0,
                     (24, 36), stale=True),
                 id="dns-failure"),
    pytest.param(Row(_redirect_elsewhere, Phase.SERVER_ERROR, SERVER, "HTTP 302", "same",
                     0, 1, 0, (24, 36), stale=True),
                 id="redirect-not-followed"),
    pytest.param(Row(_queue(Reply(404, json={"error": "nope"})), Phase.SERVER_ERROR,
                     SERVER, "HTTP 404", "same", 0, 1, 0, (24, 36), stale=True),
                 id="unexpected-404"),
    pytest.param(Row(_resets_in_past, Phase.OK, None, None, "same", 1, 1, 0, OK_NEXT),
                 id="resets-at-in-the-past-clock-skew"),
    pytest.param(Row(_expires_during_poll, Phase.OK, None, None, "rotated", 1, 2, 1, OK_NEXT),
                 id="token-expires-during-the-poll"),
    pytest.param(Row(_refresh_endpoint_down_token_due, Phase.OK, None, None, "same", 1, 1, 0,
                     OK_NEXT),
                 id="refresh-endpoint-down-token-still-valid-uses-old"),
    pytest.param(Row(_refresh_endpoint_down_token_expired, Phase.OFFLINE, OFFLINE,
                     "refused the connection", "same", 0, 0, 0, (24, 36), stale=True),
                 id="refresh-endpoint-down-token-expired-offline-not-reauth"),
    pytest.param(Row(_refresh_endpoint_5xx_token_expired, Phase.SERVER_ERROR, SERVER,
                     "HTTP 502", "same", 0, 0, 0, (24, 36), stale=True),
                 id="refresh-endpoint-5xx-token-expired"),
    pytest.param(Row(_credentials_deleted, Phase.SIGNED_OUT, SIGNED_OUT, "Not logged in",
                     "gone", 0, 0, 0, None, stale=True),
                 id="credentials-deleted-while-running"),
    pytest.param(Row(_credentials_corrupt, Phase.SIGNED_OUT, SIGNED_OUT, "unreadable",
                     "aside", 0, 0, 0, None, stale=True),
                 id="credentials-corrupt-while-running"),
]


@pytest.mark.parametrize("row", ROWS)
def test_fault(app: App, fake_config: Path, row: Row) -> None:
    app.login()
    app.set_usage(42.0)
    app.poller.start()
    assert app.settle().phase is Phase.OK  # one good poll: numbers on screen, one history row
    good = app.poller.status.snapshot
    row.inject(app)

    config_before = fake_config.read_bytes()
    creds_path = app.services.credentials.path
    creds_before = creds_path.read_bytes() if creds_path.exists() else b""
    refresh_before = json.loads(creds_before)["refresh_token"] if row.credentials == "rotated" \
        else None
    history_before, usage_before = app.history_rows(), app.usage_requests()
    refreshes_before = app.server.refresh_count

    status = app.tick()

    # The state the app ends in, and what the user sees.
    assert status.phase is row.phase, status.message
    view = deep_dive_view(status, app.clock.now, alerts_enabled=True, show_model_limits=False)
    assert (view.banner.title if view.banner else None) == row.banner
    if row.message is None:
        assert status.message is None
    else:
        assert status.message is not None and row.message in status.message
        assert "\n" not in status.message and "sk-ant-" not in status.message
        if view.banner and view.banner.detail:
            # The banner speaks plainly: the technical line stays in the log and the CLI.
            assert row.message not in view.banner.detail
    assert status.is_stale is row.stale
    if row.stale:
        assert status.snapshot == good  # the last good numbers stay on screen
    if row.phase is Phase.REAUTH:
        assert [a.kind for a in app.notifier.sent][-1:] == ["reauth"]

    # How hard it hit the servers, and when it tries again.
    assert app.usage_requests() - usage_before == row.usage_requests
    assert app.server.refresh_count - refreshes_before == row.refreshes
    delay = app.scheduler.next_delay()
    if row.retry_in is None:
        assert delay is None
    else:
        assert delay is not None and row.retry_in[0] <= delay <= row.retry_in[1]

    _report(row, status, view.banner.title if view.banner else None, delay)

    # The user's files.
    assert fake_config.read_bytes() == config_before
    assert app.history_rows() - history_before == row.history
    if row.credentials == "same":
        assert creds_path.read_bytes() == creds_before
        if row.phase is Phase.OK:  # e.g. refresh endpoint down: the old, still valid token
            bearer = app.server.requests_to("usage")[-1].headers["authorization"]
            assert bearer == f"Bearer {app.stored().access_token}"
    elif row.credentials == "rotated":
        now_stored = app.stored()
        assert now_stored.refresh_token != refresh_before
        # The server still accepts the rotated token: the login survives.
        refresh_tokens(UrllibTransport(), app.server.token_url, now_stored,
                       clock=lambda: datetime.now(timezone.utc))
    elif row.credentials == "aside":
        assert not creds_path.exists()
        aside = list(creds_path.parent.glob("credentials.json.corrupt-*"))
        assert [p.read_bytes() for p in aside] == [creds_before]
    else:
        assert row.credentials == "gone" and not creds_path.exists()


def _report(row: Row, status: AppStatus, banner: str | None, delay: float | None) -> None:
    """With PULSE_MATRIX_REPORT=<file>, append the observed row (docs/reliability.md's source)."""
    target = os.environ.get("PULSE_MATRIX_REPORT")
    if target:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"inject": row.inject.__name__, "phase": status.phase.name,
                                 "banner": banner, "message": status.message,
                                 "next_poll_s": None if delay is None else round(delay),
                                 "credentials": row.credentials, "history": row.history}) + "\n")


def test_resets_at_in_the_past_reads_as_reset_not_negative(app: App) -> None:
    """Clock skew: the server's reset time has passed on our clock. No negative countdown."""
    app.login()
    app.set_usage(77.0, session_resets_in=timedelta(hours=-1))
    app.poller.start()
    status = app.settle()
    assert status.phase is Phase.OK
    view = deep_dive_view(status, app.clock.now, alerts_enabled=True, show_model_limits=False)
    assert view.session.resets_text.startswith("Reset at")
    assert view.session.elapsed_fraction == 1.0
    assert status.snapshot is not None
    assert format_line(status.snapshot.usage, app.clock.now).startswith("5h reset")


def test_recovers_after_each_transient_fault(app: App) -> None:
    """Offline, 5xx, reset and slow answers never stick: the next good answer clears them."""
    app.login()
    app.poller.start()
    app.settle()
    app.reconfigure(usage_timeout=SHORT_TIMEOUT_S)
    app.server.queue("usage", Reply.server_error(503), Reply.reset(), Reply.truncated_json(),
                     Reply.slow(SHORT_TIMEOUT_S * 3))
    phases = [app.tick().phase for _ in range(5)]
    assert phases == [Phase.SERVER_ERROR, Phase.OFFLINE, Phase.SERVER_ERROR, Phase.OFFLINE,
                      Phase.OK]
    delay = app.scheduler.next_delay()
    assert delay is not None and OK_NEXT[0] <= delay <= OK_NEXT[1]


def test_oauth_callback_timeout_shows_retry_and_writes_nothing(
        fake_server: FakeAnthropic, pulse_home: Path, fake_config: Path) -> None:
    """Spec §6 last row: no browser answer → a clear error with a Retry action, nothing saved."""
    harness = App(fake_server, pulse_home, fake_config)
    harness.poller.start()
    harness.poller.login_started()
    session = harness.services.login_session(open_browser=lambda url: False, timeout=0.5)
    session_error: LoginTimeout | None = None
    try:
        session.run()
    except LoginTimeout as exc:
        session_error = exc
    assert session_error is not None
    harness.poller.login_failed(str(session_error))
    status = harness.poller.status
    assert status.phase is Phase.LOGIN_FAILED
    view = deep_dive_view(status, harness.clock.now, alerts_enabled=True,
                          show_model_limits=False)
    assert view.banner is not None and view.banner.title == "The login didn't finish"
    assert view.banner.detail == "No answer came back from the browser in time."
    assert view.banner.action is not None and view.banner.action.value == "Try again"
    assert "No answer from the browser" in str(session_error)
    assert not harness.services.credentials.path.exists()
    assert fake_server.exchange_count == 0
    assert harness.usage_requests() == 0
    # The listener is gone: nothing on this machine can hand it a code any more.
    assert session.authorize_url is not None
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(session.authorize_url).query)
    port = urllib.parse.urlsplit(query["redirect_uri"][0]).port
    assert port is not None
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    harness.poller.stop()


# ---- the same faults through `claude-pulse status` ----

@dataclass(frozen=True)
class CliRow:
    setup: Callable[[FakeAnthropic, Path], None]
    code: int
    stderr: str  # part of the one line on stderr ("" → nothing on stderr)
    stale: bool | None = None  # --json output: stale marker; None → nothing on stdout


def _cli_login(fake: FakeAnthropic, home: Path, expires_in: float | None = None) -> None:
    seed_credentials(home, fake, expires_in=expires_in)


def _cli_edit_config(home: Path, **changes: Any) -> None:
    path = home / "config.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(changes)
    path.write_text(json.dumps(data), encoding="utf-8")


def _cli(inject: Callable[[FakeAnthropic, Path], None],
         expires_in: float | None = None) -> Callable[[FakeAnthropic, Path], None]:
    def setup(fake: FakeAnthropic, home: Path) -> None:
        _cli_login(fake, home, expires_in)
        inject(fake, home)
    return setup


CLI_ROWS = [
    pytest.param(CliRow(lambda f, h: None, 1, "Not logged in. Run `claude-pulse login`."),
                 id="no-credentials"),
    pytest.param(CliRow(_cli(lambda f, h: None, expires_in=-60), 0, ""),
                 id="token-expired-refreshes-silently"),
    pytest.param(CliRow(_cli(lambda f, h: f.revoke_refresh_tokens(), expires_in=-60), 1,
                        "Run `claude-pulse login` again"),
                 id="refresh-token-invalid"),
    pytest.param(CliRow(_cli(lambda f, h: f.queue("usage", Reply.forbidden_scope())), 1,
                        "user:profile"),
                 id="403-scope"),
    pytest.param(CliRow(_cli(lambda f, h: f.queue("usage", Reply.rate_limited(0))), 1,
                        "rate-limited by Anthropic; next request at"),
                 id="429-without-cached-numbers"),
    pytest.param(CliRow(_cli(lambda f, h: f.queue("usage", Reply.server_error(503))), 1,
                        "HTTP 503"),
                 id="html-503"),
    pytest.param(CliRow(_cli(lambda f, h: f.queue("usage", Reply.truncated_json())), 1,
                        "not JSON"),
                 id="truncated-json"),
    pytest.param(CliRow(_cli(lambda f, h: f.queue("usage", Reply.reset())), 1, "cut off"),
                 id="reset-mid-body"),
    pytest.param(CliRow(_cli(lambda f, h: _cli_edit_config(
        h, usage_url="https://api.anthropic.invalid/api/oauth/usage")), 1, "cannot resolve"),
                 id="dns-failure"),
    pytest.param(CliRow(_cli(lambda f, h: _cli_edit_config(
        h, token_url=f"http://127.0.0.1:{closed_port()}/t"), expires_in=-60), 1,
                        "refused the connection"),
                 id="refresh-endpoint-down-token-expired"),
    pytest.param(CliRow(_cli(lambda f, h: _cli_edit_config(
        h, token_url=f"http://127.0.0.1:{closed_port()}/t"), expires_in=120), 0, ""),
                 id="refresh-endpoint-down-token-still-valid"),
]


@pytest.mark.parametrize("row", CLI_ROWS)
def test_status_command_fault(fake_server: FakeAnthropic, pulse_home: Path, fake_config: Path,
                              row: CliRow) -> None:
    row.setup(fake_server, pulse_home)
    creds = pulse_home / "credentials.json"
    creds_before = creds.read_bytes() if creds.exists() else None
    config_before = fake_config.read_bytes()
    out = subprocess.run([sys.executable, "-m", "claude_pulse", "status", "--json"],
                         capture_output=True, text=True, timeout=60,
                         env={**os.environ, "CLAUDE_PULSE_HOME": str(pulse_home)})
    assert out.returncode == row.code, out.stderr
    assert "Traceback" not in out.stderr
    if row.stderr:
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and row.stderr in lines[0], out.stderr
        assert lines[0].startswith("claude-pulse: ")
        assert out.stdout == ""
    else:
        assert out.stderr == ""
        assert json.loads(out.stdout)["session"] is not None
    assert "sk-ant-" not in out.stdout + out.stderr
    assert fake_config.read_bytes() == config_before
    if creds_before is not None and row.code != 0:
        assert creds.read_bytes() == creds_before  # a failure never costs the login

