"""What pystray's win32 window procedure lacks: answers for logoff and shutdown.

pystray 0.19.5 looks each message up in the icon's `_message_handlers` and answers every other
message with 0, never calling `DefWindowProc` (`_win32._dispatcher`). For `WM_QUERYENDSESSION`
0 means "do not end the session", so Windows would list Claude Pulse as blocking a logoff or
shutdown. The handlers here answer TRUE (everything is saved as it happens, so ending is always
safe), and on `WM_ENDSESSION` with wParam TRUE — the session really ends — ask the app to quit
and wait, bounded, until its shutdown has stopped the poller and reached the tray: Windows may
end the process as soon as this handler returns. With wParam FALSE another program cancelled
the logoff, and we keep running.

Pure functions over message ids, so they are tested on every OS (tests/test_win32_desktop.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["ENDSESSION_WAIT_S", "WM_ENDSESSION", "WM_QUERYENDSESSION", "session_end_handlers"]

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

