"""services/alert_memory: the alert memory survives restarts; a bad file never crashes the app."""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from claude_pulse.core.alerts import AlertMemory, AlertSettings, WindowMemory, evaluate
from claude_pulse.core.usage import Usage, Window
from claude_pulse.home import Home
from claude_pulse.services import alert_memory
from claude_pulse.services.alert_memory import AlertMemoryStore

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
MEMORY = AlertMemory(
    session=WindowMemory(NOW + timedelta(hours=2), frozenset({80, 90})),
    weekly=WindowMemory(NOW + timedelta(days=3), frozenset({80})),
    last_pace_warning=NOW - timedelta(hours=5),
)


@pytest.fixture
def store() -> AlertMemoryStore:
    return AlertMemoryStore(Home.from_env().alerts)


def test_missing_file_is_an_empty_memory(store: AlertMemoryStore) -> None:
    assert store.load() == AlertMemory()
    assert not store.path.exists()


def test_save_then_load_in_a_new_process(store: AlertMemoryStore) -> None:
    store.save(MEMORY)  # also creates the home folder

    assert AlertMemoryStore(store.path).load() == MEMORY
    assert [p.name for p in store.path.parent.iterdir()] == ["alerts.json"]  # no temp files


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_file_is_private(store: AlertMemoryStore) -> None:
    store.save(MEMORY)

    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


def _write(text: bytes) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        path.write_bytes(text)

    return make


def _folder(path: Path) -> None:
    path.mkdir()


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        pytest.param(_write(b"{not json"), "cannot be read", id="not-json"),
        pytest.param(_write(b"\xff\xfe\x00"), "cannot be read", id="not-utf8"),
        pytest.param(_write(b""), "cannot be read", id="empty"),
        pytest.param(_write(b"[]"), "not a JSON object", id="list"),
        pytest.param(_write(b'{"version": 99}'), "unknown version", id="future-version"),
        pytest.param(
            _write(b'{"version": 1, "windows": {"session": {"fired": "80"}}}'),
            "fired",
            id="wrong-shape",
        ),
        pytest.param(_folder, "cannot be read", id="a-folder"),
    ],
)
def test_bad_file_is_ignored_with_a_warning(
    store: AlertMemoryStore,
    make: Callable[[Path], None],
    reason: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    store.path.parent.mkdir(parents=True)
    make(store.path)

    assert store.load() == AlertMemory()

    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert str(store.path) in record.getMessage()
    assert reason in record.getMessage()


def test_corrupt_file_is_replaced_by_the_next_save(store: AlertMemoryStore) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_text("{oops", encoding="utf-8")
    memory = store.load()

    store.save(memory)

    assert json.loads(store.path.read_text(encoding="utf-8")) == AlertMemory().to_json()


def test_unchanged_memory_is_not_rewritten(
    store: AlertMemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes: list[Any] = []
    real = alert_memory.write_json_atomic

    def counting(path: Path, value: Any, mode: int = 0o600) -> None:
        writes.append(value)
        real(path, value, mode)

    monkeypatch.setattr(alert_memory, "write_json_atomic", counting)

    store.save(MEMORY)
    store.save(MEMORY)
    AlertMemoryStore(store.path).save(MEMORY)  # a new store does not know the file yet
    loaded = AlertMemoryStore(store.path)
    loaded.save(loaded.load())  # but one that loaded it does

    assert len(writes) == 2


def test_failed_save_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    store = AlertMemoryStore(blocker / "alerts.json")

    store.save(MEMORY)

    assert "cannot save alert memory" in caplog.text
    store.save(MEMORY)  # still not marked as saved: it tries (and logs) again
    assert caplog.text.count("cannot save alert memory") == 2


def test_restart_does_not_repeat_an_alert(store: AlertMemoryStore) -> None:
    usage = Usage(Window(91.0, NOW + timedelta(hours=2)), Window(20.0, NOW + timedelta(days=5)))
    alerts, memory = evaluate(usage, store.load(), AlertSettings(), NOW)
    assert [a.key for a in alerts] == ["session:90"]
    store.save(memory)

    # The app restarts; the server's resets_at has jittered by a few microseconds.
    jittered = Usage(
        Window(92.0, NOW + timedelta(hours=2, microseconds=512)),
        Window(21.0, NOW + timedelta(days=5)),
    )
    after, _ = evaluate(jittered, AlertMemoryStore(store.path).load(), AlertSettings(), NOW)

    assert after == []
