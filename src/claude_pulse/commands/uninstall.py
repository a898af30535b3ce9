"""`claude-pulse uninstall [--purge [--yes]]`: take away what the app put on this computer.

pip (or pipx) removes only the package, so run this first. It quits a running tray app (the
single-instance channel), then removes everything outside the home folder that the app wrote:
start at login, the app-menu entry, the notification registration (`platform.footprint`). The
home folder — settings, login tokens, history — stays unless `--purge` is given; then it is
deleted after a question (`--yes` answers it for scripts). Only files Claude Pulse made are
deleted, so a `CLAUDE_PULSE_HOME` pointing at a shared folder loses nothing else.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TextIO

from claude_pulse.errors import PulseError
from claude_pulse.home import Home

if TYPE_CHECKING:
    from claude_pulse.platform.footprint import Piece
    from claude_pulse.wiring import Services

__all__ = ["CREATES_HOME", "QUIT_TIMEOUT_S", "run", "uninstall"]

# The command works outside the home folder and may delete it: cli must not create it first.
CREATES_HOME = False
# The tray app's shutdown waits up to ~4 s for a poll in flight; give it room.
QUIT_TIMEOUT_S = 15.0
DISTRIBUTION = "claude-pulse-tray"


def run(args: argparse.Namespace, services: Services) -> int:
    return uninstall(services.home, services.footprint, purge=args.purge, yes=args.yes)


def uninstall(
    home: Home,
    footprint: Sequence[Piece],
    *,
    purge: bool,
    yes: bool,
    ask: Callable[[str], str] = input,
    interactive: bool | None = None,
    out: TextIO | None = None,
    quit_timeout_s: float = QUIT_TIMEOUT_S,
) -> int:
    """Returns the exit code; raises PulseError when nothing could be done."""
    stdout = sys.stdout if out is None else out
    if purge and not yes:
        tty = sys.stdin is not None and sys.stdin.isatty() if interactive is None else interactive
        if not tty:
            raise PulseError("--purge deletes your login and settings; add --yes to do that "
                             "without a question.")
        answer = ask(f"Delete {home.root} with your login tokens, settings and usage "
                     f"history? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("Nothing was removed.", file=stdout)
            return 1
    _stop_tray_app(home, quit_timeout_s, stdout)

    failed: list[str] = []
    removed = 0
    for piece in footprint:
        try:
            if not piece.exists():
                continue
            piece.remove()
        except (OSError, PulseError) as exc:
            failed.append(f"{piece.what}: {exc}")
            continue
        removed += 1
        print(f"Removed {piece.what}", file=stdout)
    if not removed and not failed:
        print("Found nothing of Claude Pulse's outside its home folder.", file=stdout)

    if purge:
        failed += _purge(home, stdout)
    elif home.root.is_dir():
        print(f"Kept {home.root} (settings, login, history); `claude-pulse uninstall --purge` "
              "deletes it too.", file=stdout)
    if failed:
        for line in failed:
            print(f"claude-pulse: could not remove {line}", file=sys.stderr)
        return 1
    if not getattr(sys, "frozen", False):  # the Windows installer removes its own program
        print(f"Now remove the program: pipx uninstall {DISTRIBUTION} "
              f"(or: python -m pip uninstall {DISTRIBUTION})", file=stdout)
    return 0


def _stop_tray_app(home: Home, timeout_s: float, out: TextIO) -> None:
    # A running app would write its files again (start at login at its next start, the
    # notification registration at its next alert) and, with --purge, keep its log file open.
    from claude_pulse.platform.instance import QUIT, SingleInstance

    instance = SingleInstance(home, lambda _message: None)
    if not instance.other_is_running():
        return
    print("Asking the running Claude Pulse to quit…", file=out)
    instance.notify_running(QUIT)
    deadline = time.monotonic() + timeout_s
    while instance.other_is_running():
        if time.monotonic() > deadline:
            raise PulseError("Claude Pulse is still running: quit it from its tray menu, then "
                             "run `claude-pulse uninstall` again. Nothing was removed.")
        time.sleep(0.1)


def _purge(home: Home, out: TextIO) -> list[str]:
    if not home.root.is_dir():
        print(f"There is no home folder at {home.root}.", file=out)
        return []
    try:
        foreign = home.purge()
    except OSError as exc:
        return [f"{home.root}: {exc}"]
    if foreign:
        names = ", ".join(sorted(p.name for p in foreign)[:5])
        print(f"Deleted Claude Pulse's files in {home.root}; kept the folder, which holds "
              f"files that are not ours ({names}).", file=out)
    else:
        print(f"Deleted {home.root} (settings, login tokens, history, logs)", file=out)
    return []
