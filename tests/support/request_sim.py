"""The request-budget simulation: the whole app on a simulated clock against the fake server.

Real parts: `Services` (config.json, the shared gate, `TokenManager`, `UsageClient` over real
HTTP to `FakeAnthropic` on 127.0.0.1, the fetcher and the snapshot store), the tray's `Poller`
and `statusline()` from `commands.statusline`, run as another process would (its own `Services`
on the same home folder, so the gate file and its lock are what they share). Only time is
simulated: `SimulatedLoop` is the clock of the app and of the fake server (token lifetimes,
429 blocks), and the tray's scheduler, `post` and fetch worker, so hours run in seconds.

Every request the app sends is noted at its simulated time by the transport (`Sim.sent`), 429s
included. Used by tests/test_request_budget.py (the issue-18 proofs) and bench/requests.py.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from claude_pulse.commands.statusline import statusline
from claude_pulse.core.http import HttpResponse
from claude_pulse.core.status import AppStatus
from claude_pulse.core.tokens import TokenSet
from claude_pulse.fake.anthropic import PATHS, FakeAnthropic
from claude_pulse.fake.simulation import SimulatedLoop
from claude_pulse.home import Home
from claude_pulse.services.credentials import CredentialStore
from claude_pulse.services.http import UrllibTransport
from claude_pulse.services.poller import Poller
from claude_pulse.services.settings import Settings
from claude_pulse.wiring import Services
from support.fakes import RecordingNotifier

__all__ = ["Sim", "busiest_hour", "start_sim"]

HOUR = timedelta(hours=1)
_ENDPOINTS = {path: name for name, path in PATHS.items()}


class RecordingTransport:
    """The real transport; every request is noted with the simulated time it was sent at."""

    def __init__(self, loop: SimulatedLoop, sent: list[tuple[datetime, str]]) -> None:
        self._loop = loop
        self._sent = sent
        self._inner = UrllibTransport()

    def request(self, method: str, url: str, *, headers: Mapping[str, str],
                body: bytes | None = None, timeout: float) -> HttpResponse:
        path = "/" + url.split("://", 1)[-1].split("/", 1)[-1].split("?")[0]
        self._sent.append((self._loop.now, _ENDPOINTS.get(path, path)))
        return self._inner.request(method, url, headers=headers, body=body, timeout=timeout)


@dataclass
class Sim:
    loop: SimulatedLoop
    server: FakeAnthropic
    tray: Services
    cli: Services
    poller: Poller
    sent: list[tuple[datetime, str]]
    phases: list[tuple[datetime, AppStatus]] = field(default_factory=list)
    lines: list[tuple[datetime, str]] = field(default_factory=list)

    def usage_times(self, since: datetime | None = None,
                    until: datetime | None = None) -> list[datetime]:
        return [t for t, what in self.sent if what == "usage"
                and (since is None or t >= since) and (until is None or t < until)]

    def token_times(self) -> list[datetime]:
        return [t for t, what in self.sent if what == "token"]

    def run_for(self, span: timedelta) -> None:
        self.loop.run_until(self.loop.now + span)

    def statusline_every(self, seconds: float, feed: Callable[[], bytes | None] = lambda: None,
                         *, poke: bool = False) -> None:
        """`claude-pulse statusline` every `seconds`, as Claude Code runs it (no feed: None).
        With `poke`, a run that saved a new snapshot tells the tray, as `platform.poke` does
        over the single-instance socket (the simulation has no socket: it is one thread)."""

        def tick() -> None:
            before = self.cli.snapshots.load() if poke else None
            line, _code = statusline(self.cli, feed())
            self.lines.append((self.loop.now, line))
            if poke and self.cli.snapshots.load() != before:
                self.poller.feed_updated()
            self.loop.call_later(seconds, tick)

        self.loop.call_later(seconds, tick)

    def every(self, seconds: float, fn: Callable[[], object]) -> None:
        def tick() -> None:
            fn()
            self.loop.call_later(seconds, tick)

        self.loop.call_later(seconds, tick)

    def close(self) -> None:
        self.poller.stop()
        for services in (self.tray, self.cli):
            services.close()
        self.server.stop()


def start_sim(home: Path, start: datetime, *, config: Mapping[str, Any] | None = None,
              window_open: bool = True, access_token_ttl: float = 8 * 3600.0,
              seed: int = 18) -> Sim:
    """The tray app started (logged in, its window open) at `start`, with `config` on top of
    the defaults; call `run_for` to let time pass."""
    loop = SimulatedLoop(start)
    server = FakeAnthropic(clock=loop.timestamp, access_token_ttl=access_token_ttl).start()
    root = Home(home)
    root.ensure()
    root.config.write_text(json.dumps({**server.config_overrides(), "callback_port": 0,
                                       **(config or {})}), encoding="utf-8")
    minted = server.issue_tokens()
    CredentialStore(root.credentials).save(TokenSet(
        minted["access_token"], minted["refresh_token"],
        start + timedelta(seconds=float(minted["expires_in"])), scope=str(minted["scope"]),
        email=str(minted["account"]["email_address"])))
    sent: list[tuple[datetime, str]] = []

    def services(rng: random.Random | None = None) -> Services:
        return Services(Home(home), Settings(root.config), clock=loop,
                        transport=RecordingTransport(loop, sent), notifier=RecordingNotifier(),
                        rng=rng)

    tray = services(random.Random(seed))
    phases: list[tuple[datetime, AppStatus]] = []
    poller = tray.poller(scheduler=loop, post=loop.post, worker=loop,
                         on_status=lambda status: phases.append((loop.now, status)))
    sim = Sim(loop, server, tray, services(), poller, sent, phases)
    loop.post(poller.start)
    if window_open:
        loop.post(lambda: sim.poller.set_window_visible(True))
    return sim


def busiest_hour(times: list[datetime], *, since: datetime | None = None,
                 until: datetime | None = None) -> int:
    """The most requests in any rolling hour (t - 1 h, t] that ends within [since, until)."""
    ordered = sorted(times)
    best, j = 0, 0
    for i, t in enumerate(ordered):
        while ordered[j] <= t - HOUR:
            j += 1
        if (since is None or t >= since) and (until is None or t < until):
            best = max(best, i - j + 1)
    return best
