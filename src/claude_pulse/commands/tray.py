"""`claude-pulse` (no command): the tray app; `claude-pulse --demo`: the same app, simulated.

The demo is the complete app — real OAuth flow, real poller, real tray and window — pointed at
the in-package fake Anthropic server on 127.0.0.1, which serves a `SimulatedAccount` whose usage
moves on an accelerated clock (`fake.simulation`). It runs in a temporary home folder that is
deleted on exit, so it never reads or touches the user's real credentials, config, history or
start-at-login entry, and it needs no network (`wiring.demo_services` builds it).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from claude_pulse.wiring import Services

__all__ = ["run", "run_demo"]


def run(args: argparse.Namespace, services: Services) -> int:
    from claude_pulse.app import DesktopApp

    return DesktopApp(services).run()


def run_demo(*, verbose: bool = False, speed: float | None = None) -> int:
    """Run the app against a simulated account until the user quits; returns the exit code."""
    from claude_pulse.app import DesktopApp
    from claude_pulse.fake.simulation import speed_from_env
    from claude_pulse.platform.logs import configure
    from claude_pulse.wiring import demo_services

    speed = speed or speed_from_env()
    with tempfile.TemporaryDirectory(prefix="claude-pulse-demo-") as folder:
        configure(Path(folder) / "logs", verbose=verbose)
        try:
            with demo_services(Path(folder), speed=speed) as services:
                print(f"claude-pulse: demo mode: a simulated account at {speed:g}x speed; "
                      "nothing is read from or saved to your real home folder", file=sys.stderr)
                return DesktopApp(services, show_window=True).run()
        finally:
            # Windows refuses to delete open files: the log files close before the temporary
            # home goes (logging goes on to stderr only); demo_services closed the history.
            configure(None, verbose=verbose)
