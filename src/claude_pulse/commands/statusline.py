"""`claude-pulse statusline`: one short line for Claude Code's `statusLine` setting.

Claude Code runs this often (on every update of its status line), so it must be fast and must
never hammer the usage endpoint. Where the numbers come from, in order:

1. **Claude Code's own feed.** When stdin is a pipe, read it (at most `STDIN_LIMIT` bytes, for at
   most `STDIN_TIMEOUT_S`: Claude Code writes its JSON and closes, and a silent pipe must not hang
   us). If it carries `rate_limits`, print from it, save it as the shared snapshot (source
   "claude-code") and in the history when the numbers are new and it has every window the
   snapshot has, and call nobody. Anything else on stdin is ignored.
2. **A fresh snapshot** (younger than `poll_interval_seconds` + 20 %: the tray polls at the
   interval ±10 %, so it keeps its turn), from any process: print it.
3. **One fetch**, only if no process fetched within that time (the shared gate). If
   another did, print the snapshot as it is; during a 429 cooldown, or when the fetch fails,
   print the snapshot marked "(stale 12m)" — "(stale 12m, next 14:05)" when the gate (429
   cooldown, hourly request budget) says when the next request may go; with no snapshot print
   a short hint and exit 1.

The usage line never comes with a traceback: an unexpected error is logged (`logs/cli.log`) and
reported in a few words. Paths 1 and 2 import nothing heavy: no GUI, no HTTP stack and, unless
there is something new to record, no sqlite3 (see `tests/test_statusline.py`).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import threading
import time
from datetime import datetime, timedelta
from typing import IO, TYPE_CHECKING, Any

from claude_pulse.core.snapshot import Snapshot
from claude_pulse.core.statusline import (
    NO_DATA,
    OFFLINE,
    format_line,
    from_claude_code,
    problem_line,
    rate_limited_line,
)
from claude_pulse.core.usage import Window, parse_usage
from claude_pulse.errors import (
    ApiError,
    AuthError,
    CooldownActive,
    NetworkError,
    NotLoggedIn,
    PulseError,
)

if TYPE_CHECKING:
    from claude_pulse.wiring import Services

__all__ = ["STDIN_LIMIT", "STDIN_TIMEOUT_S", "answer_failure", "read_stdin", "run", "statusline"]

log = logging.getLogger(__name__)

STDIN_LIMIT = 256 * 1024  # Claude Code's JSON is a few kB
STDIN_TIMEOUT_S = 0.3
# Once some input has arrived, a pause this long ends the read if what we have is complete JSON
# (in case a caller forgets to close the pipe).
_STDIN_IDLE_S = 0.05
# The tray polls every interval ±10 %: the status line waits this much longer before it asks
# itself, so with the tray running it shares the tray's requests instead of adding its own.
_TRAY_TURN = 1.2
# A snapshot another process is about to refresh is shown unmarked until it is this many poll
# intervals old; after that the other fetch evidently failed and the line says so.
_STALE_AFTER_INTERVALS = 2
# The same numbers from the feed are saved again once the snapshot is this share of a poll
# interval old, so a live feed keeps it younger than the interval (see `_remember_feed`).
_FEED_RESAVE = 0.5


def answer_failure(exc: PulseError) -> None:
    """The line for an error before `run` could start (the home cannot be used): the details
    go to stderr, which Claude Code does not show."""
    with contextlib.suppress(OSError):
        print(problem_line("cannot start (run `claude-pulse status`)"), flush=True)


def run(args: argparse.Namespace, services: Services) -> int:
    try:
        line, code = statusline(services, read_stdin(sys.stdin))
    except Exception:  # the status line must print a line, never a traceback
        log.warning("statusline failed", exc_info=True)
        line, code = problem_line("error (see logs/cli.log)"), 1
    try:
        print(line, flush=True)
    except (BrokenPipeError, OSError):  # the reader went away; nothing left to tell
        return 1
    return code


def statusline(services: Services, stdin_data: bytes | None) -> tuple[str, int]:
    """The line to print and the exit code."""
    now = services.clock()
    if stdin_data:
        raw = from_claude_code(stdin_data, now)
        if raw is not None:
            feed = Snapshot(now, parse_usage(raw), raw, source="claude-code")
            _remember_feed(services, feed)
            return format_line(feed.usage, now), 0

    interval = timedelta(seconds=services.settings.current().poll_interval_seconds)
    fresh_for = interval * _TRAY_TURN
    cached = services.snapshots.load()
    if cached is not None and now - cached.fetched_at < fresh_for:
        return format_line(cached.usage, now), 0

    try:
        services.login.check()
        fresh = services.fetcher.fetch(min_spacing_s=fresh_for.total_seconds())
    except CooldownActive as exc:  # a 429 cooldown or the spent hourly budget: send nothing
        hour24 = services.settings.current().hour24
        if cached is None:
            return rate_limited_line(exc.until, hour24=hour24), 1
        return _stale(cached, now, next_request=exc.until, hour24=hour24), 0
    except PulseError as exc:
        log.info("statusline could not refresh: %s", exc)
        if cached is None:
            return problem_line(_reason(exc)) if not isinstance(exc, NetworkError) else OFFLINE, 1
        return _stale(cached, now), 0

    if fresh is not None:
        return format_line(fresh.usage, services.clock()), 0
    # Another process fetched within the interval; its snapshot may land any moment.
    cached = services.snapshots.load() or cached
    if cached is None:
        return NO_DATA, 1
    if now - cached.fetched_at >= interval * _STALE_AFTER_INTERVALS:
        return _stale(cached, now), 0
    return format_line(cached.usage, now), 0


def _stale(snapshot: Snapshot, now: datetime, *, next_request: datetime | None = None,
           hour24: bool = True) -> str:
    return format_line(snapshot.usage, now, stale_age=now - snapshot.fetched_at,
                       next_request=next_request, hour24=hour24)


def _reason(exc: PulseError) -> str:
    if isinstance(exc, NotLoggedIn):
        return "not logged in"
    if isinstance(exc, AuthError):
        return "log in again"
    if isinstance(exc, NetworkError):
        return "offline"
    if isinstance(exc, ApiError):
        return "server error"
    return "unavailable (see logs/cli.log)"


def _remember_feed(services: Services, feed: Snapshot) -> None:
    """Share Claude Code's numbers with every process, unless the snapshot already says so, and
    tell a running tray (`platform.poke`) when it saved them.

    Claude Code calls us many times a minute with the same numbers: writing only when they
    change, or the snapshot is half a poll interval old, keeps this path cheap and keeps a fresh,
    richer API snapshot (per-model limits, extra usage) from being replaced by the same numbers.
    Half an interval: the tray takes a feed snapshot younger than the interval as live and asks
    Anthropic itself once it is older (`core.polling`), so a live feed re-saves before that.
    A feed missing a window the snapshot has is only printed: replacing the snapshot would make
    the other processes lose that window until their next fetch.
    """
    now, usage = feed.fetched_at, feed.usage
    try:
        cached = services.snapshots.load()
        interval = timedelta(seconds=services.settings.current().poll_interval_seconds)
        if (cached is not None and now - cached.fetched_at < interval * _FEED_RESAVE
                and _same(cached.usage.session, usage.session)
                and _same(cached.usage.weekly, usage.weekly)):
            return
        loses_a_window = cached is not None and (
            (usage.session is None and cached.usage.session is not None)
            or (usage.weekly is None and cached.usage.weekly is not None))
        if loses_a_window:
            return
        services.snapshots.save(feed)
        services.record_history(feed)
    except Exception:  # showing the line matters more than sharing it
        log.warning("could not save Claude Code's usage numbers", exc_info=True)
        return
    from claude_pulse.platform.poke import FEED, poke_tray

    poke_tray(str(services.home.instance_port), FEED)


def _same(a: Window | None, b: Window | None) -> bool:
    if a is None or b is None:
        return a is b
    if a.utilization != b.utilization:
        return False
    if a.resets_at is None or b.resets_at is None:
        return a.resets_at is b.resets_at
    # The API's reset times carry microseconds, Claude Code's whole seconds.
    return abs((a.resets_at - b.resets_at).total_seconds()) < 60


def read_stdin(stream: IO[Any] | None, *, timeout: float = STDIN_TIMEOUT_S,
               limit: int = STDIN_LIMIT, use_thread: bool | None = None) -> bytes | None:
    """What a non-interactive stdin holds, or None (a terminal, no stdin, nothing in time).

    Reads the file descriptor directly: a thread blocked in Python's buffered stdin would hold
    its lock at interpreter exit. POSIX waits with `select`; Windows cannot select on a pipe, so
    a daemon thread reads there (`use_thread` forces either way, for tests).
    """
    try:
        if stream is None or stream.isatty():
            return None
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):  # closed, or replaced by something odd
        return None
    if use_thread is None:
        use_thread = os.name != "posix"
    data = _read_in_thread(fd, timeout, limit) if use_thread else _read_select(fd, timeout, limit)
    return data or None


def _read_select(fd: int, timeout: float, limit: int) -> bytes:
    import select

    deadline = time.monotonic() + timeout
    buf = bytearray()
    while len(buf) < limit:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        wait = min(remaining, _STDIN_IDLE_S) if buf else remaining
        try:
            ready, _, _ = select.select([fd], [], [], wait)
        except (OSError, ValueError):
            break
        if not ready:
            if buf and _complete_json(buf):
                break
            continue
        try:
            chunk = os.read(fd, min(65536, limit - len(buf)))
        except OSError:
            break
        if not chunk:
            break
        buf += chunk
    return bytes(buf)


def _read_in_thread(fd: int, timeout: float, limit: int) -> bytes:
    chunks: list[bytes] = []
    lock = threading.Lock()

    def pump() -> None:
        size = 0
        while size < limit:
            try:
                chunk = os.read(fd, min(65536, limit - size))
            except OSError:
                return
            if not chunk:
                return
            with lock:
                chunks.append(chunk)
            size += len(chunk)

    reader = threading.Thread(target=pump, name="statusline-stdin", daemon=True)
    reader.start()
    reader.join(timeout)
    with lock:
        return b"".join(chunks)


def _complete_json(buf: bytearray) -> bool:
    import json

    try:
        json.loads(bytes(buf))
    except ValueError:
        return False
    return True
