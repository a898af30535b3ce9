"""What the desktop gives a window: the work area (the screen minus panels and the taskbar), the
desktop's font DPI on X11, and per-monitor DPI awareness on Windows.

* X11: the window manager's `_NET_WORKAREA` on the root window (EWMH), for the current desktop.
  With no window manager (or one that does not set it) the answer is None.
* Windows: the work area of the monitor under the given point (`MonitorFromPoint` +
  `GetMonitorInfoW`), else the primary one (`SystemParametersInfoW(SPI_GETWORKAREA)`). In a
  per-monitor DPI-aware process (`enable_dpi_awareness`) these are physical pixels, the same
  ones Tk uses.
* macOS: Tk gives no work area; None (the window keeps clear of the menu bar by a guess).

A box is (left, top, right, bottom), right and bottom exclusive, in root-window pixels. Every
failure is None: the caller falls back to the whole screen with a guessed panel.

Scale: GNOME, KDE and Xfce publish the user's scaling as `Xft.dpi` in the root window's
`RESOURCE_MANAGER` (what `xrdb -query` shows); Tk ignores it and takes the X screen's physical
size, so `x11_xft_dpi` reads it for `ui.theme.display_scale`. On Windows a process that does not
declare DPI awareness is drawn at 96 dpi and stretched (blurry) by the system; declaring it
before Tk starts makes Tk see the real DPI.
"""

from __future__ import annotations

import ctypes
import logging
import sys
from typing import Any

__all__ = [
    "Box",
    "enable_dpi_awareness",
    "on_monitor",
    "win32_work_area",
    "work_area",
    "x11_work_area",
    "x11_xft_dpi",
]

log = logging.getLogger(__name__)

Box = tuple[int, int, int, int]

_MONITOR_DEFAULTTONEAREST = 2
_SPI_GETWORKAREA = 0x0030
_DPI_AWARENESS_CONTEXT_PER_MONITOR_AWARE_V2 = -4
_PROCESS_PER_MONITOR_DPI_AWARE = 2
_E_ACCESSDENIED = -2147024891  # 0x80070005: awareness was already set (manifest, earlier call)


def work_area(screen: str, point: tuple[int, int] | None = None,
              platform: str = sys.platform) -> Box | None:
    """The work area on `screen` (Tk's `winfo_screen()`, e.g. ":0.0") near `point`; None when
    the desktop does not say."""
    if platform == "win32":
        if sys.platform != "win32":
            return None
        return win32_work_area(ctypes.windll.user32, point)
    if platform.startswith("linux") or "bsd" in platform:
        return x11_work_area(screen, point)
    return None


def x11_work_area(screen: str, point: tuple[int, int] | None = None) -> Box | None:
    """`_NET_WORKAREA` of the current desktop on X display `screen`, cut to the monitor under
    `point` (RandR): with two monitors the EWMH area spans both."""
    try:
        from Xlib import X
        from Xlib import display as xdisplay
        from Xlib.error import DisplayError, XError
    except ImportError:  # python-xlib comes with pystray on Linux; be safe without it
        return None
    try:
        d = xdisplay.Display(screen)
    except (DisplayError, OSError, ValueError) as exc:
        log.debug("work area: cannot open %s: %s", screen, exc)
        return None
    try:
        root = d.screen().root
        prop = root.get_full_property(d.intern_atom("_NET_WORKAREA"), X.AnyPropertyType)
        if prop is None or len(prop.value) < 4:
            return None
        current = root.get_full_property(d.intern_atom("_NET_CURRENT_DESKTOP"),
                                         X.AnyPropertyType)
        desktop = int(current.value[0]) if current is not None and len(current.value) else 0
        values = [int(v) for v in prop.value]
        if len(values) < 4 * (desktop + 1):
            desktop = 0
        x, y, w, h = values[4 * desktop: 4 * desktop + 4]
        area = _sane(x, y, x + w, y + h)
        if area is None or point is None:
            return area
        return on_monitor(area, _monitors(d, root), point)
    except (XError, OSError, ValueError) as exc:
        log.debug("work area: _NET_WORKAREA unreadable: %s", exc)
        return None
    finally:
        d.close()


def _monitors(d: Any, root: Any) -> list[Box]:
    """The RandR 1.5 monitors as boxes; [] when the server has none to say."""
    try:
        if not d.has_extension("RANDR"):
            return []
        reply = root.xrandr_get_monitors()
        return [(m["x"], m["y"], m["x"] + m["width_in_pixels"], m["y"] + m["height_in_pixels"])
                for m in reply.monitors]
    except Exception as exc:  # an old server or python-xlib without RandR 1.5: no cut
        log.debug("work area: no RandR monitors: %s", exc)
        return []


