"""Benchmark: our statusline side by side with the peers', same stdin JSON, one interleaved run.

Peers (install them into a scratch folder, NEVER into the project's venv):

    npm install --prefix /tmp/peers ccusage@20.0.24 @ccusage/ccusage-linux-x64@20.0.24
    python3 -m venv /tmp/peers/cm && /tmp/peers/cm/bin/pip install claude-monitor

(`ccusage` is a JS shim that runs a native binary from an optional package; the registry used
here had no linux-x64 binary for 20.0.26, so the shim alone only printed "native binary is not
available". Pinning both to 20.0.24 gives the real status line.)

How: a temporary CLAUDE_PULSE_HOME whose snapshot already has the numbers of the JSON on stdin
(Claude Code's steady state, as in bench/statusline.py; no login, so nothing could fetch). Each
round runs every command once, in an order that rotates each round (`_harness.interleave`), with
Claude Code's statusLine JSON on stdin, so machine load falls on all of them alike; the figure
is the median wall time from spawn to exit and its ratio to `python -c pass` of this venv.
Commands: the installed `claude-pulse statusline` (the console script, its wrapper's imports
included), `ccusage statusline` through npm's bin shim and its native binary directly, and
`claude-monitor --statusline` from its own venv. The peers get an empty, private `~/.claude`
with an empty transcript (ccusage reads the one the JSON names). A peer that is not installed is
skipped with a line saying how to install it; a peer that exits non-zero is reported with its
exit code (its time still counts: that is what Claude Code would wait for).

Run: `python bench/peers.py [--runs 20] [--peers /tmp/peers]` (about 1 min with both peers).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from _harness import (
    Cleanup,
    Timed,
    add_interleave_args,
    app_env,
    cli_command,
    ensure_bytecode,
    interleave,
    make_home,
    ratio_table,
    run_main,
    write_results,
)
from statusline import claude_code_feed, steady_usage

_CCUSAGE = "npm install --prefix {peers} ccusage@20.0.24 @ccusage/ccusage-linux-x64@20.0.24"
INSTALL = {
    "ccusage statusline (npm shim)": _CCUSAGE,
    "ccusage statusline (native binary)": _CCUSAGE,
    "claude-monitor --statusline": "python3 -m venv {peers}/cm && {peers}/cm/bin/pip install "
                                   "claude-monitor",
}


def peer_commands(peers: Path) -> dict[str, list[str] | None]:
    shim = peers / "node_modules" / ".bin" / "ccusage"
    native = peers / "node_modules" / "@ccusage" / "ccusage-linux-x64" / "bin" / "ccusage"
    monitor = peers / "cm" / "bin" / "claude-monitor"
    found = {
        "ccusage statusline (npm shim)": [shim, "statusline"],
        "ccusage statusline (native binary)": [native, "statusline"],
        "claude-monitor --statusline": [monitor, "--statusline"],
    }
    return {name: [str(part) for part in cmd] if Path(cmd[0]).exists() else None
            for name, cmd in found.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_interleave_args(parser, runs=20, warmup=2)
    scratch = Path(tempfile.gettempdir()) / "peers"
    parser.add_argument("--peers", type=Path,
                        default=Path(os.environ.get("CLAUDE_PULSE_PEERS", scratch)))
    args = parser.parse_args()
    ensure_bytecode()

    with Cleanup(limit_s=900) as cleanup:
        now = datetime.now(timezone.utc)
        home = make_home(cleanup, None, logged_in=False, snapshot_age_s=5.0,
                         usage=steady_usage(now))
        env = app_env(home, scratch=cleanup.tempdir())
        # The peers read Claude Code's own files; give them an empty, private ~/.claude with the
        # (empty) transcript the JSON names.
        peer_home = cleanup.tempdir()
        transcript = peer_home / ".claude" / "projects" / "-home-dev-project" / "bench.jsonl"
        transcript.parent.mkdir(parents=True)
        transcript.touch()
        env_peer = {**env, "HOME": str(peer_home)}
        feed = claude_code_feed(42.0, 20.0, now, transcript)
        commands = {
            "python -c pass": Timed([sys.executable, "-c", "pass"], env),
            "claude-pulse statusline": Timed([*cli_command(), "statusline"], env, feed),
        }
        skipped: dict[str, str] = {}
        for name, cmd in peer_commands(args.peers).items():
            if cmd is None:
                skipped[name] = INSTALL[name].format(peers=args.peers)
                print(f"{name}: not installed, skipped (install: {skipped[name]})", flush=True)
            else:
                commands[name] = Timed(cmd, env_peer, feed)
        times, last = interleave(commands, args.runs, args.warmup)

    rows = ratio_table(times, last, "python -c pass")
    for name, how in skipped.items():
        print(f"{name}: skipped, not installed ({how})")
    print(f"({args.runs} interleaved rounds after {args.warmup} warm-up; "
          f"load average {os.getloadavg()[0]:.1f})")
    write_results("peers", {"runs": args.runs, "loadavg": os.getloadavg(), "results": rows,
                            "skipped": skipped})
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
