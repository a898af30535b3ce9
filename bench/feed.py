"""Benchmark: what Claude Code's feed saves the tray (issue 14): requests and wake-ups, with the
feed live against without it, as ratios from one interleaved run.

Two parts.

**Simulated** requests per hour (seconds of real time): `tests/support/request_sim.py`, the real
`Services`, poller, gate and `statusline()` over real HTTP to the in-package fake server, on one
simulated clock, for `--hours` (6) simulated hours at the defaults, Claude Code running the
status line every 5 s. Live feed: its JSON on stdin, the session rising 1 % a minute, and a run
that saved new numbers tells the tray (what `platform.poke` does over the socket). Without: the
same status line runs with no `rate_limits` on stdin (an older Claude Code), so it shares the
tray's answers. The fake server counts the usage requests.

**Real** wake-ups (`--minutes`, 4): two tray apps (`claude-pulse`, pystray xorg backend) on one
private Xvfb + trayer, each with its own home and fake server, running side by side for the same
minutes, so the machine's load falls on both alike. Every 5 s `claude-pulse statusline` runs for
each: for one with Claude Code's JSON on stdin (the session rising 1 % a minute), for the other
without. Once a second this script reads each app's context switches (all threads) and CPU from
`/proc`; a switch counts as "between events" unless it falls from 0.5 s before to 3 s after a
usage request or a status-line run that saved new numbers (the poke). Between events both apps
should not wake at all.

Run: `python bench/feed.py [--minutes 4] [--hours 6] [--no-real]` (about 5 min).
"""

from __future__ import annotations

import argparse
import itertools
import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from _harness import (
    REPO,
    Cleanup,
    ProcSample,
    XConnection,
    cli_command,
    launch_app,
    run_main,
    sample,
    start_tray_display,
    stop_process,
    tray_home,
    usage_payload,
    write_results,
)

sys.path.insert(0, str(REPO / "tests"))
from support.fakes import claude_code_stdin
from support.request_sim import busiest_hour, start_sim

EPOCH = datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)
EVERY_S = 5.0  # how often Claude Code runs the status line here
BEFORE_S, AFTER_S = 0.5, 3.0  # a wake-up this close to an event belongs to it
SETTLE_S = 5.0


def _session_at(start: datetime, now: datetime) -> float:
    return 20.0 + (now - start) // timedelta(minutes=1) % 70


# ---- the simulation --------------------------------------------------------------------------


def simulate(hours: float, home: Path, *, feed: bool) -> dict[str, Any]:
    sim = start_sim(home, EPOCH)
    try:
        def stdin() -> bytes | None:
            if not feed:
                return None
            return claude_code_stdin(_session_at(EPOCH, sim.loop.now), 40.0, sim.loop.now)

        sim.statusline_every(EVERY_S, stdin, poke=feed)
        sim.run_for(timedelta(hours=hours))
        usage = sim.usage_times()
        return {
            "feed": feed,
            "simulated_hours": hours,
            "usage_requests": len(usage),
            "requests_per_hour": round(len(usage) / hours, 2),
            "busiest_rolling_hour": busiest_hour(usage),
            "token_requests": len(sim.token_times()),
            "tray_phases": sorted({s.phase.name for _, s in sim.phases}),
            "shown_source_at_end": sim.poller.status.snapshot.source
            if sim.poller.status.snapshot else None,
        }
    finally:
        sim.close()


# ---- the real apps ---------------------------------------------------------------------------


class Feeder(threading.Thread):
    """`claude-pulse statusline` every EVERY_S for one home, with or without Claude Code's JSON;
    notes when a run saved new numbers (the snapshot file changed: the run poked the tray)."""

    def __init__(self, env: dict[str, str], home: Path, *, feed: bool, until: float) -> None:
        super().__init__(name="feeder", daemon=True)
        self.env, self.home, self.feed, self.until = env, home, feed, until
        self.saves: list[float] = []
        self.runs = 0
        self.failures: list[str] = []
        self.start_at = datetime.now(timezone.utc)

    def _mtime(self) -> int | None:
        try:
            return (self.home / "snapshot.json").stat().st_mtime_ns
        except OSError:
            return None

    def run(self) -> None:
        next_at = time.monotonic()
        while time.monotonic() < self.until:
            before = self._mtime()
            stdin = claude_code_stdin(_session_at(self.start_at, datetime.now(timezone.utc)),
                                      40.0) if self.feed else None
            out = subprocess.run([*cli_command(), "statusline"], input=stdin,
                                 stdin=None if self.feed else subprocess.DEVNULL,
                                 capture_output=True, env=self.env, timeout=30, check=False)
            self.runs += 1
            if out.returncode != 0:
                self.failures.append(out.stdout.decode(errors="replace").strip()[:200])
            if self._mtime() != before:
                self.saves.append(time.monotonic())
            next_at += EVERY_S
            time.sleep(max(0.0, next_at - time.monotonic()))


def _split(samples: list[ProcSample], events: list[float]) -> dict[str, Any]:
    def near(start: float, end: float) -> bool:
        return any(start <= e + AFTER_S and end >= e - BEFORE_S for e in events)

    between = near_events = 0
    between_threads: dict[str, int] = {}
    for a, b in itertools.pairwise(samples):
        delta = b.switches - a.switches
        if near(a.at, b.at):
            near_events += delta
            continue
        between += delta
        for tid, (v, n) in b.threads.items():
            old = a.threads.get(tid, (v, n))
            if (v - old[0]) + (n - old[1]):
                between_threads[tid] = between_threads.get(tid, 0) + (v - old[0]) + (n - old[1])
    minutes = (samples[-1].at - samples[0].at) / 60
    total = samples[-1].switches - samples[0].switches
    return {
        "minutes": round(minutes, 2),
        "switches_total": total,
        "switches_per_min": round(total / minutes, 1),
        "switches_near_events": near_events,
        "switches_between_events": between,
        "woken_between_events_by_thread": between_threads,
        "cpu_ms_total": round(samples[-1].cpu_ms - samples[0].cpu_ms, 1),
        "cpu_ms_per_min": round((samples[-1].cpu_ms - samples[0].cpu_ms) / minutes, 1),
    }


