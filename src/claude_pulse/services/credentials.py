"""`credentials.json`: the token store (one JSON file, 0600, written atomically).

Only a file whose *content* does not parse is set aside: it is renamed to
`credentials.json.corrupt-<UTC timestamp>` (so nothing is lost and the next start is clean) and
`CredentialsError` says so in one line. A file that cannot be *read* — permissions, a sharing
violation on Windows, an I/O error, a FIFO where the file should be — is left exactly where it
is, and the error says why: it may well hold the only working refresh token.

A save whose rename Windows keeps refusing (another process has the file open) keeps the new
tokens in a `.pending` file beside it; every load adopts the newest such file first. Keys we do
not know are kept on save, so a newer version's fields survive a round trip through an older one.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Callable
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from claude_pulse.atomic import (
    NotRegularFile,
    ReplaceBlocked,
    finish_interrupted_write,
    leftover_temp_files,
    read_json,
    retry_sharing_violations,
    write_json_atomic,
)
from claude_pulse.core.tokens import TokenSet
from claude_pulse.errors import CredentialsError

__all__ = ["CredentialStore", "TokenStore"]

log = logging.getLogger(__name__)


class TokenStore(Protocol):
    def load(self) -> TokenSet | None: ...

    def save(self, tokens: TokenSet) -> None: ...

    def clear(self) -> list[Path]: ...


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class CredentialStore:
    def __init__(self, path: Path, *, clock: Callable[[], datetime] = _utc_now) -> None:
        self.path = path
        self._clock = clock

    def __repr__(self) -> str:
        return f"CredentialStore({str(self.path)!r})"

    def load(self) -> TokenSet | None:
        """The saved tokens or None; CredentialsError if unusable (see the module docstring)."""
        source = self._newest()
        try:
            raw = read_json(source)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise CredentialsError(_unreadable(self.path, exc)) from None
        except ValueError as exc:
            raise self._corrupt(exc) from None
        try:
            return TokenSet.from_json(raw)
        except ValueError as exc:
            raise self._corrupt(exc) from None

    def save(self, tokens: TokenSet) -> None:
        """Write atomically (0600), keeping unknown keys already in the file.

        Raises CredentialsError when the file cannot be written (the old one is left intact).
        A rename Windows keeps refusing is no error: the tokens wait in a pending file that the
        next load adopts.
        """
        data: dict[str, Any] = {}
        with contextlib.suppress(OSError, ValueError):
            existing = read_json(self._newest())
            if isinstance(existing, dict):
                data.update(existing)
        data.update(tokens.to_json())
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            write_json_atomic(self.path, data, mode=0o600, keep_if_blocked=True)
        except ReplaceBlocked as exc:
            log.warning("%s is in use by another program; the new tokens wait in %s",
                        self.path.name, exc.kept.name)
            return
        except OSError as exc:
            raise CredentialsError(
                f"Could not save {self.path} ({exc.strerror or exc.__class__.__name__})."
            ) from exc  # the OSError says why, for callers that word it their own way
        log.debug("credentials saved to %s", self.path)

    def clear(self) -> list[Path]:
        """Forget the tokens: remove every file that may hold one. Returns what was removed.

        That is the file itself, its leftover temp and pending files, and the files set aside
        as corrupt (a torn file can still hold a working refresh token). Raises OSError when
        one of them cannot be removed; the others are removed all the same.
        """
        folder = self.path.parent
        doomed = [*leftover_temp_files(self.path),
                  *sorted(folder.glob(f"{self.path.name}.corrupt-*")), self.path]
        removed: list[Path] = []
        failed: OSError | None = None
        for path in doomed:
            try:
                retry_sharing_violations(path.unlink)
            except (FileNotFoundError, NotADirectoryError):  # no such file (or no folder)
                continue
            except OSError as exc:
                failed = failed or exc
                continue
            removed.append(path)
        if removed:
            log.info("credentials deleted: %s", ", ".join(p.name for p in removed))
        if failed is not None:
            raise failed
        return removed

    def _newest(self) -> Path:
        # A process killed after the server rotated the refresh token but before the rename
        # (or refused the rename, on Windows) leaves the only valid token in a temp file:
        # finish that write instead of losing it.
        recovered = finish_interrupted_write(self.path, _holds_tokens)
        if recovered is not None:
            log.warning("recovered credentials from an interrupted save")
        return recovered or self.path

    def _corrupt(self, exc: ValueError) -> CredentialsError:
        aside = self._set_aside()
        where = f"kept it as {aside.name}" if aside else "could not move it aside"
        return CredentialsError(
            f"{self.path.name} was unreadable ({_reason(exc)}); {where}. "
            "Run `claude-pulse login` to log in again."
        )

    def _set_aside(self) -> Path | None:
        stamp = self._clock().astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        n = 1
        while target.exists():
            n += 1
            target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
        try:
            retry_sharing_violations(partial(os.replace, self.path, target))
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


def _unreadable(path: Path, exc: OSError) -> str:
    if isinstance(exc, NotRegularFile):
        return (f"{path} is a {exc.kind}, not a credentials file: remove it, then run "
                "`claude-pulse login`.")
    reason = exc.strerror or exc.__class__.__name__
    return (f"Could not read {path} ({reason}); it was left as it is. Check that you can read "
            "it (and that no other program holds it), then try again.")


def _reason(exc: BaseException) -> str:
    # json's message includes a position, never file content; TokenSet's names the field.
    text = str(exc.args[0]) if exc.args else exc.__class__.__name__
    return text.split(":")[0] if "line" in text and "column" in text else text
