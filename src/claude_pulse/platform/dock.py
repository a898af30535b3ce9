"""macOS: no Dock icon. Claude Pulse lives in the menu bar, like other status-item apps.

An app with the "accessory" activation policy (NSApplicationActivationPolicyAccessory) may show
windows but has no Dock icon and no menu bar of its own. A Python app has no Info.plist to say
``LSUIElement``, and Tk makes every app a regular one when it starts, so the policy is set
after ``tk.Tk()``. rubicon-objc, which desktop-notifier installs on macOS, does the call.
"""

from __future__ import annotations

import logging
import sys

__all__ = ["ACCESSORY", "hide_dock_icon"]

logger = logging.getLogger(__name__)

ACCESSORY = 1  # NSApplicationActivationPolicyAccessory


def hide_dock_icon() -> bool:
    """Make this process an accessory app (macOS only); True when macOS accepted it."""
    if sys.platform != "darwin":
        return False
    try:
        from rubicon.objc import ObjCClass

        app = ObjCClass("NSApplication").sharedApplication
        accepted = bool(app.setActivationPolicy_(ACCESSORY))
    except Exception as exc:  # no rubicon-objc, or the Objective-C call failed: keep the icon
        logger.warning("cannot hide the Dock icon: %s", exc)
        return False
    if not accepted:
        logger.warning("macOS refused the accessory activation policy; the Dock icon stays")
    return accepted
