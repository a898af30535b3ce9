"""`platform.poke`: the status line's one-line nudge to the running tray, against a real
`SingleInstance` listener (and a mute one, a refusing one, broken records), plus what importing
it costs the status line."""

from __future__ import annotations

import json
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from claude_pulse.home import Home
from claude_pulse.platform.instance import FEED, SHOW, SingleInstance
from claude_pulse.platform.poke import poke_tray


@pytest.fixture
def home(pulse_home: Path) -> Home:
    home = Home(pulse_home)
    home.ensure()
    return home


@pytest.fixture
def tray(home: Home) -> Iterator[tuple[SingleInstance, queue.Queue[str]]]:
    received: queue.Queue[str] = queue.Queue()
    instance = SingleInstance(home, received.put, messages=(SHOW, FEED))
    assert instance.acquire()
    try:
        yield instance, received
    finally:
        instance.release()


def test_the_running_tray_gets_the_message(
    home: Home, tray: tuple[SingleInstance, queue.Queue[str]]
) -> None:
    _instance, received = tray
    assert poke_tray(str(home.instance_port), FEED) is True
    assert received.get(timeout=5) == FEED


def test_a_message_the_tray_does_not_take_is_no_success(
    home: Home, tray: tuple[SingleInstance, queue.Queue[str]]
) -> None:
    _instance, received = tray
    assert poke_tray(str(home.instance_port), "quit") is False  # not in its messages
    assert poke_tray(str(home.instance_port), "two words") is False  # never sent
    assert received.empty()


def test_no_tray_is_a_quick_false(home: Home) -> None:
    assert not home.instance_port.exists()
    assert poke_tray(str(home.instance_port), FEED) is False


def test_a_stopped_tray_leaves_no_record(home: Home) -> None:
    instance = SingleInstance(home, lambda _m: None, messages=(FEED,))
    assert instance.acquire()
    instance.release()
    assert poke_tray(str(home.instance_port), FEED) is False


def _record(home: Home, port: int, secret: str = "ab" * 32) -> None:
    home.instance_port.write_text(json.dumps({"port": port, "secret": secret, "pid": 1}),
                                  "utf-8")


def test_a_killed_trays_record_gets_a_refused_connection(home: Home) -> None:
    with socket.socket() as gone:
        gone.bind(("127.0.0.1", 0))
        port = gone.getsockname()[1]  # bound, never listening: connections are refused
        _record(home, port)
        assert poke_tray(str(home.instance_port), FEED) is False


def test_a_mute_listener_is_given_up_at_the_deadline(home: Home) -> None:
    with socket.socket() as mute:  # accepts in the kernel, never answers
        mute.bind(("127.0.0.1", 0))
        mute.listen(1)
        _record(home, mute.getsockname()[1])
        started = time.monotonic()
        assert poke_tray(str(home.instance_port), FEED, timeout_s=0.3) is False
        # Bounded by its own deadline (a blocking read would hang here for ever).
        assert time.monotonic() - started < 2.0


def test_a_dribbling_listener_is_given_up_at_the_deadline(home: Home) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        _record(home, server.getsockname()[1])
        stop = threading.Event()

        def dribble() -> None:
            conn, _ = server.accept()
            with conn:
                while not stop.is_set():  # one byte of "okokok…" at a time, never a newline
                    try:
                        conn.sendall(b"o")
                    except OSError:
                        return
                    time.sleep(0.01)

        worker = threading.Thread(target=dribble, daemon=True)
        worker.start()
        started = time.monotonic()
        assert poke_tray(str(home.instance_port), FEED, timeout_s=0.3) is False
        assert time.monotonic() - started < 2.0
        stop.set()
        worker.join(timeout=5)


def test_a_wrong_secret_is_denied(
    home: Home, tray: tuple[SingleInstance, queue.Queue[str]]
) -> None:
    instance, received = tray
    assert instance.port is not None
    _record(home, instance.port, secret="cd" * 32)
    assert poke_tray(str(home.instance_port), FEED) is False
    assert received.empty()


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"not json", id="garbage"),
        pytest.param(b"[1, 2]", id="a-list"),
        pytest.param(b'{"port": "x", "secret": "ab"}', id="port-not-a-number"),
        pytest.param(b'{"port": true, "secret": "ab"}', id="port-a-bool"),
        pytest.param(b'{"port": 70000, "secret": "ab"}', id="port-out-of-range"),
        pytest.param(b'{"port": 5000, "secret": "a b\\nshow"}', id="secret-with-a-line"),
        pytest.param(b'{"port": 5000}', id="no-secret"),
        pytest.param(b"\xff\xfe", id="not-utf8"),
        pytest.param(b"[" * 100_000, id="nested-too-deep"),
    ],
)
def test_an_unusable_record_is_false_never_an_exception(home: Home, content: bytes) -> None:
    home.instance_port.write_bytes(content)
    assert poke_tray(str(home.instance_port), FEED) is False


def test_a_folder_where_the_record_should_be_is_false(home: Home) -> None:
    home.instance_port.mkdir()
    assert poke_tray(str(home.instance_port), FEED) is False


@pytest.mark.skipif(sys.platform == "win32", reason="no FIFOs on Windows")
def test_a_fifo_where_the_record_should_be_is_a_quick_false(home: Home) -> None:
    # Opening a FIFO for reading blocks until a writer comes: the status line would hang.
    import os

    os.mkfifo(home.instance_port, 0o600)
    code = ("import sys; from claude_pulse.platform.poke import poke_tray; "
            "print(poke_tray(sys.argv[1], 'feed', timeout_s=0.3))")
    started = time.monotonic()
    out = subprocess.run([sys.executable, "-S", "-c", code, str(home.instance_port)],
                         capture_output=True, text=True, timeout=20, check=True,
                         env=_plain_env())
    assert out.stdout.strip() == "False"
    assert time.monotonic() - started < 10


def test_importing_it_loads_only_the_standard_library() -> None:
    # The status line's fast path imports it: no wiring, config, logging or pathlib.
    code = ("import sys; import claude_pulse.platform.poke; "
            "print(' '.join(sorted(sys.modules)))")
    loaded = set(subprocess.run([sys.executable, "-S", "-c", code], capture_output=True,
                                text=True, check=True, env=_plain_env()).stdout.split())
    ours = {name for name in loaded if name.startswith("claude_pulse")}
    assert ours == {"claude_pulse", "claude_pulse.platform", "claude_pulse.platform.poke"}
    assert not loaded & {"logging", "pathlib", "threading", "filelock"}


def _plain_env() -> dict[str, str]:
    import os

    # -S skips site; the package is found through PYTHONPATH (an editable install's .pth
    # would need site).
    src = Path(__file__).resolve().parents[1] / "src"
    return {**os.environ, "PYTHONPATH": str(src)}
