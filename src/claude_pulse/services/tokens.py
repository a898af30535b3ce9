"""The token manager: hands out a usable access token, refreshing it when due.

Rules (style.md rule 11, after MSAL's "with a fallback in hand"):

* FRESH → the stored token, no I/O beyond reading the file.
* REFRESH_DUE → refresh; if that fails for any reason but `invalid_grant`, the old token is still
  valid, so use it and try again next time.
* EXPIRED → refresh, or raise (ReauthRequired for `invalid_grant`, else the transient error).

Refreshes are single-flight across threads (a `threading.Lock`) and across processes (a file lock
beside the credentials). After taking the lock the file is read again: another process may have
refreshed meanwhile, and refresh tokens rotate on every use (protocol.md §2.4), so refreshing twice
with the same one would burn the login. The rotated refresh token is saved before the new access
token is handed out.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from filelock import FileLock, Timeout

from claude_pulse.config import ConfigSource
from claude_pulse.core.http import HttpTransport
from claude_pulse.core.tokens import TokenSet, TokenState, token_state
from claude_pulse.errors import (
    CredentialsError,
    NetworkError,
    NotLoggedIn,
    PulseError,
    ReauthRequired,
)
from claude_pulse.oauth.flow import refresh_tokens
from claude_pulse.services.credentials import TokenStore

__all__ = ["LOCK_MARGIN_S", "TokenManager"]

log = logging.getLogger(__name__)

# A refresh holds the lock for one token request, which its total deadline ends; a waiter waits
# that deadline plus this, then treats the holder like an unreachable server.
LOCK_MARGIN_S = 5.0


class TokenManager:
    def __init__(
        self,
        store: TokenStore,
        transport: HttpTransport,
        config: ConfigSource,
        *,
        clock: Callable[[], datetime],
        lock_path: Path,
        timeout: float | None = None,
    ) -> None:
        self.clock = clock
        self.on_refresh: list[Callable[[], object]] = []
        self._store = store
        self._transport = transport
        self._config = config
        self._timeout = timeout  # None: the config's token_timeout_seconds, read per refresh
        self._lock_path = lock_path
        self._thread_lock = threading.Lock()
        self._file_lock = FileLock(str(lock_path), mode=0o600)
        self._unsaved: TokenSet | None = None

    def __repr__(self) -> str:
        return f"TokenManager(store={self._store!r})"

    def logged_in(self) -> bool:
        """Whether credentials are saved (an unreadable file, set aside, counts as no)."""
        return self._saved() is not None

    @property
    def email(self) -> str | None:
        tokens = self._saved()
        return tokens.email if tokens else None

    @property
    def login_expires_at(self) -> datetime | None:
        """When the saved login ends (`refresh_expires_at`); None when unknown."""
        tokens = self._saved()
        return tokens.refresh_expires_at if tokens else None

    def _saved(self) -> TokenSet | None:
        try:
            return self._store.load()
        except CredentialsError as exc:
            log.warning("%s", exc)
            return None

    def state(self) -> TokenState | None:
        """How fresh the stored token is now; None when not logged in."""
        tokens = self._store.load()
        return token_state(tokens, self.clock()) if tokens else None

    def access_token(self) -> str:
        if self._unsaved is None:  # else: go through the locks, which retry the save first
            tokens = self._load()
            if token_state(tokens, self.clock()) is TokenState.FRESH:
                return tokens.access_token
        with self._thread_lock:
            try:
                with self._process_lock():
                    tokens = self._load()
                    state = token_state(tokens, self.clock())
                    if state is TokenState.FRESH:
                        return tokens.access_token  # another thread or process refreshed
                    try:
                        new = self._refresh_locked(tokens)
                    except ReauthRequired:
                        raise
                    except PulseError as exc:
                        if state is TokenState.REFRESH_DUE:
                            return self._fallback(tokens, exc)
                        raise
            except _LockBusy as exc:
                tokens = self._load()
                if token_state(tokens, self.clock()) is TokenState.EXPIRED:
                    raise exc.error from None
                return self._fallback(tokens, exc.error)
        self._notify()
        return new.access_token

    def refresh(self, rejected: str | None = None) -> str:
        """Refresh now (after a 401). If the stored token already differs from `rejected`,
        another process has refreshed: use that one instead of refreshing again."""
        with self._thread_lock:
            try:
                with self._process_lock():
                    tokens = self._load()
                    if rejected is not None and tokens.access_token != rejected and \
                            token_state(tokens, self.clock()) is not TokenState.EXPIRED:
                        return tokens.access_token
                    new = self._refresh_locked(tokens)
            except _LockBusy as exc:
                raise exc.error from None
        self._notify()
        return new.access_token

    def _refresh_locked(self, tokens: TokenSet) -> TokenSet:
        try:
            new = refresh_tokens(
                self._transport, self._config().token_url, tokens, clock=self.clock,
                timeout=self._token_timeout(),
            )
        except ReauthRequired:
            # Someone may have logged in again (a new file) while we used the old token.
            current = self._store.load()
            if current is not None and current.refresh_token != tokens.refresh_token:
                return current
            raise
        # Persist the rotated refresh token first: the old one is dead on the server now.
        self._unsaved = new
        self._save(new)
        log.info("access token refreshed; valid until %s", new.expires_at.isoformat())
        return new

    def _load(self) -> TokenSet:
        if self._unsaved is not None:
            # A refresh whose result could not be written (disk full?): retry the write.
            self._save(self._unsaved)
        tokens = self._store.load()
        if tokens is None:
            raise NotLoggedIn()
        return tokens

    def _save(self, tokens: TokenSet) -> None:
        try:
            self._store.save(tokens)
        except (OSError, CredentialsError) as exc:
            cause = exc if isinstance(exc, OSError) else exc.__cause__
            reason = cause.strerror if isinstance(cause, OSError) and cause.strerror \
                else str(exc).rstrip(".")
            # The server has already retired the old refresh token: unless this process saves
            # the new one on a later try, the login ends with it. Say so plainly.
            raise CredentialsError(
                f"Could not save the refreshed login ({reason}), so a new login is needed: "
                "free disk space or fix the folder's permissions, then run "
                "`claude-pulse login`."
            ) from None
        self._unsaved = None

    def _fallback(self, tokens: TokenSet, error: PulseError) -> str:
        log.warning(
            "token refresh failed (%s); using the current token, valid until %s",
            str(error).rstrip("."), tokens.expires_at.isoformat(),
        )
        return tokens.access_token

    @contextmanager
    def _process_lock(self) -> Iterator[None]:
        try:
            self._lock_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._file_lock.acquire(timeout=self._token_timeout() + LOCK_MARGIN_S)
        except Timeout:
            raise _LockBusy(NetworkError(
                "Another Claude Pulse process is busy refreshing the login; try again shortly.",
                "busy",
            )) from None
        try:
            yield
        finally:
            self._file_lock.release()

    def _token_timeout(self) -> float:
        return self._timeout or float(self._config().token_timeout_seconds)

    def _notify(self) -> None:
        for callback in list(self.on_refresh):
            try:
                callback()
            except Exception:
                # A callback must not lose a saved new token.
                log.exception("a token-refresh callback failed")


class _LockBusy(Exception):
    def __init__(self, error: PulseError) -> None:
        super().__init__(str(error))
        self.error = error
