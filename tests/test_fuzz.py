"""Hostile input: whatever arrives, only the documented errors come out (hypothesis).

* usage bodies as raw bytes through the real HTTP client against the fake server
  (`Reply(body=...)`), and every answer that parses also renders (status line, `status --json`,
  Deep Dive, tray) — parsing alone is covered in tests/test_usage.py;
* `config.json` of arbitrary bytes: `load` never raises and never touches the file; `update`
  saves or raises ConfigError, and leaves a file it refuses byte-for-byte as it was;
* `credentials.json` of arbitrary bytes: a TokenSet, or CredentialsError with the file set aside
  with the same bytes (never deleted);
* the login callback: query strings into the loopback listener, `check_callback`, and pasted
  `code#state` text; raw bytes over a socket into the listener.

Each input that once broke a documented contract is kept as a regression test, with the bug it
found in its docstring (docs/reliability.md lists them).
"""

from __future__ import annotations

import json
import socket
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from claude_pulse import config as config_mod
from claude_pulse.core.report import status_json
from claude_pulse.core.snapshot import Snapshot
from claude_pulse.core.status import AppStatus, Phase
from claude_pulse.core.statusline import format_line, from_claude_code
from claude_pulse.core.tokens import TokenSet
from claude_pulse.core.usage import parse_usage
from claude_pulse.core.viewmodel import deep_dive_view, tray_view
from claude_pulse.errors import (
    ApiError,
    BadResponse,
    ConfigError,
    CredentialsError,
    LoginError,
    NetworkError,
)
from claude_pulse.fake.anthropic import FakeAnthropic, Reply
from claude_pulse.oauth.flow import check_callback, parse_pasted_code, start_login
from claude_pulse.oauth.loopback import LoopbackReceiver
from claude_pulse.services.credentials import CredentialStore
from claude_pulse.services.gate import RequestGate
from claude_pulse.services.http import UrllibTransport
from claude_pulse.services.snapshot import SnapshotStore
from claude_pulse.services.tokens import TokenManager
from claude_pulse.services.usage_client import UsageClient

pytestmark = pytest.mark.slow  # scripts/test --fast leaves it out

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
# The fixtures (fake server, listener) are shared by a test's examples on purpose.
FIXTURES_OK = [HealthCheck.function_scoped_fixture]
DEEP = b"[" * 100_000  # deeper than Python's recursion limit

# ---- strategies ----

scalars = (st.none() | st.booleans() | st.integers() | st.text(max_size=30)
           | st.floats(allow_nan=True, allow_infinity=True))
json_values = st.recursive(scalars, lambda kids: st.lists(kids, max_size=4)
                           | st.dictionaries(st.text(max_size=10), kids, max_size=4),
                           max_leaves=20)
times = (st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30))
         .map(lambda d: d.isoformat() + "Z") | st.text(max_size=40) | scalars)
windows = st.none() | json_values | st.fixed_dictionaries(
    {}, optional={"utilization": scalars, "resets_at": times})
limits = st.fixed_dictionaries({}, optional={
    "kind": st.sampled_from(["session", "weekly_all", "weekly_scoped", ""]) | scalars,
    "percent": scalars, "utilization": scalars, "resets_at": times, "is_active": scalars,
    "severity": scalars, "scope": st.none() | json_values | st.fixed_dictionaries(
        {"model": st.fixed_dictionaries({}, optional={"display_name": scalars, "id": scalars})}),
})
usage_shaped = st.fixed_dictionaries({}, optional={
    "five_hour": windows, "seven_day": windows, "seven_day_opus": windows,
    "seven_day_sonnet": windows, "limits": st.none() | json_values | st.lists(limits, max_size=4),
    "extra_usage": st.none() | json_values | st.fixed_dictionaries({}, optional={
        "is_enabled": scalars, "used_credits": scalars, "monthly_limit": scalars,
        "utilization": scalars, "currency": scalars}),
})
bodies = (st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode())
          | usage_shaped.map(lambda v: json.dumps(v).encode()))

# ---- usage over HTTP ----


