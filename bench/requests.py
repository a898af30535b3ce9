"""Benchmark: usage requests per hour (steady state, after a 429, with a busy statusline).

Two parts.

**Simulated** (seconds of real time for many simulated hours). The real tray driver
(`services.poller.Poller`, whose decisions are `core.polling.step`), the real shared gate
(`services.gate.RequestGate`, file-locked, in a temporary home), the real `UsageFetcher` and
snapshot store, and the real `statusline()` of `commands.statusline` all run on one simulated
clock. Only the usage client is scripted (it answers 200, 429 or 503 as the scenario says, and
records when it was called) and the scheduler is a heap of simulated times. A request takes
`FETCH_LATENCY_S` from its start (when the gate records it) to its answer (when the snapshot is
stamped and the tray hears of it); each process sees the clock through its own `CallerClock`.
Each scenario reports the usage requests in the busiest rolling hour and the steady rate (after
a warm-up), against the gate's ceiling for its interval (`services.gate`), and how often the
tray was turned away by the shared gate (a user-visible "rate-limited" state; expected only
where the server sends 429s).

**Real** (3 minutes, in parallel, on a private Xvfb + trayer): the tray app `claude-pulse`
against the in-package fake server with `poll_interval_seconds` 30 (the shortest allowed), (a)
alone, (b) with `claude-pulse statusline` (no Claude Code feed) spawned every second, (c) with
the server's first answer a 429. The fake server counts usage and token requests; each real
count is printed next to the same scenario simulated for the same time, to confirm the model.

Targets (issue 9): each scenario at or under the ceiling; zero token-endpoint calls except
refreshes (the token here is fresh for 8 h, so zero).
Run: `python bench/requests.py [--real-seconds 180] [--no-real]` (about 3.5 min).
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from _harness import (
    Cleanup,
    app_env,
    cli_command,
    make_home,
    run_main,
    start_fake,
    start_trayer,
    start_xvfb,
    write_results,
)

FETCH_LATENCY_S = 0.3  # request to answer, the real endpoint, roughly
HANDOFF_S = 0.002  # timer fired -> the fetch worker starts the request
LOCAL_LATENCY_S = 0.01  # the fake server on loopback
EPOCH = datetime(2026, 11, 28, 9, 0, tzinfo=timezone.utc)


# ---- the simulation --------------------------------------------------------------------------


class SimClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


class CallerClock:
    """One process's view of the simulated clock.

    While that process waits for the server's answer, its clock reads `offset_s` ahead: the
    gate records the request when it starts, the snapshot is stamped when the answer is in.
    """

    def __init__(self, sim: SimClock) -> None:
        self.sim = sim
        self.offset_s = 0.0

    def __call__(self) -> datetime:
        return self.sim.now + timedelta(seconds=self.offset_s)


class CallerClient:
    """The scripted endpoint as one process calls it: the answer takes `latency_s`."""

    def __init__(self, server: Server, clock: CallerClock, latency_s: float) -> None:
        self.server, self.clock, self.latency_s = server, clock, latency_s

    def fetch_usage(self) -> tuple[dict[str, Any], Any]:
        from claude_pulse.core.usage import parse_usage

        try:
            raw = self.server.fetch_usage()
            return raw, parse_usage(raw)
        finally:
            self.clock.offset_s = self.latency_s


class SimLoop:
    """A heap of (time, seq, fn): the Tk scheduler and the fetch worker, on simulated time."""

    def __init__(self, clock: SimClock) -> None:
        self.clock = clock
        self._heap: list[tuple[datetime, int, Callable[[], None]]] = []
        self._seq = itertools.count()

    def at(self, when: datetime, fn: Callable[[], None]) -> Callable[[], None]:
        cancelled = [False]

        def run() -> None:
            if not cancelled[0]:
                fn()

        heapq.heappush(self._heap, (max(when, self.clock.now), next(self._seq), run))

        def cancel() -> None:
            cancelled[0] = True

        return cancel

    def call_later(self, delay_s: float, fn: Callable[[], None]) -> Callable[[], None]:
        return self.at(self.clock.now + timedelta(seconds=delay_s), fn)

    def post(self, fn: Callable[[], None]) -> None:
        self.at(self.clock.now, fn)

    def run_until(self, end: datetime) -> None:
        while self._heap and self._heap[0][0] <= end:
            when, _, fn = heapq.heappop(self._heap)
            self.clock.now = when
            fn()
        self.clock.now = end


@dataclass
class Server:
    """The scripted usage endpoint: what it answers at a simulated time."""

    clock: SimClock
    moving: bool = True  # usage moves between polls (a busy user) or stays put (idle)
    answer: Callable[[datetime, int], tuple[int, float | None]] = \
        field(default=lambda _now, _n: (200, None))
    calls: list[datetime] = field(default_factory=list)

    def fetch_usage(self) -> dict[str, Any]:
        from claude_pulse.errors import RateLimited, ServerError

        now = self.clock.now
        self.calls.append(now)
        status, retry_after = self.answer(now, len(self.calls))
        if status == 429:
            raise RateLimited("rate limited", retry_after)
        if status >= 500:
            raise ServerError("server error", status)
        minutes = (now - EPOCH).total_seconds() / 60
        session = (int(minutes) % 90) + 5.0 if self.moving else 42.0
        return {
            "five_hour": {"utilization": session,
                          "resets_at": (EPOCH + timedelta(hours=5)).isoformat()},
            "seven_day": {"utilization": 20.0,
                          "resets_at": (EPOCH + timedelta(days=3)).isoformat()},
        }


class NullNotifier:
    def notify(self, alert: object) -> None:
        pass


@dataclass
class Scenario:
    name: str
    hours: float = 3.0
    interval_s: int = 60
    moving: bool = True
    window_visible: bool = False
    tray: bool = True
    statusline_every_s: float | None = None
    statusline_feed: bool = False
    answer: Callable[[datetime, int], tuple[int, float | None]] = \
        field(default=lambda _now, _n: (200, None))
    measure_from_h: float = 1.0  # steady state: ignore the first hour (the stretch ramps up)
    note: str = ""
    latency_s: float = FETCH_LATENCY_S  # how long the tray's fetch takes


def services_for(home: Path, clock: CallerClock, client: CallerClient, interval_s: int) -> Any:
    from claude_pulse import config as config_mod
    from claude_pulse.core.polling import PollPolicy
    from claude_pulse.home import Home
    from claude_pulse.services.settings import Settings
    from claude_pulse.wiring import Services

    cfg = config_mod.parse({"poll_interval_seconds": interval_s}).config
    return Services(Home(home), Settings.of(cfg), clock=clock,
                    usage_client=client,  # the one scripted part
                    notifier=NullNotifier(), rng=random.Random(7),
                    poll_policy=lambda _config: PollPolicy(base_interval_s=float(interval_s)))


def simulate(scenario: Scenario, home: Path) -> dict[str, Any]:
    from claude_pulse.commands.statusline import statusline
    from claude_pulse.core.tokens import TokenSet
    from claude_pulse.services.credentials import CredentialStore

    clock = SimClock(EPOCH)
    loop = SimLoop(clock)
    server = Server(clock, moving=scenario.moving, answer=scenario.answer)
    home.mkdir(parents=True, exist_ok=True)
    CredentialStore(home / "credentials.json").save(TokenSet(
        "sk-ant-oat01-bench", "sk-ant-ort01-bench", EPOCH + timedelta(days=30),
        scope="user:inference user:profile", email="bench@example.com"))
    refused: list[str] = []
    phases: list[str] = []

    tray_clock = CallerClock(clock)

    class SimWorker:
        """The fetch thread: picks each job up at once, on simulated time."""

        def submit(self, job: Callable[[], None]) -> None:
            loop.call_later(HANDOFF_S, lambda: self._timed(job))

        def stop(self) -> None:
            pass

        def _timed(self, job: Callable[[], None]) -> None:
            tray_clock.offset_s = 0.0
            try:
                job()  # posts its result when the answer is in
            finally:
                tray_clock.offset_s = 0.0

    def tray_post(fn: Callable[[], None]) -> None:
        loop.at(tray_clock(), fn)

    poller = None
    ceiling = 0
    if scenario.tray:
        tray_services = services_for(home, tray_clock,
                                     CallerClient(server, tray_clock, scenario.latency_s),
                                     scenario.interval_s)
        poller = tray_services.poller(
            scheduler=loop, post=tray_post, on_status=lambda s: phases.append(s.phase.name),
            worker=SimWorker(),
        )
        ceiling = tray_services.gate.ceiling
        loop.post(poller.start)
        if scenario.window_visible:
            loop.post(lambda: poller.set_window_visible(True))
    if scenario.statusline_every_s:
        cli_clock = CallerClock(clock)
        cli_services = services_for(home, cli_clock,
                                    CallerClient(server, cli_clock, scenario.latency_s),
                                    scenario.interval_s)
        every = scenario.statusline_every_s
        ceiling = ceiling or cli_services.gate.ceiling

        def feed() -> bytes | None:
            if not scenario.statusline_feed:
                return None
            return json.dumps({"rate_limits": {
                "five_hour": {"used_percentage": 42.0,
                              "resets_at": int((EPOCH + timedelta(hours=5)).timestamp())},
                "seven_day": {"used_percentage": 20.0,
                              "resets_at": int((EPOCH + timedelta(days=3)).timestamp())}}}
            ).encode()

        def tick() -> None:
            cli_clock.offset_s = 0.0
            line, _code = statusline(cli_services, feed())
            cli_clock.offset_s = 0.0
            if "ceiling" in line or "rate" in line.lower():
                refused.append(line)
            loop.call_later(every, tick)

        loop.call_later(0.5, tick)
    loop.run_until(EPOCH + timedelta(hours=scenario.hours))
    if poller is not None:
        poller.stop()

    start = EPOCH + timedelta(hours=scenario.measure_from_h)
    calls = [c for c in server.calls if c >= start]
    span_h = scenario.hours - scenario.measure_from_h
    busiest = max_in_window(server.calls, timedelta(hours=1))
    ceiling_hits = sum(1 for p in phases if p == "RATE_LIMITED")
    return {
        "scenario": scenario.name,
        "note": scenario.note,
        "interval_s": scenario.interval_s,
        "simulated_hours": scenario.hours,
        "requests_total": len(server.calls),
        "steady_per_hour": round(len(calls) / span_h, 1) if span_h > 0 else None,
        "busiest_rolling_hour": busiest,
        "ceiling": ceiling,
        "verdict": "met" if busiest <= ceiling else "MISSED",
        "tray_rate_limited_phases": ceiling_hits,
        "statusline_refused_lines": len(refused),
        "calls_first_10_min": [round((c - EPOCH).total_seconds(), 1) for c in server.calls
                               if c < EPOCH + timedelta(minutes=10)],
    }


def max_in_window(times: list[datetime], window: timedelta) -> int:
    best = 0
    j = 0
    ordered = sorted(times)
    for i, t in enumerate(ordered):
        while ordered[j] <= t - window:
            j += 1
        best = max(best, i - j + 1)
    return best


def scenarios() -> list[Scenario]:
    at_30min = EPOCH + timedelta(minutes=30)

    def one_429(now: datetime, _n: int) -> tuple[int, float | None]:
        # The first answer after 0:30 is a 429 with `retry-after: 0` (seen in the wild).
        return (429, 0.0) if at_30min <= now < at_30min + timedelta(seconds=61) else (200, None)

    def always_429(_now: datetime, _n: int) -> tuple[int, float | None]:
        return 429, 0.0

    def always_503(_now: datetime, _n: int) -> tuple[int, float | None]:
        return 503, None

    return [
        Scenario("steady, usage moving", note="a busy user: values change every poll"),
        Scenario("steady, usage unchanged", moving=False, hours=4.0,
                 note="idle: the interval stretches to 120 s after 10 min, 300 s after 30 min"),
        Scenario("steady, window visible", moving=False, window_visible=True),
        Scenario("one 429 (retry-after 0) at 0:30", answer=one_429, hours=2.0,
                 measure_from_h=0.5, note="the hour after the 429"),
        Scenario("429 on every request", answer=always_429, hours=3.0,
                 note="cooldown max(Retry-After, 300 s)"),
        Scenario("429 on every request, Retry-After 3600",
                 answer=lambda _n, _c: (429, 3600.0), hours=3.0),
        Scenario("503 on every request", answer=always_503, hours=3.0, note="back-off to 900 s"),
        Scenario("statusline every 1 s alone (no feed)", tray=False, statusline_every_s=1.0,
                 hours=2.0),
        Scenario("tray + statusline every 1 s (no feed), usage moving", statusline_every_s=1.0,
                 hours=2.0, note="the busy Claude Code case"),
        Scenario("tray + statusline every 1 s (no feed), usage unchanged", moving=False,
                 statusline_every_s=1.0, hours=2.0),
        Scenario("tray + statusline every 1 s with Claude Code's feed", statusline_every_s=1.0,
                 statusline_feed=True, hours=2.0),
        Scenario("tray alone at the shortest interval (30 s)", interval_s=30, hours=2.0,
                 note="the shortest interval config.py allows"),
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

    display = start_xvfb(cleanup)
    start_trayer(cleanup, display)
    cfg = {"poll_interval_seconds": 30}
    runs: list[RealRun] = []
    for name in ("tray alone", "tray + statusline every 1 s", "tray, first answer 429"):
        fake = start_fake(cleanup)
        if name.endswith("429"):
            fake.queue("usage", Reply.rate_limited(retry_after=0))
        runs.append(RealRun(name, fake, make_home(cleanup, fake, config=cfg)))
    scratch = cleanup.tempdir()
    started = time.monotonic()
    for run in runs:
        env = app_env(run.home, display=display, scratch=scratch,
                      extra={"PYSTRAY_BACKEND": "xorg"})
        run.app = cleanup.popen(cli_command(), env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    busy = runs[1]
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


def simulated_counterparts(seconds: float, home_root: Path) -> dict[str, int]:
    """The real scenarios, simulated for the same time, for comparison."""
    hours = seconds / 3600

    def first_429(_now: datetime, n: int) -> tuple[int, float | None]:
        return (429, 0.0) if n == 1 else (200, None)

    counterparts = {
        "tray alone": Scenario("", interval_s=30, hours=hours, measure_from_h=0,
                               latency_s=LOCAL_LATENCY_S),
        "tray + statusline every 1 s": Scenario("", interval_s=30, hours=hours,
                                                statusline_every_s=1.0, measure_from_h=0,
                                                latency_s=LOCAL_LATENCY_S),
        "tray, first answer 429": Scenario("", interval_s=30, hours=hours, answer=first_429,
                                           measure_from_h=0, latency_s=LOCAL_LATENCY_S),
    }
    return {name: simulate(s, home_root / f"cmp{i}")["requests_total"]
            for i, (name, s) in enumerate(counterparts.items())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real-seconds", type=float, default=180.0)
    parser.add_argument("--no-real", action="store_true", help="only the simulation")
    args = parser.parse_args()

    result: dict[str, Any] = {"loadavg_before": os.getloadavg()}
    with Cleanup(limit_s=args.real_seconds + 150) as cleanup:
        root = cleanup.tempdir("pulse-sim-")
        started = time.monotonic()
        sims = [simulate(s, root / f"s{i}") for i, s in enumerate(scenarios())]
        result["simulated"] = sims
        result["simulation_seconds"] = round(time.monotonic() - started, 1)
        print(f"simulated ({result['simulation_seconds']} s of real time):")
        print(f"  {'scenario':58} {'steady/h':>8} {'max/h':>6} {'ceiling':>7}  verdict  "
              "tray rate-limited")
        for s in sims:
            print(f"  {s['scenario']:58} {s['steady_per_hour']!s:>8} "
                  f"{s['busiest_rolling_hour']:>6} {s['ceiling']:>7}  {s['verdict']:7}  "
                  f"{s['tray_rate_limited_phases']}")
        if not args.no_real:
            print(f"real runs ({args.real_seconds:.0f} s, interval 30 s, in parallel):")
            real = real_runs(cleanup, args.real_seconds)
            expected = simulated_counterparts(args.real_seconds, root)
            for row in real:
                row["simulated_same_time"] = expected[row["scenario"]]
                print(f"  {row['scenario']:34} usage {row['usage_requests']:3} "
                      f"(simulated {row['simulated_same_time']:3})  token "
                      f"{row['token_requests']}  statusline runs "
                      f"{row['statusline_runs'] or '-'}")
                print(f"      at s: {row['usage_request_offsets_s']}")
            result["real"] = real
    result["loadavg_after"] = os.getloadavg()
    current = result["simulated"]
    result["verdict"] = "met" if all(s["verdict"] == "met" and not s["tray_rate_limited_phases"]
                                     for s in current if "429" not in s["scenario"]) \
        else "MISSED (ceiling reached: the tray showed 'rate-limited')"
    print(f"verdict: {result['verdict']}")
    write_results("requests", result)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
