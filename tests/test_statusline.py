"""`claude-pulse statusline`: the pure line/feed functions, stdin reading, and the command run as
a real process against the fake server (its request log proves when we called and when not)."""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from claude_pulse.commands.statusline import read_stdin
from claude_pulse.core.snapshot import Snapshot
from claude_pulse.core.statusline import (
    format_line,
    from_claude_code,
    rate_limited_line,
)
from claude_pulse.core.tokens import TokenSet
from claude_pulse.core.usage import Usage, Window, parse_usage
from claude_pulse.fake import samples
from claude_pulse.fake.anthropic import FakeAnthropic, Reply
from claude_pulse.home import Home
from claude_pulse.platform.instance import FEED, SHOW, SingleInstance
from claude_pulse.services.credentials import CredentialStore
from claude_pulse.services.gate import RequestGate
from claude_pulse.services.snapshot import SnapshotStore
from support.fakes import claude_code_stdin
from support.helpers import held_lock, wait_until

UTC = timezone.utc
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


# -- the pure part --------------------------------------------------------------------------------


def feed(five: Any = None, seven: Any = None, **extra: Any) -> str:
    limits: dict[str, Any] = {}
    if five is not None:
        limits["five_hour"] = five
    if seven is not None:
        limits["seven_day"] = seven
    return json.dumps({"session_id": "abc", "model": {"id": "claude-x"},
                       "rate_limits": limits, **extra})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            feed({"used_percentage": 23.5, "resets_at": 1738425600},
                 {"used_percentage": 68, "resets_at": 1738857600}),
            {"five_hour": {"utilization": 23.5, "resets_at": "2025-02-01T16:00:00+00:00"},
             "seven_day": {"utilization": 68.0, "resets_at": "2025-02-06T16:00:00+00:00"}},
            id="both-windows",
        ),
        pytest.param(
            feed({"used_percentage": 5, "resets_at": 1738425600}),
            {"five_hour": {"utilization": 5.0, "resets_at": "2025-02-01T16:00:00+00:00"}},
            id="session-only",
        ),
        pytest.param(
            feed({"used_percentage": 5, "resets_at": 1738425600000}),
            {"five_hour": {"utilization": 5.0, "resets_at": "2025-02-01T16:00:00+00:00"}},
            id="milliseconds",
        ),
        pytest.param(
            feed({"used_percentage": 5, "resets_at": "2025-02-01T16:00:00Z"}),
            {"five_hour": {"utilization": 5.0, "resets_at": "2025-02-01T16:00:00+00:00"}},
            id="iso-reset",
        ),
        pytest.param(
            feed({"used_percentage": 104.2, "resets_at": None}),
            {"five_hour": {"utilization": 104.2, "resets_at": None}},
            id="over-100-no-reset",
        ),
        pytest.param(
            feed({"used_percentage": 5, "resets_at": "soon"}), None,
            id="bad-reset-ignores-the-entry",
        ),
        pytest.param(feed({"used_percentage": 1001, "resets_at": None}), None,
                     id="percent-above-1000"),
        pytest.param(feed({"used_percentage": -1, "resets_at": None}), None,
                     id="percent-negative"),
        pytest.param(samples.STATUSLINE_BROKEN, None, id="epoch-as-percent-claude-code-52326"),
        pytest.param(
            feed({"used_percentage": "5", "resets_at": 1738425600},
                 {"used_percentage": True, "resets_at": 1738425600}),
            None, id="percent-not-a-number",
        ),
        pytest.param(feed({"used_percentage": None}), None, id="percent-null"),
        pytest.param(feed(), None, id="empty-rate-limits"),
        pytest.param(json.dumps({"model": {"id": "x"}}), None, id="no-rate-limits"),
        pytest.param(json.dumps({"rate_limits": [1, 2]}), None, id="rate-limits-not-object"),
        pytest.param(json.dumps([1, 2]), None, id="not-an-object"),
        pytest.param('{"rate_limits": {"five_hour": {"used_perc', None, id="truncated"),
        pytest.param("", None, id="empty"),
        pytest.param(b"\xff\xfe\x00garbage", None, id="not-utf8"),
        pytest.param('{"rate_limits": {"five_hour": {"used_percentage": NaN}}}', None,
                     id="nan"),
    ],
)
def test_from_claude_code(text: str | bytes, expected: dict[str, Any] | None) -> None:
    assert from_claude_code(text) == expected


