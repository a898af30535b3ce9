"""`claude-pulse login [--manual] [--no-browser] [--timeout S] | --from-claude-code`.

Opens the system browser through `webbrowser` (so `BROWSER` is honoured) and always prints the URL
too, for when no browser starts. It always says which account logged in, and a login for another
account than the saved one asks before replacing it (refused without a terminal). `--manual` is
for machines whose browser cannot reach this one's loopback port (SSH, remote desktops):
Anthropic's page then shows `code#state` to paste here.

`--from-claude-code` sets `login_source` to "claude-code" after checking that Claude Code's login
is there: no browser and no request. A later browser login switches back (`Services`).
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import TYPE_CHECKING

from claude_pulse.errors import LoginError, ReauthRequired

if TYPE_CHECKING:
    from claude_pulse.wiring import Services

__all__ = ["run"]

log = logging.getLogger(__name__)


def _no_browser(url: str) -> bool:
    return False


def run(args: argparse.Namespace, services: Services) -> int:
    for problem in services.settings.problems:
        print(f"claude-pulse: {problem}", file=sys.stderr)
    if args.from_claude_code:
        return _from_claude_code(args, services)
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

    def confirm_switch(old: str, new: str) -> bool:
        # stdin may carry the pasted code (--manual) but is then not a terminal: never guess.
        if not (sys.stdin is not None and sys.stdin.isatty()):
            raise LoginError(f"Already logged in as {old}, and this login is for {new}: "
                             "nothing was changed. To switch, run `claude-pulse logout` first, "
                             "or run `login` in a terminal and confirm.")
        answer = input(f"You are logged in as {old}. Switch to {new}? [y/N] ")
        return answer.strip().casefold() in ("y", "yes")

    tokens = services.login_session(
        open_browser=_no_browser if args.no_browser else None,
        timeout=args.timeout,
        manual=manual,
        read_code=read_code,
        on_url=on_url,
        confirm_switch=confirm_switch,
    ).run()
    print(f"Logged in as {tokens.email}." if tokens.email else "Logged in.")
    return 0


def _from_claude_code(args: argparse.Namespace, services: Services) -> int:
    if args.manual or args.no_browser:
        print("claude-pulse: --from-claude-code opens no browser; leave out --manual and "
              "--no-browser.", file=sys.stderr)
        return 2
    claude_code = services.claude_code
    expired: str | None = None
    try:
        claude_code.access_token()  # missing or malformed: one line, and nothing changes
    except ReauthRequired as exc:
        expired = str(exc)  # still a choice worth saving: `claude` renews it
    services.settings.update(login_source="claude-code")
    email = claude_code.email
    print(f"Using Claude Code's login{f' ({email})' if email else ''}, read-only: Claude Pulse "
          "never refreshes or changes it.")
    if expired:
        print(expired)
    print("Claude Pulse's own login, if any, is kept: `claude-pulse login` switches back to it.")
    return 0
