"""The usage endpoint's two 429 regimes, as the fake server plays them.

Observed (protocol-2026-update.md, claude-swap 2026-07-28): a block with `Retry-After: 0` holds
one access token (a freshly minted token passes), and a block with `Retry-After: 3600` can hold
the whole account (a token minted 135 s earlier was still refused). Both answer the edge 429 body.
The server can also start a block by itself once a trailing hour holds more than a budget of
usage requests (about 28-30 for a non-Claude-Code User-Agent).

Times come from the fake's injected clock, so a simulated clock drives blocks as well.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

__all__ = ["DEFAULTS", "Block", "RateLimits", "Regime"]

Regime = Literal["token", "account"]
# (Retry-After sent, how long the block lasts) per regime when a test gives neither. A per-token
# block's true length is unknown; 20 min is what the simulation expects as the minimum
# wait after one.
DEFAULTS: dict[str, tuple[float, float]] = {"token": (0.0, 1200.0), "account": (3600.0, 3600.0)}


@dataclass(frozen=True)
class Block:
    regime: Regime
    retry_after: float
    until: float  # fake-clock seconds
    tokens: frozenset[str] = frozenset()  # the held tokens, for a per-token block

    def holds(self, token: str, now: float) -> bool:
        if now >= self.until:
            return False
        return self.regime == "account" or token in self.tokens


class RateLimits:
    """Thread-safe: the server's handler threads check it while a test changes it."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._blocks: list[Block] = []
        self._budget: tuple[int, Regime] | None = None
        self._served: deque[float] = deque()
        self.refused = 0  # 429s answered because of a block

    def block(self, regime: Regime, tokens: set[str], *, retry_after: float | None = None,
              duration: float | None = None) -> Block:
        if regime not in DEFAULTS:
            raise ValueError(f"unknown 429 regime {regime!r}; 'token' or 'account'")
        default_retry, default_duration = DEFAULTS[regime]
        retry = default_retry if retry_after is None else float(retry_after)
        length = (retry or default_duration) if duration is None else float(duration)
        block = Block(regime, retry, self._clock() + length,
                      frozenset(tokens) if regime == "token" else frozenset())
        with self._lock:
            self._blocks.append(block)
        return block

    def set_budget(self, per_hour: int | None, regime: Regime = "token") -> None:
        with self._lock:
            self._budget = None if per_hour is None else (int(per_hour), regime)
            self._served.clear()

    def clear(self) -> None:
        with self._lock:
            self._blocks.clear()
            self._served.clear()

    def check(self, token: str, live_tokens: Callable[[], set[str]]) -> Block | None:
        """The block that refuses this usage request, or None (the request counts as served)."""
        now = self._clock()
        with self._lock:
            self._blocks = [b for b in self._blocks if now < b.until]
            for block in self._blocks:
                if block.holds(token, now):
                    self.refused += 1
                    return block
            budget = self._budget
            while self._served and self._served[0] <= now - 3600.0:
                self._served.popleft()
            over = budget is not None and len(self._served) >= budget[0]
            if not over:
                self._served.append(now)
                return None
        assert budget is not None
        regime = budget[1]
        block = self.block(regime, live_tokens() | {token})
        with self._lock:
            self.refused += 1
        return block
