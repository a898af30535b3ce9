"""One usage fetch, done the same way by every caller (tray poller, `status`, `statusline`).

The order matters: ask the shared gate first (cooldown, hourly ceiling), then call, then record
the answer for every other process. A 429 starts the shared cooldown and is reported as
`CooldownActive`, so callers handle "server said wait" and "we chose to wait" alike.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from claude_pulse.errors import CooldownActive, RateLimited

if TYPE_CHECKING:
    from claude_pulse.services.snapshot import Snapshot
    from claude_pulse.wiring import Services

__all__ = ["fetch_usage_now"]

log = logging.getLogger(__name__)


def fetch_usage_now(services: Services, *, min_spacing_s: float | None = None) -> Snapshot | None:
    """Fetch, save and return a snapshot.

    Returns None only when `min_spacing_s` is given and another process fetched within it (read
    the shared snapshot instead). Raises CooldownActive, or whatever the usage client raises.
    """
    now = services.clock()
    if not services.gate.acquire(now, min_spacing_s):
        return None
    try:
        raw = services.usage_client.fetch_usage()
    except RateLimited as exc:
        until = services.gate.note_rate_limited(services.clock(), exc.retry_after)
        log.info("usage endpoint answered 429 (retry-after %s); cooling down", exc.retry_after)
        raise CooldownActive(
            f"rate-limited by Anthropic; next try at {until.astimezone():%H:%M}", until
        ) from exc
    snapshot = services.snapshots.save(services.clock(), raw)
    services.record_history(snapshot)
    return snapshot
