"""Usage history: every snapshot, from any process, in one small SQLite database.

Bounds, both applied together:

* **Retention** `RETENTION` (35 days): a full weekly window plus the one before it and some
  margin, which is all the chart and the forecast ever look at.
* **Row cap** `MAX_ROWS` (100,000 rows: about 6 MB on disk with the index, plus at most 1 MB
  of WAL). At one sample a minute from the tray plus Claude Code's feed this is reached only
  after ~5 weeks of round-the-clock use, so normally retention decides; the cap bounds the file
  if something records far too often.

Pruning runs inside the insert that gets a row id divisible by `PRUNE_EVERY` (256), so it costs
nothing on the other 255 inserts and happens about every four hours at one sample a minute, no
matter which process records. Deleted pages are reused, so the file stops growing at the cap.

Several processes (tray, `status`, `statusline`) write at once: the database is in WAL mode, every
connection waits up to `BUSY_TIMEOUT_MS` for a lock, and each `record` is one short
`BEGIN IMMEDIATE … COMMIT`. `synchronous=NORMAL` (safe in WAL mode: a power cut may lose the
last samples, never the file) keeps a record to well under a millisecond.

History is a nicety: a database problem is logged and the sample dropped, never raised. A damaged
file is moved aside (`history.sqlite3.corrupt-<time>`) with a warning and a new one started.
The connection is opened on first use, so creating a store costs nothing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Literal, TypeVar

from claude_pulse.core.usage import Usage, Window

__all__ = ["BUSY_TIMEOUT_MS", "MAX_ROWS", "PRUNE_EVERY", "RETENTION", "HistoryStore", "Kind"]

log = logging.getLogger(__name__)

RETENTION = timedelta(days=35)
MAX_ROWS = 100_000
PRUNE_EVERY = 256
BUSY_TIMEOUT_MS = 5000
SCHEMA_VERSION = 1
# The WAL file is truncated back to this after a checkpoint, so it cannot stay large.
_WAL_LIMIT_BYTES = 1 << 20

Kind = Literal["session", "weekly"]
_COLUMNS: dict[str, str] = {"session": "session", "weekly": "weekly"}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS samples (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,              -- when the numbers were fetched, Unix seconds (UTC)
    source TEXT NOT NULL,          -- "api", "claude-code", ...
    session REAL,                  -- five_hour utilization, percent (may exceed 100)
    session_resets_at REAL,        -- Unix seconds
    weekly REAL,                   -- seven_day utilization, percent
    weekly_resets_at REAL
);
CREATE INDEX IF NOT EXISTS samples_at ON samples (at);
"""

T = TypeVar("T")


