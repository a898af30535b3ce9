"""One usage answer with when and where it came from: what every surface shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from claude_pulse.core.usage import Usage

__all__ = ["Snapshot"]


@dataclass(frozen=True)
class Snapshot:
    fetched_at: datetime
    usage: Usage  # `raw`, parsed once
    raw: dict[str, Any]  # the server's own JSON, kept so every version reads the shared file
    source: str = "api"  # "api", or "claude-code" when it came from Claude Code's status feed
