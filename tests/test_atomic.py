"""Atomic writes: private from the first byte, whole or not at all."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from claude_pulse.atomic import (
    finish_interrupted_write,
    leftover_temp_files,
    read_json,
    write_atomic,
    write_json_atomic,
)
from claude_pulse.home import Home


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
def test_new_file_is_0600_even_with_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        write_atomic(tmp_path / "secret.json", b"{}")
    finally:
        os.umask(old)
    assert (tmp_path / "secret.json").stat().st_mode & 0o777 == 0o600


def test_replaces_whole_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "f.json"
    write_json_atomic(target, {"a": 1})
    write_json_atomic(target, {"b": 2})
    assert read_json(target) == {"b": 2}
    assert os.listdir(tmp_path) == ["f.json"]


def test_failed_write_keeps_old_file(tmp_path: Path) -> None:
    target = tmp_path / "f.json"
    write_json_atomic(target, {"a": 1})
    with pytest.raises(TypeError):
        write_json_atomic(target, {"bad": object()})
    assert read_json(target) == {"a": 1}
    assert os.listdir(tmp_path) == ["f.json"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
def test_home_folder_is_0700(tmp_path: Path) -> None:
    home = Home(tmp_path / "h")
    home.ensure()
    assert home.root.stat().st_mode & 0o777 == 0o700


def test_home_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CLAUDE_PULSE_HOME", str(tmp_path / "x"))
    assert Home.from_env().root == tmp_path / "x"
    monkeypatch.delenv("CLAUDE_PULSE_HOME")
    assert Home.from_env().root == Path.home() / ".claude-pulse"


def _leave_temp(target: Path, data: bytes, age_s: float) -> Path:
    """What a writer killed between fsync and rename leaves behind."""
    tmp = target.with_name(f".{target.name}.dead0000.tmp")
    tmp.write_bytes(data)
    when = time.time() - age_s
    os.utime(tmp, (when, when))
    return tmp


def _is_json(data: bytes) -> bool:
    try:
        json.loads(data)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize(
    ("leftover", "age_s", "target_age_s", "expected", "adopted"),
    [
        pytest.param(b'{"v": "new"}', 60, 120, {"v": "new"}, True, id="complete-and-newer"),
        pytest.param(b'{"v": "ne', 60, 120, {"v": "old"}, False, id="torn-is-deleted"),
        pytest.param(b'{"v": "older"}', 180, 120, {"v": "old"}, False, id="older-is-deleted"),
        pytest.param(b'{"v": "live"}', 0, 120, {"v": "old"}, False,
                     id="fresh-may-belong-to-a-live-writer"),
    ],
)
def test_finish_interrupted_write(tmp_path: Path, leftover: bytes, age_s: float,
                                  target_age_s: float, expected: object, adopted: bool) -> None:
    target = tmp_path / "credentials.json"
    write_json_atomic(target, {"v": "old"})
    when = time.time() - target_age_s
    os.utime(target, (when, when))
    tmp = _leave_temp(target, leftover, age_s)
    assert finish_interrupted_write(target, _is_json) == (target if adopted else None)
    assert read_json(target) == expected
    assert tmp.exists() is (age_s == 0)


def test_finish_interrupted_write_without_target(tmp_path: Path) -> None:
    target = tmp_path / "credentials.json"
    _leave_temp(target, b'{"v": 1}', 60)
    assert finish_interrupted_write(target, _is_json) == target
    assert read_json(target) == {"v": 1} and leftover_temp_files(target) == []
