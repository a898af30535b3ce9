"""Single instance: a real lock, a real loopback socket, and a second real process."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from claude_pulse.home import Home
from claude_pulse.platform.instance import (
    LINE_DEADLINE_S,
    WARNINGS_PER_MINUTE,
    RateLimitedLog,
    SingleInstance,
)

# The first tray app: takes the instance, prints every message it is sent, waits for stdin.
_FIRST = """
import sys
from pathlib import Path
from claude_pulse.home import Home
from claude_pulse.platform.instance import SingleInstance

instance = SingleInstance(Home(Path(sys.argv[1])), lambda m: print("got", m, flush=True))
print("acquired" if instance.acquire() else "busy", flush=True)
sys.stdin.read()
"""


class Lines:
    """A child's stdout, read on a thread so the test can wait with a timeout."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self._queue: queue.Queue[str] = queue.Queue()
        assert proc.stdout is not None
        self._stdout = proc.stdout
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for line in self._stdout:
            self._queue.put(line.strip())

    def next(self, timeout: float = 10.0) -> str:
        return self._queue.get(timeout=timeout)

    def join(self) -> None:
        self._thread.join(timeout=10)


@pytest.fixture
def home(pulse_home: Path) -> Home:
    return Home(pulse_home)


@pytest.fixture
def first(home: Home) -> Iterator[tuple[subprocess.Popen[str], Lines]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _FIRST, str(home.root)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    lines = Lines(proc)
    try:
        assert lines.next() == "acquired"
        yield proc, lines
    finally:
        proc.kill()
        proc.wait(timeout=10)
        lines.join()  # EOF after the kill; only then close the pipes it reads
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()


@pytest.fixture
def instances() -> Iterator[list[SingleInstance]]:
    made: list[SingleInstance] = []
    yield made
    for instance in made:
        instance.release()


def _new(home: Home, made: list[SingleInstance]) -> tuple[SingleInstance, queue.Queue[str]]:
    received: queue.Queue[str] = queue.Queue()
    instance = SingleInstance(home, received.put)
    made.append(instance)
    return instance, received


def test_second_process_hands_over_to_the_first_and_a_killed_first_frees_the_lock(
    home: Home, first: tuple[subprocess.Popen[str], Lines], instances: list[SingleInstance]
) -> None:
    proc, lines = first
    second, received = _new(home, instances)

    assert second.acquire() is False
    assert second.notify_running("show") is True
    assert lines.next() == "got show"

    proc.kill()  # SIGKILL: no cleanup runs, the record stays behind
    proc.wait(timeout=10)
    assert home.instance_port.exists()
    started = time.monotonic()
    assert second.notify_running("show", timeout_s=0.5) is False  # stale record
    assert time.monotonic() - started < 2.0

    assert second.acquire() is True  # the OS dropped the dead process's lock
    third, _ = _new(home, instances)
    assert third.notify_running("show") is True
    assert received.get(timeout=5) == "show"


def test_record_is_private_and_names_the_listener(
    home: Home, instances: list[SingleInstance]
) -> None:
    instance, _ = _new(home, instances)
    assert instance.acquire()
    record = json.loads(home.instance_port.read_text("utf-8"))
    assert record["port"] == instance.port
    assert len(record["secret"]) == 64 and record["pid"] == os.getpid()
    if os.name == "posix":
        assert stat.S_IMODE(home.instance_port.stat().st_mode) == 0o600
        assert stat.S_IMODE(home.instance_lock.stat().st_mode) & 0o077 == 0


def test_second_instance_in_the_same_process_is_refused(
    home: Home, instances: list[SingleInstance]
) -> None:
    one, received = _new(home, instances)
    two, _ = _new(home, instances)
    assert one.acquire() is True
    assert one.acquire() is True  # already ours
    assert two.acquire() is False
    assert two.notify_running() is True
    assert received.get(timeout=5) == "show"


@pytest.mark.parametrize(
    ("line", "reply"),
    [
        pytest.param(b"not-the-secret show\n", b"denied\n", id="wrong-secret"),
        pytest.param(b"\n", b"denied\n", id="empty"),
        pytest.param(b"{secret} quit\n", b"unknown\n", id="unknown-message"),
        # A full buffer without a newline: answered at once, not waited on.
        pytest.param(b"x" * 512, b"denied\n", id="no-newline"),
    ],
)
def test_bad_connections_are_refused_and_the_listener_survives(
    home: Home, instances: list[SingleInstance], line: bytes, reply: bytes
) -> None:
    instance, received = _new(home, instances)
    assert instance.acquire()
    secret = json.loads(home.instance_port.read_text("utf-8"))["secret"]
    with socket.create_connection(("127.0.0.1", instance.port or 0), timeout=5) as conn:
        conn.sendall(line.replace(b"{secret}", secret.encode()))
        assert conn.recv(100) == reply
    assert received.empty()

    other, _ = _new(home, instances)
    assert other.notify_running("show") is True
    assert received.get(timeout=5) == "show"


def test_silent_instance_is_given_up_after_the_timeout(
    home: Home, instances: list[SingleInstance]
) -> None:
    home.ensure()
    with socket.socket() as mute:  # accepts connections in the kernel, never answers
        mute.bind(("127.0.0.1", 0))
        mute.listen(1)
        record = {"port": mute.getsockname()[1], "secret": "s" * 64, "pid": 1}
        home.instance_port.write_text(json.dumps(record), "utf-8")
        instance, _ = _new(home, instances)
        started = time.monotonic()
        assert instance.notify_running("show", timeout_s=0.3) is False
        assert 0.25 <= time.monotonic() - started < 1.5


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(None, id="no-record"),
        pytest.param("not json", id="garbage"),
        pytest.param('{"port": "x"}', id="wrong-shape"),
    ],
)
def test_unusable_record_means_no_answer(
    home: Home, instances: list[SingleInstance], content: str | None
) -> None:
    home.ensure()
    if content is not None:
        home.instance_port.write_text(content, "utf-8")
    instance, _ = _new(home, instances)
    assert instance.notify_running("show", timeout_s=0.2) is False


