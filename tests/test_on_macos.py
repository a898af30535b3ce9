"""The real thing on macOS (CI's macos-latest job; deselected elsewhere by the marker)."""

from __future__ import annotations

import os
import plistlib
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.macos


def test_the_launch_agent_round_trips_and_lints(tmp_path: Path) -> None:
    from claude_pulse.platform.autostart import autostart_for_platform

    autostart = autostart_for_platform("darwin", user_home=tmp_path, environ={})
    assert not autostart.is_enabled()
    autostart.enable()
    assert autostart.is_enabled()
    plist = next((tmp_path / "Library" / "LaunchAgents").glob("*.plist"))
    subprocess.run(["/usr/bin/plutil", "-lint", str(plist)], check=True, timeout=30)
    agent = plistlib.loads(plist.read_bytes())
    assert agent["ProgramArguments"] and Path(agent["ProgramArguments"][0]).exists()
    assert plist.stat().st_mode & 0o022 == 0  # launchd refuses group/other-writable agents
    autostart.disable()
    assert not autostart.is_enabled() and not plist.exists()


def test_replace_over_a_file_another_handle_holds(tmp_path: Path) -> None:
    from claude_pulse.atomic import read_json, write_json_atomic

    target = tmp_path / "snapshot.json"
    write_json_atomic(target, {"n": 1})
    with open(target, "rb") as reader:  # POSIX: the reader keeps the old file
        write_json_atomic(target, {"n": 2})
        assert reader.read() != b""
    assert read_json(target) == {"n": 2}
    assert os.stat(target).st_mode & 0o777 == 0o600
