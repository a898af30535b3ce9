"""Small helpers: find or require an external program, stop one, wait for a condition, hold a
file lock from another process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from support.xharness import stop_process

__all__ = ["held_lock", "in_ci", "require_program", "stop_process", "wait_until"]

# Another process that takes a lock and keeps it (a stuck or suspended Claude Pulse).
_HOLD_LOCK = ("import sys, time; from filelock import FileLock; lock = FileLock(sys.argv[1]); "
              "lock.acquire(); print('held', flush=True); time.sleep(120)")


@contextmanager
def held_lock(path: Path) -> Iterator[None]:
    """`path` (a filelock lock file) held by another process for the duration."""
    holder = subprocess.Popen([sys.executable, "-c", _HOLD_LOCK, str(path)],
                              stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
        yield
    finally:
        holder.kill()
        holder.communicate(timeout=30)  # also closes its stdout


def in_ci() -> bool:
    return bool(os.environ.get("CI"))


def require_program(name: str) -> str:
    """The program's path; in CI a missing program fails the test, elsewhere it skips it."""
    path = shutil.which(name)
    if path:
        return path
    message = f"{name} is not installed (scripts/test installs it)"
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `predicate` every 0.1 s; fail the test naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
