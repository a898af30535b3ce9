"""One usage fetch, done the same way by every caller (tray poller, `status`, `statusline`).

The order matters: ask the shared gate first (cooldown, hourly budget), then call, then record
the answer for every other process. A 429 starts the shared cooldown and is reported as
`CooldownActive`, so callers handle "server said wait" and "we chose to wait" alike.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from claude_pulse.core.snapshot import Snapshot
from claude_pulse.errors import CooldownActive, RateLimited

if TYPE_CHECKING:
    from claude_pulse.core.usage import Usage
    from claude_pulse.services.gate import RequestGate
    from claude_pulse.services.snapshot import SnapshotStore

__all__ = ["UsageFetcher", "UsageSource"]

log = logging.getLogger(__name__)


class UsageSource(Protocol):
    """What the fetcher needs from `UsageClient` (a scripted stand-in in tests and bench)."""

    def fetch_usage(self) -> tuple[dict[str, Any], Usage]: ...


class UsageFetcher:
    def __init__(
        self,
        gate: RequestGate,
        client: UsageSource,
        snapshots: SnapshotStore,
        *,
        clock: Callable[[], datetime],
        on_snapshot: Callable[[Snapshot], None] = lambda snapshot: None,
    ) -> None:
        self._gate = gate
        self._client = client
        self._snapshots = snapshots
        self._clock = clock
        self._on_snapshot = on_snapshot

    def cooldown_until(self, now: datetime) -> datetime | None:
        return self._gate.cooldown_until(now)

    def refusal(self, now: datetime) -> CooldownActive | None:
        """Why a request now would not be sent (cooldown, spent budget), or None."""
        return self._gate.refusal(now)

    def next_allowed(self, now: datetime) -> datetime:
        return self._gate.next_allowed(now)

    def last(self) -> Snapshot | None:
        """The shared last good snapshot (any process's)."""
        return self._snapshots.load()

    def fetch(self, *, min_spacing_s: float | None = None,
              lock_wait_s: float | None = None) -> Snapshot | None:
        """Fetch, save and return a snapshot.

        Returns None only when `min_spacing_s` is given and another process fetched within it,
        or when `lock_wait_s` is given and another process held the gate's lock longer (read
        the shared snapshot instead). Raises CooldownActive (BudgetExhausted when the hour's
        budget is spent), or what the client raises.
        """
        if not self._gate.acquire(self._clock(), min_spacing_s, wait_s=lock_wait_s):
            return None
        try:
            raw, usage = self._client.fetch_usage()
        except RateLimited as exc:
            until = self._gate.note_rate_limited(self._clock(), exc.retry_after)
            log.info("usage endpoint answered 429 (retry-after %s); cooling down",
                     exc.retry_after)
            raise self._gate.cooldown(until, self._clock()) from exc
        snapshot = Snapshot(self._clock(), usage, raw)
        if usage.problems:
            # Shown here, but never shared: the last clean snapshot stays (issue #16 item 2).
            log.warning("usage answer not saved: %s", "; ".join(usage.problems))
            return snapshot
        self._snapshots.save(snapshot)
        self._on_snapshot(snapshot)
        return snapshot