@pytest.fixture
def usage_client(fake_server: FakeAnthropic, tmp_path: Path) -> UsageClient:
    config = config_mod.parse({**fake_server.config_overrides(), "callback_port": 0}).config
    store = CredentialStore(tmp_path / "credentials.json")
    tok = fake_server.issue_tokens()
    store.save(TokenSet(tok["access_token"], tok["refresh_token"],
                        datetime.now(timezone.utc) + timedelta(hours=8)))
    tokens = TokenManager(store, UrllibTransport(), lambda: config,
                          clock=lambda: datetime.now(timezone.utc),
                          lock_path=tmp_path / "credentials.lock")
    return UsageClient(UrllibTransport(), lambda: config, tokens, timeout=5)


def _render(raw: dict[str, Any]) -> None:
    """Everything a user sees of one answer; must not raise for anything that parsed."""
    usage = parse_usage(raw)
    snap = Snapshot(NOW, usage, raw)
    format_line(usage, NOW)
    status_json(usage, NOW, NOW)
    for phase in (Phase.OK, Phase.RATE_LIMITED):
        status = AppStatus(phase, snap, NOW + timedelta(minutes=5))
        deep_dive_view(status, NOW, alerts_enabled=True, show_model_limits=True,
                       tz=timezone.utc)
        tray_view(status, NOW)


@settings(max_examples=150, deadline=None, suppress_health_check=FIXTURES_OK)
@given(body=bodies, status=st.sampled_from([200, 200, 200, 201, 204, 400, 404, 418, 500, 529]))
@example(body=b"<html><body>503 Service Unavailable</body></html>", status=503)
@example(body=b'{"five_hour": {"utilization": 42.0, "resets_at": "2026-', status=200)
@example(body=b"\xff\xfe{}", status=200)
def test_usage_bytes_over_http_give_usage_or_api_error(fake_server: FakeAnthropic,
                                                       usage_client: UsageClient,
                                                       body: bytes, status: int) -> None:
    fake_server.queue("usage", Reply(status, body=body))
    try:
        raw, _ = usage_client.fetch_usage()
    except (ApiError, NetworkError) as exc:  # not usable data (a 204 with a body: "cut off")
        assert exc.args[0] and "\n" not in exc.args[0]
        return
    assert 200 <= status < 300
    _render(raw)


@settings(max_examples=300, deadline=None)
@given(usage_shaped)
def test_every_parsed_answer_renders(raw: dict[str, Any]) -> None:
    try:
        parse_usage(raw)
    except BadResponse:
        return
    _render(raw)


def test_reset_time_at_the_edge_of_the_calendar_is_rejected_or_rendered() -> None:
    raw = {"five_hour": {"utilization": 5, "resets_at": "0001-01-01T00:00:00+14:00"}}
    try:
        parse_usage(raw)
    except BadResponse:
        return
    _render(raw)


# ---- JSON nested deeper than the recursion limit, at every entry point ----

def _deep_config(tmp: Path) -> None:
    (tmp / "config.json").write_bytes(DEEP)
    loaded = config_mod.load(tmp / "config.json")
    assert not loaded.file_is_valid
    with pytest.raises(ConfigError):
        config_mod.update(tmp / "config.json", poll_interval_seconds=60)


def _deep_credentials(tmp: Path) -> None:
    (tmp / "credentials.json").write_bytes(DEEP)
    with pytest.raises(CredentialsError):
        CredentialStore(tmp / "credentials.json").load()


def _deep_snapshot(tmp: Path) -> None:
    (tmp / "snapshot.json").write_bytes(DEEP)
    assert SnapshotStore(tmp / "snapshot.json").load() is None


def _deep_gate(tmp: Path) -> None:
    (tmp / "gate.json").write_bytes(DEEP)
    assert RequestGate(tmp / "gate.json", tmp / "gate.lock").acquire(NOW)


def _deep_claude_code_feed(tmp: Path) -> None:
    assert from_claude_code(DEEP) is None  # documented: "Never raises"


