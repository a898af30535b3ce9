"""Logging: a rotating file under the home's `logs/`, stderr for errors, secrets redacted.

The redaction filter sits on every handler we install, so even a library that logs a URL with a
`code=` in it, a header list or a token dict, or an exception whose message carries one, cannot
write a secret to disk. What is removed:

- Anthropic tokens and keys, ``sk-ant-…`` anywhere;
- ``Authorization`` (and ``x-api-key``) header values, in HTTP text, dicts, JSON and the
  ``('Authorization', 'Bearer …')`` pairs urllib's ``header_items()`` returns, and any
  ``Bearer …``/``Basic …`` credential;
- the values of ``code``, ``code_verifier``, ``refresh_token``, ``access_token``, ``id_token``,
  ``state`` and ``client_secret`` in query strings, form bodies, JSON, Python dict reprs and
  keyword reprs (``TokenSet(access_token='…')``), including escaped JSON inside a string.

Log files are created 0600 and rotate at 1 MB, keeping 3 old files.
"""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

from claude_pulse.atomic import open_regular

__all__ = ["BACKUP_COUNT", "MAX_BYTES", "RedactingFilter", "configure", "redact"]

MAX_BYTES = 1_000_000
BACKUP_COUNT = 3
MASK = "***"

_PARAMS_BUT_STATE = r"code|code_verifier|refresh_token|access_token|id_token|client_secret"
_PARAMS = rf"{_PARAMS_BUT_STATE}|state"
_VALUE = r"[^\s&\"',;)}\]<>]"  # one character of an unquoted query or form value
_VALUE_END = rf"(?!{_VALUE})"
_HEADER_KEYS = r"authorization|proxy-authorization|x-api-key"
# A quote, possibly escaped once or twice (JSON inside a JSON string, or inside a repr).
_Q = r"\\{0,2}[\"']"


def _header_value(match: re.Match[str]) -> str:
    scheme = match.group("scheme")
    return f"{match.group('head')}{scheme} {MASK}" if scheme else f"{match.group('head')}{MASK}"


_PATTERNS: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    # Header with a quoted value: {'Authorization': 'Bearer x'}, ("Authorization", "Bearer x").
    (re.compile(
        rf"(?i)(?P<head>(?:{_Q})?\b(?:{_HEADER_KEYS})(?:{_Q})?\s*[:=,]\s*(?P<q>{_Q}))"
        r"(?:(?P<scheme>bearer|basic|token)\s+)?(?:(?!(?P=q)).)+"
    ), _header_value),
    # Header as HTTP text: "Authorization: Bearer x", up to the end of the line.
    (re.compile(
        rf"(?im)(?P<head>(?:^|(?<=[\s\[{{(,;]))(?:{_HEADER_KEYS})\s*:\s*)"
        r"(?:(?P<scheme>bearer|basic|token)\s+)?(?![\"'])[^\r\n]+"
    ), _header_value),
    # A bearer credential anywhere else.
    (re.compile(r"(?i)\b(bearer)\s+(?!\*\*\*)[A-Za-z0-9._~+/\-]{6,}=*"), rf"\1 {MASK}"),
    # Quoted key, quoted value: JSON, dict reprs, escaped JSON: "code": "x", 'state': 'x'.
    (re.compile(
        rf"(?i)((?:{_Q})\b(?:{_PARAMS})(?:{_Q})\s*:\s*b?(?P<q>{_Q}))(?:(?!(?P=q)).)*"
    ), rf"\1{MASK}"),
    # key='value' (keyword reprs) and key: 'value'.
    (re.compile(
        rf"(?i)((?<![\w\-.])(?:{_PARAMS})\s*[:=]\s*b?(?P<q>{_Q}))(?:(?!(?P=q)).)*"
    ), rf"\1{MASK}"),
    # key=value in query strings and form bodies, up to the next separator. A code of 1-3
    # digits is an HTTP status or an exit code, never an OAuth code; a bare `state=` counts
    # only in a query or form (after ?, & or #), not in prose like "poller state=LOADING".
    (re.compile(
        rf"(?i)((?:(?<![\w\-.])(?:{_PARAMS_BUT_STATE})|(?<![^?&#])state)=)(?![\"'])"
        rf"(?!\d{{1,3}}{_VALUE_END}){_VALUE}+"
    ), rf"\1{MASK}"),
    # Anthropic tokens and API keys anywhere: sk-ant-oat01-…, sk-ant-ort01-…, sk-ant-api03-…
    (re.compile(r"sk-ant-[A-Za-z0-9_\-]+"), f"sk-ant-{MASK}"),
]