def on_monitor(area: Box, monitors: list[Box], point: tuple[int, int]) -> Box:
    """`area` cut to the monitor holding `point` (else the nearest); `area` when that leaves
    nothing sensible."""
    if not monitors:
        return area
    px, py = point

    def distance(m: Box) -> int:
        dx = max(m[0] - px, 0, px - (m[2] - 1))
        dy = max(m[1] - py, 0, py - (m[3] - 1))
        return dx * dx + dy * dy

    m = min(monitors, key=distance)
    cut = _sane(max(area[0], m[0]), max(area[1], m[1]), min(area[2], m[2]), min(area[3], m[3]))
    return cut if cut is not None else area


def win32_work_area(user32: Any, point: tuple[int, int] | None) -> Box | None:
    """The work area of the monitor nearest `point` (None: the primary monitor's), through
    `user32` (ctypes.windll.user32; tests pass a stand-in)."""
    from ctypes import wintypes

    class MonitorInfo(ctypes.Structure):
        _fields_ = [("cbSize", wintypes.DWORD), ("rcMonitor", wintypes.RECT),
                    ("rcWork", wintypes.RECT), ("dwFlags", wintypes.DWORD)]

    try:
        if point is not None:
            monitor_from_point = user32.MonitorFromPoint
            monitor_from_point.argtypes = (wintypes.POINT, wintypes.DWORD)
            monitor_from_point.restype = wintypes.HMONITOR
            get_info = user32.GetMonitorInfoW
            get_info.argtypes = (wintypes.HMONITOR, ctypes.c_void_p)
            get_info.restype = wintypes.BOOL
            monitor = monitor_from_point(wintypes.POINT(*point), _MONITOR_DEFAULTTONEAREST)
            info = MonitorInfo()
            info.cbSize = ctypes.sizeof(MonitorInfo)
            if monitor and get_info(monitor, ctypes.byref(info)):
                r = info.rcWork
                return _sane(r.left, r.top, r.right, r.bottom)
        rect = wintypes.RECT()
        spi = user32.SystemParametersInfoW
        spi.argtypes = (wintypes.UINT, wintypes.UINT, ctypes.c_void_p, wintypes.UINT)
        spi.restype = wintypes.BOOL
        if spi(_SPI_GETWORKAREA, 0, ctypes.byref(rect), 0):
            return _sane(rect.left, rect.top, rect.right, rect.bottom)
    except (AttributeError, OSError, TypeError, ValueError) as exc:
        log.debug("work area: user32 refused: %s", exc)
    return None


def x11_xft_dpi(screen: str) -> float | None:
    """`Xft.dpi` from the X resource database on `screen`; None when unset or unreadable."""
    try:
        from Xlib import X, Xatom
        from Xlib import display as xdisplay
        from Xlib.error import DisplayError, XError
    except ImportError:
        return None
    try:
        d = xdisplay.Display(screen)
    except (DisplayError, OSError, ValueError):
        return None
    try:
        prop = d.screen().root.get_full_property(Xatom.RESOURCE_MANAGER, X.AnyPropertyType)
    except (XError, OSError):
        prop = None
    finally:
        d.close()
    if prop is None:
        return None
    raw = prop.value
    text = raw.decode("latin-1") if isinstance(raw, bytes) else str(raw)
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip() == "Xft.dpi":
            try:
                dpi = float(value.strip())
            except ValueError:
                return None
            return dpi if 48 <= dpi <= 480 else None
    return None


def enable_dpi_awareness(windll: Any = None) -> str | None:
    """Windows: declare this process per-monitor DPI aware, before any window exists. Returns
    the call that did it (None: not Windows, or every call refused). `windll` is for tests."""
    if windll is None:
        if sys.platform != "win32":
            return None
        windll = ctypes.windll
    attempts: tuple[tuple[str, Any], ...] = (
        ("SetProcessDpiAwarenessContext",
         lambda: windll.user32.SetProcessDpiAwarenessContext(
             ctypes.c_void_p(_DPI_AWARENESS_CONTEXT_PER_MONITOR_AWARE_V2))),  # Windows 10 1703+
        ("SetProcessDpiAwareness",
         lambda: windll.shcore.SetProcessDpiAwareness(_PROCESS_PER_MONITOR_DPI_AWARE) in (
             0, _E_ACCESSDENIED)),  # Windows 8.1+: an HRESULT
        ("SetProcessDPIAware", lambda: windll.user32.SetProcessDPIAware()),  # Vista+
    )
    for name, call in attempts:
        try:
            if call():
                log.debug("DPI awareness: %s", name)
                return name
        except (AttributeError, OSError, TypeError, ValueError) as exc:
            log.debug("DPI awareness: %s unavailable: %s", name, exc)
    return None


def _sane(left: int, top: int, right: int, bottom: int) -> Box | None:
    # A panel-sized or inverted area is a broken hint, not a place to squeeze a window into.
    if right - left < 200 or bottom - top < 200:
        return None
    return left, top, right, bottom
