"""Benchmark: usage requests per rolling hour against the request budget (issue 18).

Two parts.

**Simulated** (seconds of real time for many simulated hours): `tests/support/request_sim.py`
— the real `Services` (config.json, the shared gate, `TokenManager`, `UsageClient` over real
HTTP to the in-package fake server on 127.0.0.1), the tray's `Poller` and `statusline()` run as
another process, all on one simulated clock that the fake server shares (token lifetimes, 429
blocks). The default config (`poll_interval_seconds` 180, `max_requests_per_hour` 20) unless a
scenario says otherwise. Each scenario reports the usage requests, the busiest rolling hour, the
429s the server answered, the longest silence, and which states the tray showed.

**Real**: against the fake server, (a) 40 `claude-pulse status` runs in a row, (b) the tray
app on a private Xvfb + trayer with `claude-pulse statusline` (no feed) every second, (c) the
tray app whose first answer is a 429. The fake server counts the requests.

Targets (issue 18): busiest rolling hour ≤ 20 at the defaults (≤ 10 in the hour after a 429,
none for 20 min after `Retry-After: 0` and 75 min after `Retry-After: 3600`); 40 `status` runs
send at most 20 usage requests; the tray never shows "Rate-limited" unless the server sent a 429.
Run: `python bench/requests.py [--real-seconds 200] [--no-real]` (about 5 min).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from _harness import (
    REPO,
    Cleanup,
    app_env,
    cli_command,
    make_home,
    run_main,
    start_fake,
    start_tray_display,
    tray_home,
    write_results,
)

sys.path.insert(0, str(REPO / "tests"))
from support.request_sim import Sim, busiest_hour, start_sim

EPOCH = datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)
BUDGET = 20


# ---- the simulation --------------------------------------------------------------------------


@dataclass
class Scenario:
    name: str
    hours: float = 6.0
    config: dict[str, Any] = field(default_factory=dict)
    window_open: bool = True
    tray: bool = True
    statusline_every_s: float | None = None
    feed: bool = False  # Claude Code's rate_limits on the status line's stdin
    moving: bool = False  # usage changes between polls (a busy user)
    # Something the server does at 1 h: ("token" | "account") 429 block, or a budget per hour.
    block_at_1h: str | None = None
    server_budget: int | None = None
    refresh_during_cooldown: bool = False
    note: str = ""
    target: int = BUDGET  # busiest rolling hour allowed


def _feed(sim: Sim) -> bytes:
    now = sim.loop.now
    return json.dumps({"rate_limits": {
        "five_hour": {"used_percentage": 42.0,
                      "resets_at": int((now + timedelta(hours=2)).timestamp())},
        "seven_day": {"used_percentage": 20.0,
                      "resets_at": int((now + timedelta(days=3)).timestamp())}}}).encode()


def simulate(scenario: Scenario, home: Path) -> dict[str, Any]:
    sim = start_sim(home, EPOCH, config=scenario.config, window_open=scenario.window_open,
                    access_token_ttl=90 * 60.0 if scenario.refresh_during_cooldown else 8 * 3600)
    try:
        if not scenario.tray:
            sim.poller.stop()
        if scenario.moving:
            def moving() -> dict[str, Any]:
                minutes = (sim.loop.now - EPOCH).total_seconds() / 60
                return {"five_hour": {"utilization": float(int(minutes) % 90 + 5),
                                      "resets_at": (sim.loop.now + timedelta(hours=2)).isoformat()},
                        "seven_day": {"utilization": 20.0,
                                      "resets_at": (EPOCH + timedelta(days=3)).isoformat()}}
            sim.server.usage = moving
        if scenario.server_budget is not None:
            sim.server.limit_usage(scenario.server_budget)
        if scenario.statusline_every_s:
            sim.statusline_every(scenario.statusline_every_s,
                                 (lambda: _feed(sim)) if scenario.feed else (lambda: None))
        hit: datetime | None = None
        if scenario.block_at_1h:
            sim.run_for(timedelta(hours=1))
            sim.server.rate_limit(scenario.block_at_1h)  # type: ignore[arg-type]
            before = len(sim.usage_times())
            while len(sim.usage_times()) == before:
                sim.run_for(timedelta(seconds=10))
            hit = sim.usage_times()[-1]
            if scenario.refresh_during_cooldown:
                sim.run_for(timedelta(minutes=40) - (sim.loop.now - hit))
                sim.cli.tokens.refresh()
        sim.loop.run_until(EPOCH + timedelta(hours=scenario.hours))
        usage = sim.usage_times()
        gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(usage)]
        row: dict[str, Any] = {
            "scenario": scenario.name,
            "note": scenario.note,
            "simulated_hours": scenario.hours,
            "usage_requests": len(usage),
            "busiest_rolling_hour": busiest_hour(usage),
            "target": scenario.target,
            "server_429s": sim.server.rate_limits.refused,
            "token_requests": len(sim.token_times()),
            "longest_silence_min": round(max(gaps, default=0) / 60, 1),
            "tray_phases": sorted({s.phase.name for _, s in sim.phases}),
            "stale_status_lines": sum(1 for _, line in sim.lines if "stale" in line),
            "status_lines": len(sim.lines),
        }
        if hit is not None:
            after = [t for t in usage if t > hit]
            first = after[0] if after else None
            row["first_request_after_429_min"] = \
                round((first - hit).total_seconds() / 60, 1) if first else None
            row["in_hour_after_429"] = sum(1 for t in usage if hit <= t < hit + timedelta(hours=1))
            row["in_hour_after_cooldown"] = sum(
                1 for t in usage if first and first <= t < first + timedelta(hours=1))
        row["verdict"] = "met" if row["busiest_rolling_hour"] <= scenario.target else "MISSED"
        return row
    finally:
        sim.close()


def scenarios() -> list[Scenario]:
    return [
        Scenario("defaults: window open, statusline 1/s (no feed)", statusline_every_s=1.0,
                 note="issue 18's done-when case"),
        Scenario("defaults: window open, statusline 1/s, usage moving", statusline_every_s=1.0,
                 moving=True, hours=3.0),
        Scenario("defaults: window closed, usage unchanged", window_open=False,
                 note="idle: 360 s after 10 min, 900 s after 30 min"),
        Scenario("statusline 1/s alone (no tray, no feed)", tray=False, statusline_every_s=1.0,
                 hours=3.0),
        Scenario("tray + statusline 1/s with Claude Code's feed", statusline_every_s=1.0,
                 feed=True, hours=3.0),
        Scenario("429 Retry-After 0 at 1 h (per-token block, 20 min)", statusline_every_s=1.0,
                 block_at_1h="token", hours=4.0),
        Scenario("429 Retry-After 3600 at 1 h (per account) + a refresh at 40 min",
                 statusline_every_s=1.0, block_at_1h="account", refresh_during_cooldown=True,
                 hours=4.0),
        Scenario("server allows 28/h; defaults", server_budget=28, statusline_every_s=1.0,
                 note="the measured limit: never reached"),
        Scenario("server allows 28/h; user set 60 s and 60/h", server_budget=28,
                 config={"poll_interval_seconds": 60, "max_requests_per_hour": 60},
                 target=60, note="cooldowns in a row lengthen"),
    ]


# ---- the real runs ---------------------------------------------------------------------------


@dataclass
class RealRun:
    name: str
    fake: Any
    home: Path
    app: subprocess.Popen[Any] | None = None
    statusline_runs: int = 0
    statusline_lines: list[str] = field(default_factory=list)


def real_runs(cleanup: Cleanup, seconds: float) -> list[dict[str, Any]]:
    from claude_pulse.fake.replies import Reply

    display = start_tray_display(cleanup)
    scratch = cleanup.tempdir()
    runs: list[RealRun] = []
    envs: list[dict[str, str]] = []
    for name in ("tray + statusline every 1 s", "tray, first answer 429"):
        world = tray_home(cleanup, display, scratch=scratch)
        if name.endswith("429"):
            world.fake.queue("usage", Reply.rate_limited(retry_after=0))
        runs.append(RealRun(name, world.fake, world.home))
        envs.append(world.env)
    started = time.monotonic()
    for run, env in zip(runs, envs, strict=True):
        run.app = cleanup.popen(cli_command(), env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    busy = runs[0]
    stop = threading.Event()

    def statusline_loop() -> None:
        env = app_env(busy.home, scratch=scratch)
        next_at = time.monotonic()
        while not stop.is_set():
            proc = subprocess.run([*cli_command(), "statusline"], env=env,
                                  stdin=subprocess.DEVNULL, capture_output=True, timeout=30,
                                  check=False)
            busy.statusline_runs += 1
            busy.statusline_lines.append(proc.stdout.decode(errors="replace").strip())
            next_at += 1.0
            stop.wait(max(0.0, next_at - time.monotonic()))

    worker = threading.Thread(target=statusline_loop, daemon=True)
    worker.start()
    try:
        while time.monotonic() - started < seconds:
            time.sleep(1.0)
            for run in runs:
                if run.app is not None and run.app.poll() is not None:
                    err = run.app.stderr.read().decode(errors="replace") if run.app.stderr \
                        else ""
                    raise SystemExit(f"bench: the app ({run.name}) exited early: {err.strip()}")
    finally:
        stop.set()
        worker.join(timeout=35)
    elapsed = time.monotonic() - started
    out = []
    for run in runs:
        usage = run.fake.requests_to("usage")
        first = usage[0].at if usage else None
        out.append({
            "scenario": run.name,
            "seconds": round(elapsed, 1),
            "usage_requests": len(usage),
            "token_requests": len(run.fake.requests_to("token")),
            "usage_request_offsets_s": [round(r.at - first, 1) for r in usage] if first else [],
            "statusline_runs": run.statusline_runs or None,
            "statusline_distinct_lines": sorted(set(run.statusline_lines))[:5] or None,
        })
    return out


def status_runs(cleanup: Cleanup, runs: int = 40) -> dict[str, Any]:
    fake = start_fake(cleanup)
    home = make_home(cleanup, fake)
    env = app_env(home)
    codes = []
    for _ in range(runs):
        proc = subprocess.run([*cli_command(), "status"], env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=60, check=False)
        codes.append(proc.returncode)
    usage = len(fake.requests_to("usage"))
    return {"scenario": f"{runs} status runs in a row", "usage_requests": usage,
            "exit_codes": sorted(set(codes)), "target": BUDGET,
            "verdict": "met" if usage <= BUDGET and set(codes) == {0} else "MISSED"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real-seconds", type=float, default=200.0)
    parser.add_argument("--no-real", action="store_true", help="only the simulation")
    args = parser.parse_args()

    result: dict[str, Any] = {"loadavg_before": os.getloadavg()}
    with Cleanup(limit_s=args.real_seconds + 400) as cleanup:
        root = cleanup.tempdir("pulse-sim-")
        started = time.monotonic()
        sims = [simulate(s, root / f"s{i}") for i, s in enumerate(scenarios())]
        result["simulated"] = sims
        result["simulation_seconds"] = round(time.monotonic() - started, 1)
        print(f"simulated ({result['simulation_seconds']} s of real time):")
        print(f"  {'scenario':64} {'reqs':>5} {'max/h':>5} {'429s':>4} {'silence':>8}  verdict  "
              "tray")
        for s in sims:
            print(f"  {s['scenario']:64} {s['usage_requests']:>5} {s['busiest_rolling_hour']:>5} "
                  f"{s['server_429s']:>4} {s['longest_silence_min']:>6}m  {s['verdict']:7}  "
                  f"{','.join(s['tray_phases'])}")
            if "first_request_after_429_min" in s:
                print(f"      after the 429: first request {s['first_request_after_429_min']} min"
                      f", {s['in_hour_after_429']} in the hour after it, "
                      f"{s['in_hour_after_cooldown']} in the hour after the cooldown")
        if not args.no_real:
            status = status_runs(cleanup)
            print(f"real: {status['scenario']}: {status['usage_requests']} usage requests "
                  f"(target ≤ {BUDGET}), exit codes {status['exit_codes']}")
            print(f"real runs ({args.real_seconds:.0f} s, defaults, in parallel):")
            real = real_runs(cleanup, args.real_seconds)
            for row in real:
                print(f"  {row['scenario']:34} usage {row['usage_requests']:3}  token "
                      f"{row['token_requests']}  statusline runs {row['statusline_runs'] or '-'}")
                print(f"      at s: {row['usage_request_offsets_s']}")
            result["real"] = [status, *real]
    result["loadavg_after"] = os.getloadavg()
    rows = result["simulated"] + [r for r in result.get("real", []) if "verdict" in r]
    quiet = all(s["tray_phases"] in (["LOADING", "OK"], ["OK"], [])
                for s in result["simulated"] if not s["server_429s"])
    result["verdict"] = "met" if all(r["verdict"] == "met" for r in rows) and quiet else "MISSED"
    print(f"verdict: {result['verdict']}")
    write_results("requests", result)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
