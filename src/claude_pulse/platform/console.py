"""The process's console, or the lack of one: output encoding, stand-in streams, last words.

`cli.main` calls `prepare()` before anything else can fail:

* **Pipes and files get UTF-8.** On a pipe Windows Python writes the ANSI code page (cp1252,
  cp932 …), where `▲` raises `UnicodeEncodeError` and `·` arrives as a byte a UTF-8 reader shows
  as `�`; Claude Code reads `statusline` as UTF-8. A console keeps its own encoding and shows `?`
  for what it cannot display. Either way no character can turn output into a traceback.
* **No console at all** (`pythonw.exe`, the `claude-pulse-tray` gui-script: `sys.stdout` and
  `sys.stderr` are None): file logging is set up at once, and stand-in streams forward whatever
  is written to them (argparse's messages, prints, libraries) to that log.
* **Nothing dies unseen.** `sys.excepthook` and `threading.excepthook` log what nobody caught
  (the log keeps the traceback when there is no console), and `Console.fatal` shows a native
  message box on Windows when a start-up failure would otherwise be invisible.

Cheap by design: `statusline` runs this many times a minute, so only `sys` and `io` are imported
up front (`python -X importtime`).
"""

from __future__ import annotations

import io
import sys
import threading
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["TITLE", "Console", "has_console", "message_box", "prepare", "route_tk_errors"]

TITLE = "Claude Pulse"
_LOGGER = "claude_pulse"
# MessageBoxW flags (winuser.h).
_MB_ICONERROR = 0x10
_MB_SETFOREGROUND = 0x10000
_MB_TOPMOST = 0x40000


class Console:
    """What `prepare()` found. `attached` is False when the process had no stdout/stderr."""

    __slots__ = ("attached", "log_file")

    def __init__(self, attached: bool, log_file: Path | None = None) -> None:
        self.attached = attached
        self.log_file = log_file

    def fatal(self, message: str, *, traceback: bool = False) -> None:
        """A start-up failure: into the log and, without a console, in front of the user.

        `traceback=True` inside an `except` block logs the exception's traceback too.
        """
        import logging

        logging.getLogger(_LOGGER).critical("%s", message, exc_info=traceback)
        if not self.attached:
            where = f"\n\nDetails are in {self.log_file}" if self.log_file is not None else ""
            message_box(f"Claude Pulse could not start.\n\n{message}{where}")


def prepare(*, log_to_home: bool = True) -> Console:
    """Make stdout/stderr safe for any text; without them, log to the home's log file.

    `log_to_home=False` (the demo, which must not create the real home) logs nowhere until
    the command sets up its own logging.
    """
    attached = sys.stdout is not None and sys.stderr is not None
    log_file = None
    if attached:
        _reconfigure(sys.stdout, errors="replace")
        _reconfigure(sys.stderr, errors="backslashreplace")
    else:
        log_file = _log_to_file() if log_to_home else None
        if sys.stdout is None:
            sys.stdout = _LogStream("stdout", 20)  # INFO
        if sys.stderr is None:
            sys.stderr = _LogStream("stderr", 30)  # WARNING
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread
    return Console(attached, log_file)


def _reconfigure(stream: Any, *, errors: str) -> None:
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is None:  # replaced by something that is not a TextIOWrapper
        return
    try:
        if stream.isatty():
            reconfigure(errors=errors)
        else:
            reconfigure(encoding="utf-8", errors=errors)
    except (OSError, ValueError):  # closed, or already read from
        pass


def _log_to_file() -> Path | None:
    # The tray app is what runs without a console (start at login, a double click), so this
    # is its log file; `Services.from_environment` later reconfigures for the command.
    try:
        from claude_pulse.home import Home
        from claude_pulse.platform.logs import configure

        home = Home.from_env()
        home.ensure()
        configure(home.logs, console=False)
    except Exception:  # an unusable home: the message box still reports a fatal error
        return None
    return home.logs / "claude-pulse.log"


class _LogStream(io.TextIOBase):
    """Stands in for a missing stdout/stderr: each line written becomes a log record.

    `forwards_to_log` tells `platform.logs` not to add a console handler on top of it (the
    records would come back here and be written twice).
    """

    forwards_to_log = True

    def __init__(self, name: str, level: int) -> None:
        super().__init__()
        self._name = name
        self._level = level
        self._pending = ""
        self._lock = threading.Lock()
        self._busy = threading.local()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        with self._lock:
            lines = (self._pending + text).split("\n")
            self._pending = lines.pop()
        for line in lines:
            self._emit(line)
        return len(text)

    def flush(self) -> None:
        with self._lock:
            line, self._pending = self._pending, ""
        if line:
            self._emit(line)

    def _emit(self, line: str) -> None:
        if not line.strip() or getattr(self._busy, "on", False):
            return  # a log handler writing here would loop forever
        import logging

        self._busy.on = True
        try:
            logging.getLogger(f"{_LOGGER}.{self._name}").log(self._level, "%s", line.rstrip())
        finally:
            self._busy.on = False


def _log_uncaught(exc_type: type[BaseException], exc: BaseException,
                  tb: TracebackType | None) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    import logging

    logging.getLogger(_LOGGER).critical("uncaught exception", exc_info=(exc_type, exc, tb))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return  # what the default hook does too
    import logging

    name = args.thread.name if args.thread is not None else "?"
    exc_info = (args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback)
    logging.getLogger(_LOGGER).critical("uncaught exception in thread %s", name,
                                        exc_info=exc_info)


def route_tk_errors() -> None:
    """Tk callback errors go to the log (Tk prints them to stderr, which may be None).

    tkinter's documentation asks applications to override this when sys.stderr is None.
    """
    import logging
    import tkinter

    def report(_root: Any, exc_type: type[BaseException], exc: BaseException,
               tb: TracebackType | None) -> None:
        logging.getLogger(f"{_LOGGER}.tk").error("error in a Tk callback",
                                                 exc_info=(exc_type, exc, tb))

    tkinter.Tk.report_callback_exception = report  # type: ignore[method-assign, assignment]


def has_console() -> bool:
    """True when a console is attached: Windows' console window, elsewhere a terminal on stdin.

    Ctrl-C can only come from one; without it (pythonw, start at login) nothing needs to listen.
    """
    if sys.platform == "win32":
        import ctypes

        try:
            get_console_window = ctypes.windll.kernel32.GetConsoleWindow
            get_console_window.argtypes = ()
            get_console_window.restype = ctypes.c_void_p
            return bool(get_console_window())
        except (AttributeError, OSError):
            return False
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, OSError, ValueError):
        return False


def message_box(text: str, title: str = TITLE) -> bool:
    """A native error box on Windows (blocks until dismissed); False where there is none."""
    if sys.platform != "win32":
        return False
    import ctypes
    from ctypes import wintypes

    try:
        box = ctypes.windll.user32.MessageBoxW
        box.argtypes = (wintypes.HWND, wintypes.LPCWSTR, wintypes.LPCWSTR, wintypes.UINT)
        box.restype = ctypes.c_int
        return bool(box(None, text, title, _MB_ICONERROR | _MB_SETFOREGROUND | _MB_TOPMOST))
    except (AttributeError, OSError):  # no user32 (a service session, Wine without it)
        return False
