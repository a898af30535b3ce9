"""`credentials.json`: the token store (one JSON file, 0600, written atomically).

A file we cannot read is never overwritten and never silently ignored: it is renamed aside to
`credentials.json.corrupt-<UTC timestamp>` (so nothing is lost and the next start is clean) and
`CredentialsError` says so in one line. Keys we do not know are kept on save, so a newer version's
fields survive a round trip through an older one.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from claude_pulse.atomic import (
    finish_interrupted_write,
    leftover_temp_files,
    read_json,
    write_json_atomic,
)
from claude_pulse.core.tokens import TokenSet
from claude_pulse.errors import CredentialsError

__all__ = ["CredentialStore", "TokenStore"]

log = logging.getLogger(__name__)


class TokenStore(Protocol):
    def load(self) -> TokenSet | None: ...

    def save(self, tokens: TokenSet) -> None: ...

    def clear(self) -> bool: ...


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class CredentialStore:
    def __init__(self, path: Path, *, clock: Callable[[], datetime] = _utc_now) -> None:
        self.path = path
        self._clock = clock

    def __repr__(self) -> str:
        return f"CredentialStore({str(self.path)!r})"

    def load(self) -> TokenSet | None:
        """The saved tokens or None; CredentialsError if unreadable (the file is kept aside)."""
        # A process killed after the server rotated the refresh token but before the rename
        # leaves the only valid token in a temp file: finish that write instead of losing it.
        if finish_interrupted_write(self.path, _holds_tokens):
            log.warning("recovered credentials from an interrupted save")
        try:
            raw = read_json(self.path)
            return TokenSet.from_json(raw)
        except FileNotFoundError:
            return None
        except IsADirectoryError as exc:
            raise CredentialsError(f"{self.path} is a folder, not a credentials file.") from exc
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else _reason(exc)
            aside = self._set_aside()
            where = f"kept it as {aside.name}" if aside else "could not move it aside"
            raise CredentialsError(
                f"{self.path.name} was unreadable ({reason}); {where}. "
                "Run `claude-pulse login` to log in again."
            ) from None

    def save(self, tokens: TokenSet) -> None:
        """Write atomically (0600), keeping unknown keys already in the file.

        Raises CredentialsError when the file cannot be written (the old one is left intact).
        """
        data: dict[str, Any] = {}
        with contextlib.suppress(OSError, ValueError):
            existing = read_json(self.path)
            if isinstance(existing, dict):
                data.update(existing)
        data.update(tokens.to_json())
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            write_json_atomic(self.path, data, mode=0o600)
        except OSError as exc:
            raise CredentialsError(
                f"Could not save {self.path} ({exc.strerror or exc.__class__.__name__})."
            ) from None
        log.debug("credentials saved to %s", self.path)

    def clear(self) -> bool:
        """Forget the tokens. Returns whether there was a file to delete."""
        for leftover in leftover_temp_files(self.path):  # they hold tokens too
            with contextlib.suppress(OSError):
                leftover.unlink()
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        log.info("credentials deleted: %s", self.path)
        return True

    def _set_aside(self) -> Path | None:
        stamp = self._clock().astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        n = 1
        while target.exists():
            n += 1
            target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
        try:
            os.replace(self.path, target)
        except OSError as exc:
            log.warning("could not move %s aside: %s", self.path, exc.strerror or exc)
            return None
        log.warning("unreadable credentials moved to %s", target)
        return target


def _holds_tokens(data: bytes) -> bool:
    try:
        TokenSet.from_json(json.loads(data.decode("utf-8")))
    except (ValueError, RecursionError):
        return False
    return True


def _reason(exc: BaseException) -> str:
    # json's message includes a position, never file content; TokenSet's names the field.
    text = str(exc.args[0]) if exc.args else exc.__class__.__name__
    return text.split(":")[0] if "line" in text and "column" in text else text
