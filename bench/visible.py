"""Benchmark: the Deep Dive window left open: redraws, wake-ups and CPU per minute.

How: as `bench/idle.py` (private Xvfb + trayer, fake server in this process, default 60 s poll,
pystray xorg backend, 6.5 days of history so both charts are full), but once the icon shows
numbers a second `claude-pulse` is started, which asks the running app to open its Deep Dive
window (the single-instance "show" message), and the window is then left alone for `--minutes`
(default 3). Once a second this script

* reads the window's pixels (`GetImage` on the top-level window named "Claude Pulse") and counts
  the seconds in which they changed: a redraw the user can see;
* reads the app's counters from `/proc` (context switches summed over every thread, CPU).

Each change and each wake-up is put down to a poll (from 0.5 s before a usage request to 3 s
after it) or to something else; the only something else expected is the once-a-minute countdown.

Target (issue 9): window visible, at most one redraw a minute for the countdown (redraws caused by
a poll's new numbers are counted apart).
Run: `python bench/visible.py [--minutes 3]` (about 3.5 min).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import os
import subprocess
import sys
import time
from typing import Any

from _harness import (
    HISTORY_DAYS,
    LATE_IN_WEEK,
    Cleanup,
    XConnection,
    cli_command,
    fill_history,
    launch_app,
    run_main,
    sample,
    start_tray_display,
    stop_process,
    tray_home,
    usage_payload,
    write_results,
)

TITLE = "Claude Pulse"
POLL_BEFORE_S = 0.5
POLL_AFTER_S = 3.0
REDRAWS_PER_MIN_TARGET = 1.0


def find_window(x: XConnection, title: str) -> tuple[int, int, int] | None:
    """(id, width, height) of the viewable top-level window called `title`."""
    from Xlib import X
    from Xlib.error import XError

    for child in x.root.query_tree().children:
        try:
            if child.get_attributes().map_state != X.IsViewable:
                continue
            if child.get_wm_name() == title:
                geom = child.get_geometry()
                return child.id, geom.width, geom.height
        except XError:
            continue
    return None


def window_hash(x: XConnection, window: tuple[int, int, int]) -> str | None:
    from Xlib import X
    from Xlib.error import XError

    wid, width, height = window
    try:
        image = x.d.create_resource_object("window", wid).get_image(
            0, 0, width, height, X.ZPixmap, 0xFFFFFFFF)
    except XError:
        return None
    return hashlib.sha1(bytes(image.data)).hexdigest()  # noqa: S324 - change detection only


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history-days", type=float, default=HISTORY_DAYS,
                        help="days of one-a-minute history to start with (0: a new install)")
    parser.add_argument("--minutes", type=float, default=3.0)
    args = parser.parse_args()

    result: dict[str, Any] = {"loadavg_before": os.getloadavg(), "interval_s": 60,
                              "backend": "xorg", "window": "visible"}
    with Cleanup(limit_s=args.minutes * 60 + 120) as cleanup:
        display = start_tray_display(cleanup)
        world = tray_home(cleanup, display,
                          usage_payload(42.0, 70.0, weekly_resets_in=LATE_IN_WEEK))
        fake, env = world.fake, world.env
        if args.history_days:
            fill_history(world.home, args.history_days)
        with XConnection(display) as x:
            run = launch_app(cleanup, x, env)
            pid = run.proc.pid
            shown = subprocess.run(cli_command(), env=env, stdin=subprocess.DEVNULL,
                                   capture_output=True, timeout=30, check=False)
            window = None
            deadline = time.monotonic() + 10
            while window is None and time.monotonic() < deadline:
                window = find_window(x, TITLE)
                time.sleep(0.1)
            if window is None:
                raise SystemExit("bench: the Deep Dive window did not open "
                                 f"({shown.stderr.decode(errors='replace').strip()})")
            print(f"window {window[0]:#x} {window[1]}x{window[2]} open; measuring "
                  f"{args.minutes:g} min", flush=True)
            time.sleep(3.0)
            start = time.monotonic()
            wall_start = time.time()
            samples = [sample(pid)]
            hashes = [(time.monotonic(), window_hash(x, window))]
            while time.monotonic() - start < args.minutes * 60:
                time.sleep(1.0)
                if run.proc.poll() is not None:
                    raise SystemExit(f"bench: the app exited ({run.proc.returncode})")
                samples.append(sample(pid))
                hashes.append((time.monotonic(), window_hash(x, window)))
            still_open = find_window(x, TITLE) is not None
            wall_end = time.time()
        polls = [r.at for r in fake.requests_to("usage") if r.at >= start - 0.1]
        stop_process(run.proc)

    def near_poll(t0: float, t1: float) -> bool:
        return any(t0 <= p + POLL_AFTER_S and t1 >= p - POLL_BEFORE_S for p in polls)

    changes_poll, changes_other, wakes_other = [], [], []
    for (t0, h0), (t1, h1) in itertools.pairwise(hashes):
        if h0 != h1:
            (changes_poll if near_poll(t0, t1) else changes_other).append(round(t1 - start, 1))
    for a, b in itertools.pairwise(samples):
        if b.switches != a.switches and not near_poll(a.at, b.at):
            wakes_other.append(round(b.at - start, 1))
    minutes = (samples[-1].at - samples[0].at) / 60
    # The countdown redraws on the minute: this many minute boundaries fell in the window.
    boundaries = int(wall_end // 60) - int(wall_start // 60)
    result.update({
        "minutes": round(minutes, 2),
        "window_still_open": still_open,
        "polls": len(polls),
        "poll_offsets_s": [round(p - start, 1) for p in polls],
        "visible_changes_from_polls": changes_poll,
        "visible_changes_other": changes_other,
        "other_redraws_per_min": round(len(changes_other) / minutes, 2),
        "minute_boundaries": boundaries,
        "seconds_with_wakeups_outside_polls": wakes_other,
        "wakeups_outside_polls_per_min": round(len(wakes_other) / minutes, 2),
        "cpu_ms_per_min": round((samples[-1].cpu_ms - samples[0].cpu_ms) / minutes, 1),
        "run_ms_per_min": round((samples[-1].run_ms - samples[0].run_ms) / minutes, 2),
        "switches_per_min": round((samples[-1].switches - samples[0].switches) / minutes, 1),
        "rss_mb_end": round(samples[-1].rss_kb / 1024, 1),
        "history_days": args.history_days,
    })
    worst = max(len(changes_other), len(wakes_other))
    result["verdict"] = "met" if worst <= boundaries * REDRAWS_PER_MIN_TARGET and still_open \
        else "MISSED"
    r = result
    print(f"{r['minutes']} min with the window open ({'still open' if still_open else 'CLOSED'})"
          f", {r['polls']} polls at {r['poll_offsets_s']} s")
    print(f"visible changes: {len(changes_poll)} at polls {changes_poll}, "
          f"{len(changes_other)} otherwise {changes_other} -> {r['other_redraws_per_min']}/min")
    print(f"seconds with wake-ups outside polls: {wakes_other} -> "
          f"{r['wakeups_outside_polls_per_min']}/min")
    print(f"CPU {r['cpu_ms_per_min']} ms/min (schedstat {r['run_ms_per_min']} ms/min), "
          f"{r['switches_per_min']} context switches/min, RSS {r['rss_mb_end']} MB")
    print(f"target: <= {REDRAWS_PER_MIN_TARGET:.0f} countdown redraw per minute "
          f"({boundaries} minute boundaries passed) -> {r['verdict']}")
    # The default (a week's history) is `visible.json`; other histories get their own file.
    write_results("visible" if args.history_days == HISTORY_DAYS else
                  f"visible-history-{args.history_days:g}d", result)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
