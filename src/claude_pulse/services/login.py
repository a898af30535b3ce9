"""A whole browser login: PKCE, the loopback receiver (or a pasted code), exchange, save.

`LoginSession.run()` blocks: the tray app runs it on a worker thread and calls `cancel()` from
the GUI thread (Quit, or a "Cancel login" button); the CLI simply calls `run()`. The browser is
opened on its own thread because `webbrowser` may wait for the browser command to exit (a `BROWSER`
program runs to completion), and the callback must be able to arrive meanwhile.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import threading
from collections.abc import Callable
from datetime import datetime, timezone

from claude_pulse.config import ConfigSource
from claude_pulse.core.http import HttpTransport
from claude_pulse.core.tokens import TokenSet
from claude_pulse.errors import CodeRefused, LoginError, PulseError
from claude_pulse.oauth.constants import MANUAL_REDIRECT_URI
from claude_pulse.oauth.flow import (
    PendingLogin,
    check_callback,
    exchange_code,
    parse_pasted_code,
    start_login,
)
from claude_pulse.oauth.loopback import LoopbackReceiver
from claude_pulse.oauth.pkce import TokenBytes
from claude_pulse.services.credentials import TokenStore
from claude_pulse.services.usage_client import Profile

__all__ = ["DEFAULT_LOGIN_TIMEOUT_S", "MANUAL_PROMPT", "MANUAL_TRIES", "LoginSession",
           "again_prompt"]

log = logging.getLogger(__name__)

DEFAULT_LOGIN_TIMEOUT_S = 300.0
MANUAL_PROMPT = "Paste the code shown after you log in (it looks like code#state): "
# A mistyped or half-copied paste asks again, this many pastes in all, before the login fails.
MANUAL_TRIES = 3


def again_prompt(problem: LoginError, left: int) -> str:
    """What a re-prompt says after a refused paste: the reason, then how many tries are left."""
    reason = "That code was refused: it may be mistyped, or too old." \
        if isinstance(problem, CodeRefused) else str(problem)
    return f"{reason} Paste it again ({left} {'try' if left == 1 else 'tries'} left): "


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class LoginSession:
    def __init__(
        self,
        config: ConfigSource,
        store: TokenStore,
        transport: HttpTransport,
        *,
        open_browser: Callable[[str], bool],
        profile: Callable[[TokenSet], Profile] | None = None,
        on_saved: Callable[[], object] | None = None,
        timeout: float = DEFAULT_LOGIN_TIMEOUT_S,
        manual: bool = False,
        read_code: Callable[[str], str] | None = None,
        on_url: Callable[[str], None] | None = None,
        confirm_switch: Callable[[str, str], bool] | None = None,
        clock: Callable[[], datetime] = _utc_now,
        token_bytes: TokenBytes = secrets.token_bytes,
    ) -> None:
        if manual and read_code is None:
            raise ValueError("a manual login needs read_code")
        self.authorize_url: str | None = None
        self._config = config
        self._store = store
        self._transport = transport
        self._profile = profile
        self._on_saved = on_saved
        self._open_browser = open_browser
        self._timeout = timeout
        self._manual = manual
        self._read_code = read_code
        self._on_url = on_url
        self._confirm_switch: Callable[[str, str], bool] | None = confirm_switch
        self._clock = clock
        self._token_bytes = token_bytes
        self._lock = threading.Lock()
        self._cancelled = False
        self._receiver: LoopbackReceiver | None = None
        self._on_browser: Callable[[bool], None] | None = None

    def run(self) -> TokenSet:
        """Log in and save the tokens; raises LoginError (or its kinds), NetworkError, ApiError."""
        self._check_cancelled()
        return self._run_manual() if self._manual else self._run_loopback()

    def watch(self, *, on_url: Callable[[str], None] | None = None,
              on_browser: Callable[[bool], None] | None = None,
              confirm_switch: Callable[[str, str], bool] | None = None) -> None:
        """Before `run()`: be told the authorize URL, and whether the browser could be started
        (False at once when it could not, so the window can offer the link instead).
        `confirm_switch(saved, new)` is asked, on the login's thread, before a login of another
        account replaces the saved one (a login CSRF would be exactly that); False keeps it."""
        if on_url is not None:
            self._on_url = on_url
        self._on_browser = on_browser
        self._confirm_switch = confirm_switch

    def submit_code(self, text: str) -> str | None:
        """A code pasted into the window while the browser login waits (any thread): None when
        taken (the login then finishes), else what to tell the user before they try again."""
        try:
            params = parse_pasted_code(text)
        except LoginError:
            return "That is not the whole code. Copy all of it, including the part after #."
        with self._lock:
            receiver = self._receiver
        if receiver is None:
            return "The login is not waiting for a code any more."
        if not receiver.deliver(params):
            return "That code belongs to another login attempt. Use the newest link."
        return None

    def cancel(self) -> None:
        """Abort from any thread: `run()` raises LoginError("Login was cancelled.") soon after."""
        with self._lock:
            self._cancelled = True
            receiver = self._receiver
        if receiver is not None:
            receiver.cancel()

    def _run_loopback(self) -> TokenSet:
        with LoopbackReceiver(self._config().callback_port) as receiver:
            with self._lock:
                self._receiver = receiver
                cancelled = self._cancelled
            if cancelled:
                receiver.cancel()
            pending = start_login(self._config().authorize_url, receiver.redirect_uri,
                                  token_bytes=self._token_bytes)
            receiver.expect_state(pending.state)
            log.info("login: waiting up to %.0f s for the browser on port %d",
                     self._timeout, receiver.port)
            self._announce(pending.authorize_url)
            params = receiver.wait(self._timeout)
            try:
                tokens = self._finish(pending, params)
            except PulseError as exc:
                receiver.finish(False, str(exc))
                raise
            receiver.finish(True, f"Logged in as {tokens.email}." if tokens.email else "")
            return tokens

    def _run_manual(self) -> TokenSet:
        assert self._read_code is not None
        pending = start_login(self._config().authorize_url, MANUAL_REDIRECT_URI,
                              token_bytes=self._token_bytes)
        self._announce(pending.authorize_url)
        prompt = MANUAL_PROMPT
        for left in range(MANUAL_TRIES - 1, -1, -1):
            try:
                text = self._read_code(prompt)
            except EOFError:
                raise LoginError("No code was entered.") from None
            self._check_cancelled()
            try:
                return self._finish(pending, parse_pasted_code(text))
            except LoginError as exc:
                # The same attempt stays valid (its verifier and state): a typo costs a paste,
                # not a new browser login. Cancelled is final.
                if left == 0 or self._is_cancelled():
                    raise
                log.info("login: the pasted code was refused (%s); asking again", exc)
                prompt = again_prompt(exc, left)
        raise AssertionError("unreachable")  # the last try returns or raises

    def _finish(self, pending: PendingLogin, params: dict[str, str]) -> TokenSet:
        code = check_callback(pending, params)
        self._check_cancelled()
        log.info("login: exchanging the authorization code")
        config = self._config()
        tokens = exchange_code(self._transport, config.token_url, pending, code,
                               clock=self._clock, timeout=float(config.token_timeout_seconds))
        if tokens.email is None and self._profile is not None:
            tokens = self._with_profile_email(tokens, self._profile)
        self._check_switch(tokens)
        self._store.save(tokens)
        log.info("login: credentials saved%s", f" for {tokens.email}" if tokens.email else "")
        if self._on_saved is not None:
            self._on_saved()
        return tokens

    def _check_switch(self, tokens: TokenSet) -> None:
        """A login for another account than the saved one replaces it only if confirmed: a
        local user who raced a code of their own into our callback (login CSRF, RFC 8252 §8.1)
        would otherwise switch us to their account unnoticed."""
        if self._confirm_switch is None or not tokens.email:
            return
        try:
            saved = self._store.load()
        except PulseError:
            return  # nothing usable is saved: nothing to lose
        old = saved.email if saved is not None else None
        if not old or old.casefold() == tokens.email.casefold():
            return
        if not self._confirm_switch(old, tokens.email):
            log.info("login: kept the saved login; the new one was not saved")
            raise LoginError(f"Kept the login of {old}; the login of {tokens.email} was not "
                             "saved.")

    def _with_profile_email(self, tokens: TokenSet,
                            lookup: Callable[[TokenSet], Profile]) -> TokenSet:
        # The token answer usually carries the email (protocol.md §4.1); this is the fallback.
        try:
            profile = lookup(tokens)
        except PulseError as exc:
            log.info("login: profile lookup failed (%s); continuing without the email", exc)
            return tokens
        return dataclasses.replace(tokens, email=profile.email)  # every other field kept

    def _announce(self, url: str) -> None:
        self.authorize_url = url
        if self._on_url is not None:
            self._on_url(url)
        threading.Thread(target=self._open, args=(url,), name="open-browser", daemon=True).start()

    def _open(self, url: str) -> None:
        try:
            opened = bool(self._open_browser(url))
        except Exception:
            # Any failure here only means "the user opens the printed URL themselves".
            log.warning("could not start a browser", exc_info=True)
            opened = False
        log.info("login: browser %s", "started" if opened else "not started; use the printed URL")
        if self._on_browser is not None:
            self._on_browser(opened)

    def _is_cancelled(self) -> bool:
        with self._lock:
            return self._cancelled

    def _check_cancelled(self) -> None:
        if self._is_cancelled():
            raise LoginError("Login was cancelled.")