# Regression: json.loads raises RecursionError, not ValueError, for deeply nested input; every
# JSON reader now turns it into its documented error.


@pytest.mark.parametrize("entry", [
    pytest.param(_deep_config, id="config-json"),
    pytest.param(_deep_credentials, id="credentials-json"),
    pytest.param(_deep_snapshot, id="snapshot-json"),
    pytest.param(_deep_gate, id="gate-json"),
    pytest.param(_deep_claude_code_feed, id="claude-code-stdin"),
])
def test_deeply_nested_json_file_is_a_documented_error(tmp_path: Path,
                                                       entry: Callable[[Path], None]) -> None:
    entry(tmp_path)


def test_deeply_nested_usage_answer_is_a_bad_response(fake_server: FakeAnthropic,
                                                      usage_client: UsageClient) -> None:
    fake_server.queue("usage", Reply(200, body=DEEP))
    with pytest.raises(BadResponse):
        usage_client.fetch_usage()


# ---- config.json ----

config_shaped = st.dictionaries(
    st.sampled_from(["poll_interval_seconds", "notifications_enabled", "notification_thresholds",
                     "callback_port", "user_agent", "token_url", "usage_url", "mystery"]),
    json_values, max_size=6)
config_bytes = (st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode())
                | config_shaped.map(lambda v: json.dumps(v).encode()))


@contextmanager
def scratch() -> Iterator[Path]:
    """A fresh folder per hypothesis example (tmp_path is one per test)."""
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


@settings(max_examples=200, deadline=None)
@given(config_bytes)
@example(b"")
@example(b"\xef\xbb\xbf{}")  # a UTF-8 BOM, as Notepad writes
@example(b'{"poll_interval_seconds": 1e400, "callback_port": NaN}')
def test_config_of_any_bytes_loads_with_defaults_and_is_never_overwritten(data: bytes) -> None:
    with scratch() as folder:
        path = folder / "config.json"
        path.write_bytes(data)
        loaded = config_mod.load(path)
        assert isinstance(loaded.config, config_mod.Config)
        assert loaded.file_is_valid or loaded.problems
        assert all("\n" not in p for p in loaded.problems)
        assert path.read_bytes() == data
        try:
            config_mod.update(path, notifications_enabled=False)
        except ConfigError:
            assert path.read_bytes() == data  # refused: the user's file stays as it was
            return
        saved = json.loads(path.read_text(encoding="utf-8"))
        assert saved["notifications_enabled"] is False
        before = json.loads(data.decode("utf-8-sig")) if data.strip() else {}
        assert set(before) <= set(saved)  # every key the user had is still there


# ---- credentials.json ----

credentials_shaped = st.fixed_dictionaries({}, optional={
    "access_token": scalars, "refresh_token": scalars, "token_type": scalars, "scope": scalars,
    "email": scalars, "expires_at": times | st.integers() | st.floats(), "extra": json_values})
credentials_bytes = (st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode())
                     | credentials_shaped.map(lambda v: json.dumps(v).encode()))


@settings(max_examples=250, deadline=None)
@given(credentials_bytes)
@example(b"")
@example(b'{"access_token": "a", "refresh_token": "r", "expires_at": 1e300}')
@example(b'{"access_token": "a", "refresh_token": "r", "expires_at": Infinity}')
@example(b'{"access_token": "a", "refresh_token": "r", "expires_at": "9999-12-31T23:59:59"}')
def test_credentials_of_any_bytes_load_or_are_set_aside_never_deleted(data: bytes) -> None:
    with scratch() as folder:
        path = folder / "credentials.json"
        path.write_bytes(data)
        try:
            tokens = CredentialStore(path).load()
        except CredentialsError as exc:
            assert "\n" not in str(exc) and "login" in str(exc)
            assert not path.exists()
            aside = list(folder.glob("credentials.json.corrupt-*"))
            assert [p.read_bytes() for p in aside] == [data]  # kept, byte for byte
            return
        assert isinstance(tokens, TokenSet)
        assert path.read_bytes() == data
        assert "refresh_token='***'" in repr(tokens)  # never shown, not even in a traceback


