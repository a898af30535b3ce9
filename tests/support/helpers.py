"""Small helpers: find or require an external program, stop one, wait for a condition."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable

import pytest

from support.xharness import stop_process

__all__ = ["in_ci", "require_program", "stop_process", "wait_until"]


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
