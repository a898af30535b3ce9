"""Small helpers for the fixture modules: find or require an external program."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest


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


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """Terminate a helper program (Xvfb, trayer, dunst, a bus), killing it if it lingers."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
