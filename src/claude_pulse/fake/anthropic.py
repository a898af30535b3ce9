"""A fake Anthropic: authorize, token, usage and profile endpoints on 127.0.0.1.

`--demo` runs the app against it and every test aims real HTTP at it. It behaves like the real
servers as documented in protocol.md §1-§4: auto-consenting authorize page (or the `code#state`
page of the manual flow), a token endpoint that checks PKCE S256, state, redirect_uri and
single-use codes and rotates refresh tokens, and usage/profile endpoints with the real 401/403
bodies. Tests script one-off failures with `queue(endpoint, Reply...)`, and the two real 429
regimes with `rate_limit(...)` or a server-side hourly budget with `limit_usage(...)`:

    with FakeAnthropic() as fake:
        fake.queue("usage", Reply.rate_limited(retry_after=0))
        fake.rate_limit("token")      # live tokens: 429 Retry-After 0 for 20 min; new ones pass
        fake.rate_limit("account")    # every token: 429 Retry-After 3600 for an hour
        fake.limit_usage(per_hour=28, regime="account")  # the 29th request in an hour blocks
        tokens = fake.issue_tokens()

Run `python -m claude_pulse.fake.anthropic [--port N]` to serve it in the foreground.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import json
import logging
import re
import signal
import sys
import threading
import time
import urllib.parse
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

from claude_pulse.fake import samples
from claude_pulse.fake.ratelimit import RateLimits, Regime
from claude_pulse.fake.replies import (
    NO_OAUTH_MESSAGE,
    Reply,
    api_error,
    auth_error_body,
    invalid_grant,
    invalid_request,
)
from claude_pulse.fake.tokens import LOGIN_TTL_S, GrantError, TokenAuthority
from claude_pulse.oauth.constants import CLIENT_ID, MANUAL_REDIRECT_URI, OAUTH_BETA, SCOPES

__all__ = ["SCOPES", "FakeAnthropic", "RecordedRequest", "Reply", "main"]

log = logging.getLogger(__name__)

Endpoint = Literal["usage", "profile", "token", "authorize"]
UsageSource = dict[str, Any] | Callable[[], dict[str, Any]]

PATHS: dict[str, str] = {
    "authorize": "/oauth/authorize",
    "token": "/v1/oauth/token",
    "usage": "/api/oauth/usage",
    "profile": "/api/oauth/profile",
}
_ENDPOINT_BY_PATH = {path: name for name, path in PATHS.items()}
_METHODS = {"authorize": "GET", "token": "POST", "usage": "GET", "profile": "GET"}
MAX_REQUEST_BODY = 1 << 20
# What Anthropic accepts for this client: any loopback port on /callback, or the paste flow.
_LOOPBACK_REDIRECT = re.compile(
    r"http://(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?/callback(\?[^#]*)?"
)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it. Header keys are lower-case."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    json: Any
    form: dict[str, str]
    at: float

    @property
    def endpoint(self) -> str | None:
        return _ENDPOINT_BY_PATH.get(self.path)


@dataclass
class _Answer:
    status: int
    body: bytes = b""
    headers: dict[str, str] | None = None
    cut_body: bool = False
    drip_s: float = 0.0
    drip_headers: bool = False


def _json_answer(status: int, payload: Any, headers: dict[str, str] | None = None) -> _Answer:
    return _Answer(status, json.dumps(payload).encode("utf-8"),
                   {"content-type": "application/json", **(headers or {})})


def _html_answer(status: int, title: str, inner: str) -> _Answer:
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
            f"</title></head><body><h1>{html.escape(title)}</h1>{inner}</body></html>")
    return _Answer(status, page.encode("utf-8"), {"content-type": "text/html; charset=utf-8"})


class FakeAnthropic:
    """The fake server. Thread-safe: tests change it while the app's threads call it."""

    def __init__(
        self,
        *,
        access_token_ttl: float = 28800.0,
        login_ttl: float | None = LOGIN_TTL_S,
        email: str = "pulse.user@example.com",
        usage: UsageSource | None = None,
        clock: Callable[[], float] = time.time,
        deny_consent: bool = False,
        port: int = 0,
        strict_redirect_uri: bool = True,
    ) -> None:
        self._clock = clock
        self._port = port
        self.deny_consent = deny_consent
        self.strict_redirect_uri = strict_redirect_uri
        self.tokens = TokenAuthority(access_token_ttl=access_token_ttl, email=email, clock=clock,
                                     login_ttl=login_ttl)
        self.rate_limits = RateLimits(clock)
        self._lock = threading.Lock()
        self._usage: UsageSource = usage if usage is not None else self._default_usage
        self._queues: dict[str, deque[Reply]] = {name: deque() for name in PATHS}
        self._requests: list[RecordedRequest] = []
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> FakeAnthropic:
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server(("127.0.0.1", self._port), _Handler)
        server.fake = self
        host, port = server.server_address[:2]
        self.base_url = f"http://{host!s}:{port}"
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"fake-anthropic:{port}", daemon=True)
        with _signals_blocked():
            self._thread.start()
        log.debug("fake Anthropic serving on %s", self.base_url)
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()  # wakes handlers sleeping on a scripted delay
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeAnthropic:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the fake server is not started")
        return int(self._server.server_address[1])

    # -- URLs -----------------------------------------------------------------------------------

    @property
    def authorize_url(self) -> str:
        return self.base_url + PATHS["authorize"]

    @property
    def token_url(self) -> str:
        return self.base_url + PATHS["token"]

    @property
    def usage_url(self) -> str:
        return self.base_url + PATHS["usage"]

    @property
    def profile_url(self) -> str:
        return self.base_url + PATHS["profile"]

    def config_overrides(self) -> dict[str, str]:
        return {"authorize_url": self.authorize_url, "token_url": self.token_url,
                "usage_url": self.usage_url, "profile_url": self.profile_url}

    # -- scripting and inspection ---------------------------------------------------------------

    @property
    def usage(self) -> UsageSource:
        with self._lock:
            return self._usage

    @usage.setter
    def usage(self, value: UsageSource) -> None:
        with self._lock:
            self._usage = value

    def current_usage(self) -> dict[str, Any]:
        source = self.usage
        return source() if callable(source) else source

    def _default_usage(self) -> dict[str, Any]:
        return samples.default_usage(datetime.fromtimestamp(self._clock(), tz=timezone.utc))

    def queue(self, endpoint: Endpoint, *replies: Reply) -> None:
        if endpoint not in self._queues:
            raise ValueError(f"unknown endpoint {endpoint!r}; one of {sorted(self._queues)}")
        with self._lock:
            self._queues[endpoint].extend(replies)

    def pending(self, endpoint: Endpoint) -> int:
        """How many queued replies are still waiting on `endpoint`."""
        with self._lock:
            return len(self._queues[endpoint])

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, endpoint: str) -> list[RecordedRequest]:
        """Requests to a named endpoint, or to any path equal to / ending in `/endpoint`."""
        path = PATHS.get(endpoint)
        if path is not None:
            return [r for r in self.requests if r.path == path]
        suffix = "/" + endpoint.strip("/")
        return [r for r in self.requests if r.path == endpoint or r.path.endswith(suffix)]

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def expire_access_tokens(self) -> None:
        self.tokens.expire_access_tokens()

    def rate_limit(self, regime: Regime, *, retry_after: float | None = None,
                   duration: float | None = None) -> None:
        """Start a 429 block on the usage endpoint (fake-clock seconds).

        "token": the access tokens live now get 429 with `Retry-After` (default 0) for `duration`
        (default 1200 s); a token minted later (a refresh) passes. "account": every token gets
        429 with `Retry-After` (default 3600) for `duration` (default: the Retry-After)."""
        self.rate_limits.block(regime, self.tokens.live_access_tokens(),
                               retry_after=retry_after, duration=duration)

    def limit_usage(self, per_hour: int | None, regime: Regime = "token") -> None:
        """Let the server block by itself: the usage request beyond `per_hour` in a trailing
        hour starts a `regime` block (None: no budget)."""
        self.rate_limits.set_budget(per_hour, regime)

    def clear_rate_limits(self) -> None:
        self.rate_limits.clear()

    def revoke_refresh_tokens(self) -> None:
        self.tokens.revoke_refresh_tokens()

    @property
    def refresh_count(self) -> int:
        return self.tokens.refresh_count

    @property
    def exchange_count(self) -> int:
        return self.tokens.exchange_count

    def issue_tokens(self, scope: str = SCOPES) -> dict[str, Any]:
        """A valid token pair, as the token endpoint would return it, without logging in."""
        return self.tokens.mint(scope)

    # -- request handling (called from handler threads) -----------------------------------------

    def _record(self, req: RecordedRequest) -> Reply | None:
        with self._lock:
            self._requests.append(req)
            name = req.endpoint
            queue = self._queues.get(name) if name is not None else None
            return queue.popleft() if queue else None

    def _answer(self, req: RecordedRequest) -> _Answer:
        name = req.endpoint
        if name is None:
            return _json_answer(404, api_error("not_found_error", "Not found"))
        if req.method != _METHODS[name]:
            return _json_answer(405, api_error("invalid_request_error",
                                               f"Method {req.method} not allowed"))
        handlers: dict[str, Callable[[RecordedRequest], _Answer]] = {
            "authorize": self._authorize, "token": self._token,
            "usage": self._usage_endpoint, "profile": self._profile,
        }
        return handlers[name](req)

    def _authorize(self, req: RecordedRequest) -> _Answer:
        q = req.query
        problem = None
        redirect_uri = q.get("redirect_uri", "")
        if q.get("client_id") != CLIENT_ID:
            problem = "client_id is missing or unknown"
        elif q.get("response_type") != "code":
            problem = "response_type must be 'code'"
        elif not redirect_uri:
            problem = "redirect_uri is missing"
        elif self.strict_redirect_uri and not (
            redirect_uri == MANUAL_REDIRECT_URI or _LOOPBACK_REDIRECT.fullmatch(redirect_uri)
        ):
            problem = f"Redirect URI {redirect_uri} is not supported by client."
        elif not q.get("code_challenge"):
            problem = "code_challenge is missing (PKCE is required)"
        elif q.get("code_challenge_method") != "S256":
            problem = "code_challenge_method must be S256"
        elif not q.get("state"):
            problem = "state is missing"
        if problem is not None:
            return _html_answer(400, "Authorization failed", f"<p>{html.escape(problem)}</p>")
        state = q["state"]
        manual = redirect_uri == MANUAL_REDIRECT_URI
        if self.deny_consent:
            if manual:
                return _html_answer(200, "Authorization denied",
                                    "<p id='auth-error'>access_denied</p>")
            return self._redirect(redirect_uri, {
                "error": "access_denied",
                "error_description": "The user denied the authorization request",
                "state": state,
            })
        code = self.tokens.new_code(redirect_uri=redirect_uri, challenge=q["code_challenge"],
                                    state=state, scope=q.get("scope") or SCOPES)
        if manual:
            shown = html.escape(f"{code}#{state}")
            return _html_answer(200, "Authentication Code",
                                "<p>Paste this into Claude Pulse:</p>"
                                f'<code id="auth-code">{shown}</code>')
        return self._redirect(redirect_uri, {"code": code, "state": state})

    @staticmethod
    def _redirect(redirect_uri: str, params: dict[str, str]) -> _Answer:
        sep = "&" if "?" in redirect_uri else "?"
        location = redirect_uri + sep + urllib.parse.urlencode(params)
        answer = _html_answer(302, "Redirecting", "<p>Redirecting…</p>")
        answer.headers = {**(answer.headers or {}), "location": location}
        return answer

    def _token(self, req: RecordedRequest) -> _Answer:
        ctype = req.headers.get("content-type", "").split(";")[0].strip().lower()
        params: dict[str, Any] | None = None
        if ctype == "application/json" and isinstance(req.json, dict):
            params = req.json
        elif ctype == "application/x-www-form-urlencoded" and req.form:
            params = dict(req.form)
        if params is None or params.get("client_id") != CLIENT_ID:
            return _json_answer(400, invalid_request())
        grant_type = params.get("grant_type")
        try:
            if grant_type == "authorization_code":
                state = params.get("state")
                tokens = self.tokens.exchange(
                    code=_text(params.get("code")),
                    redirect_uri=_text(params.get("redirect_uri")),
                    verifier=_text(params.get("code_verifier")),
                    state=state if isinstance(state, str) else None,
                )
            elif grant_type == "refresh_token":
                scope = params.get("scope")
                tokens = self.tokens.refresh(refresh_token=_text(params.get("refresh_token")),
                                             scope=scope if isinstance(scope, str) else None)
            else:
                return _json_answer(400, invalid_request())
        except GrantError as exc:
            return _json_answer(400, invalid_grant(str(exc)))
        return _json_answer(200, tokens, {"cache-control": "no-store"})

    def _bearer_check(self, req: RecordedRequest, *, needs_beta: bool) -> _Answer | None:
        if needs_beta and OAUTH_BETA not in _beta_flags(req.headers.get("anthropic-beta", "")):
            return _json_answer(401, api_error("authentication_error", NO_OAUTH_MESSAGE))
        scheme, _, token = req.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _json_answer(401, auth_error_body(expired=False))
        check = self.tokens.check(token.strip())
        if check.status != "ok":
            return _json_answer(401, auth_error_body(expired=check.status == "expired"))
        if not check.has_scope("user:profile"):
            return _answer_from(Reply.forbidden_scope())
        return None

    def _usage_endpoint(self, req: RecordedRequest) -> _Answer:
        denied = self._bearer_check(req, needs_beta=True)
        if denied is not None:
            return denied
        token = req.headers.get("authorization", "").partition(" ")[2].strip()
        block = self.rate_limits.check(token, self.tokens.live_access_tokens)
        if block is not None:
            return _answer_from(Reply.rate_limited(retry_after=block.retry_after))
        try:
            return _json_answer(200, self.current_usage())
        except Exception as exc:  # a broken usage source is a 500, not a dead handler
            log.warning("fake Anthropic: usage source failed: %s", exc.__class__.__name__)
            return _json_answer(500, api_error("api_error", "Internal server error"))

    def _profile(self, req: RecordedRequest) -> _Answer:
        denied = self._bearer_check(req, needs_beta=False)
        if denied is not None:
            return denied
        t = self.tokens
        return _json_answer(200, samples.profile(t.email, t.account_uuid, t.org_uuid))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _beta_flags(value: str) -> set[str]:
    return {part.strip() for part in value.split(",") if part.strip()}


