"""Atomic writes: private from the first byte, whole or not at all."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from claude_pulse.atomic import read_json, write_atomic, write_json_atomic
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
