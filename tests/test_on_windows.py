"""The real thing on Windows (CI's windows-latest job; deselected elsewhere by the marker).

Each test here exercises what the Linux suite can only simulate: the registry Run value, the
ACL icacls leaves on a folder, `os.replace` refused over a file another handle holds open, a toast,
pystray's win32 icon and its answer to WM_QUERYENDSESSION, and a pipe in the ANSI code page.
Modules that exist only on Windows are imported inside the tests, so collecting this file on
another OS costs nothing.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from claude_pulse.fake.anthropic import FakeAnthropic

pytestmark = pytest.mark.windows

SYSTEM32 = Path(os.environ.get("SYSTEMROOT", r"C:\Windows")) / "System32"


def test_the_run_value_round_trips() -> None:
    import winreg

    from claude_pulse.platform.autostart import autostart_for_platform
    from claude_pulse.platform.autostart._windows import RUN_KEY, VALUE_NAME

    autostart: Any = autostart_for_platform()
    autostart.disable()
    assert not autostart.is_enabled()
    try:
        autostart.enable()
        assert autostart.is_enabled()
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
            value, kind = winreg.QueryValueEx(key, VALUE_NAME)
        assert kind == winreg.REG_SZ and value == autostart.command
        assert value.startswith('"')  # quoted: a path with spaces still starts
    finally:
        autostart.disable()
    assert not autostart.is_enabled()


def test_the_acl_leaves_only_the_user(tmp_path: Path) -> None:
    from claude_pulse.platform.acl import restrict_to_user

    folder = tmp_path / "private"
    folder.mkdir()
    assert restrict_to_user(folder)
    (folder / "secret.json").write_text("{}", encoding="utf-8")
    for path in (folder, folder / "secret.json"):
        shown = subprocess.run([str(SYSTEM32 / "icacls.exe"), str(path)], capture_output=True,
                               text=True, errors="replace", timeout=30, check=True).stdout
        entries = [line.strip() for line in shown.splitlines()
                   if ":(" in line and "Successfully" not in line]
        assert len(entries) == 1, shown  # the user alone: no Users, Administrators, SYSTEM
    folder_entry = subprocess.run([str(SYSTEM32 / "icacls.exe"), str(folder)],
                                  capture_output=True, text=True, errors="replace", timeout=30,
                                  check=True).stdout
    assert "(OI)(CI)(F)" in folder_entry


def test_the_sid_and_the_dacl_read_without_a_process(tmp_path: Path) -> None:
    """ctypes: the token's SID matches whoami's, and the folder's DACL reads as private only
    once restrict_to_user has run (what lets Home.ensure skip icacls on later commands)."""
    from claude_pulse.platform.acl import (
        current_user_sid,
        has_private_acl,
        owner_sid,
        restrict_to_user,
        run_hidden,
        whoami_sid,
    )

    sid = current_user_sid()
    assert sid is not None and sid.startswith("S-1-5-")
    assert whoami_sid(run_hidden) == sid
    folder = tmp_path / "fresh"
    folder.mkdir()
    assert not has_private_acl(folder)
    assert restrict_to_user(folder)
    assert has_private_acl(folder)
    assert owner_sid(folder) in (sid, "S-1-5-32-544")  # ours, or Administrators if elevated


def test_replace_over_a_file_another_handle_holds_is_refused(tmp_path: Path) -> None:
    """What the audit says and io's retry handles (tests/test_sharing_violations.py has the
    retry's own Windows tests): Python's open() shares no delete access."""
    target = tmp_path / "snapshot.json"
    target.write_text("{}", encoding="utf-8")
    other = tmp_path / "other.tmp"
    other.write_text('{"n": 2}', encoding="utf-8")
    with open(target, "rb"), pytest.raises(PermissionError) as refused:
        os.replace(other, target)
    assert refused.value.winerror in (5, 32)  # type: ignore[attr-defined]


def test_a_toast_is_sent_without_error(caplog: pytest.LogCaptureFixture) -> None:
    import winreg

    from claude_pulse.core.alerts import reauth_alert
    from claude_pulse.ui.notify import APP_NAME, DesktopNotifier, windows_app_id

    notifier = DesktopNotifier()
    with caplog.at_level(logging.WARNING, logger="claude_pulse.ui.notify"):
        notifier.notify(reauth_alert())
        notifier.close(timeout=15)
    assert not [r for r in caplog.records if r.name == "claude_pulse.ui.notify"], caplog.text
    key_path = rf"Software\Classes\AppUserModelId\{windows_app_id(APP_NAME)}"
    with winreg.OpenKey(winreg.HKEY_CURRENT_USER, key_path) as key:
        assert winreg.QueryValueEx(key, "DisplayName")[0] == "Claude Pulse"


def test_the_pystray_icon_starts_answers_logoff_and_stops() -> None:
    from ctypes import wintypes

    from claude_pulse.ui.tray import MenuEntry, Tray

    posted: list[object] = []
    tray = Tray(post=posted.append, entries=[MenuEntry("Quit", lambda: None)],
                on_session_end=lambda: None)
    tray.start(lambda size: Image.new("RGBA", (size, size), (217, 119, 87, 255)), "Claude Pulse")
    try:
        assert tray.backend == "win32" and tray.running
        icon: Any = tray._icon
        deadline = time.monotonic() + 10
        while getattr(icon, "_hwnd", None) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        send = ctypes.windll.user32.SendMessageW
        send.argtypes = (wintypes.HWND, wintypes.UINT, wintypes.WPARAM, wintypes.LPARAM)
        send.restype = ctypes.c_ssize_t
        assert send(icon._hwnd, 0x0011, 0, 0) == 1  # WM_QUERYENDSESSION: TRUE, may end
    finally:
        tray.stop()
    assert not tray.running


def test_the_tray_icon_loads_our_ico_at_the_small_icon_size(tmp_path: Path) -> None:
    """Issue 13 item 4: the real LoadImage picks the entry drawn for SM_CXSMICON."""
    from ctypes import wintypes

    from claude_pulse.ui.tray_win32 import ICO_SIZES, _User32, ico_bytes

    class ICONINFO(ctypes.Structure):
        _fields_ = [("fIcon", wintypes.BOOL), ("xHotspot", wintypes.DWORD),
                    ("yHotspot", wintypes.DWORD), ("hbmMask", wintypes.HBITMAP),
                    ("hbmColor", wintypes.HBITMAP)]

    class BITMAP(ctypes.Structure):
        _fields_ = [("bmType", wintypes.LONG), ("bmWidth", wintypes.LONG),
                    ("bmHeight", wintypes.LONG), ("bmWidthBytes", wintypes.LONG),
                    ("bmPlanes", wintypes.WORD), ("bmBitsPixel", wintypes.WORD),
                    ("bmBits", wintypes.LPVOID)]

    user32: Any = ctypes.windll.user32  # type: ignore[attr-defined]
    gdi32: Any = ctypes.windll.gdi32  # type: ignore[attr-defined]
    user32.GetIconInfo.argtypes = (wintypes.HICON, ctypes.POINTER(ICONINFO))
    user32.DestroyIcon.argtypes = (wintypes.HICON,)
    gdi32.GetObjectW.argtypes = (wintypes.HANDLE, ctypes.c_int, wintypes.LPVOID)
    gdi32.DeleteObject.argtypes = (wintypes.HANDLE,)

    api = _User32()
    small = api.small_icon_size()
    assert small in ICO_SIZES
    path = tmp_path / "icon.ico"
    path.write_bytes(ico_bytes(lambda size: Image.new("RGBA", (size, size),
                                                      (217, 119, 87, 255))))
    handle = api.load_icon(str(path), small)
    info = ICONINFO()
    try:
        assert user32.GetIconInfo(handle, ctypes.byref(info))
        bitmap = BITMAP()
        assert gdi32.GetObjectW(info.hbmColor, ctypes.sizeof(BITMAP), ctypes.byref(bitmap))
        assert (bitmap.bmWidth, bitmap.bmHeight) == (small, small)
    finally:
        for bitmap_handle in (info.hbmMask, info.hbmColor):
            if bitmap_handle:
                gdi32.DeleteObject(bitmap_handle)
        user32.DestroyIcon(handle)


def test_statusline_on_a_real_windows_pipe_is_utf8(fake_server: FakeAnthropic,
                                                   fake_config: Path, pulse_home: Path) -> None:
    from test_output_encoding import log_in_over_budget

    log_in_over_budget(fake_server, pulse_home)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONIOENCODING", "PYTHONUTF8")}
    out = subprocess.run([sys.executable, "-m", "claude_pulse", "statusline"],
                         capture_output=True, stdin=subprocess.DEVNULL, timeout=60, env=env,
                         check=False)
    assert out.returncode == 0, out.stderr
    line = out.stdout.decode("utf-8")
    assert "·" in line and line.rstrip().endswith("7d 91% ▲")


def test_pythonw_has_no_console_and_logs_a_failed_start(tmp_path: Path, pulse_home: Path) -> None:
    pythonw = Path(sys.executable).with_name("pythonw.exe")
    result = tmp_path / "result.json"
    code = ("import json, sys\n"
            "from claude_pulse.platform.console import has_console\n"
            "from claude_pulse.platform.instance import allow_foreground\n"
            f"json.dump({{'streams': [sys.stdout is None, sys.stderr is None], "
            f"'console': has_console(), 'allow': allow_foreground(12345)}}, "
            f"open({str(result)!r}, 'w'))\n")
    subprocess.run([str(pythonw), "-c", code], timeout=60, check=True)
    seen = json.loads(result.read_text(encoding="utf-8"))
    assert seen["streams"] == [True, True]  # what the no-console start-up is built for
    assert seen["console"] is False
    assert isinstance(seen["allow"], bool)  # the typed call works (it may be refused)


def test_log_lines_end_in_crlf_not_cr_cr_lf(tmp_path: Path) -> None:
    """The log's descriptor is opened O_BINARY: only the text layer turns \\n into \\r\\n."""
    from claude_pulse.platform.logs import configure

    configure(tmp_path, console=False)
    try:
        logging.getLogger("claude_pulse.test").warning("one")
        logging.getLogger("claude_pulse.test").warning("two")
    finally:
        configure(None, console=False)  # closes our file handler
    data = (tmp_path / "claude-pulse.log").read_bytes()
    assert b"\r\r\n" not in data
    assert data.endswith(b"two\r\n") and data.count(b"\r\n") == 2