@pytest.mark.parametrize(("resets_in", "window", "kept"), [
    pytest.param(timedelta(hours=3), "five_hour", True, id="session-in-3h"),
    pytest.param(timedelta(hours=5 + 23), "five_hour", True, id="session-window-plus-a-day"),
    pytest.param(timedelta(hours=5 + 25), "five_hour", False, id="session-too-far"),
    pytest.param(-timedelta(hours=2), "five_hour", True, id="session-just-reset"),
    pytest.param(-timedelta(days=2), "five_hour", False, id="session-long-past"),
    pytest.param(timedelta(days=7, hours=23), "seven_day", True, id="week-plus-a-day"),
    pytest.param(timedelta(days=8, hours=1), "seven_day", False, id="week-too-far"),
    pytest.param(timedelta(days=-3000), "seven_day", False, id="years-ago"),
])
def test_from_claude_code_checks_the_reset_is_plausible(resets_in: timedelta, window: str,
                                                         kept: bool) -> None:
    text = json.dumps({"rate_limits": {window: {
        "used_percentage": 12, "resets_at": int((NOW + resets_in).timestamp())}}})
    got = from_claude_code(text, NOW)
    assert (got is not None) is kept
    assert from_claude_code(text) is not None  # without `now`, only the number is checked


def test_from_claude_code_real_capture() -> None:
    # Irrlicht #309: an integer and a float with binary noise, epoch-second resets.
    assert from_claude_code(samples.STATUSLINE_CAPTURE) == {
        "five_hour": {"utilization": 16.0, "resets_at": "2026-05-14T12:30:00+00:00"},
        "seven_day": {"utilization": 14.000000000000002,
                      "resets_at": "2026-05-19T11:00:00+00:00"},
    }


def w(percent: float | None, resets_in: timedelta | None) -> Window:
    return Window(percent, NOW + resets_in if resets_in is not None else None)


H, D = timedelta(hours=1), timedelta(days=1)


@pytest.mark.parametrize(
    ("usage", "stale", "expected"),
    [
        pytest.param(Usage(w(42.7, H + timedelta(minutes=12, seconds=30)), w(68, 5 * D)), None,
                     "5h 42% · resets 1h12m · 7d 68% ▲", id="over-budget-week"),
        pytest.param(Usage(w(42, 3 * H), w(20, 2 * D)), None,
                     "5h 42% · resets 3h · 7d 20%", id="on-track-week"),
        pytest.param(Usage(w(99.9, timedelta(seconds=40)), None), None,
                     "5h 99% · resets <1m", id="floor-and-last-minute"),
        pytest.param(Usage(w(104, 2 * H + timedelta(minutes=5)), w(100, 6 * D)), None,
                     "5h 104% · resets 2h05m · 7d 100% ▲", id="over-100"),
        pytest.param(Usage(w(42, -H), w(30, 4 * D)), None,
                     "5h reset · 7d 30%", id="session-already-reset"),
        pytest.param(Usage(w(42, None), None), None, "5h 42%", id="unknown-reset"),
        pytest.param(Usage(w(None, H), w(10, 5 * D)), None, "7d 10%", id="null-session"),
        pytest.param(Usage(None, None), None, "Claude Pulse: no usage data yet", id="nothing"),
        pytest.param(Usage(w(42, H), w(68, 5 * D)), timedelta(minutes=12, seconds=59),
                     "5h 42% · resets 1h · 7d 68% ▲ (stale 12m)", id="stale"),
        pytest.param(Usage(w(42, H), None), timedelta(days=2, hours=3),
                     "5h 42% · resets 1h (stale 2d3h)", id="very-stale"),
    ],
)
def test_format_line(usage: Usage, stale: timedelta | None, expected: str) -> None:
    assert format_line(usage, NOW, stale_age=stale) == expected


