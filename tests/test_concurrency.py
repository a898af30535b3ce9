"""Many processes, one login: the tray poller plus `status --json` and `statusline` at once.

A tray-like process (`tests/support/crash_tray.py`: the real Poller on real timers, "Refresh now"
pressed every second) runs beside three loops of `claude-pulse status --json` and one loop of
`claude-pulse statusline`, all on one home folder, against a fake server whose access tokens are
due for refresh a few seconds after they are issued (lifetime = the 5-minute refresh margin plus
`fresh_s`). Two scenarios, judged from the server's own records and the files:

* **refresh-and-ceiling** (at least 14 s, and on until the CLI reports the ceiling; tokens fresh
  for 2 s, 80 requests left in the hour): exactly one refresh per expiry — refresh requests are
  more than one fresh period less 1 s apart (the client stores `expires_at` rounded down to whole
  seconds; the fresh period is whole seconds because `expires_in` is an integer), each used a
  different refresh token, every one succeeded — and the shared hourly ceiling held: at most 80
  usage requests reached the server, the shared record counts every one of them (no lost update)
  and the CLI said the request budget was reached.
* **cooldown** (at least 7 s, and on until a `status` has reported the cooldown): the server
  answers the 3rd usage request with a 429. From the moment that process records the cooldown,
  the shared gate admits no usage request from any process (judged from the gate's own record:
  every request that reached the server was admitted, and every admission is stamped before the
  cooldown); requests admitted earlier may still be in flight and arrive after the 429, however
  slow a loaded machine makes them. Nothing refreshes (a new token would have a new rate-limit
  bucket, protocol.md §3.6, but refreshing needs a request).

In both: every command exits 0 with at most one line on stderr and no traceback (the one
exception, a cold start: a command started before any command had shown numbers may say there is
nothing to show yet — "no usage data yet", or rate-limited with no numbers — in one line, exit 1),
the tray never asks for a login, config.json is unchanged, snapshot and history are readable with
one history row per good answer, and the refresh token on disk still works. Each run lasts at
least its stated time and on until it has seen what it is about (at most MAX_EXTRA_S more), so a
loaded machine makes it longer rather than failed; the only time allowance left is half a second
for the gate lock's poll (see the cooldown test).
"""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from claude_pulse import config as config_mod
from claude_pulse.atomic import read_json
from claude_pulse.core.statusline import NO_DATA, rate_limited_line
from claude_pulse.core.tokens import REFRESH_MARGIN
from claude_pulse.fake.anthropic import FakeAnthropic, RecordedRequest, Reply
from claude_pulse.home import Home
from claude_pulse.services.credentials import CredentialStore
from claude_pulse.services.gate import RequestGate, cooldown_seconds
from claude_pulse.services.http import UrllibTransport
from claude_pulse.services.snapshot import SnapshotStore
from claude_pulse.services.tokens import TokenManager
from support.fixtures_server import seed_credentials

TRAY = Path(__file__).parent / "support" / "crash_tray.py"
STATUS_LOOPS = 3

POLL_INTERVAL_S = 60  # the shortest allowed
# Every process reads the same config, so they all enforce this hourly budget (the largest
# allowed, so that a run of seconds has requests to make).
CEILING = config_mod.MAX_REQUESTS_PER_HOUR
MIN_STATUS_RUNS, MIN_STATUSLINE_RUNS = 6, 2  # less would not be "at once"
# How long a run may go on waiting for its `until` condition before the test fails.
MAX_EXTRA_S = 60.0


@dataclass(frozen=True)
class Run:
    started: float  # time.monotonic(), the fake server's request clock too
    ended: float
    command: str
    code: int
    stdout: str
    stderr: str


@dataclass
class Outcome:
    runs: list[Run]
    tray_phases: list[str]
    refreshes: list[RecordedRequest]
    usage: list[RecordedRequest]
    server_refresh_count: int
    seconds: float
    gate: dict[str, Any]  # the shared request record at the end
    started_epoch: float  # time.time() when the processes started
    history_rows: int = 0
    summary: dict[str, object] = field(default_factory=dict)

    @property
    def statuses(self) -> list[Run]:
        return [r for r in self.runs if r.command == "status --json"]

    @property
    def lines(self) -> list[Run]:
        return [r for r in self.runs if r.command == "statusline"]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _loop(command: list[str], env: dict[str, str], go_on: Callable[[float], bool],
          out: list[Run]) -> None:
    while go_on(started := time.monotonic()):
        proc = subprocess.run([sys.executable, "-m", "claude_pulse", *command],
                              capture_output=True, text=True, timeout=60, env=env,
                              stdin=subprocess.DEVNULL)
        out.append(Run(started, time.monotonic(), " ".join(command), proc.returncode,
                       proc.stdout, proc.stderr))


