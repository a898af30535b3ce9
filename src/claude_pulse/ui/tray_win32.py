"""What pystray's win32 backend lacks: answers for logoff and shutdown, and a sharp icon.

pystray 0.19.5 looks each message up in the icon's `_message_handlers` and answers every other
message with 0, never calling `DefWindowProc` (`_win32._dispatcher`). For `WM_QUERYENDSESSION`
0 means "do not end the session", so Windows would list Claude Pulse as blocking a logoff or
shutdown. The handlers here answer TRUE (everything is saved as it happens, so ending is always
safe), and on `WM_ENDSESSION` with wParam TRUE — the session really ends — ask the app to quit
and wait, bounded, until its shutdown has stopped the poller and reached the tray: Windows may
end the process as soon as this handler returns. With wParam FALSE another program cancelled
the logoff, and we keep running.

The icon: stock pystray saves its one image as an ICO (Pillow resamples it to every size) and
loads it at the large-icon size, which the shell then shrinks into the notification area.
`win32_icon_class` instead writes an ICO drawn by our renderer at each of `ICO_SIZES` and loads
the entry of the small-icon size (SM_CXSMICON: 16 px at 100 %, 24 at 150 %, 32 at 200 %).

Pure functions over message ids and an injected user32, so they are tested on every OS
(tests/test_win32_desktop.py).
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import threading
from collections.abc import Callable
from typing import Any, Protocol

from PIL import Image

__all__ = [
    "ENDSESSION_WAIT_S",
    "ICO_SIZES",
    "WM_ENDSESSION",
    "WM_QUERYENDSESSION",
    "ico_bytes",
    "session_end_handlers",
    "small_icon_size",
    "win32_icon_class",
]

WM_QUERYENDSESSION = 0x0011
WM_ENDSESSION = 0x0016
# Windows gives a process about 5 s after WM_ENDSESSION before it offers to end it.
ENDSESSION_WAIT_S = 4.0

Handler = Callable[[int, int], int]


def session_end_handlers(on_session_end: Callable[[], None], stopping: threading.Event, *,
                         wait_s: float = ENDSESSION_WAIT_S) -> dict[int, Handler]:
    """Handlers for pystray's `_message_handlers`; they run on the tray's own thread.

    `on_session_end` must only hand the quit over to the main thread; `stopping` is set by
    the tray when the app's shutdown stops it.
    """

    def query_end_session(_wparam: int, _lparam: int) -> int:
        return 1  # TRUE: we can end at any moment

    def end_session(wparam: int, _lparam: int) -> int:
        if wparam:
            on_session_end()
            stopping.wait(wait_s)
        return 0

    return {WM_QUERYENDSESSION: query_end_session, WM_ENDSESSION: end_session}


# --- the icon image ---------------------------------------------------------------------------

# Every size Windows asks for between 100 % and 300 % scaling: the small icon (SM_CXSMICON,
# what the notification area shows) is 16 px at 100 %, 20 at 125 %, 24 at 150 %, 32 at 200 %,
# 40 at 250 %, 48 at 300 %.
ICO_SIZES = (16, 20, 24, 32, 40, 48)
SM_CXSMICON = 49
IMAGE_ICON = 1
LR_LOADFROMFILE = 0x10

Renderer = Callable[[int], Image.Image]


def ico_bytes(renderer: Renderer) -> bytes:
    """An .ico holding `renderer`'s own drawing at every size of `ICO_SIZES`.

    Stock pystray saves its one image as ICO, which Pillow resamples to each size, and loads the
    32-px entry (LR_DEFAULTSIZE) for the shell to shrink to 16 px: blurred digits. Drawn per size,
    the 16-px number is the one tuned for 16 px.
    """
    images = [renderer(size).convert("RGBA") for size in ICO_SIZES]
    out = io.BytesIO()
    # Pillow uses an appended image as it is for its size, and the first one for the rest.
    images[-1].save(out, format="ICO", sizes=[(s, s) for s in ICO_SIZES],
                    append_images=images[:-1])
    return out.getvalue()


class IconApi(Protocol):
    """The two user32 calls the icon needs."""

    def small_icon_size(self) -> int: ...  # GetSystemMetrics(SM_CXSMICON)

    def load_icon(self, path: str, size: int) -> Any: ...  # LoadImage(..., LR_LOADFROMFILE)


def small_icon_size(api: IconApi) -> int:
    """The notification area's icon size now, 16 when Windows does not say."""
    size = api.small_icon_size()
    return size if size > 0 else ICO_SIZES[0]


def win32_icon_class(base: type[Any], api: IconApi | None = None) -> type[Any]:
    """pystray's win32 Icon (`base`), loading our multi-size ICO at the small-icon size."""

    class PulseWin32Icon(base):  # type: ignore[misc, valid-type]
        _icon_handle: Any  # pystray's cached HICON; falsy until loaded
        _pulse_api: IconApi | None

        def __init__(self, *args: Any, renderer: Renderer, **kwargs: Any) -> None:
            self._pulse_renderer = renderer
            self._pulse_api = api  # user32 itself on first use (Windows only)
            super().__init__(*args, **kwargs)

        def _assert_icon_handle(self) -> None:
            # Runs on the tray thread whenever pystray needs a handle (after every new image).
            if self._icon_handle:
                return
            if self._pulse_api is None:
                self._pulse_api = _User32()
            size = small_icon_size(self._pulse_api)
            fd, name = tempfile.mkstemp(suffix=".ico", prefix="claude-pulse-")
            try:
                with os.fdopen(fd, "wb") as file:
                    file.write(ico_bytes(self._pulse_renderer))
                self._icon_handle = self._pulse_api.load_icon(name, size)
            finally:
                with contextlib.suppress(OSError):
                    os.unlink(name)

    PulseWin32Icon.__name__ = "PulseWin32Icon"
    return PulseWin32Icon


class _User32:
    """The real calls (Windows only). pystray's own LoadImage raises on failure."""

    def __init__(self) -> None:
        import ctypes

        from pystray._util import win32

        self._load = win32.LoadImage
        self._metrics = ctypes.windll.user32.GetSystemMetrics  # type: ignore[attr-defined]

    def small_icon_size(self) -> int:
        return int(self._metrics(SM_CXSMICON))

    def load_icon(self, path: str, size: int) -> Any:
        # An exact size, not LR_DEFAULTSIZE (that means SM_CXICON, the large icon): LoadImage
        # then takes the entry drawn for that size.
        return self._load(None, path, IMAGE_ICON, size, size, LR_LOADFROMFILE)
