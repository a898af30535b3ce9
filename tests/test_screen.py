"""`platform.screen`: the work area from X11's `_NET_WORKAREA` and from Windows' user32.

X11 is read from a real Xvfb whose root window carries the property (as a window manager with
a panel sets it). Windows is simulated: a stand-in for `ctypes.windll.user32` answers the same
calls with the same structures (MONITORINFO filled through the pointer it is given).
"""

from __future__ import annotations

import ctypes
from ctypes import wintypes
from typing import Any

import pytest

from claude_pulse.platform.screen import on_monitor, win32_work_area, work_area, x11_work_area


@pytest.mark.gui
def test_x11_reads_the_work_area_of_the_current_desktop(display: str) -> None:
    from Xlib import X, Xatom
    from Xlib import display as xdisplay

    d = xdisplay.Display(display)
    root = d.screen().root
    atom, current = d.intern_atom("_NET_WORKAREA"), d.intern_atom("_NET_CURRENT_DESKTOP")
    try:
        assert x11_work_area(display) is None  # no window manager: nothing said
        root.change_property(atom, Xatom.CARDINAL, 32, [0, 32, 1024, 736, 0, 0, 1024, 700],
                             X.PropModeReplace)
        d.sync()
        assert x11_work_area(display) == (0, 32, 1024, 768)
        assert work_area(display, None, "linux") == (0, 32, 1024, 768)
        # Xvfb's one RandR monitor is the whole screen: the cut changes nothing.
        assert work_area(display, (1000, 16), "linux") == (0, 32, 1024, 768)
        root.change_property(current, Xatom.CARDINAL, 32, [1], X.PropModeReplace)
        d.sync()
        assert x11_work_area(display) == (0, 0, 1024, 700)
        root.change_property(atom, Xatom.CARDINAL, 32, [0, 0, 1024, 20], X.PropModeReplace)
        d.sync()
        assert x11_work_area(display) is None  # a nonsense hint is ignored
    finally:
        root.delete_property(atom)
        root.delete_property(current)
        d.sync()
        d.close()


class FakeUser32:
    """MonitorFromPoint / GetMonitorInfoW / SystemParametersInfoW as Windows answers them."""

    def __init__(self, work: tuple[int, int, int, int] | None,
                 primary: tuple[int, int, int, int] | None) -> None:
        self.points: list[tuple[int, int]] = []

        def monitor_from_point(point: wintypes.POINT, flags: int) -> int:
            assert flags == 2  # MONITOR_DEFAULTTONEAREST
            self.points.append((point.x, point.y))
            return 0x1234 if work is not None else 0

        def get_monitor_info(monitor: int, info: Any) -> bool:
            struct = info._obj
            assert monitor == 0x1234 and struct.cbSize == ctypes.sizeof(struct)
            assert work is not None
            struct.rcWork = wintypes.RECT(*work)
            return True

        def system_parameters_info(action: int, _ui: int, rect: Any, _win_ini: int) -> bool:
            assert action == 0x0030  # SPI_GETWORKAREA
            if primary is None:
                return False
            r = rect._obj
            r.left, r.top, r.right, r.bottom = primary
            return True

        self.MonitorFromPoint = monitor_from_point
        self.GetMonitorInfoW = get_monitor_info
        self.SystemParametersInfoW = system_parameters_info


def test_windows_uses_the_work_area_of_the_monitor_under_the_tray_icon() -> None:
    user32 = FakeUser32(work=(1920, 0, 3840, 1032), primary=(0, 0, 1920, 1040))
    assert win32_work_area(user32, (3800, 1050)) == (1920, 0, 3840, 1032)
    assert user32.points == [(3800, 1050)]


def test_windows_falls_back_to_the_primary_work_area() -> None:
    assert win32_work_area(FakeUser32(None, (0, 0, 1366, 728)), (10, 10)) == (0, 0, 1366, 728)
    assert win32_work_area(FakeUser32(None, (0, 0, 1366, 728)), None) == (0, 0, 1366, 728)
    assert win32_work_area(FakeUser32(None, None), (10, 10)) is None


def test_windows_without_user32_functions_is_none() -> None:
    assert win32_work_area(object(), (10, 10)) is None


LEFT, RIGHT = (0, 0, 1920, 1080), (1920, 0, 3286, 768)  # a desktop monitor and a laptop


@pytest.mark.parametrize(("point", "expected"), [
    pytest.param((3200, 10), (1920, 32, 3286, 768), id="icon-on-the-short-laptop-screen"),
    pytest.param((100, 1070), (0, 32, 1920, 1080), id="icon-on-the-tall-monitor"),
    pytest.param((5000, 10), (1920, 32, 3286, 768), id="off-every-monitor-nearest"),
])
def test_a_two_monitor_work_area_is_cut_to_the_icons_monitor(
    point: tuple[int, int], expected: tuple[int, int, int, int]
) -> None:
    union = (0, 32, 3286, 1080)  # what _NET_WORKAREA says: both monitors, minus a top panel
    assert on_monitor(union, [LEFT, RIGHT], point) == expected
    assert on_monitor(union, [], point) == union  # no RandR: as before
