"""No console, no silent death (issue 13 item 2).

Under `pythonw.exe` and the `claude-pulse-tray` gui-script, `sys.stdout` and `sys.stderr` are
None: a print goes nowhere and an uncaught traceback is lost. Each test here runs the real entry
(`claude_pulse.cli.main`) in a fresh interpreter with both streams set to None, forces a start-up
failure the way a user meets it, and checks that the log holds the error, that the message box
was asked for, and that `main` returned (nothing raised).
"""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

from claude_pulse.platform import console

RUNNER = textwrap.dedent("""
    import json, sys
    result_path, args, failure = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
    sys.stdout = sys.stderr = None  # what pythonw.exe gives
    shown = []
    try:
        import claude_pulse.platform.console as console
        console.message_box = lambda text, title="": bool(shown.append(text)) or True
    except ImportError:
        pass
    if failure == "no-tk":
        sys.modules["tkinter"] = None  # a Python built without Tk
    elif failure == "bug":
        import claude_pulse.app
        def broken(self):
            raise RuntimeError("boom at start-up")
        claude_pulse.app.DesktopApp.run = broken
    elif failure == "thread":
        import threading
        import claude_pulse.commands.logout as logout
        def crash():
            raise ValueError("a worker thread died")
        def run_with_a_dying_worker(args, services, _run=logout.run):
            worker = threading.Thread(target=crash, name="pulse-worker")
            worker.start()
            worker.join()
            return _run(args, services)
        logout.run = run_with_a_dying_worker
    from claude_pulse.cli import main
    code = main(args)
    with open(result_path, "w", encoding="utf-8") as out:
        json.dump({"code": code, "shown": shown}, out)
""")


def run_without_console(tmp_path: Path, home: Path, args: list[str], failure: str,
                        env: dict[str, str] | None = None) -> tuple[dict[str, Any], str, str]:
    """(what main returned and showed, the log's text, the process's real stderr)."""
    result = tmp_path / "result.json"
    environ = dict(os.environ, CLAUDE_PULSE_HOME=str(home), **(env or {}))
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        environ.pop(name, None)  # no desktop: Tk cannot open a display
    proc = subprocess.run([sys.executable, "-c", RUNNER, str(result), json.dumps(args), failure],
                          capture_output=True, text=True, timeout=60, env=environ,
                          stdin=subprocess.DEVNULL, check=False)
    logs = home / "logs"
    log_text = "".join(p.read_text(encoding="utf-8") for p in sorted(logs.glob("*.log"))) \
        if logs.exists() else ""
    assert result.exists(), f"main raised (exit {proc.returncode}); log:\n{log_text}"
    return json.loads(result.read_text(encoding="utf-8")), log_text, proc.stderr


def test_no_display_is_logged_and_shown(tmp_path: Path, pulse_home: Path) -> None:
    outcome, log_text, stderr = run_without_console(tmp_path, pulse_home, [], "none")
    assert outcome["code"] == 1
    assert "cannot open the desktop display" in log_text
    assert len(outcome["shown"]) == 1
    shown = outcome["shown"][0]
    assert "cannot open the desktop display" in shown and "claude-pulse.log" in shown
    assert stderr == ""


def test_no_tk_is_logged_and_shown(tmp_path: Path, pulse_home: Path) -> None:
    outcome, log_text, _ = run_without_console(tmp_path, pulse_home, [], "no-tk")
    assert outcome["code"] == 1
    assert "tkinter" in log_text and "Traceback" in log_text
    assert len(outcome["shown"]) == 1 and "tkinter" in outcome["shown"][0]


def test_an_unexpected_error_at_start_up_keeps_its_traceback(tmp_path: Path,
                                                            pulse_home: Path) -> None:
    outcome, log_text, _ = run_without_console(tmp_path, pulse_home, [], "bug")
    assert outcome["code"] == 1
    assert "RuntimeError: boom at start-up" in log_text and "Traceback" in log_text
    assert outcome["shown"] == [
        "Claude Pulse could not start.\n\nRuntimeError: boom at start-up\n\n"
        f"Details are in {pulse_home / 'logs' / 'claude-pulse.log'}"]


def test_a_thread_that_dies_is_logged(tmp_path: Path, pulse_home: Path) -> None:
    outcome, log_text, _ = run_without_console(tmp_path, pulse_home, ["logout"], "thread")
    assert outcome["code"] == 0
    assert "uncaught exception in thread pulse-worker" in log_text
    assert "ValueError: a worker thread died" in log_text
    assert outcome["shown"] == []  # a dead worker is not a start-up failure