def _everyone_at_once(home: Home, *, fresh_s: int, budget: int, seconds: float,
                      usage_replies: list[Reply],
                      until: Callable[[list[Run]], bool] = lambda runs: True) -> Outcome:
    """Run the tray and the CLI loops for `seconds` and then on until `until(runs)` (at most
    MAX_EXTRA_S more); check what every run must satisfy."""
    home.ensure()
    fake = FakeAnthropic(access_token_ttl=REFRESH_MARGIN.total_seconds() + fresh_s).start()
    try:
        settings = {**fake.config_overrides(), "callback_port": 0,
                    "poll_interval_seconds": POLL_INTERVAL_S, "max_requests_per_hour": CEILING}
        home.config.write_text(json.dumps(settings), encoding="utf-8")
        config_bytes = home.config.read_bytes()
        seed_credentials(home.root, fake, now=_now())
        gate = RequestGate(home.gate, home.gate_lock, lambda: CEILING)
        earlier = _now() - timedelta(minutes=30)
        for _ in range(CEILING - budget):  # the hour already used most of its budget
            gate.acquire(earlier)
        fake.queue("usage", *usage_replies)

        env = {**os.environ, "CLAUDE_PULSE_HOME": str(home.root)}
        started_epoch, started = time.time(), time.monotonic()
        deadline = started + seconds
        runs: list[Run] = []

        def go_on(now: float) -> bool:
            return now < deadline or (now < deadline + MAX_EXTRA_S and not until(runs))

        # The tray runs until its stdin closes, i.e. as long as the CLI loops.
        tray = subprocess.Popen([sys.executable, str(TRAY), str(seconds + MAX_EXTRA_S + 30)],
                                env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        loops = [threading.Thread(target=_loop, args=(["status", "--json"], env, go_on, runs))
                 for _ in range(STATUS_LOOPS)]
        loops.append(threading.Thread(target=_loop, args=(["statusline"], env, go_on, runs)))
        for thread in loops:
            thread.start()
        for thread in loops:
            thread.join(timeout=seconds + MAX_EXTRA_S + 60)
        tray_out, tray_err = tray.communicate(timeout=60)
        elapsed = time.monotonic() - started

        requests = fake.requests
        outcome = Outcome(
            runs=runs,
            tray_phases=[json.loads(line).get("phase") for line in tray_out.splitlines()],
            refreshes=[r for r in requests if r.endpoint == "token" and isinstance(r.json, dict)
                       and r.json.get("grant_type") == "refresh_token"],
            usage=[r for r in requests if r.endpoint == "usage"],
            server_refresh_count=fake.refresh_count,
            seconds=round(elapsed, 1),
            gate=read_json(home.gate),
            started_epoch=started_epoch,
        )
        # The login survives: the refresh token on disk is the live one.
        config = config_mod.load(home.config).config
        TokenManager(CredentialStore(home.credentials), UrllibTransport(), lambda: config,
                     clock=_now,
                     lock_path=home.credentials_lock).refresh()
        assert fake.refresh_count == outcome.server_refresh_count + 1
    finally:
        fake.stop()

    # Processes: no failure, no traceback, no login prompt.
    assert tray.returncode == 0, tray_err
    assert "Traceback" not in tray_err
    # The tray shows numbers or says it is rate-limited; it never asks for a login or errs.
    assert set(outcome.tray_phases) <= {"LOADING", "OK", "RATE_LIMITED"}, tray_out
    assert {"OK", "RATE_LIMITED"} & set(outcome.tray_phases), tray_out
    assert len(outcome.statuses) >= MIN_STATUS_RUNS and len(outcome.lines) >= MIN_STATUSLINE_RUNS
    # A command that exits 0 has shown numbers, so the shared snapshot existed when it ended.
    no_numbers = {NO_DATA}  # what statusline says with nothing to show, and during a cooldown:
    if outcome.gate.get("cooldown_until"):
        no_numbers.add(rate_limited_line(
            datetime.fromtimestamp(outcome.gate["cooldown_until"], tz=timezone.utc),
            hour24=config.hour24))
    first_numbers = min((r.ended for r in runs if r.code == 0), default=float("inf"))
    for run in runs:
        # Cold start only: the first fetch is still in flight, or the 429 came before any good
        # answer was saved, so there is nothing to show yet; the command says so in one line
        # (documented exit 1) rather than fetch a second time. A command started after another
        # one showed numbers always finds the snapshot.
        cold = run.code == 1 and run.started < first_numbers and (
            run.stdout.strip() in no_numbers if run.command == "statusline"
            else run.stdout == "" and "rate-limited" in run.stderr)
        assert run.code == 0 or cold, run
        assert "Traceback" not in run.stderr and len(run.stderr.splitlines()) <= 1, run
    for run in outcome.statuses:
        if run.code == 0:
            json.loads(run.stdout)  # one JSON object, always
    for run in outcome.lines:
        assert len(run.stdout.splitlines()) == 1 and "error" not in run.stdout, run

    # Refreshes: never the same refresh token twice, and all of them succeeded.
    used = [r.json["refresh_token"] for r in outcome.refreshes if isinstance(r.json, dict)]
    assert len(set(used)) == len(used)
    assert outcome.server_refresh_count == len(outcome.refreshes)

    # Files.
    assert home.config.read_bytes() == config_bytes
    assert SnapshotStore(home.snapshot).load() is not None
    state = outcome.gate
    assert len(state["requests"]) == CEILING - budget + len(outcome.usage)
    conn = sqlite3.connect(str(home.history))
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        outcome.history_rows = int(conn.execute("SELECT count(*) FROM samples").fetchone()[0])
    finally:
        conn.close()
    outcome.summary = {"seconds": outcome.seconds, "status_runs": len(outcome.statuses),
                       "statusline_runs": len(outcome.lines),
                       "tray_status_changes": len(outcome.tray_phases),
                       "refreshes": len(outcome.refreshes), "usage_requests": len(outcome.usage),
                       "history_rows": outcome.history_rows}
    return outcome


def _report(name: str, summary: dict[str, object]) -> None:
    print(f"concurrency {name}: {summary}")
    target = os.environ.get("PULSE_CONCURRENCY_REPORT")
    if target:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"scenario": name, **summary}) + "\n")


