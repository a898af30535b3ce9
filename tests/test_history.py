"""The usage history database (services/history.py): real SQLite files, real processes."""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from claude_pulse.core.usage import Usage, Window
from claude_pulse.services.history import HistoryStore

UTC = timezone.utc
T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
S_RESET = T0 + timedelta(hours=3)
W_RESET = T0 + timedelta(days=3)


def usage(session: float | None, weekly: float | None) -> Usage:
    return Usage(
        Window(session, S_RESET) if session is not None else None,
        Window(weekly, W_RESET) if weekly is not None else None,
    )


def count_rows(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT count(*) FROM samples").fetchone()[0])
    finally:
        conn.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "home" / "history.sqlite3"


@pytest.mark.parametrize(
    ("samples", "kind", "since", "expected"),
    [
        pytest.param(
            [(0, usage(10, 50)), (5, usage(12, 51))], "session", T0,
            [(0, 10.0), (5, 12.0)], id="session",
        ),
        pytest.param(
            [(0, usage(10, 50)), (5, usage(12, 51))], "weekly", T0,
            [(0, 50.0), (5, 51.0)], id="weekly",
        ),
        pytest.param(
            [(5, usage(12, 51)), (0, usage(10, 50))], "session", T0,
            [(0, 10.0), (5, 12.0)], id="oldest-first",
        ),
        pytest.param(
            [(0, usage(10, 50)), (5, usage(12, 51)), (10, usage(15, 52))], "session",
            T0 + timedelta(minutes=5), [(5, 12.0), (10, 15.0)], id="since-inclusive",
        ),
        pytest.param(
            [(0, usage(None, 50)), (5, usage(12, None))], "session", T0,
            [(5, 12.0)], id="missing-window-skipped",
        ),
        pytest.param(
            [(0, usage(None, None)), (5, Usage(Window(None, S_RESET), None))], "weekly", T0,
            [], id="nothing-to-record",
        ),
        pytest.param([(0, usage(104.5, 100))], "session", T0, [(0, 104.5)], id="over-100"),
    ],
)
def test_record_and_read(db: Path, samples: list[tuple[int, Usage]], kind: str,
                         since: datetime, expected: list[tuple[int, float]]) -> None:
    store = HistoryStore(db)
    for minute, u in samples:
        store.record(T0 + timedelta(minutes=minute), u, "api")
    got = store.points(kind, since)  # type: ignore[arg-type]
    assert got == [(T0 + timedelta(minutes=m), v) for m, v in expected]
    assert all(t.tzinfo is not None for t, _ in got)
    store.close()


def test_opens_lazily_in_wal_mode(db: Path) -> None:
    store = HistoryStore(db)
    assert not db.exists()
    store.record(T0, usage(1, 2), "claude-code")
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("SELECT source FROM samples").fetchall() == [("claude-code",)]
    conn.close()
    store.close()


@pytest.mark.parametrize(
    ("retention_days", "max_rows", "expected_rows"),
    [
        # 40 daily samples, pruned at the 40th insert (prune_every=40).
        pytest.param(35, 1000, 36, id="retention"),  # days 4..39 stay (cutoff = day 39 - 35)
        pytest.param(365, 10, 10, id="row-cap"),
        pytest.param(5, 10, 6, id="both"),
    ],
)
def test_pruning(db: Path, retention_days: int, max_rows: int, expected_rows: int) -> None:
    store = HistoryStore(db, retention=timedelta(days=retention_days), max_rows=max_rows,
                         prune_every=40)
    for day in range(39):
        store.record(T0 + timedelta(days=day), usage(day, day), "api")
    assert count_rows(db) == 39  # not pruned on ordinary inserts
    store.record(T0 + timedelta(days=39), usage(39, 39), "api")
    assert count_rows(db) == expected_rows
    newest = store.points("session", T0)[-1]
    assert newest == (T0 + timedelta(days=39), 39.0)
    store.close()


def test_prune_now(db: Path) -> None:
    store = HistoryStore(db, retention=timedelta(days=1))
    for hour in range(48):
        store.record(T0 + timedelta(hours=hour), usage(hour, hour), "api")
    store.prune(T0 + timedelta(hours=47))
    assert count_rows(db) == 25  # hours 23..47
    store.close()


_WRITER = textwrap.dedent(
    """
    import sys
    from datetime import datetime, timedelta, timezone
    from pathlib import Path
    from claude_pulse.core.usage import Usage, Window
    from claude_pulse.services.history import HistoryStore

    path, tag, n = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    t0 = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
    reset = t0 + timedelta(hours=5)
    sys.stdin.readline()  # start together
    for i in range(n):
        # A fresh store each time also races the connection setup, as separate runs would.
        store = HistoryStore(path, prune_every=50, max_rows=10_000)
        store.record(t0 + timedelta(seconds=i), Usage(Window(float(i), reset), None), tag)
        store.close()
    print("done")
    """
)


@pytest.mark.slow
def test_two_processes_writing(db: Path, caplog: pytest.LogCaptureFixture) -> None:
    db.parent.mkdir(parents=True)
    n = 150
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(db), tag, str(n)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for tag in ("a", "b")
    ]
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert out.strip() == "done"
        assert "could not" not in err  # no sample was dropped over a lock
    conn = sqlite3.connect(db)
    by_source = dict(conn.execute("SELECT source, count(*) FROM samples GROUP BY source"))
    conn.close()
    assert by_source == {"a": n, "b": n}


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(b"this is not a database at all" * 200, id="not-a-database"),
        pytest.param(None, id="malformed-pages"),
    ],
)
def test_damaged_file_is_set_aside(db: Path, damage: bytes | None,
                                   caplog: pytest.LogCaptureFixture) -> None:
    db.parent.mkdir(parents=True)
    if damage is None:
        store = HistoryStore(db)
        for i in range(2000):
            store.record(T0 + timedelta(seconds=i), usage(i % 100, 1), "api")
        store.close()
        data = bytearray(db.read_bytes())
        data[4096:] = b"\xab" * (len(data) - 4096)  # keep the header, ruin every page
        damage = bytes(data)
    db.write_bytes(damage)

    store = HistoryStore(db)
    with caplog.at_level(logging.WARNING, logger="claude_pulse.services.history"):
        store.record(T0, usage(7, 8), "api")
    assert store.points("session", T0 - timedelta(days=1)) == [(T0, 7.0)]
    aside = list(db.parent.glob("history.sqlite3.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == damage
    assert any("damaged" in r.getMessage() for r in caplog.records)
    store.close()


def test_unusable_path_only_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    store = HistoryStore(folder)  # a directory cannot be opened as a database
    with caplog.at_level(logging.WARNING, logger="claude_pulse.services.history"):
        store.record(T0, usage(1, 1), "api")
        assert store.points("session", T0) == []
    assert folder.is_dir()  # not "set aside": it is not damage, just unusable
    assert any("could not" in r.getMessage() for r in caplog.records)


def test_bucketed_points_keep_the_newest_sample_of_each_slice(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.sqlite3")
    start = datetime(2026, 11, 28, 0, 0, tzinfo=timezone.utc)
    for minute in range(120):  # one sample a minute, rising 0.5 points a minute
        usage = Usage(Window(minute / 2, start + timedelta(hours=5)), None)
        store.record(start + timedelta(minutes=minute), usage, "api")
    every = store.points("session", start)
    bucketed = store.points("session", start, bucket_s=600)
    store.close()
    assert len(every) == 120
    assert len(bucketed) == 12  # one per 10 minutes
    assert bucketed[-1] == every[-1]  # the newest sample is always there
    assert [v for _, v in bucketed] == sorted(v for _, v in bucketed)