def test_release_closes_everything(home: Home, instances: list[SingleInstance]) -> None:
    instance, _ = _new(home, instances)
    assert instance.acquire()
    port = instance.port
    assert port is not None
    threads = {t.name for t in threading.enumerate()}
    assert "single-instance" in threads

    instance.release()
    instance.release()  # twice is harmless
    assert not home.instance_port.exists()
    assert "single-instance" not in {t.name for t in threading.enumerate()}
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    other, _ = _new(home, instances)
    assert other.acquire() is True


def test_failing_handler_does_not_stop_the_listener(
    home: Home, instances: list[SingleInstance], caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[str] = []

    def handler(message: str) -> None:
        calls.append(message)
        raise RuntimeError("window gone")

    instance = SingleInstance(home, handler)
    instances.append(instance)
    assert instance.acquire()
    sender, _ = _new(home, instances)
    assert sender.notify_running() is True
    assert sender.notify_running() is True
    deadline = time.monotonic() + 5
    while len(calls) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert calls == ["show", "show"]
    assert "window gone" in caplog.text


def test_idle_listener_uses_no_cpu(home: Home, instances: list[SingleInstance]) -> None:
    """The listener blocks in accept(): no polling loop, no timeout wake-ups."""
    instance, _ = _new(home, instances)
    assert instance.acquire()
    before = time.process_time()
    time.sleep(0.5)
    assert time.process_time() - before < 0.05


# ---- issue 16 item 8: one bad client cannot block a launch, a flood cannot fill the log ----

_FIRST_LOGGING = """
import sys
from pathlib import Path
from claude_pulse.home import Home
from claude_pulse.platform.instance import SingleInstance
from claude_pulse.platform.logs import configure

home = Home(Path(sys.argv[1]))
configure(home.logs, console=False)
instance = SingleInstance(home, lambda m: print("got", m, flush=True))
print("acquired" if instance.acquire() else "busy", flush=True)
sys.stdin.read()
"""


def test_an_idle_connection_does_not_make_a_second_launch_fail(
    home: Home, first: tuple[subprocess.Popen[str], Lines], instances: list[SingleInstance]
) -> None:
    _proc, lines = first
    port = json.loads(home.instance_port.read_text("utf-8"))["port"]
    with socket.create_connection(("127.0.0.1", port), timeout=5) as idle:
        idle.sendall(b"x")  # a client that starts a line and never finishes it
        second, _ = _new(home, instances)
        started = time.monotonic()
        assert second.notify_running("show") is True
        assert time.monotonic() - started < 1.0
        assert lines.next() == "got show"


def test_a_dribbling_client_is_cut_at_the_line_deadline(
    home: Home, instances: list[SingleInstance]
) -> None:
    instance, received = _new(home, instances)
    assert instance.acquire()
    started = time.monotonic()
    closed_after = None
    with socket.create_connection(("127.0.0.1", instance.port or 0), timeout=5) as conn:
        for _ in range(20):  # a byte every 0.2 s: never silent long enough for a read timeout
            try:
                conn.sendall(b"a")
            except OSError:
                closed_after = time.monotonic() - started
                break
            time.sleep(0.2)
    assert closed_after is not None, "the listener kept a dribbling client for 4 s"
    assert closed_after < LINE_DEADLINE_S + 1.0
    assert received.empty()


def test_a_flood_of_connections_leaves_the_log_alone(home: Home) -> None:
    proc = subprocess.Popen([sys.executable, "-c", _FIRST_LOGGING, str(home.root)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    lines = Lines(proc)
    try:
        assert lines.next() == "acquired"
        log_file = home.logs / "claude-pulse.log"
        before = log_file.read_bytes() if log_file.exists() else b""
        port = json.loads(home.instance_port.read_text("utf-8"))["port"]
        for i in range(300):
            with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
                conn.sendall(b"not-the-secret show\n" if i % 2 else b"\n")
                with contextlib.suppress(OSError):
                    conn.recv(100)
        second = SingleInstance(home, lambda m: None)
        assert second.notify_running("show") is True  # still answering
        assert lines.next() == "got show"
        warnings = [line for line in log_file.read_text("utf-8").splitlines()
                    if "single instance" in line]
        assert 1 <= len(warnings) <= WARNINGS_PER_MINUTE + 1
        assert log_file.read_bytes().startswith(before)
        assert not list(home.logs.glob("claude-pulse.log.*"))  # nothing rotated away
    finally:
        proc.kill()
        proc.wait(timeout=10)
        lines.join()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()


def test_rate_limited_log_counts_what_it_drops(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    log = RateLimitedLog(logging.getLogger("test.ratelimit"), 2, 60.0, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="test.ratelimit"):
        for i in range(5):
            log.warning("refused %d", i)
        now[0] = 61.0
        log.warning("refused %d", 5)
    assert [r.getMessage() for r in caplog.records] == [
        "refused 0", "refused 1", "3 more warnings like these were not logged", "refused 5"]
