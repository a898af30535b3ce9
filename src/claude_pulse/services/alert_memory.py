"""Alert memory on disk (`Home.alerts`), so a restart does not repeat an alert already shown.

The file is our own state, not the user's: a corrupt or unreadable one is logged and ignored
(the worst outcome is one repeated notification), and the next save replaces it. Writes are
atomic (temp file + `os.replace`) and skipped when nothing changed, because the poller saves after
every poll and an fsync a minute is a cost for nothing. A failed write is logged, never raised:
alert bookkeeping must not disturb polling.
"""

from __future__ import annotations

import logging
from pathlib import Path

from claude_pulse.atomic import read_json, write_json_atomic
from claude_pulse.core.alerts import AlertMemory

__all__ = ["AlertMemoryStore"]

log = logging.getLogger(__name__)


class AlertMemoryStore:
    """Loads and saves one `AlertMemory` JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._on_disk: AlertMemory | None = None  # what the file holds, as far as we know

    def load(self) -> AlertMemory:
        """The remembered memory; an empty one when the file is missing or unusable."""
        try:
            raw = read_json(self.path)
        except FileNotFoundError:
            return AlertMemory()
        except (OSError, ValueError) as exc:
            log.warning("%s cannot be read (%s); starting with no alert memory", self.path, exc)
            return AlertMemory()
        try:
            memory = AlertMemory.from_json(raw)
        except ValueError as exc:
            log.warning("%s is ignored: %s", self.path, exc)
            return AlertMemory()
        self._on_disk = memory
        return memory

    def save(self, memory: AlertMemory) -> None:
        """Write `memory` atomically (0600) unless the file already holds it; never raises."""
        if memory == self._on_disk:
            return
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            write_json_atomic(self.path, memory.to_json(), mode=0o600)
        except OSError as exc:
            reason = exc.strerror or exc.__class__.__name__
            log.warning("cannot save alert memory to %s (%s)", self.path, reason)
            return
        self._on_disk = memory
