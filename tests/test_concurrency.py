"""Many processes, one login: the tray poller plus `status --json` and `statusline` at once.

A tray-like process (`tests/support/crash_tray.py`: the real Poller on real timers, "Refresh now"
pressed every second) runs beside three loops of `claude-pulse status --json` and one loop of
`claude-pulse statusline`, all on one home folder, against a fake server whose access tokens are
due for refresh a few seconds after they are issued (lifetime = the 5-minute refresh margin plus
`fresh_s`). Two scenarios, judged from the server's own records and the files:

* **refresh-and-ceiling** (14 s, tokens fresh for 1.5 s, 60 requests left in the hour):
  exactly one refresh per expiry — refresh requests are at least one fresh period apart (less 1 s:
  `expires_at` is stored in whole seconds), each used a different refresh token, every one
  succeeded — and the shared hourly ceiling held: at most 60 usage requests reached the server,
  the shared record counts every one of them (no lost update) and the CLI said "ceiling".
* **cooldown** (7 s): the server answers the 3rd usage request with a 429. From then on no
  process sends a usage request until a refresh brings a new token (a new token has a new
  rate-limit bucket, protocol.md §3.6) — and nothing refreshes without a request, so none at all.

In both: every command exits 0 with at most one line on stderr and no traceback (the one
exception: `statusline` may say "no usage data yet", exit 1, while the very first fetch of the run
is still in flight), the tray never asks for a login, config.json is unchanged, snapshot and
history are readable with one history row per good answer, and the refresh token on disk still
works.
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
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from claude_pulse import config as config_mod
from claude_pulse.atomic import read_json
from claude_pulse.core.statusline import NO_DATA
from claude_pulse.core.tokens import REFRESH_MARGIN, TokenSet
from claude_pulse.fake.anthropic import FakeAnthropic, RecordedRequest, Reply
from claude_pulse.home import Home
from claude_pulse.services.credentials import CredentialStore
from claude_pulse.services.gate import RequestGate
from claude_pulse.services.http import UrllibTransport
from claude_pulse.services.snapshot import SnapshotStore
from claude_pulse.services.tokens import TokenManager

TRAY = Path(__file__).parent / "support" / "crash_tray.py"
STATUS_LOOPS = 3

POLL_INTERVAL_S = 60  # the shortest allowed
# Every process reads the same config, so they all enforce this hourly budget (the largest
# allowed, so that a run of seconds has requests to make).
CEILING = config_mod.MAX_REQUESTS_PER_HOUR


@dataclass(frozen=True)
class Run:
    started: float  # time.monotonic(), the fake server's request clock too
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


def _loop(command: list[str], env: dict[str, str], deadline: float, out: list[Run]) -> None:
    while (started := time.monotonic()) < deadline:
        proc = subprocess.run([sys.executable, "-m", "claude_pulse", *command],
                              capture_output=True, text=True, timeout=60, env=env,
                              stdin=subprocess.DEVNULL)
        out.append(Run(started, " ".join(command), proc.returncode, proc.stdout, proc.stderr))


def _everyone_at_once(home: Home, *, fresh_s: float, budget: int, seconds: float,
                      usage_replies: list[Reply]) -> Outcome:
    """Run the tray and the CLI loops for `seconds`; check what every run must satisfy."""
    home.ensure()
    fake = FakeAnthropic(access_token_ttl=REFRESH_MARGIN.total_seconds() + fresh_s).start()
    try:
        settings = {**fake.config_overrides(), "callback_port": 0,
                    "poll_interval_seconds": POLL_INTERVAL_S, "max_requests_per_hour": CEILING}
        home.config.write_text(json.dumps(settings), encoding="utf-8")
        config_bytes = home.config.read_bytes()
        tok = fake.issue_tokens()
        CredentialStore(home.credentials).save(TokenSet(
            tok["access_token"], tok["refresh_token"],
            _now() + timedelta(seconds=tok["expires_in"]), scope=tok["scope"],
            email=tok["account"]["email_address"]))
        gate = RequestGate(home.gate, home.gate_lock, lambda: CEILING)
        earlier = _now() - timedelta(minutes=30)
        for _ in range(CEILING - budget):  # the hour already used most of its budget
            gate.acquire(earlier)
        fake.queue("usage", *usage_replies)

        env = {**os.environ, "CLAUDE_PULSE_HOME": str(home.root)}
        started = time.monotonic()
        deadline = started + seconds
        tray = subprocess.Popen([sys.executable, str(TRAY), str(seconds)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        runs: list[Run] = []
        loops = [threading.Thread(target=_loop, args=(["status", "--json"], env, deadline, runs))
                 for _ in range(STATUS_LOOPS)]
        loops.append(threading.Thread(target=_loop, args=(["statusline"], env, deadline, runs)))
        for thread in loops:
            thread.start()
        for thread in loops:
            thread.join(timeout=seconds + 60)
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
    assert len(outcome.statuses) >= 6 and len(outcome.lines) >= 2
    for run in runs:
        # Cold start only: another process's first fetch is in flight, so there is nothing to
        # show yet; statusline says so (documented exit 1) rather than fetch a second time.
        cold = run.command == "statusline" and run.stdout.strip() == NO_DATA and \
            bool(outcome.usage) and run.started < outcome.usage[0].at + 1.0
        assert run.code == 0 or cold, run
        assert "Traceback" not in run.stderr and len(run.stderr.splitlines()) <= 1, run
    for run in outcome.statuses:
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
    state = read_json(home.gate)
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
    fresh_s, budget = 1.5, 60
    out = _everyone_at_once(Home(pulse_home), fresh_s=fresh_s, budget=budget, seconds=14.0,
                            usage_replies=[])
    times = [r.at for r in out.refreshes]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    _report("refresh-and-ceiling", {**out.summary, "budget": budget,
                                    "min_refresh_gap_s": round(min(gaps), 2) if gaps else None})

    assert len(out.refreshes) >= 2, "too little demand to exercise refreshes"
    # One refresh per expiry: a second process refreshing the same expiry would come within
    # milliseconds of the first; a token is due `fresh_s` (less the stored rounding) after it.
    assert all(gap >= fresh_s - 1.0 for gap in gaps), gaps
    assert len(out.usage) <= budget
    assert any("request budget" in r.stderr for r in out.statuses), \
        "the run never reached the ceiling"
    assert out.history_rows == len(out.usage)  # one row per good answer


@pytest.mark.slow
def test_a_429_silences_every_process(pulse_home: Path) -> None:
    rate_limited_at = 3
    out = _everyone_at_once(Home(pulse_home), fresh_s=60.0, budget=CEILING, seconds=7.0,
                            usage_replies=[*[Reply(passthrough=True)] * (rate_limited_at - 1),
                                           Reply.rate_limited(retry_after=0)])
    _report("cooldown", {**out.summary, "after_429_s": [round(r.at - out.usage[
        rate_limited_at - 1].at, 3) for r in out.usage[rate_limited_at - 1:]]})

    assert len(out.usage) >= rate_limited_at
    t429 = out.usage[rate_limited_at - 1].at
    # Requests that passed the gate before the 429 was recorded may still arrive just after it.
    late = [round(r.at - t429, 2) for r in out.usage if r.at > t429 + 1.0]
    assert late == [], f"usage requests during the cooldown: {late}"
    assert out.refreshes == []  # tokens fresh for a minute: nothing to refresh, nothing clears it
    assert any("rate-limited" in r.stderr for r in out.statuses)
    assert "RATE_LIMITED" in out.tray_phases
    assert out.history_rows == len(out.usage) - 1