def test_rate_limited_line() -> None:
    assert rate_limited_line(NOW, timezone(timedelta(hours=2))) == (
        "Claude Pulse: rate-limited until 14:00")


# -- reading stdin --------------------------------------------------------------------------------


class Pipe:
    def __init__(self) -> None:
        self.r, self.w = os.pipe()

    def stream(self) -> Any:
        return os.fdopen(self.r, "rb", closefd=False)

    def close(self) -> None:
        # The write end first: a reader thread still waiting (the timed-out case) gets EOF.
        for fd in (self.w, self.r):
            if fd >= 0:
                os.close(fd)
        self.r = self.w = -1


@pytest.fixture
def pipe() -> Any:
    p = Pipe()
    yield p
    p.close()


@pytest.mark.parametrize("use_thread", [pytest.param(False, id="select"),
                                        pytest.param(True, id="thread")])
@pytest.mark.parametrize(
    ("writes", "close", "limit", "expected", "max_s"),
    [
        pytest.param([b'{"a": 1}'], True, 4096, b'{"a": 1}', 0.25, id="json-then-eof"),
        pytest.param([b'{"a": ', b"1}"], True, 4096, b'{"a": 1}', 0.25, id="two-chunks"),
        pytest.param([], True, 4096, None, 0.25, id="empty-eof"),
        pytest.param([], False, 4096, None, 0.6, id="silent-pipe-times-out"),
        pytest.param([b"x" * 5000], True, 1000, b"x" * 1000, 0.25, id="bounded"),
    ],
)
def test_read_stdin(pipe: Pipe, use_thread: bool, writes: list[bytes], close: bool, limit: int,
                    expected: bytes | None, max_s: float) -> None:
    def writer() -> None:
        for chunk in writes:
            os.write(pipe.w, chunk)  # small enough for the pipe's buffer: never blocks
            time.sleep(0.01)
        if close:
            os.close(pipe.w)
            pipe.w = -1

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    started = time.monotonic()
    with pipe.stream() as stream:
        got = read_stdin(stream, timeout=0.3, limit=limit, use_thread=use_thread)
    assert time.monotonic() - started < max_s
    thread.join(5)
    assert got == expected


def test_read_stdin_complete_json_on_an_open_pipe(pipe: Pipe) -> None:
    os.write(pipe.w, b'{"rate_limits": {}}')
    started = time.monotonic()
    with pipe.stream() as stream:
        got = read_stdin(stream, timeout=2.0, use_thread=False)
    assert got == b'{"rate_limits": {}}'
    assert time.monotonic() - started < 0.5  # did not wait for the 2 s deadline


@pytest.mark.skipif(os.name != "posix", reason="pty is POSIX")
def test_read_stdin_ignores_a_terminal() -> None:
    import pty

    parent, child = pty.openpty()
    try:
        with os.fdopen(child, "rb", closefd=False) as stream:
            assert read_stdin(stream) is None
    finally:
        os.close(parent)
        os.close(child)


def test_read_stdin_without_a_stream() -> None:
    assert read_stdin(None) is None


# -- the command as a process ---------------------------------------------------------------------


