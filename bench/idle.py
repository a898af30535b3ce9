"""Benchmark: idle cost of the tray app with its window hidden, and its memory.

How: a private Xvfb with trayer, the in-package fake Anthropic in this process, a fresh
CLAUDE_PULSE_HOME with saved credentials, the default settings (poll every 60 s) and, by default,
6.5 days of one-a-minute usage history with the weekly window resetting in 12 h: the steady state
late in a week, when each poll reads the most history for the charts and forecasts
(`--history-days 0` for a new install). The tray app
`claude-pulse` (pystray xorg backend) is launched and left alone, window hidden, once its icon
shows numbers and a few seconds have passed. Then, for `--minutes` (default 5), this script reads
the app's counters once a second from `/proc` (reading them does not wake the app):

* context switches, voluntary + involuntary, summed over every thread (`/proc/PID/task/*/status`,
  as feasibility.md §6 measured them; the leader's `/proc/PID/status` alone under-counts);
* CPU time, utime + stime of the whole process (`/proc/PID/stat`, 100 Hz ticks);
* resident set (`VmRSS`) and the thread list.

The fake server stamps each usage request, so every one-second interval is either "poll" (from
0.5 s before a request to 3 s after it) or "between polls". Between polls the app should not
wake at all; the per-thread breakdown names any thread that does.

Targets (issue 9): no wake-ups between polls other than those a poll needs; <= 50 ms CPU per
minute including the polls; RSS <= 45 MB idle (`bench/memory.py` has the other backends).
Run: `python bench/idle.py [--minutes 5]` (about 5.5 min).
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from typing import Any

from _harness import (
    HISTORY_DAYS,
    LATE_IN_WEEK,
    Cleanup,
    ProcSample,
    XConnection,
    fill_history,
    launch_app,
    pss_mb,
    run_main,
    sample,
    start_tray_display,
    stop_process,
    tray_home,
    usage_payload,
    write_results,
)

CPU_TARGET_MS_PER_MIN = 50.0
RSS_TARGET_MB = 45.0
SETTLE_S = 5.0
POLL_BEFORE_S = 0.5
POLL_AFTER_S = 3.0


def analyse(samples: list[ProcSample], polls: list[float]) -> dict[str, Any]:
    """Split the one-second deltas into poll and between-poll intervals."""
    def near_poll(start: float, end: float) -> bool:
        return any(start <= p + POLL_AFTER_S and end >= p - POLL_BEFORE_S for p in polls)

    between_switches = 0
    poll_switches = 0
    between_cpu = 0.0
    poll_cpu = 0.0
    between_run = 0.0
    poll_run = 0.0
    woke: dict[str, int] = {}
    wake_times: list[float] = []
    for a, b in itertools.pairwise(samples):
        d_sw = b.switches - a.switches
        d_cpu = b.cpu_ms - a.cpu_ms
        d_run = b.run_ms - a.run_ms
        if near_poll(a.at, b.at):
            poll_switches += d_sw
            poll_cpu += d_cpu
            poll_run += d_run
            continue
        between_switches += d_sw
        between_cpu += d_cpu
        between_run += d_run
        if d_sw:
            wake_times.append(round(b.at - samples[0].at, 1))
        for tid, (v, n) in b.threads.items():
            before = a.threads.get(tid, (v, n))
            delta = (v - before[0]) + (n - before[1])
            if delta:
                woke[tid] = woke.get(tid, 0) + delta
    first, last = samples[0], samples[-1]
    minutes = (last.at - first.at) / 60
    rss = [s.rss_kb / 1024 for s in samples]
    return {
        "minutes": round(minutes, 2),
        "polls": len(polls),
        "poll_offsets_s": [round(p - first.at, 1) for p in polls],
        "cpu_ms_total": round(last.cpu_ms - first.cpu_ms, 1),
        "cpu_ms_per_min": round((last.cpu_ms - first.cpu_ms) / minutes, 1),
        "cpu_ms_per_poll": round(poll_cpu / len(polls), 1) if polls else None,
        "cpu_ms_between_polls": round(between_cpu, 1),
        "run_ms_total": round(last.run_ms - first.run_ms, 2),
        "run_ms_per_min": round((last.run_ms - first.run_ms) / minutes, 2),
        "run_ms_per_poll": round(poll_run / len(polls), 2) if polls else None,
        "run_ms_between_polls": round(between_run, 2),
        "switches_total": last.switches - first.switches,
        "switches_per_poll": round(poll_switches / len(polls), 1) if polls else None,
        "switches_between_polls": between_switches,
        "between_polls_by_thread": woke,
        "between_polls_wakes_at_s": wake_times[:50],
        "rss_mb_start": round(rss[0], 1),
        "rss_mb_end": round(rss[-1], 1),
        "rss_mb_max": round(max(rss), 1),
        "threads": sorted(last.threads),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history-days", type=float, default=HISTORY_DAYS,
                        help="days of one-a-minute history to start with (0: a new install)")
    parser.add_argument("--minutes", type=float, default=5.0)
    args = parser.parse_args()

    result: dict[str, Any] = {"loadavg_before": os.getloadavg(), "interval_s": 60,
                              "backend": "xorg", "window": "hidden"}
    with Cleanup(limit_s=args.minutes * 60 + 90) as cleanup:
        display = start_tray_display(cleanup)
        world = tray_home(cleanup, display,
                          usage_payload(42.0, 70.0, weekly_resets_in=LATE_IN_WEEK))
        fake, env = world.fake, world.env
        samples_written = (fill_history(world.home, args.history_days)
                           if args.history_days else 0)
        with XConnection(display) as x:
            run = launch_app(cleanup, x, env)
        pid = run.proc.pid
        print(f"app {pid} shows numbers after {run.numbers_s:.2f} s; settling {SETTLE_S:.0f} s, "
              f"then measuring {args.minutes:g} min", flush=True)
        time.sleep(SETTLE_S)
        start = time.monotonic()
        samples = [sample(pid)]
        while time.monotonic() - start < args.minutes * 60:
            time.sleep(1.0)
            if run.proc.poll() is not None:
                raise SystemExit(f"bench: the app exited ({run.proc.returncode})")
            samples.append(sample(pid))
        pss = pss_mb(pid)
        polls = [r.at for r in fake.requests_to("usage") if r.at >= samples[0].at - 0.1]
        token_calls = len(fake.requests_to("token"))
        stop_process(run.proc)

    result.update(analyse(samples, polls))
    result["token_requests"] = token_calls
    result["history_samples_at_start"] = samples_written
    result["pss_mb_end"] = round(pss, 1) if pss is not None else None
    result["loadavg_after"] = os.getloadavg()
    cpu_ok = max(result["cpu_ms_per_min"], result["run_ms_per_min"]) <= CPU_TARGET_MS_PER_MIN
    wake_ok = result["switches_between_polls"] == 0
    rss_ok = result["rss_mb_max"] <= RSS_TARGET_MB
    result["verdict"] = {
        "cpu": "met" if cpu_ok else "MISSED",
        "no_wakeups_between_polls": "met" if wake_ok else "MISSED",
        "rss": "met" if rss_ok else "MISSED",
    }
    r = result
    print(f"measured {r['minutes']} min, window hidden, {r['polls']} polls at "
          f"{r['poll_offsets_s']} s; history: {samples_written} samples "
          f"({args.history_days:g} days) at start")
    print(f"CPU: {r['cpu_ms_total']} ms total = {r['cpu_ms_per_min']} ms/min "
          f"(target <= {CPU_TARGET_MS_PER_MIN:.0f}) -> {r['verdict']['cpu']}; "
          f"{r['cpu_ms_per_poll']} ms per poll, {r['cpu_ms_between_polls']} ms between polls")
    print(f"CPU (schedstat, exact): {r['run_ms_total']} ms total = {r['run_ms_per_min']} ms/min; "
          f"{r['run_ms_per_poll']} ms per poll, {r['run_ms_between_polls']} ms between polls")
    print(f"context switches (all threads): {r['switches_total']} total, "
          f"{r['switches_per_poll']} per poll, {r['switches_between_polls']} between polls "
          f"-> {r['verdict']['no_wakeups_between_polls']}")
    if r["between_polls_by_thread"]:
        print(f"  woken between polls: {r['between_polls_by_thread']} "
              f"at {r['between_polls_wakes_at_s']} s")
    print(f"RSS: {r['rss_mb_start']} MB at start, {r['rss_mb_end']} MB at end, max "
          f"{r['rss_mb_max']} MB (target <= {RSS_TARGET_MB:.0f}) -> {r['verdict']['rss']}; "
          f"PSS {r['pss_mb_end']} MB")
    print(f"threads: {', '.join(r['threads'])}")
    print(f"token requests: {token_calls}")
    # The default (a week's history) is `idle.json`; other histories get their own file.
    write_results("idle" if args.history_days == HISTORY_DAYS else
                  f"idle-history-{args.history_days:g}d", result)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
