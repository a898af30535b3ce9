"""`claude-pulse statusline` when it only has to print: the steady state, in a few milliseconds.

Claude Code runs the status line on every update, mostly with numbers the shared snapshot
already has. Then there is nothing to save, fetch or log, and this module prints the line having
imported only os, sys, datetime, select and the standard-library-only modules `core.line` (JSON
through the `_json` scanner: `json` would bring `re` and `enum`), `config_keys`, `home_trust`
and `platform.stdin` — none of `wiring`, `config`, `logging`, `dataclasses`, `pathlib`,
`argparse`, `typing`, `json`, `re` or `enum` (`tests/test_fastline.py` holds it to that). It
answers when:

* Claude Code's feed is on stdin and the snapshot already says the same (`core.line.fast_line`);
* or there is no usable feed and the snapshot is fresh.

Anything else goes to the full path (`commands.statusline` through `cli`), which then has the
stdin this already read: Windows (the home's ACL checks need ctypes), a terminal or no stdout, a
home that is missing or that `home.Home.ensure` would refuse or tighten, a `config.json` with a
problem (the full path reports it in the log), a snapshot that is missing or has neither the
line's facts the full path saved with it (`core.line.saved_line`) nor a plain answer (an older
version saved it, and it has per-model limits, extras, a lock, times the parser would repair),
new numbers (to save, with history), a stale snapshot (to fetch), and any exception. No request
is ever made here (issue #18's budget).
"""

from __future__ import annotations

import os
import stat
import sys
from datetime import datetime, timedelta, timezone

from claude_pulse.config_keys import DEFAULT_POLL_INTERVAL_S, RULES
from claude_pulse.core.line import (
    fast_line,
    from_claude_code,
    plain_snapshot,
    read_json,
    saved_line,
)
from claude_pulse.home_trust import CONFIG_NAME, SNAPSHOT_NAME, home_folder, untrusted
from claude_pulse.platform.stdin import read_stdin

__all__ = ["answer"]

# config.json and snapshot.json are a few kB; anything this big is for the full path to judge.
_READ_LIMIT = 1024 * 1024
# Non-blocking: a FIFO planted in place of a file cannot hang us (POSIX only runs this).
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


class _Missing:
    pass


_MISSING = _Missing()


def answer() -> tuple[int | None, bool, bytes | None]:
    """(exit code, or None when the full path must answer; whether stdin was read; what it held).

    Prints the line itself when it answers.
    """
    if sys.platform == "win32":
        return None, False, None
    out = sys.stdout
    try:
        if out is None or out.isatty():
            return None, False, None
        fd = out.fileno()
    except (AttributeError, OSError, ValueError):  # closed, or replaced by something odd
        return None, False, None
    data = read_stdin(sys.stdin)
    try:
        line = _line(data, datetime.now(timezone.utc))
    except Exception:  # anything unusual is the full path's to judge (and to log)
        line = None
    if line is None:
        return None, True, data
    try:
        # UTF-8 on a pipe or file, as `platform.console.prepare` makes the full path write.
        os.write(fd, line.encode("utf-8") + b"\n")
    except OSError:  # the reader went away; nothing left to tell
        return 1, True, data
    return 0, True, data


def _line(stdin_data: bytes | None, now: datetime) -> str | None:
    root = home_folder()
    if not _trusted(root):
        return None
    interval = _poll_interval(os.path.join(root, CONFIG_NAME))
    snapshot = _read_json(os.path.join(root, SNAPSHOT_NAME))
    if interval is None or snapshot is _MISSING:
        return None
    # The line's facts the full parser saved with the snapshot; else a plain answer read here.
    cached = saved_line(snapshot) or plain_snapshot(snapshot)
    if cached is None:
        return None
    feed = from_claude_code(stdin_data, now) if stdin_data else None
    return fast_line(now, timedelta(seconds=interval), feed, cached)


def _trusted(root: str) -> bool:
    """Whether `home.Home.ensure` would take the folder as it is: private, ours, and nothing in
    it that another user owns or can write. A missing folder is not (the full path creates it);
    one it would tighten is not either (it does the chmod)."""
    if sys.platform == "win32":  # owner SIDs and ACLs: ctypes, the full path's job
        return False
    uid = os.geteuid()
    info = os.stat(root)
    if not stat.S_ISDIR(info.st_mode) or stat.S_IMODE(info.st_mode) & 0o077 or \
            untrusted(info, uid, is_link=False):
        return False
    with os.scandir(root) as entries:
        for entry in entries:
            if untrusted(entry.stat(follow_symlinks=False), uid, is_link=entry.is_symlink()):
                return False
    return True


def _poll_interval(path: str) -> int | None:
    """The poll interval when config.json is missing or has no problem at all, judged by the
    loader's own rules (`config_keys.RULES`); None otherwise."""
    raw = _read_json(path)
    if raw is _MISSING:
        return DEFAULT_POLL_INTERVAL_S
    if not isinstance(raw, dict):
        return None
    interval = DEFAULT_POLL_INTERVAL_S
    for key, value in raw.items():
        rule = RULES.get(key)
        if rule is None:
            return None  # unknown: `config.load` reports it
        cleaned = rule[0](value)
        if cleaned is None:
            return None  # not allowed: reported, and the default used instead
        if key == "poll_interval_seconds":
            interval = cleaned
    return interval


def _read_json(path: str) -> object:
    """A regular file's JSON (UTF-8, a BOM allowed), or _MISSING; raises for anything else."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        return _MISSING
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path} is not a regular file")
        raw = os.read(fd, _READ_LIMIT + 1)
        chunk = raw
        while chunk and len(raw) <= _READ_LIMIT:
            chunk = os.read(fd, _READ_LIMIT + 1 - len(raw))
            raw += chunk
    finally:
        os.close(fd)
    if len(raw) > _READ_LIMIT:
        raise ValueError(f"{path} is larger than the fast path reads")
    return read_json(raw.decode("utf-8-sig"))