class Scene:
    """The test's CLAUDE_PULSE_HOME, the fake server, and a way to run `statusline` in it."""

    def __init__(self, home: Path, server: FakeAnthropic) -> None:
        self.home = Home(home)
        self.home.ensure()
        self.server = server

    def login(self) -> None:
        tok = self.server.issue_tokens()
        CredentialStore(self.home.credentials).save(TokenSet(
            access_token=tok["access_token"], refresh_token=tok["refresh_token"],
            expires_at=datetime.now(UTC) + timedelta(seconds=tok["expires_in"]),
            scope=tok["scope"], email=tok["account"]["email_address"]))

    def cache(self, age: timedelta, session: float = 42.0, weekly: float = 20.0,
              source: str = "api") -> None:
        now = datetime.now(UTC)
        session_reset = now + timedelta(hours=1, minutes=12, seconds=30)
        raw = {
            "five_hour": {"utilization": session, "resets_at": session_reset.isoformat()},
            "seven_day": {"utilization": weekly,
                          "resets_at": (now + timedelta(days=3)).isoformat()},
        }
        SnapshotStore(self.home.snapshot).save(Snapshot(now - age, parse_usage(raw), raw,
                                                        source))

    def serve(self, session: float, weekly: float) -> None:
        now = datetime.now(UTC)
        self.server.usage = {
            "five_hour": {"utilization": session,
                          "resets_at": (now + timedelta(hours=3, minutes=30)).isoformat()},
            "seven_day": {"utilization": weekly,
                          "resets_at": (now + timedelta(days=3)).isoformat()},
        }

    def env(self) -> dict[str, str]:
        env = dict(os.environ, CLAUDE_PULSE_HOME=str(self.home.root))
        env.pop("PYTHONWARNINGS", None)
        return env

    def popen(self, stdin: bytes | None) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "claude_pulse", "statusline"],
            stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env(),
        )
        return proc

    def run(self, stdin: bytes | None = None) -> tuple[int, str, str]:
        proc = self.popen(stdin)
        out, err = proc.communicate(stdin, timeout=30)
        text_out, text_err = out.decode("utf-8"), err.decode("utf-8")
        assert "Traceback" not in text_err
        assert text_out.count("\n") == 1, text_out  # exactly one line
        return proc.returncode, text_out.strip(), text_err

    def usage_requests(self) -> int:
        return len(self.server.requests_to("usage"))

    def snapshot_source(self) -> str | None:
        snap = SnapshotStore(self.home.snapshot).load()
        return snap.source if snap else None

    def history_rows(self) -> list[tuple[str, float]]:
        if not self.home.history.exists():
            return []
        conn = sqlite3.connect(self.home.history)
        try:
            return list(conn.execute("SELECT source, session FROM samples ORDER BY id"))
        finally:
            conn.close()


@pytest.fixture
def scene(pulse_home: Path, fake_server: FakeAnthropic, fake_config: Path) -> Scene:
    return Scene(pulse_home, fake_server)


def claude_code_feed(session: float = 23.5, weekly: float = 68.0) -> bytes:
    return claude_code_stdin(session, weekly)


def test_a_broken_feed_falls_back_to_the_snapshot(scene: Scene) -> None:
    # claude-code #52326: the epoch time in used_percentage; and a reset years away.
    scene.login()
    scene.cache(timedelta(seconds=5))
    far = json.dumps({"rate_limits": {"seven_day": {"used_percentage": 30,
                                                    "resets_at": int(time.time()) + 400 * 86400}}})
    for stdin in (samples.STATUSLINE_BROKEN.encode(), far.encode()):
        code, line, _ = scene.run(stdin)
        assert (code, line) == (0, "5h 42% · resets 1h12m · 7d 20%"), line
    assert scene.snapshot_source() == "api" and scene.usage_requests() == 0


def test_stdin_feed_is_used_and_shared_without_calling(scene: Scene) -> None:
    scene.login()
    scene.cache(timedelta(hours=2))  # stale: without the feed this would fetch
    code, line, _ = scene.run(claude_code_feed(23.5, 80.0))
    assert (code, line) == (0, "5h 23% · resets 3h01m · 7d 80% ▲")
    assert scene.usage_requests() == 0
    assert scene.snapshot_source() == "claude-code"
    assert scene.history_rows() == [("claude-code", 23.5)]

    # The same numbers again within the poll interval: printed, not written again.
    code, line, _ = scene.run(claude_code_feed(23.5, 80.0))
    assert code == 0 and line.startswith("5h 23%")
    assert scene.history_rows() == [("claude-code", 23.5)]
    # New numbers are shared at once.
    scene.run(claude_code_feed(25.0, 80.0))
    assert scene.history_rows() == [("claude-code", 23.5), ("claude-code", 25.0)]
    assert scene.usage_requests() == 0


