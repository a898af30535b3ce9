"""`claude-pulse logout`: forget the saved credentials (the login stays valid at Anthropic until
its tokens expire; there is no revocation endpoint for this client).

Every file that may hold a token goes: `credentials.json`, the copies set aside as corrupt (a
torn file can still hold a working refresh token) and the temp and pending files of a save that
never finished. The command names each one it removed.

It runs without `Home.ensure()` (CREATES_HOME): deleting our own token files is safe even in a
home the other commands refuse to trust (writable by others), and that is where a user most
wants them gone. Nothing in the folder is read, and a link is removed, never followed.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from claude_pulse.wiring import Services

__all__ = ["CREATES_HOME", "run"]

CREATES_HOME = False


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
