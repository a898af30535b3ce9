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
   another did, or holds the gate's lock for more than `GATE_WAIT_S`, print the snapshot as it
   is (marked stale once it is two poll intervals old); during a 429 cooldown, or when the
   fetch fails, print the snapshot marked "(stale 12m)" — "(stale 12m, next 14:05)" when the
   gate (429 cooldown, hourly request budget) says when the next request may go; with no
   snapshot print a short hint and exit 1.

The usage line never comes with a traceback: an unexpected error is logged (`logs/cli.log`) and
reported in a few words. Paths 1 and 2 import nothing heavy: no GUI, no HTTP stack and, unless
there is something new to record, no sqlite3 (see `tests/test_statusline.py`); in the steady
state (nothing new to record) `fastline` answers them before this module is even imported.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from claude_pulse.core.line import TRAY_TURN, feed_is_known, is_fresh
from claude_pulse.core.snapshot import Snapshot
from claude_pulse.core.statusline import (
    NO_DATA,
    OFFLINE,
    format_line,
    from_claude_code,
    problem_line,
    rate_limited_line,
)
from claude_pulse.core.usage import parse_usage
from claude_pulse.errors import (
    ApiError,
    AuthError,
    CooldownActive,
    NetworkError,
    NotLoggedIn,
    PulseError,
)
from claude_pulse.platform.stdin import STDIN_LIMIT, STDIN_TIMEOUT_S, read_stdin

if TYPE_CHECKING:
    from claude_pulse.wiring import Services

__all__ = ["GATE_WAIT_S", "STDIN_LIMIT", "STDIN_TIMEOUT_S", "answer_failure", "read_stdin", "run",
           "statusline"]

log = logging.getLogger(__name__)

# A snapshot another process is about to refresh is shown unmarked until it is this many poll
# intervals old; after that the other fetch evidently failed and the line says so.
_STALE_AFTER_INTERVALS = 2
# Claude Code waits for the line: another process holding the request gate's lock longer than
# this (it is held for a file read and write, normally) counts as "another process is fetching".
GATE_WAIT_S = 0.5


def answer_failure(exc: PulseError) -> None:
    """The line for an error before `run` could start (the home cannot be used): the details
    go to stderr, which Claude Code does not show."""
    with contextlib.suppress(OSError):
        print(problem_line("cannot start (run `claude-pulse status`)"), flush=True)


def run(args: argparse.Namespace, services: Services) -> int:
    # `fastline` may have read stdin already before it handed over to this full path.
    stdin_data = args.stdin_data if "stdin_data" in vars(args) else read_stdin(sys.stdin)
    try:
        line, code = statusline(services, stdin_data)
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
    fresh_for = interval * TRAY_TURN
    cached = services.snapshots.load()
    if cached is not None and is_fresh(cached.fetched_at, now, interval):
        return format_line(cached.usage, now), 0

    try:
        services.login.check()
        fresh = services.fetcher.fetch(min_spacing_s=fresh_for.total_seconds(),
                                       lock_wait_s=GATE_WAIT_S)
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
    # Another process fetched within the interval (or holds the gate); its snapshot may land
    # any moment.
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
        if cached is not None and feed_is_known(
                (usage.session, usage.weekly), cached.fetched_at,
                (cached.usage.session, cached.usage.weekly), now, interval):
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