def test_a_partial_feed_does_not_replace_a_fuller_snapshot(scene: Scene) -> None:
    scene.cache(timedelta(minutes=3), session=10.0, weekly=20.0)
    partial = json.dumps({"rate_limits": {"five_hour": {
        "used_percentage": 12.0, "resets_at": int(time.time() + 3600 + 90)}}}).encode()
    assert scene.run(partial)[:2] == (0, "5h 12% · resets 1h01m")
    assert scene.snapshot_source() == "api"
    assert scene.history_rows() == []
    assert scene.usage_requests() == 0


class Tray:
    """A running tray's single-instance listener (the real one), recording what it is told."""

    def __init__(self, home: Home) -> None:
        self.told: list[str] = []
        self._instance = SingleInstance(home, self.told.append, messages=(SHOW, FEED))
        assert self._instance.acquire()

    def release(self) -> None:
        self._instance.release()


@pytest.fixture
def tray(scene: Scene) -> Iterator[Tray]:
    tray = Tray(scene.home)
    try:
        yield tray
    finally:
        tray.release()


def test_a_new_feed_snapshot_pokes_the_running_tray_once(scene: Scene, tray: Tray) -> None:
    scene.cache(timedelta(hours=2))
    scene.run(claude_code_feed(23.5, 80.0))
    # The tray answers "ok" before it handles the line, on its own thread.
    wait_until(lambda: tray.told == [FEED], 5, "the tray to be told")
    scene.run(claude_code_feed(23.5, 80.0))  # the same numbers: no save, so no poke
    scene.run(claude_code_feed(26.0, 80.0))
    wait_until(lambda: len(tray.told) == 2, 5, "the second poke")
    time.sleep(0.2)
    assert tray.told == [FEED, FEED]
    assert scene.history_rows() == [("claude-code", 23.5), ("claude-code", 26.0)]
    assert scene.usage_requests() == 0


def test_a_feed_that_is_not_saved_pokes_nobody(scene: Scene, tray: Tray) -> None:
    scene.cache(timedelta(seconds=5), session=10.0, weekly=20.0)
    partial = json.dumps({"rate_limits": {"five_hour": {
        "used_percentage": 12.0, "resets_at": int(time.time() + 3600 + 90)}}}).encode()
    scene.run(partial)  # would lose the weekly window: printed, not saved
    scene.run(samples.STATUSLINE_BROKEN.encode())
    time.sleep(0.3)
    assert tray.told == [] and scene.snapshot_source() == "api"


def test_the_same_numbers_are_saved_again_after_half_an_interval(scene: Scene,
                                                                 tray: Tray) -> None:
    """A live feed keeps the shared snapshot younger than the poll interval (180 s), so the
    tray keeps taking it instead of asking Anthropic."""
    store = SnapshotStore(scene.home.snapshot)
    stdin = claude_code_feed(23.5, 80.0)
    scene.run(stdin)
    wait_until(lambda: tray.told == [FEED], 5, "the first poke")

    def aged(seconds: float) -> Snapshot:
        saved = store.load()
        assert saved is not None
        store.save(dataclasses.replace(saved, fetched_at=saved.fetched_at
                                       - timedelta(seconds=seconds)))
        return store.load() or saved

    before = aged(80)
    scene.run(stdin)
    assert store.load() == before  # 80 s < 90 s: left alone, nobody told
    aged(20)  # now 100 s old
    scene.run(stdin)
    saved = store.load()
    assert saved is not None and saved.source == "claude-code"
    assert datetime.now(UTC) - saved.fetched_at < timedelta(seconds=30)
    wait_until(lambda: tray.told == [FEED, FEED], 5, "the second poke")
    assert scene.usage_requests() == 0


def test_without_a_tray_the_feed_is_saved_all_the_same(scene: Scene) -> None:
    assert not scene.home.instance_port.exists()
    code, line, err = scene.run(claude_code_feed(23.5, 80.0))
    assert code == 0 and line.startswith("5h 23%") and err == ""
    assert scene.snapshot_source() == "claude-code"