@pytest.mark.slow
def test_one_refresh_per_expiry_and_the_hourly_ceiling_hold(pulse_home: Path) -> None:
    fresh_s, budget = 2, 80
    out = _everyone_at_once(Home(pulse_home), fresh_s=fresh_s, budget=budget, seconds=14.0,
                            usage_replies=[], until=_reached_ceiling)
    times = [r.at for r in out.refreshes]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    _report("refresh-and-ceiling", {**out.summary, "budget": budget,
                                    "min_refresh_gap_s": round(min(gaps), 2) if gaps else None})

    assert len(out.refreshes) >= 2, "too little demand to exercise refreshes"
    # One refresh per expiry, none early: a second process refreshing the same expiry would come
    # within milliseconds of the first. A refresh at `now` stores expires_at = floor(now +
    # margin + fresh_s), due floor(now + fresh_s) > now + fresh_s - 1; load only delays refreshes.
    assert all(gap > fresh_s - 1.0 for gap in gaps), gaps
    assert len(out.usage) <= budget
    assert _reached_ceiling(out.runs), "the run never reached the ceiling"
    assert out.history_rows == len(out.usage)  # one row per good answer


def _enough_after_the_429(runs: list[Run]) -> bool:
    statuses = [r for r in runs if r.command == "status --json"]
    return len(statuses) >= MIN_STATUS_RUNS and \
        len(runs) - len(statuses) >= MIN_STATUSLINE_RUNS and \
        any("rate-limited" in r.stderr for r in statuses)


def _reached_ceiling(runs: list[Run]) -> bool:
    return any("request budget" in r.stderr for r in runs if r.command == "status --json")


@pytest.mark.slow
def test_a_429_silences_every_process(pulse_home: Path) -> None:
    rate_limited_at = 3
    out = _everyone_at_once(Home(pulse_home), fresh_s=60, budget=CEILING, seconds=7.0,
                            usage_replies=[*[Reply(passthrough=True)] * (rate_limited_at - 1),
                                           Reply.rate_limited(retry_after=0)],
                            until=_enough_after_the_429)
    # The process that got the 429 recorded the cooldown at `noted` (cooldown_until less
    # max(Retry-After 0, 300 s)).
    noted = out.gate["cooldown_until"] - cooldown_seconds(0)
    admitted = sorted(t for t in out.gate["requests"] if t >= out.started_epoch)
    _report("cooldown", {**out.summary, "arrived_after_429_s": [round(r.at - out.usage[
        rate_limited_at - 1].at, 3) for r in out.usage[rate_limited_at - 1:]],
        "admitted_after_noted_s": [round(t - noted, 3) for t in admitted if t > noted - 1]})

    assert len(out.usage) >= rate_limited_at
    assert noted > out.started_epoch
    # Every request that reached the server was admitted by the gate (checked above: the record
    # counts them all); none was admitted after the cooldown was recorded. Slack: an admission
    # is stamped just before the gate's lock is taken, so one process may stamp while the
    # recording process waits a lock poll (50 ms) for the lock, and still get in first.
    late = [round(t - noted, 3) for t in admitted if t > noted + 0.5]
    assert late == [], f"usage requests admitted during the cooldown: {late}"
    assert out.refreshes == []  # tokens fresh for a minute: nothing to refresh, nothing clears it
    assert any("rate-limited" in r.stderr for r in out.statuses)
    assert "RATE_LIMITED" in out.tray_phases
    assert out.history_rows == len(out.usage) - 1
