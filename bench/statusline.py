"""Benchmark: `claude-pulse statusline` wall time with a fresh cache, and what it imports.

How: a temporary CLAUDE_PULSE_HOME holds saved credentials and a snapshot a few seconds old
(younger than the poll interval, so no fetch is due). The console script `claude-pulse statusline`
is spawned `--runs` times per case (after warm-up runs, so .pyc files and the page cache are warm)
and the wall time from spawn to exit is taken with `time.perf_counter`. Cases:

* `cache` — stdin is /dev/null (a terminal-less caller with no feed): the target case.
* `feed` — Claude Code's JSON with `rate_limits` piped on stdin (the same numbers as the cache,
  so nothing is written).
* `python -c pass` — the interpreter's own start-up on this machine, for scale.

Then `python -X importtime -m claude_pulse statusline` lists every module the command imports;
the script checks that tkinter, pystray and PIL are absent (and reports the HTTP stack, sqlite3
and the slowest imports).

Target (issue 9): median <= 60 ms, no tkinter / pystray / PIL.
Run: `python bench/statusline.py [--runs 30]` (about 15 s).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from _harness import (
    Cleanup,
    app_env,
    cli_command,
    fmt,
    make_home,
    run_main,
    start_fake,
    summary,
    usage_payload,
    verdict,
    write_results,
)

TARGET_MS = 60.0
FORBIDDEN = ("tkinter", "_tkinter", "pystray", "PIL")
WATCHED = ("urllib.request", "http.client", "ssl", "sqlite3", "requests", "filelock",
           "logging.handlers", "json", "argparse", "datetime", "claude_pulse.wiring")


def claude_code_feed(session: float, weekly: float, now: datetime) -> bytes:
    """What Claude Code pipes to a statusLine command (design.md §3), with rate limits."""
    feed = {
        "hook_event_name": "Status",
        "session_id": "bench-session",
        "model": {"id": "claude-opus-4-1", "display_name": "Opus"},
        "workspace": {"current_dir": "/home/dev/project", "project_dir": "/home/dev/project"},
        "version": "2.1.90",
        "cost": {"total_cost_usd": 0.42, "total_duration_ms": 120000},
        "rate_limits": {
            "five_hour": {"used_percentage": session,
                          "resets_at": int((now + timedelta(hours=2, minutes=13)).timestamp())},
            "seven_day": {"used_percentage": weekly,
                          "resets_at": int((now + timedelta(days=3)).timestamp())},
        },
    }
    return json.dumps(feed).encode()


def time_runs(cmd: list[str], env: dict[str, str], runs: int, warmup: int,
              stdin: bytes | None) -> tuple[list[float], str]:
    times: list[float] = []
    out = ""
    for i in range(warmup + runs):
        started = time.perf_counter()
        proc = subprocess.run(
            cmd, env=env, input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True, timeout=30, check=False,
        )
        elapsed = (time.perf_counter() - started) * 1000
        if proc.returncode != 0:
            raise SystemExit(f"bench: {' '.join(cmd)} exited {proc.returncode}: "
                             f"{proc.stderr.decode(errors='replace').strip()}")
        out = proc.stdout.decode().strip()
        if i >= warmup:
            times.append(elapsed)
    return times, out


def import_profile(env: dict[str, str]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "claude_pulse", "statusline"],
        env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=30, check=False,
    )
    modules: dict[str, tuple[int, int]] = {}
    for line in proc.stderr.decode(errors="replace").splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        parts = [part.strip() for part in line.split(":", 1)[1].split("|")]
        self_us, cumulative_us, name = int(parts[0]), int(parts[1]), parts[2]
        modules[name] = (self_us, cumulative_us)
    top_level = {m: v for m, v in modules.items() if "." not in m or m.startswith("claude_pulse")}
    forbidden = sorted(m for m in modules if m.split(".")[0] in FORBIDDEN)
    slowest = sorted(modules.items(), key=lambda kv: kv[1][0], reverse=True)[:12]
    biggest = sorted(top_level.items(), key=lambda kv: kv[1][1], reverse=True)[:12]
    return {
        "modules_imported": len(modules),
        "forbidden_imported": forbidden,
        "watched": {m: (m in modules) for m in WATCHED},
        "slowest_self_us": [{"module": m, "self_us": s, "cumulative_us": c}
                            for m, (s, c) in slowest],
        "largest_cumulative_us": [{"module": m, "self_us": s, "cumulative_us": c}
                                  for m, (s, c) in biggest],
        "total_import_us": sum(s for s, _ in modules.values()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()

    with Cleanup(limit_s=300) as cleanup:
        fake = start_fake(cleanup)
        now = datetime.now(timezone.utc)
        usage = usage_payload(42.0, 20.0, now)
        home = make_home(cleanup, fake, snapshot_age_s=5.0, usage=usage)
        env = app_env(home, scratch=cleanup.tempdir())
        cmd = [*cli_command(), "statusline"]

        results: dict[str, Any] = {"command": " ".join(["claude-pulse", "statusline"])}
        cache, line = time_runs(cmd, env, args.runs, args.warmup, None)
        results["cache"] = {**summary(cache), "line": line}
        feed, line = time_runs(cmd, env, args.runs, args.warmup,
                               claude_code_feed(42.0, 20.0, now))
        results["feed"] = {**summary(feed), "line": line}
        base, _ = time_runs([sys.executable, "-c", "pass"], env, args.runs, args.warmup, None)
        results["python_pass"] = summary(base)
        results["imports"] = import_profile(env)
        usage_calls = len(fake.requests_to("usage"))
        token_calls = len(fake.requests_to("token"))
        results["requests"] = {"usage": usage_calls, "token": token_calls}

    imports = results["imports"]
    med = results["cache"]["median"]
    results["target_ms"] = TARGET_MS
    results["verdict"] = verdict(med, TARGET_MS) if not imports["forbidden_imported"] \
        else "MISSED"
    print(f"statusline, fresh cache:      {fmt(results['cache'])}   target <= {TARGET_MS:.0f} ms"
          f"  -> {verdict(med, TARGET_MS)}")
    print(f"statusline, Claude Code feed: {fmt(results['feed'])}")
    print(f"python -c pass:               {fmt(results['python_pass'])}")
    print(f"line: {results['cache']['line']!r}")
    print(f"modules imported: {imports['modules_imported']}, "
          f"sum of import self-times {imports['total_import_us'] / 1000:.1f} ms")
    print(f"forbidden imports (tkinter/pystray/PIL): {imports['forbidden_imported'] or 'none'}")
    print("also imported: " + ", ".join(m for m, yes in imports["watched"].items() if yes))
    print("not imported:  " + ", ".join(m for m, yes in imports["watched"].items() if not yes))
    print("largest imports (cumulative):")
    for row in imports["largest_cumulative_us"][:8]:
        print(f"  {row['cumulative_us'] / 1000:6.1f} ms  {row['module']}")
    print(f"usage requests made: {usage_calls} (expected 0: the cache was fresh), "
          f"token requests: {token_calls}")
    write_results("statusline", results)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
