"""`claude-pulse login [--manual] [--no-browser] [--timeout S]`.

Opens the system browser through `webbrowser` (so `BROWSER` is honoured) and always prints the URL
too, for when no browser starts. `--manual` is for machines whose browser cannot reach this one's
loopback port (SSH, remote desktops): Anthropic's page then shows `code#state` to paste here.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import webbrowser
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from claude_pulse.wiring import Services

__all__ = ["open_system_browser", "run"]

log = logging.getLogger(__name__)


def open_system_browser(url: str) -> bool:
    """`webbrowser.open`, except on a display-less Unix without `BROWSER`: there it would start a
    text browser (lynx, w3m) inside this terminal, on top of the URL we print."""
    headless_unix = (
        sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd"))
        and not os.environ.get("DISPLAY")
        and not os.environ.get("WAYLAND_DISPLAY")
    )
    if headless_unix and not os.environ.get("BROWSER"):
        return False
    return webbrowser.open(url, new=1)


def _no_browser(url: str) -> bool:
    return False


def run(args: argparse.Namespace, services: Services) -> int:
    from claude_pulse.services.login import LoginSession

    for problem in services.config_problems:
        print(f"claude-pulse: {problem}", file=sys.stderr)
    manual: bool = args.manual

    def on_url(url: str) -> None:
        if manual:
            print("Open this URL in a browser (on any computer) and log in:", flush=True)
        elif args.no_browser:
            print("Open this URL in a browser on this computer to log in:", flush=True)
        else:
            print("Opening your browser to log in. If it does not open, visit:", flush=True)
        print(f"\n  {url}\n", flush=True)
        if not manual:
            print(f"Waiting up to {args.timeout:.0f} s for the browser...", flush=True)

    def read_code(prompt: str) -> str:
        return input(prompt)

    tokens = LoginSession(
        services.config,
        services.credentials,
        services.transport,
        open_browser=_no_browser if args.no_browser else open_system_browser,
        timeout=args.timeout,
        manual=manual,
        read_code=read_code,
        on_url=on_url,
        clock=services.clock,
    ).run()
    # A new token gets a new rate-limit bucket (protocol.md §3.6).
    services.gate.clear_cooldown()
    print(f"Logged in as {tokens.email}." if tokens.email else "Logged in.")
    return 0
