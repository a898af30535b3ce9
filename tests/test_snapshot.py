"""The shared last-good snapshot."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from claude_pulse.core.snapshot import Snapshot
from claude_pulse.core.usage import parse_usage
from claude_pulse.fake import samples
from claude_pulse.services.snapshot import SnapshotStore

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
RAW = {"five_hour": {"utilization": 42.0, "resets_at": "2026-11-28T15:00:00+00:00"}}


def test_round_trip(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "snapshot.json")
    assert store.load() is None
    store.save(Snapshot(NOW, parse_usage(RAW), RAW, source="claude-code"))
    snap = store.load()
    assert snap is not None
    assert snap.fetched_at == NOW and snap.raw == RAW and snap.source == "claude-code"
    assert snap.usage.session is not None and snap.usage.session.utilization == 42.0


def test_the_line_s_facts_are_saved_and_load_reads_past_them(tmp_path: Path) -> None:
    """`line` (what the status line's fast path prints from) is written with every save; `load`
    (the same code in older versions: they read only fetched_at, source and usage) ignores it,
    and a file an older version wrote without it loads the same."""
    path = tmp_path / "snapshot.json"
    store = SnapshotStore(path)
    raw = copy.deepcopy(samples.JULY_2026)
    store.save(Snapshot(NOW, parse_usage(raw), raw))
    data = json.loads(path.read_text())
    assert data["line"] == {
        "v": 1, "binding": ["Fable", 81.0],
        "session": [15.0, "2026-07-19T03:39:59.570750+00:00", False],
        "weekly": [48.0, "2026-07-23T14:59:59.570774+00:00", False]}
    with_facts = store.load()
    path.write_text(json.dumps({k: v for k, v in data.items() if k != "line"}))
    assert store.load() == with_facts
    assert with_facts is not None and with_facts.raw == raw and "line" not in with_facts.raw


@pytest.mark.parametrize(
    "content",
    [pytest.param("garbage", id="not-json"), pytest.param("{}", id="no-keys"),
     pytest.param('{"fetched_at": "x", "usage": {}}', id="bad-time"),
     pytest.param('{"fetched_at": "2026-11-28T12:00:00Z", "usage": {"five_hour": 3}}',
                  id="bad-usage")],
)
def test_unreadable_cache_is_ignored(tmp_path: Path, content: str) -> None:
    path = tmp_path / "snapshot.json"
    path.write_text(content)
    assert SnapshotStore(path).load() is None
    assert path.read_text() == content  # left for a human to look at