@pytest.mark.parametrize(
    "stdin",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"not json at all", id="garbage"),
        pytest.param(b'{"model": {"id": "x"}, "session_id": "s"}', id="no-rate-limits"),
        pytest.param(b'{"rate_limits": {"five_hour": {"used_percentage": "lots"}}}',
                     id="bad-values"),
        pytest.param(None, id="no-stdin"),
    ],
)
def test_without_a_usable_feed_a_fresh_cache_is_printed(scene: Scene,
                                                          stdin: bytes | None) -> None:
    scene.login()
    scene.cache(timedelta(seconds=10), session=42.0, weekly=20.0)
    code, line, err = scene.run(stdin)
    assert (code, line) == (0, "5h 42% · resets 1h12m · 7d 20%")
    assert err == ""
    assert scene.usage_requests() == 0
    assert scene.snapshot_source() == "api"


def test_stale_cache_fetches_once(scene: Scene) -> None:
    scene.login()
    scene.cache(timedelta(minutes=5))
    scene.serve(55.0, 30.0)
    code, line, _ = scene.run()
    assert (code, line) == (0, "5h 55% · resets 3h29m · 7d 30%")
    assert scene.usage_requests() == 1
    assert scene.snapshot_source() == "api"
    assert scene.history_rows() == [("api", 55.0)]
    # The answer is now the fresh cache: no second request.
    assert scene.run()[1] == line
    assert scene.usage_requests() == 1


def test_no_cache_fetches(scene: Scene) -> None:
    scene.login()
    scene.serve(5.0, 1.0)
    assert scene.run() == (0, "5h 5% · resets 3h29m · 7d 1%", "")
    assert scene.usage_requests() == 1


def test_server_down_shows_the_cache_as_stale(scene: Scene) -> None:
    scene.login()
    scene.cache(timedelta(minutes=12, seconds=5))
    scene.server.stop()
    code, line, _ = scene.run()
    assert (code, line) == (0, "5h 42% · resets 1h12m · 7d 20% (stale 12m)")


def test_server_down_without_cache(scene: Scene) -> None:
    scene.login()
    scene.server.stop()
    assert scene.run()[:2] == (1, "Claude Pulse: offline")


@pytest.mark.parametrize(
    ("replies", "expected"),
    [
        pytest.param([Reply.server_error(503)], "Claude Pulse: server error", id="5xx"),
        pytest.param([Reply.truncated_json()], "Claude Pulse: server error", id="bad-body"),
        # A 401 refreshes the token and retries once; a second 401 means "log in again".
        pytest.param([Reply.unauthorized(), Reply.unauthorized()], "Claude Pulse: log in again",
                     id="401-twice"),
        pytest.param([Reply.forbidden_scope()], "Claude Pulse: log in again", id="403-scope"),
    ],
)
def test_server_errors(scene: Scene, replies: list[Reply], expected: str) -> None:
    scene.login()
    scene.server.queue("usage", *replies)
    assert scene.run()[:2] == (1, expected)
    assert scene.server.pending("usage") == 0

    scene.cache(timedelta(minutes=4))  # past the interval and the tray's turn (216 s)
    scene.server.queue("usage", *replies)
    scene.home.gate.unlink()  # forget the last request, so the poll-interval spacing allows one
    code, line = scene.run()[:2]
    assert (code, line) == (0, "5h 42% · resets 1h12m · 7d 20% (stale 4m)")


def test_leaves_the_tray_its_turn_before_asking_itself(scene: Scene) -> None:
    """The tray polls every 180 s ±10 %: a snapshot up to 216 s old is printed as it is, so the
    status line does not spend the hour's budget on a request the tray is about to make."""
    scene.login()
    scene.cache(timedelta(seconds=200))
    assert scene.run()[:2] == (0, "5h 42% · resets 1h12m · 7d 20%")
    assert scene.usage_requests() == 0
    scene.cache(timedelta(seconds=230))  # the tray is evidently not polling: ask
    assert scene.run()[0] == 0 and scene.usage_requests() == 1


