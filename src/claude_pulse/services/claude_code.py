"""Claude Code's own login, used read-only (`login_source: "claude-code"`, issue 14).

Claude Code keeps its OAuth tokens in `<config dir>/.credentials.json` (the config dir is
`$CLAUDE_CONFIG_DIR`, else `~/.claude`) on every OS; on macOS in the login Keychain first, as the
generic password `Claude Code-credentials` (plus `-<8 hex of sha256(config dir)>` when
`CLAUDE_CONFIG_DIR` is set). The shape::

    {"claudeAiOauth": {"accessToken": "sk-ant-oat01-…", "refreshToken": "sk-ant-ort01-…",
                       "expiresAt": 1767225600000, "scopes": ["user:inference", …],
                       "subscriptionType": "max"}}

(`expiresAt` in epoch milliseconds). We never refresh and never write it: refresh tokens are
single-use, so one refresh by us would log Claude Code out (protocol-2026-update.md). The refresh
token is not even kept in memory. When the access token has expired the user runs `claude`,
which renews it; the next read picks the new one up.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from claude_pulse.atomic import read_bytes, read_json
from claude_pulse.config import ConfigSource
from claude_pulse.core.tokens import TokenSet, TokenState
from claude_pulse.errors import CredentialsError, NotLoggedIn, ReauthRequired

__all__ = [
    "EXPIRED_MESSAGE",
    "REJECTED_MESSAGE",
    "SECURITY",
    "ClaudeCodeLogin",
    "LoginSource",
    "SelectedLogin",
    "claude_code_dir",
    "keychain_reader",
    "keychain_service",
    "parse_credentials",
]

log = logging.getLogger(__name__)

CONFIG_DIR_ENV = "CLAUDE_CONFIG_DIR"
CREDENTIALS_FILE = ".credentials.json"
KEYCHAIN_SERVICE = "Claude Code-credentials"
# An absolute path: a `security` planted earlier on PATH must not see the Keychain's answer.
SECURITY = "/usr/bin/security"
# The Keychain may ask the user to allow access; an unanswered dialog must not hang a poll.
KEYCHAIN_TIMEOUT_S = 30.0
# `security`'s exit status for "The specified item could not be found in the keychain."
_NOT_FOUND_STATUS = 44
EXPIRED_MESSAGE = "Claude Code's login has expired — run `claude` once to renew it."
REJECTED_MESSAGE = "Anthropic refused Claude Code's login — run `claude` once to renew it."


def claude_code_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Claude Code's config folder: `$CLAUDE_CONFIG_DIR`, else `~/.claude`."""
    env = os.environ if environ is None else environ
    custom = env.get(CONFIG_DIR_ENV, "").strip()
    return Path(custom).expanduser() if custom else Path.home() / ".claude"


def keychain_service(environ: Mapping[str, str] | None = None) -> str:
    """The Keychain item Claude Code uses for its config folder."""
    env = os.environ if environ is None else environ
    custom = env.get(CONFIG_DIR_ENV, "").strip()
    if not custom:
        return KEYCHAIN_SERVICE
    digest = hashlib.sha256(str(Path(custom).expanduser()).encode("utf-8")).hexdigest()
    return f"{KEYCHAIN_SERVICE}-{digest[:8]}"


def parse_credentials(data: Any) -> TokenSet:
    """Claude Code's credentials JSON as a TokenSet without a refresh token; ValueError names
    the first field we cannot use."""
    oauth = data.get("claudeAiOauth") if isinstance(data, dict) else None
    if not isinstance(oauth, dict):
        raise ValueError("no claudeAiOauth object")
    access = oauth.get("accessToken")
    if not isinstance(access, str) or not access.strip():
        raise ValueError("claudeAiOauth.accessToken is missing")
    expires = oauth.get("expiresAt")
    if not isinstance(expires, (int, float)) or isinstance(expires, bool):
        raise ValueError("claudeAiOauth.expiresAt is missing")
    try:
        expires_at = datetime.fromtimestamp(float(expires) / 1000.0, tz=timezone.utc)
    except (OverflowError, OSError, ValueError) as exc:
        raise ValueError("claudeAiOauth.expiresAt is out of range") from exc
    scopes = oauth.get("scopes")
    scope = " ".join(s for s in scopes if isinstance(s, str)) if isinstance(scopes, list) else ""
    # refresh_token stays empty: nothing here can ever refresh Claude Code's login.
    return TokenSet(access.strip(), "", expires_at, scope=scope)


