"""`claude-pulse logout`: forget the saved credentials (the login stays valid at Anthropic until
its tokens expire; there is no revocation endpoint for this client).

Every file that may hold a token goes: `credentials.json`, the copies set aside as corrupt (a
torn file can still hold a working refresh token) and the temp and pending files of a save that
never finished. The command names each one it removed.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from claude_pulse.wiring import Services

__all__ = ["run"]


def run(args: argparse.Namespace, services: Services) -> int:
    store = services.credentials
    try:
        removed = store.clear()
    except OSError as exc:
        where = exc.filename or store.path
        print(f"claude-pulse: could not remove {where} ({exc.strerror or exc}); it may hold "
              "your login: delete it yourself.", file=sys.stderr)
        return 1
    if removed:
        names = ", ".join(path.name for path in removed)
        print(f"Logged out: removed {names} from {store.path.parent}.")
    else:
        print("Already logged out (no saved credentials).")
    return 0
