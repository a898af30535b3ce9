"""Benchmark: `claude-pulse statusline` against the interpreter's own start, in one interleaved run.

How: the installed console script `claude-pulse statusline` (what Claude Code runs: the pip
wrapper's imports count) and `python -c pass` of the same venv, each round running every case
once in an order that rotates each round, so machine load falls on all of them alike; the figure
is each case's median wall time from spawn to exit and its ratio to `python -c pass`. Cases:

* `feed` — Claude Code's statusLine JSON (with `rate_limits`) on stdin, the numbers the shared
  snapshot already has (the steady state: nothing to save). The fast path (`fastline`).
* `fresh snapshot` — stdin /dev/null, a snapshot a few seconds old. The fast path too.
* `API snapshot` — the same, with a real-shaped answer as the tray saves it from Anthropic
  (fake/samples.JULY_2026: per-model `limits` with Fable binding, `extra_usage`, `spend`): the
  fast path prints from the line's facts `SnapshotStore.save` writes beside it.
* `API snapshot, no facts` — that snapshot as an older Claude Pulse saved it (no ``"line"``
  key): the full path answers, as every real API snapshot did before the facts (reported only).
* `fetching` — a snapshot 10 minutes old: one real fetch from the in-package fake server on
  127.0.0.1 (gate, HTTP, snapshot and history written). Before each run, untimed, the snapshot is
  made old again and the gate's record cleared, so every run fetches.

Before each fast-path run the snapshot is rewritten a few seconds old (untimed), so a long run
never drifts past the poll interval. Then `python -X importtime <console script> statusline`
lists what the feed path imports (the fast path's whole import list) and checks that neither
fast case loaded `claude_pulse.wiring`.

Target (issue 19): feed, fresh and API snapshot median <= 2.5x `python -c pass`.
Run: `python bench/statusline.py [--runs 30]` (about 1 min).
"""

from __future__ import annotations

import argparse
import copy
import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

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
    start_fake,
    usage_payload,
    write_results,
)

from claude_pulse.fake import samples

TARGET_RATIO = 2.5
# Claude Code's feed resets: the snapshot below carries the same ones, so the feed is not news.
SESSION_RESETS_IN = timedelta(hours=2, minutes=13)
WEEKLY_RESETS_IN = timedelta(days=3)


def claude_code_feed(session: float, weekly: float, now: datetime,
                     transcript: Path | None = None) -> bytes:
    """What Claude Code pipes to a statusLine command (design.md §3), with rate limits."""
    feed = {
        "hook_event_name": "Status",
        "session_id": "bench-session",
        "transcript_path": str(transcript or "/home/dev/.claude/projects/p/bench-session.jsonl"),
        "cwd": "/home/dev/project",
        "model": {"id": "claude-opus-4-1", "display_name": "Opus"},
        "workspace": {"current_dir": "/home/dev/project", "project_dir": "/home/dev/project"},
        "version": "2.1.90",
        "cost": {"total_cost_usd": 0.42, "total_duration_ms": 120000},
        "rate_limits": {
            "five_hour": {"used_percentage": session,
                          "resets_at": int((now + SESSION_RESETS_IN).timestamp())},
            "seven_day": {"used_percentage": weekly,
                          "resets_at": int((now + WEEKLY_RESETS_IN).timestamp())},
        },
    }
    return json.dumps(feed).encode()


def steady_usage(now: datetime) -> dict[str, Any]:
    """The usage answer `claude_code_feed(42, 20, now)` agrees with."""
    return usage_payload(42.0, 20.0, now, session_resets_in=SESSION_RESETS_IN,
                         weekly_resets_in=WEEKLY_RESETS_IN)


def api_usage(now: datetime) -> dict[str, Any]:
    """The July 2026 live capture with its reset times moved to follow the clock."""
    raw = copy.deepcopy(samples.JULY_2026)
    for window, resets_in in (("five_hour", SESSION_RESETS_IN), ("seven_day", WEEKLY_RESETS_IN)):
        raw[window]["resets_at"] = (now + resets_in).isoformat()
    for limit in raw["limits"]:
        limit["resets_at"] = (now + (SESSION_RESETS_IN if limit["kind"] == "session"
                                     else WEEKLY_RESETS_IN)).isoformat()
    return raw


def drop_facts(home: Path) -> None:
    """The snapshot as a version before the line's facts saved it."""
    path = home / "snapshot.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    del data["line"]
    path.write_text(json.dumps(data), encoding="utf-8")


def age_snapshot(home: Path, age_s: float) -> None:
    """Make the snapshot `age_s` old without touching its numbers."""
    path = home / "snapshot.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["fetched_at"] = (datetime.now(timezone.utc) - timedelta(seconds=age_s)).isoformat()
    path.write_text(json.dumps(data), encoding="utf-8")


