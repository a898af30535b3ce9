"""Benchmark: resident memory of the idle tray app, per pystray backend (xorg, gtk, appindicator).

How: a private Xvfb with trayer, the in-package fake Anthropic in this process, a fresh
CLAUDE_PULSE_HOME with saved credentials per run. The tray app `claude-pulse` is launched with
`PYSTRAY_BACKEND` set, waits until its docked icon shows numbers (so the first poll is done),
is left alone for `--settle` seconds with its window hidden, and then `VmRSS` (and PSS, from
`/proc/PID/smaps_rollup`) is read five times a second apart; the run's figure is their median.
Each home starts with 6.5 days of one-a-minute history and the weekly window resetting in 12 h
(the steady state late in a week: the charts hold the most samples); `--history-days 0` for a
new install.

gtk and appindicator need PyGObject (`gi`) and the Gtk 3 / AyatanaAppIndicator3 typelibs.
pystray picks them only when `gi` imports. If this venv has no `gi`, Debian's `python3-gi` is
linked in for the app when it matches this Python's ABI (feasibility.md §2, "apt alternative B");
otherwise the backend is reported as not runnable here, with the reason. The first GTK process on
a fresh X display probes GLX and loads Mesa (feasibility.md §2: about 112 MB instead of 54 MB) and
caches the result on the display, so one GTK warm-up run is made first and reported apart.

Target (issue 9): RSS <= 45 MB idle (xorg), and the gtk/appindicator figure reported.
Run: `python bench/memory.py [--runs 3]` (about 3 min).
Before/after a change: `--compare-src DIR` (e.g. `git archive main src | tar -x -C /tmp/before`,
then `--compare-src /tmp/before/src`) runs xorg only, alternating this tree with DIR's sources
(put first on PYTHONPATH), so machine load falls on both alike.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from typing import Any

from _harness import (
    HISTORY_DAYS,
    LATE_IN_WEEK,
    Cleanup,
    XConnection,
    app_env,
    fill_history,
    gi_path,
    launch_app,
    make_home,
    pss_mb,
    rss_mb,
    run_main,
    start_fake,
    start_trayer,
    start_xvfb,
    stop_process,
    summary,
    usage_payload,
    verdict,
    write_results,
)

TARGET_MB = 45.0
PROBES = {
    "gtk": "import gi; gi.require_version('Gtk', '3.0'); from gi.repository import Gtk",
    "appindicator": (
        "import gi; gi.require_version('Gtk', '3.0'); from gi.repository import Gtk\n"
        "try:\n gi.require_version('AyatanaAppIndicator3', '0.1')\n"
        " from gi.repository import AyatanaAppIndicator3\n"
        "except (ValueError, ImportError):\n gi.require_version('AppIndicator3', '0.1')\n"
        " from gi.repository import AppIndicator3"
    ),
}


def runnable(backend: str, pythonpath: str | None, display: str) -> str | None:
    """None if the backend can run here, else why not."""
    if backend == "xorg":
        return None
    if pythonpath is None:
        return "PyGObject (gi) is not importable and no matching python3-gi was found"
    env = {**os.environ, "DISPLAY": display, "PYTHONPATH": pythonpath}
    probe = subprocess.run([sys.executable, "-c", PROBES[backend]], env=env,
                           capture_output=True, timeout=30, check=False)
    if probe.returncode != 0:
        last = probe.stderr.decode(errors="replace").strip().splitlines()[-1:]
        return f"typelibs missing ({' '.join(last)}); apt-get install gir1.2-gtk-3.0 " \
               "gir1.2-ayatanaappindicator3-0.1"
    return None


def one_run(cleanup: Cleanup, x: XConnection, display: str, fake: Any, backend: str,
            pythonpath: str | None, settle_s: float, scratch: Any,
            history_days: float) -> dict[str, Any]:
    home = make_home(cleanup, fake)
    if history_days:
        fill_history(home, history_days)
    extra = {"PYSTRAY_BACKEND": backend}
    if pythonpath:
        extra["PYTHONPATH"] = pythonpath
    env = app_env(home, display=display, scratch=scratch, extra=extra)
    run = launch_app(cleanup, x, env, timeout=30)
    time.sleep(settle_s)
    rss = []
    for _ in range(5):
        rss.append(rss_mb(run.proc.pid))
        time.sleep(1.0)
    pss = pss_mb(run.proc.pid)
    threads = len(os.listdir(f"/proc/{run.proc.pid}/task"))
    stop_process(run.proc)
    return {"rss_mb": round(statistics.median(rss), 1), "pss_mb": pss and round(pss, 1),
            "threads": threads, "numbers_s": round(run.numbers_s or 0, 3)}


def compare(args: argparse.Namespace) -> int:
    """xorg idle RSS of this tree and of `args.compare_src`, runs alternating."""
    other = os.path.abspath(args.compare_src)
    figures: dict[str, list[dict[str, Any]]] = {"this tree": [], other: []}
    # A run is ~25 s on an idle machine and more than twice that under load.
    with Cleanup(limit_s=120 + 2 * args.runs * 90) as cleanup:
        display = start_xvfb(cleanup)
        start_trayer(cleanup, display)
        fake = start_fake(cleanup, usage_payload(42.0, 70.0, weekly_resets_in=LATE_IN_WEEK))
        scratch = cleanup.tempdir()
        with XConnection(display) as x:
            for _ in range(args.runs):
                for label, path in (("this tree", None), (other, other)):
                    figures[label].append(one_run(cleanup, x, display, fake, "xorg", path,
                                                  args.settle, scratch, args.history_days))
    result: dict[str, Any] = {"history_days": args.history_days, "settle_s": args.settle}
    for label, runs in figures.items():
        result[label] = {"rss_mb": summary([r["rss_mb"] for r in runs]),
                         "pss_mb": summary([r["pss_mb"] for r in runs if r["pss_mb"]]),
                         "threads": runs[-1]["threads"]}
        print(f"xorg {label}: RSS median {result[label]['rss_mb']['median']:.1f} MB, "
              f"PSS {result[label]['pss_mb']['median']:.1f} MB, "
              f"{runs[-1]['threads']} threads ({len(runs)} runs, interleaved)", flush=True)
    write_results("memory-compare", result)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history-days", type=float, default=HISTORY_DAYS,
                        help="days of one-a-minute history to start with (0: a new install)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--settle", type=float, default=15.0)
    parser.add_argument("--compare-src", metavar="DIR",
                        help="xorg only: interleave runs of this tree with DIR's sources")
    args = parser.parse_args()
    if args.compare_src:
        return compare(args)

    result: dict[str, Any] = {"target_mb": TARGET_MB, "settle_s": args.settle,
                              "loadavg_before": os.getloadavg()}
    with Cleanup(limit_s=360) as cleanup:
        display = start_xvfb(cleanup)
        start_trayer(cleanup, display)
        fake = start_fake(cleanup, usage_payload(42.0, 70.0, weekly_resets_in=LATE_IN_WEEK))
        result["history_days"] = args.history_days
        scratch = cleanup.tempdir()
        gi = gi_path(cleanup)
        result["gi"] = ("importable in this venv" if gi == "" else
                        f"linked from Debian's python3-gi ({gi})" if gi else "not available")
        with XConnection(display) as x:
            for backend in ("xorg", "gtk", "appindicator"):
                why_not = runnable(backend, gi, display)
                if why_not is not None:
                    result[backend] = {"skipped": why_not}
                    print(f"{backend}: not runnable here: {why_not}")
                    continue
                entry: dict[str, Any] = {}
                first = None
                if backend == "gtk":
                    try:
                        first = one_run(cleanup, x, display, fake, backend, gi, args.settle,
                                        scratch, args.history_days)
                    except SystemExit as exc:
                        print(f"{backend}: the warm-up run failed: {exc}", flush=True)
                    entry["first_gtk_process_on_display"] = first
                runs = []
                for _ in range(args.runs if backend == "xorg" else max(1, args.runs - 1)):
                    try:
                        runs.append(one_run(cleanup, x, display, fake, backend, gi, args.settle,
                                            scratch, args.history_days))
                    except SystemExit as exc:  # one failed launch must not lose the rest
                        print(f"{backend}: a run failed: {exc}", flush=True)
                        entry.setdefault("failed_runs", []).append(str(exc))
                if not runs:
                    result[backend] = entry
                    continue
                entry["rss_mb"] = summary([r["rss_mb"] for r in runs])
                entry["pss_mb"] = summary([r["pss_mb"] for r in runs if r["pss_mb"]])
                entry["runs"] = runs
                result[backend] = entry
                print(f"{backend}: RSS median {entry['rss_mb']['median']:.1f} MB "
                      f"(min {entry['rss_mb']['min']:.1f}, max {entry['rss_mb']['max']:.1f}, "
                      f"{entry['rss_mb']['runs']} runs), PSS {entry['pss_mb']['median']:.1f} MB, "
                      f"{runs[-1]['threads']} threads"
                      + (f"; first GTK process on the display: {first['rss_mb']} MB"
                         if first is not None else ""), flush=True)
    result["loadavg_after"] = os.getloadavg()
    result["verdict"] = verdict(result["xorg"]["rss_mb"]["median"], TARGET_MB)
    print(f"target: xorg RSS <= {TARGET_MB:.0f} MB -> {result['verdict']}")
    # The default (a week's history) is `memory.json`; other histories get their own file.
    name = "memory" if args.history_days == HISTORY_DAYS else \
        f"memory-history-{args.history_days:g}d"
    write_results(name, result)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