def real(minutes: float) -> dict[str, Any]:
    with Cleanup(limit_s=minutes * 60 + 150) as cleanup:
        display = start_tray_display(cleanup)
        apps: dict[str, dict[str, Any]] = {}
        with XConnection(display) as x:
            for name in ("feed", "no_feed"):
                world = tray_home(cleanup, display, usage_payload(11.0, 40.0))
                fake, home, env = world.fake, world.home, world.env
                if not apps:
                    run = launch_app(cleanup, x, env)
                    proc = run.proc
                else:  # the second icon: launch_app waits for an empty tray, so by hand
                    proc = cleanup.popen(cli_command(), env=env, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    deadline = time.monotonic() + 20
                    while len(x.docked_icons()) < 2:
                        if time.monotonic() > deadline or proc.poll() is not None:
                            raise SystemExit("bench: the second app did not dock")
                        time.sleep(0.1)
                apps[name] = {"proc": proc, "fake": fake, "home": home, "env": env}
        time.sleep(SETTLE_S)
        start = time.monotonic()
        until = start + minutes * 60
        for name, app in apps.items():
            app["feeder"] = Feeder(app["env"], app["home"], feed=name == "feed", until=until)
            app["feeder"].start()
            app["samples"] = [sample(app["proc"].pid)]
        while time.monotonic() < until:
            time.sleep(1.0)
            for app in apps.values():
                if app["proc"].poll() is not None:
                    raise SystemExit(f"bench: an app exited ({app['proc'].returncode})")
                app["samples"].append(sample(app["proc"].pid))
        result: dict[str, Any] = {}
        for name, app in apps.items():
            app["feeder"].join(timeout=60)
            requests = [r.at for r in app["fake"].requests_to("usage")]
            during = [t for t in requests if t >= start]
            events = during + app["feeder"].saves
            row = _split(app["samples"], events)
            row.update({
                "usage_requests_during": len(during),
                "usage_requests_per_hour": round(len(during) / (row["minutes"] / 60), 1),
                "usage_requests_before": len(requests) - len(during),
                "statusline_runs": app["feeder"].runs,
                "statusline_saves_that_poked": len(app["feeder"].saves)
                if name == "feed" else None,
                "statusline_failures": app["feeder"].failures[:3],
                "token_requests": len(app["fake"].requests_to("token")),
            })
            result[name] = row
            stop_process(app["proc"])
        return result


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=4.0, help="real minutes, both apps")
    parser.add_argument("--hours", type=float, default=6.0, help="simulated hours, each case")
    parser.add_argument("--no-real", action="store_true", help="only the simulation")
    args = parser.parse_args()
    result: dict[str, Any] = {"loadavg_before": os.getloadavg(), "statusline_every_s": EVERY_S,
                              "poll_interval_s": 180}

    with Cleanup(limit_s=600) as cleanup:
        sims = {name: simulate(args.hours, cleanup.tempdir(), feed=name == "feed")
                for name in ("feed", "no_feed")}
    result["simulated"] = sims
    result["simulated_request_ratio_feed_vs_none"] = _ratio(
        sims["feed"]["requests_per_hour"], sims["no_feed"]["requests_per_hour"])
    print(f"simulated {args.hours:g} h, status line every {EVERY_S:g} s:")
    for name, row in sims.items():
        print(f"  {name:8} {row['usage_requests']} usage requests = "
              f"{row['requests_per_hour']}/h (busiest hour {row['busiest_rolling_hour']}), "
              f"phases {row['tray_phases']}, showing {row['shown_source_at_end']}")
    print(f"  requests per hour, feed / no feed = "
          f"{result['simulated_request_ratio_feed_vs_none']}")

    if not args.no_real:
        rows = real(args.minutes)
        result["real"] = rows
        feed, none = rows["feed"], rows["no_feed"]
        result["real_ratios_feed_vs_none"] = {
            "usage_requests": _ratio(feed["usage_requests_during"],
                                     none["usage_requests_during"]),
            "switches_per_min": _ratio(feed["switches_per_min"], none["switches_per_min"]),
            "cpu_ms_per_min": _ratio(feed["cpu_ms_per_min"], none["cpu_ms_per_min"]),
        }
        print(f"real, {feed['minutes']} min side by side, status line every {EVERY_S:g} s:")
        for name, row in rows.items():
            print(f"  {name:8} usage requests {row['usage_requests_during']} "
                  f"(+{row['usage_requests_before']} at start), "
                  f"wake-ups {row['switches_per_min']}/min "
                  f"({row['switches_near_events']} near events, "
                  f"{row['switches_between_events']} between), "
                  f"CPU {row['cpu_ms_per_min']} ms/min, pokes "
                  f"{row['statusline_saves_that_poked']}, runs {row['statusline_runs']}")
            if row["woken_between_events_by_thread"]:
                print(f"    woken between events: {row['woken_between_events_by_thread']}")
        print(f"  feed / no feed: {result['real_ratios_feed_vs_none']}")
    result["loadavg_after"] = os.getloadavg()
    write_results("feed", result)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