def redact(text: str) -> str:
    """Remove anything that looks like a token, an OAuth code, a verifier or a state."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Redacts the message, the formatted traceback and the stack of every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # bad %-arguments must not turn a log call into a crash
            message = f"{record.msg!r} % {record.args!r}"
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class _Ours:
    """Marks the handlers `configure` installs, so a second call replaces them."""


class _LogFile(_Ours, logging.handlers.RotatingFileHandler):
    """A rotating log created 0600 that survives a rotation another process blocks.

    Opened by `atomic.open_regular`: never through a symlink (O_NOFOLLOW: a planted link must
    not point our writes at another file), never a FIFO or a device (which would hang), and in
    binary mode on Windows, where a text-mode descriptor under the text layer's own newline
    translation wrote every line end as ``\r\r\n``.
    """

    _complained = False
    complain = False  # the one line for a failed write: with --verbose only (see handleError)

    def _open(self) -> io.TextIOWrapper:
        fd = open_regular(Path(self.baseFilename), os.O_WRONLY | os.O_CREAT | os.O_APPEND,
                          0o600, follow=False)
        return open(fd, "a", encoding=self.encoding, errors=self.errors)

    def close(self) -> None:
        try:
            super().close()
        except OSError:  # the last flush hit the same full disk: what is lost is lost
            self.stream = None  # type: ignore[assignment]

    def handleError(self, record: logging.LogRecord) -> None:
        """Never logging's "--- Logging error ---" traceback: the command goes on without its
        log. A full disk or a read-only home already shows in the command's own one line, so
        the log's failure is one more line on stderr only with --verbose (the first failed
        record's), and silence otherwise."""
        if self._complained or not self.complain:
            return
        self._complained = True
        exc = sys.exc_info()[1]
        reason = (exc.strerror if isinstance(exc, OSError) else None) or exc.__class__.__name__
        _say(f"claude-pulse: cannot write the log {self.baseFilename} ({reason}); "
             "going on without it.")

    def doRollover(self) -> None:
        try:
            super().doRollover()
        except OSError:
            # Windows cannot rename a file another process has open (two CLI runs at once);
            # keep appending and try again at the next record.
            if self.stream is None:
                self.stream = self._open()


class _Console(_Ours, logging.StreamHandler):  # type: ignore[type-arg]
    def handleError(self, record: logging.LogRecord) -> None:
        pass  # stderr itself is what failed (closed, a broken pipe): nowhere left to say so


def _say(line: str) -> None:
    try:
        if sys.stderr is not None:
            print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


_FORMAT = "%(asctime)s %(levelname)-7s %(process)d %(threadName)s %(name)s: %(message)s"
# Libraries whose DEBUG output is noise even with --verbose.
_QUIET = ("PIL", "asyncio", "filelock")


def configure(log_dir: Path | None, *, verbose: bool = False, console: bool = True,
              filename: str = "claude-pulse.log") -> None:
    """Install our handlers on the root logger (idempotent: a second call replaces them).

    Args:
        log_dir: folder for the rotating log file (created 0700); None for no file.
        verbose: DEBUG level in the file and on stderr (``--verbose``); else INFO in the file
            and only errors on stderr.
        console: also log to stderr (skipped when there is none, as under pythonw.exe).
        filename: the log file's name inside `log_dir`.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, _Ours):
            root.removeHandler(handler)
            handler.close()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.INFO)
    redactor = RedactingFilter()
    if log_dir is not None:
        try:
            log_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            file_handler: _LogFile | None = _LogFile(
                log_dir / filename, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT,
                encoding="utf-8", delay=True,
            )
        except OSError:
            file_handler = None  # a read-only home must not stop the app
        if file_handler is not None:
            file_handler.complain = verbose
            file_handler.setFormatter(logging.Formatter(_FORMAT))
            file_handler.addFilter(redactor)
            root.addHandler(file_handler)
    # No console handler on a stand-in stream that forwards to the log (platform.console).
    if console and sys.stderr is not None and not getattr(sys.stderr, "forwards_to_log", False):
        stream = _Console(sys.stderr)
        stream.setLevel(logging.DEBUG if verbose else logging.ERROR)
        stream.setFormatter(logging.Formatter("claude-pulse: %(levelname)s %(name)s: %(message)s"))
        stream.addFilter(redactor)
        root.addHandler(stream)