class HistoryStore:
    """Append-only usage samples with cheap, shared pruning. Thread-safe within a process."""

    def __init__(
        self,
        path: Path,
        *,
        retention: timedelta = RETENTION,
        max_rows: int = MAX_ROWS,
        prune_every: int = PRUNE_EVERY,
    ) -> None:
        self.path = path
        self.retention = retention
        self.max_rows = max_rows
        self.prune_every = prune_every
        self._conn: sqlite3.Connection | None = None
        self._file_id: tuple[int, int] | None = None  # (device, inode) of the file we opened
        self._lock = threading.Lock()

    def record(self, fetched_at: datetime, usage: Usage, source: str) -> None:
        """Add one sample (skipped when neither window has a number)."""
        session, weekly = _numbers(usage.session), _numbers(usage.weekly)
        if session[0] is None and weekly[0] is None:
            return
        row = (fetched_at.timestamp(), source, *session, *weekly)
        cutoff = (fetched_at - self.retention).timestamp()

        def insert(conn: sqlite3.Connection) -> None:
            with _write_transaction(conn):
                cur = conn.execute(
                    "INSERT INTO samples (at, source, session, session_resets_at, weekly,"
                    " weekly_resets_at) VALUES (?, ?, ?, ?, ?, ?)",
                    row,
                )
                if cur.lastrowid is not None and cur.lastrowid % self.prune_every == 0:
                    self._prune(conn, cutoff)

        self._run(insert, "record a usage sample", None)

    def points(self, kind: Kind, since: datetime,
               bucket_s: float | None = None) -> list[tuple[datetime, float]]:
        """(time, percent) of one window since `since`, oldest first.

        With `bucket_s`, only the newest sample of each `bucket_s`-long slice of time: a week
        of one-a-minute samples is ~10,000 rows, and a chart ~300 px wide cannot show more than
        a few hundred (reading and thinning them all made a redraw cost ~30 ms;
        docs/performance.md).
        """
        column = _COLUMNS[kind]  # a fixed column name, never user text

        def select(conn: sqlite3.Connection) -> list[tuple[datetime, float]]:
            if bucket_s:
                # SQLite returns the bare column from the row that holds MAX(at).
                rows = conn.execute(
                    f"SELECT MAX(at), {column} FROM samples "  # noqa: S608 - fixed column
                    f"WHERE at >= ? AND {column} IS NOT NULL "
                    "GROUP BY CAST(at / ? AS INTEGER) ORDER BY 1",
                    (since.timestamp(), bucket_s),
                ).fetchall()
            else:
                rows = conn.execute(
                    f"SELECT at, {column} FROM samples "  # noqa: S608 - column from _COLUMNS
                    f"WHERE at >= ? AND {column} IS NOT NULL ORDER BY at, id",
                    (since.timestamp(),),
                ).fetchall()
            return [(datetime.fromtimestamp(at, tz=timezone.utc), float(v)) for at, v in rows]

        return self._run(select, "read the usage history", [])

    def prune(self, now: datetime) -> None:
        """Apply retention and the row cap now (normally done every `prune_every` inserts)."""
        cutoff = (now - self.retention).timestamp()

        def prune(conn: sqlite3.Connection) -> None:
            with _write_transaction(conn):
                self._prune(conn, cutoff)

        self._run(prune, "prune the usage history", None)

    def close(self) -> None:
        with self._lock:
            self._close()

    def _prune(self, conn: sqlite3.Connection, cutoff: float) -> None:
        conn.execute("DELETE FROM samples WHERE at < ?", (cutoff,))
        # Row ids grow with time, so "all but the newest max_rows ids" is the cap.
        conn.execute(
            "DELETE FROM samples WHERE id <= "
            "(SELECT id FROM samples ORDER BY id DESC LIMIT 1 OFFSET ?)",
            (self.max_rows,),
        )

    def _run(self, op: Callable[[sqlite3.Connection], T], what: str, failed: T) -> T:
        with self._lock:
            for attempt in (1, 2):
                try:
                    return op(self._connect())
                except sqlite3.Error as exc:
                    if attempt == 1 and _is_damage(exc):
                        self._set_aside(exc)
                        continue
                    log.warning("could not %s in %s: %s", what, self.path, exc)
                    self._close()  # reopen next time; a broken handle must not stick
                    return failed
                except OSError as exc:
                    log.warning("could not %s in %s: %s", what, self.path, exc)
                    return failed
            return failed

    def _connect(self) -> sqlite3.Connection:
        if self._conn is not None:
            return self._conn
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            str(self.path),
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,  # we issue BEGIN/COMMIT ourselves
            check_same_thread=False,  # the tray records on a worker thread, reads on Tk's
        )
        try:
            _retry_busy(lambda: _setup(conn))
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        self._file_id = _file_id(self.path)
        return conn

    def _close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None
            self._file_id = None

    def _set_aside(self, exc: sqlite3.Error) -> None:
        opened = self._file_id
        self._close()
        if opened is not None and _file_id(self.path) != opened:
            # Another process already replaced the damaged file: use its new one.
            log.info("usage history %s was replaced by another process; reopening", self.path)
            return
        aside = self.path.with_name(f"{self.path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            os.replace(self.path, aside)
        except FileNotFoundError:
            pass
        except OSError as move_exc:
            log.warning("usage history %s is damaged (%s) and cannot be moved aside (%s)",
                        self.path, exc, move_exc)
            return
        for suffix in ("-wal", "-shm", "-journal"):
            with contextlib.suppress(OSError):
                Path(f"{self.path}{suffix}").unlink()
        log.warning("usage history %s was damaged (%s); moved it to %s and started a new one",
                    self.path, exc, aside.name)


@contextlib.contextmanager
def _write_transaction(conn: sqlite3.Connection) -> Iterator[None]:
    # IMMEDIATE takes the write lock up front, so busy_timeout applies to the whole write
    # instead of failing at the first statement when another process is writing.
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _setup(conn: sqlite3.Connection) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(f"PRAGMA journal_size_limit = {_WAL_LIMIT_BYTES}")
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version >= SCHEMA_VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _retry_busy(op: Callable[[], None], attempts: int = 20) -> None:
    # Switching a new file to WAL can answer SQLITE_BUSY without waiting on the busy handler
    # when another process is doing the same at that instant; a short retry settles it.
    for attempt in range(attempts):
        try:
            op()
            return
        except sqlite3.OperationalError as exc:
            text = str(exc).lower()
            if attempt == attempts - 1 or ("locked" not in text and "busy" not in text):
                raise
            time.sleep(0.05)


def _file_id(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _is_damage(exc: sqlite3.Error) -> bool:
    # SQLITE_CORRUPT and SQLITE_NOTADB surface as DatabaseError itself; its subclasses are other
    # problems (locked, disk full, constraint) that moving the file aside would not fix.
    return type(exc) is sqlite3.DatabaseError


def _numbers(window: Window | None) -> tuple[float | None, float | None]:
    if window is None:
        return (None, None)
    resets = window.resets_at.timestamp() if window.resets_at is not None else None
    return (window.utilization, resets)
