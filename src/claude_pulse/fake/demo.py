"""The demo's stand-ins for the user's desktop: a browser that follows the login redirect
in-process, and a "Start at login" that changes nothing on the system."""

from __future__ import annotations

import logging
import urllib.request

__all__ = ["MemoryAutostart", "follow_login_redirects"]

log = logging.getLogger(__name__)


class MemoryAutostart:
    """The demo's "Start at login": a check mark that changes nothing on the system."""

    def __init__(self) -> None:
        self._enabled = False

    def is_enabled(self) -> bool:
        return self._enabled

    def enable(self) -> None:
        self._enabled = True

    def disable(self) -> None:
        self._enabled = False


def follow_login_redirects(url: str) -> bool:
    """The demo's "browser": GET the authorize URL and follow its redirect to our receiver.

    Proxies are bypassed: both ends are on 127.0.0.1.
    """
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=15) as response:
            response.read()
    except OSError as exc:
        log.warning("demo login: following %s failed: %s", url.split("?", 1)[0], exc)
        return False
    return True
