"""`claude-pulse logout`: forget the saved credentials (the login stays valid at Anthropic until
its tokens expire; there is no revocation endpoint for this client)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from claude_pulse.wiring import Services

__all__ = ["run"]


def run(args: argparse.Namespace, services: Services) -> int:
    if services.credentials.clear():
        print(f"Logged out: {services.credentials.path} deleted.")
    else:
        print("Already logged out (no saved credentials).")
    return 0
