"""Benchmark: our statusline side by side with the peers', same stdin JSON, one interleaved run.

Peers (install them into a scratch folder, NEVER into the project's venv):

    npm install --prefix /tmp/peers ccusage
    python3 -m venv /tmp/peers/cm && /tmp/peers/cm/bin/pip install claude-monitor

How: a temporary CLAUDE_PULSE_HOME with saved credentials and a snapshot a few seconds old (as in
bench/statusline.py). Each round runs every command once, in an order that rotates each round,
with Claude Code's statusLine JSON (with `rate_limits`) on stdin, so machine load falls on all of
them alike; the figure is the median wall time from spawn to exit and its ratio to
`python -c pass` of this venv. Commands: the installed `claude-pulse statusline` (the console
script, its wrapper's imports included), `ccusage statusline` through npm's bin shim, and
`claude-monitor --statusline` from its own venv. A peer that is not installed is skipped with a
line saying how to install it; a peer that exits non-zero is reported with its exit code (its
time still counts: that is what Claude Code would wait for).

Run: `python bench/peers.py [--runs 20] [--peers /tmp/peers]` (about 1 min with both peers).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from _harness import (
    Cleanup,
    app_env,
    cli_command,
    make_home,
    run_main,
    start_fake,
    usage_payload,
    write_results,
)
from statusline import claude_code_feed

INSTALL = {
    "ccusage statusline (npm)": "npm install --prefix {peers} ccusage",
    "claude-monitor --statusline": "python3 -m venv {peers}/cm && {peers}/cm/bin/pip install "
                                   "claude-monitor",
}


def peer_commands(peers: Path) -> dict[str, list[str] | None]:
    ccusage = peers / "node_modules" / ".bin" / "ccusage"
    monitor = peers / "cm" / "bin" / "claude-monitor"
    return {
        "ccusage statusline (npm)": [str(ccusage), "statusline"] if ccusage.exists() else None,
        "claude-monitor --statusline": [str(monitor), "--statusline"] if monitor.exists()
        else None,
    }


def one(cmd: list[str], env: dict[str, str], stdin: bytes) -> tuple[float, int, str]:
    started = time.perf_counter()
    try:
        proc = subprocess.run(cmd, env=env, input=stdin, capture_output=True, timeout=60,
                              check=False)
    except subprocess.TimeoutExpired:
        return 60000.0, -1, "(timed out after 60 s)"
    elapsed = (time.perf_counter() - started) * 1000
    out = proc.stdout.decode(errors="replace").strip().splitlines()
    err = proc.stderr.decode(errors="replace").strip().splitlines()
    return elapsed, proc.returncode, (out or err or [""])[-1][:100]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2)
    scratch = Path(tempfile.gettempdir()) / "peers"
    parser.add_argument("--peers", type=Path,
                        default=Path(os.environ.get("CLAUDE_PULSE_PEERS", scratch)))
    args = parser.parse_args()

    with Cleanup(limit_s=900) as cleanup:
        fake = start_fake(cleanup)
        now = datetime.now(timezone.utc)
        home = make_home(cleanup, fake, snapshot_age_s=5.0, usage=usage_payload(42.0, 20.0, now))
        env = app_env(home, scratch=cleanup.tempdir())
        # The peers read Claude Code's own files; give them an empty, private ~/.claude.
        peer_home = cleanup.tempdir()
        env_peer = {**env, "HOME": str(peer_home)}
        feed = claude_code_feed(42.0, 20.0, now)
        commands: dict[str, tuple[list[str], dict[str, str]]] = {
            "python -c pass": ([sys.executable, "-c", "pass"], env),
            "claude-pulse statusline": ([*cli_command(), "statusline"], env),
        }
        skipped: dict[str, str] = {}
        for name, cmd in peer_commands(args.peers).items():
            if cmd is None:
                skipped[name] = INSTALL[name].format(peers=args.peers)
                print(f"{name}: not installed, skipped (install: {skipped[name]})", flush=True)
            else:
                commands[name] = (cmd, env_peer)
        names = list(commands)
        times: dict[str, list[float]] = {n: [] for n in names}
        last: dict[str, tuple[int, str]] = {}
        for i in range(args.warmup + args.runs):
            shift = i % len(names)
            for name in names[shift:] + names[:shift]:
                cmd, cmd_env = commands[name]
                elapsed, code, line = one(cmd, cmd_env, feed)
                last[name] = (code, line)
                if i >= args.warmup:
                    times[name].append(elapsed)
        usage_calls = len(fake.requests_to("usage"))

    base = statistics.median(times["python -c pass"])
    rows: dict[str, Any] = {}
    print(f"{'command':32} {'median ms':>10} {'x python -c pass':>17}  exit  last line")
    for name in names:
        med = statistics.median(times[name])
        code, line = last[name]
        rows[name] = {"median_ms": round(med, 1), "ratio": round(med / base, 2),
                      "min_ms": round(min(times[name]), 1), "exit": code, "line": line}
        print(f"{name:32} {med:10.1f} {med / base:17.2f}  {code:4}  {line!r}")
    for name, how in skipped.items():
        print(f"{name}: skipped, not installed ({how})")
    print(f"({args.runs} interleaved rounds; usage requests to the fake: {usage_calls})")
    write_results("peers", {"runs": args.runs, "loadavg": os.getloadavg(), "results": rows,
                            "skipped": skipped})
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