def test_credentials_with_an_unconvertible_expiry_are_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    path.write_text(json.dumps({"access_token": "a", "refresh_token": "r",
                                "expires_at": "0001-01-01T00:00:00+14:00"}))
    with pytest.raises(CredentialsError):
        CredentialStore(path).load()


# ---- the login callback ----

ascii_text = st.text(st.characters(min_codepoint=0, max_codepoint=127), max_size=60)
queries = (ascii_text | st.dictionaries(
    st.sampled_from(["code", "state", "error", "error_description", "x"]), ascii_text,
    max_size=4).map(lambda d: "&".join(f"{k}={v}" for k, v in d.items())))
paths = st.sampled_from(["/callback", "/", "/callback/", "/CALLBACK", "//callback"]) | ascii_text


@pytest.fixture
def receiver() -> Iterator[LoopbackReceiver]:
    with LoopbackReceiver(0) as r:
        r.expect_state(start_login("http://x/a", r.redirect_uri).state)
        yield r


@settings(max_examples=300, deadline=None, suppress_health_check=FIXTURES_OK)
@given(path=paths, query=queries)
def test_listener_refuses_every_forged_callback(receiver: LoopbackReceiver, path: str,
                                                query: str) -> None:
    status, title, detail = receiver._handle(path, query)
    assert status in (400, 404) and title and detail
    assert receiver._result is None


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["code", "state", "error", "error_description"]),
                       ascii_text, max_size=4))
def test_check_callback_gives_a_code_or_login_error(params: dict[str, str]) -> None:
    pending = start_login("https://claude.ai/oauth/authorize", "http://localhost:1/callback")
    try:
        check_callback(pending, params)
    except LoginError as exc:
        assert "\n" not in str(exc)
        # The same answer with every value blanked out: what the message says by itself (a code
        # "stat" is in "state mismatch" without being an echo).
        fixed = ""
        try:
            check_callback(pending, {k: "\x01" * len(v) for k, v in params.items()})
        except LoginError as blank:
            fixed = str(blank)
        for value in params.values():  # never echoes what the browser sent, beyond an error code
            echoed = len(value) >= 4 and value in str(exc) and value not in fixed
            assert not echoed or value == params.get("error")
        return
    raise AssertionError("a forged callback was accepted")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
@example("code#")
@example("#state")
@example("https://platform.claude.com/oauth/code/callback?code=c&state=s")
def test_pasted_code_gives_params_or_login_error(text: str) -> None:
    try:
        params = parse_pasted_code(text)
    except LoginError:
        return
    assert set(params) <= {"code", "state", "error", "error_description"}


@pytest.mark.parametrize("where", ["pasted", "listener"])
def test_non_ascii_state_is_a_login_error(receiver: LoopbackReceiver, where: str) -> None:
    if where == "pasted":
        pending = start_login("https://claude.ai/oauth/authorize", "http://localhost:1/callback")
        with pytest.raises(LoginError):
            check_callback(pending, parse_pasted_code("code#\u00e9t\u00e9"))
    else:
        status, _, _ = receiver._handle("/callback", "code=c&state=%C3%A9")
        assert status == 400


@settings(max_examples=60, deadline=None, suppress_health_check=FIXTURES_OK)
@given(st.binary(max_size=300))
@example(b"GET /callback?code=c&state=x HTTP/1.1\r\n\r\n")
@example(b"\x16\x03\x01\x02\x00\x01\x00")  # a TLS ClientHello on the plain HTTP port
@example(b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n")
def test_listener_answers_or_closes_on_raw_bytes(receiver: LoopbackReceiver,
                                                  data: bytes) -> None:
    with socket.create_connection(("127.0.0.1", receiver.port), timeout=5) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)  # the end of what we send: the listener must not wait
        reply = b""
        while chunk := sock.recv(65536):  # raises TimeoutError if the listener hangs
            reply += chunk
    assert reply == b"" or reply.startswith(b"HTTP/")
    assert receiver._result is None