def _answer_from(reply: Reply) -> _Answer:
    body, headers = reply.payload()
    return _Answer(reply.status, body, headers, reply.cut_body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeAnthropic

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up (timeout tests) is normal here; anything else is a bug in the
        # fake, logged with its traceback (never printed to stderr, never with request data).
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            log.debug("fake Anthropic: client went away (%s)", error.__class__.__name__)
        else:
            log.error("fake Anthropic: handler failed", exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "FakeAnthropic/1.0"
    sys_version = ""

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        # The request line carries codes and states in its query: never log it.
        pass

    def _serve(self) -> None:
        fake = self.server.fake
        req = self._read_request()
        if req is None:
            return
        log.debug("fake Anthropic: %s %s", req.method, req.path)
        reply = fake._record(req)
        if reply is not None and reply.delay > 0 and fake._stopping.wait(reply.delay):
            self.close_connection = True
            return
        passthrough = reply is None or reply.passthrough
        answer = fake._answer(req) if passthrough or reply is None else _answer_from(reply)
        if reply is not None and reply.drip_s > 0:
            answer.drip_s, answer.drip_headers = reply.drip_s, reply.drip_headers
        self._send(answer)

    def _read_request(self) -> RecordedRequest | None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            length = int(headers.get("content-length", "0") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_REQUEST_BODY:
            self._send(_json_answer(413 if length > 0 else 400, invalid_request()))
            return None
        body = self.rfile.read(length) if length else b""
        split = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(split.query, keep_blank_values=True))
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        form: dict[str, str] = {}
        if ctype == "application/x-www-form-urlencoded" and body:
            try:
                form = dict(urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True,
                                                   strict_parsing=True))
            except (UnicodeDecodeError, ValueError):
                form = {}
        return RecordedRequest(self.command, split.path or "/", query, headers, body,
                               _maybe_json(body), form, time.monotonic())

    def _send(self, answer: _Answer) -> None:
        body = answer.body
        self.send_response(answer.status)
        for key, value in (answer.headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.close_connection = True
        if self.command == "HEAD":
            body = b""
        elif answer.cut_body:  # promise the whole body, send half, then the connection closes
            body = body[: len(body) // 2]
        if answer.drip_s > 0:
            self._drip(answer, body)
            return
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def _drip(self, answer: _Answer, body: bytes) -> None:
        # What end_headers would send at once, kept back here to be dripped.
        buffered: list[bytes] = getattr(self, "_headers_buffer", [])
        head = b"".join(buffered) + b"\r\n"
        buffered.clear()
        if not answer.drip_headers:
            self.wfile.write(head)
            self.wfile.flush()
            head = b""
        stopping = self.server.fake._stopping
        data = head + body
        for i in range(len(data)):
            if stopping.wait(answer.drip_s):
                return
            self.wfile.write(data[i:i + 1])  # a client that hung up ends this: ConnectionError


def _maybe_json(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


@contextlib.contextmanager
def _signals_blocked() -> Iterator[None]:
    """Threads started inside inherit a mask without SIGINT and SIGTERM, so the kernel hands
    those to the main thread: taken by a server thread, Ctrl-C would leave `main` asleep."""
    if sys.platform == "win32":  # no thread masks; Python's handler runs on the main thread
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _banner(fake: FakeAnthropic) -> Iterator[str]:
    yield f"Fake Anthropic serving on {fake.base_url}"
    yield "Put this in config.json (in $CLAUDE_PULSE_HOME):"
    yield json.dumps({**fake.config_overrides(), "callback_port": 0}, indent=2)
    yield "Ctrl-C stops it."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m claude_pulse.fake.anthropic",
                                     description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free)")
    parser.add_argument("--email", default="pulse.user@example.com")
    parser.add_argument("--ttl", type=float, default=28800.0, help="access token lifetime (s)")
    args = parser.parse_args(argv)
    fake = FakeAnthropic(port=args.port, email=args.email, access_token_ttl=args.ttl)
    try:
        fake.start()
    except OSError as exc:
        print(f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}")
        return 1
    try:
        # The banner inside the try: a Ctrl-C that comes the moment its last line is out (a
        # script waits for it, then interrupts) must still stop the server cleanly.
        for line in _banner(fake):
            print(line, flush=True)
        while True:
            time.sleep(3600)  # interruptible by Ctrl-C on every platform
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