def test_not_logged_in(scene: Scene) -> None:
    assert scene.run()[:2] == (1, "Claude Pulse: not logged in")
    scene.cache(timedelta(hours=1))
    assert scene.run()[:2] == (0, "5h 42% · resets 1h12m · 7d 20% (stale 1h)")
    assert scene.usage_requests() == 0


def test_during_a_cooldown(scene: Scene) -> None:
    scene.login()
    until = RequestGate(scene.home.gate, scene.home.gate_lock).note_rate_limited(
        datetime.now(UTC), 600)
    code, line, _ = scene.run()
    assert (code, line) == (1, f"Claude Pulse: rate-limited until {until.astimezone():%H:%M}")
    scene.cache(timedelta(minutes=7))
    assert scene.run()[:2] == (
        0, f"5h 42% · resets 1h12m · 7d 20% (stale 7m, next {until.astimezone():%H:%M})")
    assert scene.usage_requests() == 0


def test_a_429_starts_the_shared_cooldown(scene: Scene) -> None:
    scene.login()
    scene.cache(timedelta(minutes=4))  # older than the 180 s poll interval: worth a fetch
    scene.server.queue("usage", Reply.rate_limited(0))
    code, line = scene.run()[:2]
    assert (code, line.split(", next")[0]) == (0, "5h 42% · resets 1h12m · 7d 20% (stale 4m")
    assert scene.usage_requests() == 1
    gate = RequestGate(scene.home.gate, scene.home.gate_lock)
    assert gate.cooldown_until(datetime.now(UTC)) is not None
    gate.path.write_text(json.dumps({"requests": [], "cooldown_until":
                                     gate.peek().cooldown_until}))  # spacing no longer applies
    scene.run()
    assert scene.usage_requests() == 1  # the cooldown holds


def test_a_held_gate_lock_does_not_hold_up_the_line(scene: Scene) -> None:
    """Another process keeping gate.lock (stuck, suspended) used to cost the lock's full 10 s
    and a "(stale 4m)" line; now the line waits GATE_WAIT_S and treats it as that process's
    fetch: the snapshot as it is (not two poll intervals old), and no request."""
    scene.login()
    scene.cache(timedelta(minutes=4))  # past the tray's turn: the line would fetch
    with held_lock(scene.home.gate_lock):
        code, line, _ = scene.run()
    assert (code, line) == (0, "5h 42% · resets 1h12m · 7d 20%")
    assert scene.usage_requests() == 0


@pytest.mark.slow
def test_concurrent_runs_share_one_fetch(scene: Scene) -> None:
    scene.login()
    scene.cache(timedelta(minutes=7))
    scene.serve(60.0, 30.0)
    scene.server.queue("usage", Reply.slow(0.5))  # keep the first fetch in flight
    procs = [scene.popen(None) for _ in range(2)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0 and b"Traceback" not in err
        results.append(out.decode().strip())
    assert scene.usage_requests() == 1
    # One prints the new numbers; the other the old snapshot (7 minutes old, over two poll
    # intervals, so marked stale), or, if it started late, the new snapshot.
    new, old = "5h 60% · resets 3h29m · 7d 30%", "5h 42% · resets 1h12m · 7d 20% (stale 7m)"
    assert new in results
    assert set(results) <= {new, old}


# -- logging (what the fast path loads: tests/test_fastline.py) --------------------------------


def test_logging_is_set_up_only_when_something_is_logged(pulse_home: Path) -> None:
    """The fast path defers the log handlers (docs/performance.md, gap 2); a warning must still
    reach logs/cli.log as for every other command."""
    pulse_home.mkdir(parents=True, exist_ok=True)
    (pulse_home / "snapshot.json").write_text("not json")
    out = subprocess.run([sys.executable, "-m", "claude_pulse", "statusline"],
                         capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    log_text = (pulse_home / "logs" / "cli.log").read_text()
    assert "ignoring unreadable usage cache" in log_text
