"""The command line: `claude-pulse [--demo] [login|logout|status|statusline|uninstall|...]`.

Parsing only; each command lives in `claude_pulse.commands.<name>` and is imported when used, so
`statusline` never pays for the GUI or HTTP imports it does not need. The bare `statusline`, which
Claude Code runs many times a minute, first tries `fastline` before anything else is imported
(this module imports only `sys` up front). Expected failures
(`PulseError`) print one line to stderr and exit 1; wrong usage exits 2 (argparse). Without a
console (pythonw, the `claude-pulse-tray` gui-script) they go to the log and a message box
instead (`platform.console`).
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing itself costs ~2 ms per status line; mypy reads this as True
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

    from claude_pulse.platform.console import Console

__all__ = ["build_parser", "main"]

DEFAULT_LOGIN_TIMEOUT_S = 300


def build_parser() -> argparse.ArgumentParser:
    import argparse

    from claude_pulse import __version__

    parser = argparse.ArgumentParser(
        prog="claude-pulse",
        description="Shows your Claude Pro/Max session and weekly limits in the system tray.",
        epilog="Without a command, starts the tray app (and logs in first if needed).",
    )
    parser.add_argument("--version", action="version", version=f"claude-pulse {__version__}")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="run the tray app against a built-in simulated account (no network, no login)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    # `claude-pulse status --verbose` too: every command also takes the flag after its name.
    # SUPPRESS: a command given without it leaves the main parser's value alone.
    verbose = argparse.ArgumentParser(add_help=False)
    verbose.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                         help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    login = sub.add_parser("login", parents=[verbose],
                           help="log in with your Claude account (browser)")
    login.add_argument(
        "--manual",
        action="store_true",
        help="paste the code shown by the browser instead of using a local callback "
        "(for SSH or remote desktops)",
    )
    login.add_argument(
        "--no-browser", action="store_true", help="print the login URL instead of opening it"
    )
    login.add_argument(
        "--from-claude-code",
        action="store_true",
        help="use Claude Code's login on this computer instead, read-only (no browser)",
    )
    login.add_argument(
        "--timeout",
        type=_positive_seconds,
        default=DEFAULT_LOGIN_TIMEOUT_S,
        metavar="S",
        help=f"give up waiting for the browser after S seconds (default {DEFAULT_LOGIN_TIMEOUT_S})",
    )

    sub.add_parser("logout", parents=[verbose], help="forget the saved credentials")

    status = sub.add_parser("status", parents=[verbose], help="fetch usage now and print it")
    status.add_argument("--json", action="store_true", help="print one JSON object")

    sub.add_parser(
        "statusline", parents=[verbose],
        help="one short line for Claude Code's status line (reads its JSON on stdin if piped)",
    )

    sub.add_parser("install-desktop-entry", parents=[verbose],
                   help="add Claude Pulse to the Linux app menu")
    uninstall = sub.add_parser(
        "uninstall", parents=[verbose],
        help="remove what Claude Pulse put on this computer (run before pip uninstall)",
        description="Quits the tray app and removes start at login, the app-menu entry and the "
        "notification registration. The home folder (settings, login, history) stays unless "
        "--purge is given.",
    )
    uninstall.add_argument(
        "--purge", action="store_true",
        help="also delete the home folder, login tokens included (asks first)",
    )
    uninstall.add_argument("--yes", action="store_true", help="do not ask before --purge")
    return parser


def _parse(argv: list[str], stdin: tuple[bytes | None] | None) -> argparse.Namespace:
    import argparse

    # Claude Code runs the bare `statusline` many times a minute; building the whole parser
    # costs ~4 ms of a ~55 ms run, so that one exact form skips it.
    if argv == ["statusline"]:
        args = argparse.Namespace(command="statusline", demo=False, verbose=False)
        if stdin is not None:  # what fastline read before it handed over
            args.stdin_data = stdin[0]
        return args
    return build_parser().parse_args(argv)


def _positive_seconds(text: str) -> float:
    import argparse

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value <= 86400:
        raise argparse.ArgumentTypeError("must be between 0 and 86400 seconds")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    # The status line's steady state first, before any other import (it prints, or hands over
    # with the stdin it read).
    stdin: tuple[bytes | None] | None = None
    if args == ["statusline"]:
        try:
            from claude_pulse.fastline import answer

            code, read, data = answer()
        except KeyboardInterrupt:
            print("claude-pulse: interrupted", file=sys.stderr)
            return 130
        if code is not None:
            return code
        stdin = (data,) if read else None
    # Then, before anything can fail: output that survives any code page, and a log (plus a
    # message box for fatal errors) when there is no console to print to (pythonw).
    from claude_pulse.platform.console import prepare as prepare_console

    console = prepare_console(log_to_home="--demo" not in args)
    try:
        return _run(args, console, stdin)
    except Exception as exc:
        if console.attached:
            raise  # a bug: the traceback goes to the terminal (and the log, by the hook)
        console.fatal(f"{exc.__class__.__name__}: {exc}", traceback=True)
        return 1


def _run(argv: list[str], console: Console, stdin: tuple[bytes | None] | None) -> int:
    import importlib

    from claude_pulse.errors import PulseError

    args = _parse(argv, stdin)
    command = args.command or "tray"
    if args.demo and command != "tray":
        print("claude-pulse: --demo runs the tray app; it takes no command", file=sys.stderr)
        return 2
    # Imported here so `--help`/`--version` stay instant and each command loads only its needs.
    from claude_pulse.wiring import Services

    module = importlib.import_module(f"claude_pulse.commands.{command.replace('-', '_')}")
    try:
        if args.demo:
            # Before anything touches the user's home: the demo lives in a temporary one.
            from claude_pulse.commands.tray import run_demo

            return run_demo(verbose=args.verbose)
        if getattr(module, "CREATES_HOME", True):
            services = Services.from_environment(verbose=args.verbose, command=command)
        else:
            services = Services.outside_home()
        code: int = module.run(args, services)
        return code
    except PulseError as exc:
        # A command that must always answer on stdout (statusline: Claude Code shows nothing
        # else) says so there too, e.g. when its home cannot be used.
        answer = getattr(module, "answer_failure", None)
        if answer is not None:
            answer(exc)
        if console.attached:
            print(f"claude-pulse: {exc}", file=sys.stderr)
        else:
            console.fatal(str(exc))
        return 1
    except KeyboardInterrupt:
        print("claude-pulse: interrupted", file=sys.stderr)
        return 130
