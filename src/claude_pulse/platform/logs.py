"""Logging: a rotating file under the home's `logs/`, stderr for warnings, secrets redacted.

The redaction filter sits on every handler we install, so even a library that logs a URL with a
`code=` in it, or a header dict, cannot write a token to disk.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
from pathlib import Path

__all__ = ["RedactingFilter", "configure", "redact"]

_PATTERNS = [
    # Anthropic OAuth tokens and API keys: sk-ant-oat01-…, sk-ant-ort01-…, sk-ant-api03-…
    (re.compile(r"sk-ant-[A-Za-z0-9_\-]{4,}"), "sk-ant-***"),
    # Authorization header values, in any quoting.
    (re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?(?:bearer|basic)\s+)[^\s'\",}]+"),
     r"\1***"),
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/\-]{8,}=*"), "Bearer ***"),
    # OAuth parameters in query strings, form bodies and JSON.
    (re.compile(
        r"(?i)([\"']?\b(?:code|code_verifier|refresh_token|access_token|state)[\"']?\s*[:=]\s*[\"']?)"
        r"[^\s&\"',}#]+"
    ), r"\1***"),
]


def redact(text: str) -> str:
    """Remove anything that looks like a token, code or verifier."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True


_FORMAT = "%(asctime)s %(levelname)-7s %(process)d %(threadName)s %(name)s: %(message)s"


def configure(log_dir: Path | None, *, verbose: bool = False, console: bool = True,
              filename: str = "claude-pulse.log") -> None:
    """Install our handlers on the root logger (idempotent)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_claude_pulse", False):
            root.removeHandler(handler)
            handler.close()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    redactor = RedactingFilter()
    if log_dir is not None:
        try:
            log_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            file_handler = logging.handlers.RotatingFileHandler(
                log_dir / filename, maxBytes=1_000_000, backupCount=3, encoding="utf-8",
                delay=True,
            )
        except OSError:
            file_handler = None  # a read-only home must not stop the app
        if file_handler is not None:
            file_handler.setFormatter(logging.Formatter(_FORMAT))
            file_handler.addFilter(redactor)
            file_handler._claude_pulse = True  # type: ignore[attr-defined]
            root.addHandler(file_handler)
    if console:
        stream = logging.StreamHandler()
        stream.setLevel(logging.DEBUG if verbose else logging.ERROR)
        stream.setFormatter(logging.Formatter("claude-pulse: %(levelname)s %(name)s: %(message)s"))
        stream.addFilter(redactor)
        stream._claude_pulse = True  # type: ignore[attr-defined]
        root.addHandler(stream)
