"""Opening the user's browser for a login."""

from __future__ import annotations

import os
import sys
import webbrowser

__all__ = ["open_system_browser"]


def open_system_browser(url: str) -> bool:
    """`webbrowser.open` (so `BROWSER` is honoured), except on a display-less Unix without
    `BROWSER`: there it would start a text browser (lynx, w3m) inside this terminal, on top of
    the URL we print."""
    headless_unix = (
        sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd"))
        and not os.environ.get("DISPLAY")
        and not os.environ.get("WAYLAND_DISPLAY")
    )
    if headless_unix and not os.environ.get("BROWSER"):
        return False
    return webbrowser.open(url, new=1)