def keychain_reader(
    service: str, *, security: str = SECURITY, timeout: float = KEYCHAIN_TIMEOUT_S,
) -> Callable[[], bytes | None]:
    """Reads the Keychain item's secret (None when there is no such item)."""

    def read() -> bytes | None:
        try:
            # The secret comes back on stdout; nothing secret is on the command line.
            done = subprocess.run(
                [security, "find-generic-password", "-s", service, "-w"],
                stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False,
            )
        except FileNotFoundError:
            return None
        except subprocess.TimeoutExpired:
            raise CredentialsError(
                f"The macOS Keychain did not answer within {timeout:g} s (is a dialog waiting, "
                "or the keychain locked?)."
            ) from None
        except OSError as exc:
            raise CredentialsError(
                f"Could not ask the macOS Keychain for Claude Code's login ({exc.strerror})."
            ) from None
        if done.returncode == _NOT_FOUND_STATUS:
            return None
        if done.returncode != 0:
            why = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise CredentialsError(
                "Could not read Claude Code's login from the macOS Keychain"
                f" ({why[-1] if why else f'security exited with {done.returncode}'})."
            )
        return _unhex(done.stdout.strip())

    return read


def _unhex(secret: bytes) -> bytes:
    # `security -w` prints a secret with non-ASCII bytes as bare hex.
    if secret[:1] != b"{":
        try:
            return bytes.fromhex(secret.decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            pass
    return secret


@dataclass(frozen=True)
class _Read:
    tokens: TokenSet
    where: str


class ClaudeCodeLogin:
    """A token source and account over Claude Code's credentials; reads only, never writes."""

    def __init__(
        self,
        folder: Path,
        *,
        clock: Callable[[], datetime],
        keychain: Callable[[], bytes | None] | None = None,
        account_file: Path | None = None,
    ) -> None:
        self.folder = folder
        self.clock = clock
        self._keychain = keychain
        self._account_file = account_file
        self._file = folder / CREDENTIALS_FILE
        self._cached: _Read | None = None

    @classmethod
    def for_environment(cls, clock: Callable[[], datetime],
                        environ: Mapping[str, str] | None = None,
                        *, platform: str = sys.platform,
                        security: str = SECURITY) -> ClaudeCodeLogin:
        env = os.environ if environ is None else environ
        folder = claude_code_dir(env)
        keychain = keychain_reader(keychain_service(env), security=security) \
            if platform == "darwin" else None
        # Claude Code keeps the account (email) in `.claude.json`: in the config folder when
        # CLAUDE_CONFIG_DIR is set, else beside it in the home folder.
        account = folder / ".claude.json" if env.get(CONFIG_DIR_ENV, "").strip() \
            else Path.home() / ".claude.json"
        return cls(folder, clock=clock, keychain=keychain, account_file=account)

    def __repr__(self) -> str:
        return f"ClaudeCodeLogin({str(self.folder)!r})"

    @property
    def where(self) -> str:
        """Where the login is looked for, in words for a message."""
        return f"the macOS Keychain or {self._file}" if self._keychain else str(self._file)

    # ---- Account ----

    def logged_in(self) -> bool:
        try:
            return self._load(again=True) is not None
        except CredentialsError as exc:
            log.warning("%s", exc)
            return False

    @property
    def email(self) -> str | None:
        if self._account_file is None:
            return None
        try:
            data = read_json(self._account_file)
        except (OSError, ValueError):
            return None
        account = data.get("oauthAccount") if isinstance(data, dict) else None
        email = account.get("emailAddress") if isinstance(account, dict) else None
        return email if isinstance(email, str) and email else None

    @property
    def login_expires_at(self) -> datetime | None:
        return None  # Claude Code keeps its own login alive; it warns about it itself

    # ---- TokenSource ----

    def state(self) -> TokenState | None:
        # Never REFRESH_DUE: we cannot refresh, so a token is usable until it has expired.
        read = self._load()
        if read is None:
            return None
        return TokenState.EXPIRED if self._expired(read) else TokenState.FRESH

    def access_token(self) -> str:
        read = self._load()
        if read is not None and self._expired(read):
            read = self._load(again=True)  # `claude` may have renewed it since
        if read is None:
            raise NotLoggedIn(
                f"No Claude Code login found in {self.where} — run `claude` and log in, "
                'or set "login_source" back to "pulse".'
            )
        if self._expired(read):
            raise ReauthRequired(EXPIRED_MESSAGE)
        return read.tokens.access_token

    def refresh(self, rejected: str | None = None) -> str:
        """Never a refresh: read again, and use a token Claude Code renewed meanwhile."""
        read = self._load(again=True)
        if read is not None and read.tokens.access_token != rejected and \
                not self._expired(read):
            return read.tokens.access_token
        if read is not None and not self._expired(read):
            raise ReauthRequired(REJECTED_MESSAGE)
        return self.access_token()  # the missing / expired message

    # ---- reading ----

    def _expired(self, read: _Read) -> bool:
        return self.clock() >= read.tokens.expires_at

    def _load(self, *, again: bool = False) -> _Read | None:
        # Cached so a Keychain (which may show a dialog) is asked once, not at every poll.
        if self._cached is None or again:
            self._cached = self._read()
        return self._cached

    def _read(self) -> _Read | None:
        keychain_error: CredentialsError | None = None
        if self._keychain is not None:
            try:
                secret = self._keychain()
            except CredentialsError as exc:
                keychain_error, secret = exc, None
            if secret is not None:
                return _Read(_parse(secret, "the macOS Keychain item"), "the macOS Keychain")
        try:
            data = read_bytes(self._file)
        except FileNotFoundError:
            if keychain_error is not None:
                raise keychain_error from None
            return None
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise CredentialsError(
                f"Could not read Claude Code's login {self._file} ({reason})."
            ) from None
        return _Read(_parse(data, str(self._file)), str(self._file))


def _parse(data: bytes, where: str) -> TokenSet:
    try:
        return parse_credentials(json.loads(data.decode("utf-8-sig")))
    except (UnicodeDecodeError, RecursionError, ValueError) as exc:
        detail = str(exc) if not isinstance(exc, (UnicodeDecodeError, json.JSONDecodeError)) \
            else "not JSON"
        raise CredentialsError(
            f"Claude Code's login in {where} is not in a shape we know ({detail}); "
            "run `claude` once to renew it."
        ) from None


class LoginSource(Protocol):
    """A login as the fetcher (`TokenSource`) and the poller (`Account`) use it:
    `services.tokens.TokenManager` or `ClaudeCodeLogin`."""

    def logged_in(self) -> bool: ...

    @property
    def email(self) -> str | None: ...

    @property
    def login_expires_at(self) -> datetime | None: ...

    def state(self) -> TokenState | None: ...

    def access_token(self) -> str: ...

    def refresh(self, rejected: str | None = None) -> str: ...


class SelectedLogin:
    """The login the settings choose, behind the same narrow protocols.

    Chosen at each call, so switching `login_source` applies at once; neither source's data is
    touched by switching.
    """

    def __init__(self, config: ConfigSource, pulse: Callable[[], LoginSource],
                 claude_code: ClaudeCodeLogin, *, clock: Callable[[], datetime]) -> None:
        self._config = config
        self._pulse_factory = pulse  # built on first use: `statusline` rarely needs it
        self.claude_code = claude_code
        self.clock = clock

    @property
    def _pulse(self) -> LoginSource:
        return self._pulse_factory()

    def __repr__(self) -> str:
        return f"SelectedLogin({self._config().login_source!r})"

    @property
    def uses_claude_code(self) -> bool:
        return self._config().login_source == "claude-code"

    @property
    def _source(self) -> LoginSource:
        return self.claude_code if self.uses_claude_code else self._pulse

    def logged_in(self) -> bool:
        return self._source.logged_in()

    @property
    def email(self) -> str | None:
        return self._source.email

    @property
    def login_expires_at(self) -> datetime | None:
        """When the login itself ends (None: unknown, or not ours to renew)."""
        return self._source.login_expires_at

    def state(self) -> TokenState | None:
        return self._source.state()

    def access_token(self) -> str:
        return self._source.access_token()

    def refresh(self, rejected: str | None = None) -> str:
        return self._source.refresh(rejected)

    def check(self) -> None:
        """Raise what stops a usage request before it is made (no login; an expired Claude
        Code login), so no request is spent on it."""
        if self.uses_claude_code:
            self.claude_code.access_token()
        elif self._pulse.state() is None:
            raise NotLoggedIn()