def import_list(cmd: list[str], env: dict[str, str], stdin: bytes | None) -> list[dict[str, Any]]:
    """Every module a run imports, in order, with its self and cumulative microseconds."""
    script = cmd[0] if Path(cmd[0]).name == "claude-pulse" else None
    argv = [sys.executable, "-X", "importtime", script, *cmd[1:]] if script else \
        [sys.executable, "-X", "importtime", "-m", "claude_pulse", *cmd[1:]]
    proc = subprocess.run(argv, env=env, input=stdin,
                          stdin=subprocess.DEVNULL if stdin is None else None,
                          capture_output=True, timeout=30, check=False)
    rows = []
    for line in proc.stderr.decode(errors="replace").splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        parts = [part.strip() for part in line.split(":", 1)[1].split("|")]
        rows.append({"module": parts[2], "self_us": int(parts[0]),
                     "cumulative_us": int(parts[1])})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_interleave_args(parser, runs=30, warmup=3)
    args = parser.parse_args()
    ensure_bytecode()

    with Cleanup(limit_s=900) as cleanup:
        fake = start_fake(cleanup)
        now = datetime.now(timezone.utc)
        # A user's home: no URLs (checking one costs urllib.parse) and, since the fast path
        # must not fetch, no login either, so nothing could reach a real server.
        fast_home = make_home(cleanup, None, logged_in=False, snapshot_age_s=5.0,
                              usage=steady_usage(now))
        api_home = make_home(cleanup, None, logged_in=False, snapshot_age_s=5.0,
                             usage=api_usage(now))
        old_home = make_home(cleanup, None, logged_in=False, snapshot_age_s=5.0,
                             usage=api_usage(now))
        drop_facts(old_home)
        fetch_home = make_home(cleanup, fake, snapshot_age_s=600.0, usage=steady_usage(now))
        fast_env = app_env(fast_home, scratch=cleanup.tempdir())
        api_env = app_env(api_home, scratch=cleanup.tempdir())
        old_env = app_env(old_home, scratch=cleanup.tempdir())
        fetch_env = app_env(fetch_home, scratch=cleanup.tempdir())
        script = [*cli_command(), "statusline"]
        feed = claude_code_feed(42.0, 20.0, now)

        def fresh() -> None:
            age_snapshot(fast_home, 5.0)

        def api_fresh() -> None:
            age_snapshot(api_home, 5.0)

        def old_fresh() -> None:
            age_snapshot(old_home, 5.0)

        def stale() -> None:
            age_snapshot(fetch_home, 600.0)
            (fetch_home / "gate.json").unlink(missing_ok=True)

        commands = {
            "python -c pass": Timed([sys.executable, "-c", "pass"], fast_env),
            "statusline, feed": Timed(script, fast_env, feed, before=fresh),
            "statusline, fresh snapshot": Timed(script, fast_env, None, before=fresh),
            "statusline, API snapshot": Timed(script, api_env, None, before=api_fresh),
            "statusline, API snapshot, no facts": Timed(script, old_env, None, before=old_fresh),
            "statusline, fetching": Timed(script, fetch_env, None, before=stale),
        }
        times, last = interleave(commands, args.runs, args.warmup)
        fetched = len(fake.requests_to("usage"))
        fresh()
        api_fresh()
        imports = {"feed": import_list(script, fast_env, feed),
                   "fresh snapshot": import_list(script, fast_env, None),
                   "API snapshot": import_list(script, api_env, None)}

    rows = ratio_table(times, last, "python -c pass")
    ratios = {name: rows[f"statusline, {name}"]["ratio"] for name in imports}
    wiring = {name: any(r["module"] == "claude_pulse.wiring" for r in mods)
              for name, mods in imports.items()}
    met = all(r <= TARGET_RATIO for r in ratios.values()) and not any(wiring.values())
    rounds = args.runs + args.warmup
    print(f"({args.runs} interleaved rounds after {args.warmup} warm-up; the fetching case made "
          f"{fetched} usage requests to the fake for {rounds} runs)")
    print(f"target: feed, fresh and API snapshot <= {TARGET_RATIO}x python -c pass -> "
          + ", ".join(f"{n} {r:.2f}x" for n, r in ratios.items())
          + f" -> {'met' if met else 'MISSED'}")
    if any(wiring.values()):
        print("the fast path did not answer: claude_pulse.wiring was imported in "
              + ", ".join(n for n, yes in wiring.items() if yes))
    feed_mods = imports["feed"]
    print(f"the feed path imports {len(feed_mods)} modules "
          f"(sum of self times {sum(r['self_us'] for r in feed_mods) / 1000:.1f} ms):")
    print("  " + " ".join(r["module"] for r in feed_mods))
    write_results("statusline", {"command": "claude-pulse statusline", "runs": args.runs,
                                 "target_ratio": TARGET_RATIO, "results": rows,
                                 "verdict": "met" if met else "MISSED",
                                 "fetch_requests": fetched, "imports": imports})
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
