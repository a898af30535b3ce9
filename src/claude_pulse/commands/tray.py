"""`claude-pulse` (no command): the tray app; `claude-pulse --demo`: the same app, simulated.

The demo is the complete app — real OAuth flow, real poller, real tray and window — pointed at
the in-package fake Anthropic server on 127.0.0.1, which serves a `SimulatedAccount` whose usage
moves on an accelerated clock (`fake.simulation`). It runs in a temporary home folder that is
deleted on exit, so it never reads or touches the user's real credentials, config, history or
start-at-login entry, and it needs no network. The browser leg of the login is followed
in-process (`follow_login_redirects`), so no browser window opens.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import urllib.request
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from claude_pulse.wiring import Services

__all__ = ["DEMO_POLL_FLOOR_S", "MemoryAutostart", "follow_login_redirects", "run", "run_demo"]

log = logging.getLogger(__name__)

# The demo server is on loopback, so it may be polled far more often than Anthropic's endpoint
# (config.MIN_POLL_INTERVAL_S does not apply); the floor keeps the CPU calm.
DEMO_POLL_FLOOR_S = 3.0
# At most this many polls per simulated hour, so the shared hourly ceiling (services.gate) is
# never the thing the demo shows.
_DEMO_POLLS_PER_SIM_HOUR = 60


def run(args: argparse.Namespace, services: Services) -> int:
    from claude_pulse.app import DesktopApp

    return DesktopApp(services).run()


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


def run_demo(*, verbose: bool = False, speed: float | None = None) -> int:
    """Run the app against a simulated account until the user quits; returns the exit code."""
    from claude_pulse import config as config_mod
    from claude_pulse.app import DesktopApp
    from claude_pulse.core.polling import PollPolicy
    from claude_pulse.fake.anthropic import FakeAnthropic
    from claude_pulse.fake.simulation import SimulatedAccount, SimulatedClock, speed_from_env
    from claude_pulse.home import Home
    from claude_pulse.platform.logs import configure
    from claude_pulse.wiring import Services

    speed = speed or speed_from_env()
    with tempfile.TemporaryDirectory(prefix="claude-pulse-demo-") as folder:
        home = Home(Path(folder))
        home.ensure()
        configure(home.logs, verbose=verbose)
        clock = SimulatedClock(datetime.now(timezone.utc), speed)
        account = SimulatedAccount(clock.start, clock=clock)
        fake = FakeAnthropic(usage=account, email="demo@claude-pulse.invalid").start()
        try:
            settings = {**fake.config_overrides(), "callback_port": 0}
            home.config.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
            loaded = config_mod.load(home.config)
            services = Services(home, loaded.config, loaded.problems, loaded.file_is_valid,
                                clock=clock)
            # Poll intervals are measured on the simulated clock but waited in real time.
            interval = max(DEMO_POLL_FLOOR_S, 3600.0 / (_DEMO_POLLS_PER_SIM_HOUR * speed))
            print(f"claude-pulse: demo mode: a simulated account at {speed:g}x speed; "
                  "nothing is read from or saved to your real home folder", file=sys.stderr)
            app = DesktopApp(
                services,
                open_browser=follow_login_redirects,
                autostart=MemoryAutostart(),
                poll_policy=PollPolicy(base_interval_s=interval),
                show_window=True,
            )
            return app.run()
        finally:
            fake.stop()
