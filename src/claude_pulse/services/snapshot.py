"""The last good usage answer, shared by every process through `snapshot.json`.

Stored as the server's own JSON plus when and where it came from, so an older Claude Pulse and a
newer one read each other's files, and parsing stays in one place (`core.usage`). Beside it,
``"line"``: what the status line shows of it, from this parse (`core.statusline.line_facts`),
which the status line's fast path prints from (`core.line.saved_line`); `load` and older
versions ignore it, and every save writes it anew.
"""

from __future__ import annotations

import logging
from pathlib import Path

from claude_pulse.atomic import read_json, write_json_atomic
from claude_pulse.core.snapshot import Snapshot
from claude_pulse.core.statusline import line_facts
from claude_pulse.core.usage import parse_timestamp, parse_usage
from claude_pulse.errors import BadResponse

__all__ = ["SnapshotStore"]

log = logging.getLogger(__name__)


class SnapshotStore:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> Snapshot | None:
        """The saved snapshot, or None when there is none or it cannot be used."""
        try:
            data = read_json(self.path)
            raw = data["usage"]
            fetched_at = parse_timestamp(data["fetched_at"], "fetched_at")
            if fetched_at is None or not isinstance(raw, dict):
                raise BadResponse("snapshot has no time or no usage")
            source = data.get("source", "api")
            return Snapshot(fetched_at, parse_usage(raw), raw, str(source))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, BadResponse) as exc:
            log.warning("ignoring unreadable usage cache %s: %s", self.path, exc)
            return None

    def save(self, snapshot: Snapshot) -> None:
        """Share the snapshot with every process. A failed write (disk full, a file in use)
        only logs: good numbers are shown regardless."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            data = {"fetched_at": snapshot.fetched_at.isoformat(), "source": snapshot.source,
                    "usage": snapshot.raw}
            facts = line_facts(snapshot.usage)
            if facts is not None:
                data["line"] = facts
            write_json_atomic(self.path, data)
        except OSError as exc:
            log.warning("could not save the usage snapshot %s (%s)", self.path,
                        exc.strerror or exc)
