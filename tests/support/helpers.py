"""Small helpers for the fixture modules: find or require an external program."""

from __future__ import annotations

import os
import shutil

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