def test_wrong_usage_reaches_the_log(tmp_path: Path, pulse_home: Path) -> None:
    with pytest.raises(AssertionError, match="main raised"):  # argparse exits with 2 ...
        run_without_console(tmp_path, pulse_home, ["--bogus"], "none")
    log_text = (pulse_home / "logs" / "claude-pulse.log").read_text(encoding="utf-8")
    assert "unrecognized arguments: --bogus" in log_text  # ... and says why, in the log


def test_a_failed_command_without_a_console_is_shown(tmp_path: Path, pulse_home: Path) -> None:
    outcome, log_text, _ = run_without_console(tmp_path, pulse_home, ["status"], "none")
    assert outcome["code"] == 1
    assert "Not logged in" in log_text and "Not logged in" in outcome["shown"][0]


# ---- the pieces, with Windows' answers -----------------------------------------------------------


class FakeFunction:
    """A ctypes foreign function as the tests see it: typed by attributes, then called."""

    def __init__(self, answer: int) -> None:
        self.answer = answer
        self.calls: list[tuple[Any, ...]] = []
        self.argtypes: Any = None
        self.restype: Any = None

    def __call__(self, *args: Any) -> int:
        assert self.argtypes is not None and self.restype is not None, "called untyped"
        self.calls.append(args)
        return self.answer


class FakeWindll:
    def __init__(self, console_window: int) -> None:
        self.user32 = type("User32", (), {})()
        self.user32.MessageBoxW = FakeFunction(1)  # IDOK
        self.kernel32 = type("Kernel32", (), {})()
        self.kernel32.GetConsoleWindow = FakeFunction(console_window)


def test_message_box_calls_MessageBoxW_typed_on_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    from ctypes import wintypes

    windll = FakeWindll(0)
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(ctypes, "windll", windll, raising=False)
    assert console.message_box("Claude Pulse could not start.") is True
    box = windll.user32.MessageBoxW
    assert tuple(box.argtypes) == (wintypes.HWND, wintypes.LPCWSTR, wintypes.LPCWSTR,
                                   wintypes.UINT)
    (call,) = box.calls
    assert call[:3] == (None, "Claude Pulse could not start.", "Claude Pulse")
    assert call[3] & 0x10 and call[3] & 0x10000  # MB_ICONERROR, MB_SETFOREGROUND


def test_message_box_without_user32_is_no_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(ctypes, "windll", object(), raising=False)
    assert console.message_box("x") is False


def test_no_message_box_off_windows() -> None:
    assert sys.platform != "win32"
    assert console.message_box("x") is False


@pytest.mark.parametrize(("window", "expected"), [(0, False), (0x1234, True)])
def test_has_console_asks_windows_for_the_console_window(
        monkeypatch: pytest.MonkeyPatch, window: int, expected: bool) -> None:
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(ctypes, "windll", FakeWindll(window), raising=False)
    assert console.has_console() is expected


def test_stand_in_stream_forwards_lines_and_never_loops(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    stream = console._LogStream("stderr", 30)
    with caplog.at_level("INFO"):
        stream.write("usage: claude-pulse ...\nclaude-pulse: error: bad")
        assert [r.getMessage() for r in caplog.records] == ["usage: claude-pulse ..."]
        stream.flush()
    assert [r.getMessage() for r in caplog.records][-1] == "claude-pulse: error: bad"
    assert caplog.records[-1].name == "claude_pulse.stderr"
    # A handler that writes back into the stand-in (a console handler on it) is dropped.
    import logging

    echo = logging.StreamHandler(stream)
    logger = logging.getLogger("claude_pulse.stderr")
    logger.addHandler(echo)
    try:
        stream.write("once\n")
    finally:
        logger.removeHandler(echo)
    assert sum(r.getMessage() == "once" for r in caplog.records) == 1


def test_prepare_leaves_the_hooks_logging(monkeypatch: pytest.MonkeyPatch,
                                          caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    monkeypatch.setattr(sys, "stdout", sys.stdout)
    monkeypatch.setattr(sys, "stderr", sys.stderr)
    state = console.prepare()
    assert state.attached
    try:
        raise KeyError("lost")
    except KeyError as exc:
        with caplog.at_level("ERROR"):
            sys.excepthook(KeyError, exc, exc.__traceback__)
    assert caplog.records[-1].getMessage() == "uncaught exception"
    assert caplog.records[-1].exc_info is not None
