"""The worker's write-ahead journal: every write it owes the database (an event, its segments, its close,
its stills, an unmonitored interval) is appended here first, as a typed record, and removed once the
database has it.

It is a SQLite file under the data dir (`DATA_DIR/journal.sqlite3`, WAL, synchronous=FULL), local to the
worker because the database it waits for may be down. An entry survives the worker being SIGKILLed at any
point: before its write (replayed at the next start), or after the commit but before its removal (the
replay finds the record's key already in the database and changes nothing). Entries are drained in
append order, per camera (an event before its close).

An event whose evidence the object store refused (full disk, S3 down and no spool) carries the clip and
snapshot bytes in the entry until they are stored. `deferred` marks entries whose first attempt failed
(database down) or that were found at start: they are *replays* (see `services.recording` for what that
means for lease fencing).
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from audit_api.services.recording import CloseRecord, EventRecord, IntervalRecord
from audit_api.services.span_recording import SegmentRecord, StillsRecord

JOURNAL_FILE = "journal.sqlite3"


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EventEntry(_Entry):
    type: Literal["event"] = "event"
    record: EventRecord


class CloseEntry(_Entry):
    type: Literal["close"] = "close"
    record: CloseRecord


class IntervalEntry(_Entry):
    type: Literal["interval"] = "interval"
    record: IntervalRecord


class SegmentEntry(_Entry):
    type: Literal["segment"] = "segment"
    record: SegmentRecord


class StillsEntry(_Entry):
    type: Literal["stills"] = "stills"
    record: StillsRecord


Entry = EventEntry | CloseEntry | IntervalEntry | SegmentEntry | StillsEntry
JournalEntry = Annotated[Entry, Field(discriminator="type")]
ENTRY_ADAPTER: TypeAdapter[Entry] = TypeAdapter(JournalEntry)


@dataclass(frozen=True)
class Pending:
    """One journal row: its sequence number, the entry, and whether it is a replay."""

    seq: int
    entry: Entry
    deferred: bool
    has_blobs: bool

    @property
    def camera_id(self) -> int:
        return self.entry.record.camera_id


_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    camera_id INTEGER NOT NULL,
    body TEXT NOT NULL,
    clip BLOB,
    snapshot BLOB,
    deferred INTEGER NOT NULL DEFAULT 0,
    failed TEXT
)
"""


class Journal:
    """Thread-safe; one connection guarded by a lock (writes are rare: events, closes, outages)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(_SCHEMA)
        # Whatever a previous process left is a replay: it may have gone through before the process died.
        self._db.execute("UPDATE entries SET deferred = 1 WHERE failed IS NULL")

    def append(self, entry: Entry, blobs: tuple[bytes, bytes] | None = None) -> int:
        """Append durably (committed before it returns); raises sqlite3.Error (e.g. disk full)."""
        clip, snapshot = blobs if blobs is not None else (None, None)
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO entries (camera_id, body, clip, snapshot) VALUES (?, ?, ?, ?)",
                (entry.record.camera_id, entry.model_dump_json(), clip, snapshot),
            )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def pending(self) -> list[Pending]:
        """Entries still owed, oldest first (failed ones are kept on disk but skipped)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, body, deferred, clip IS NOT NULL FROM entries WHERE failed IS NULL ORDER BY seq"
            ).fetchall()
        out = []
        for seq, body, deferred, has_blobs in rows:
            try:
                entry = ENTRY_ADAPTER.validate_json(body)
            except ValidationError as exc:  # e.g. written by another version: kept for an operator, skipped
                self.fail(seq, f"unreadable entry: {exc.errors()[0]['msg']}")
                continue
            out.append(Pending(seq, entry, bool(deferred), bool(has_blobs)))
        return out

    def blobs(self, seq: int) -> tuple[bytes, bytes]:
        with self._lock:
            row = self._db.execute("SELECT clip, snapshot FROM entries WHERE seq = ?", (seq,)).fetchone()
        if row is None or row[0] is None:
            raise KeyError(seq)
        return bytes(row[0]), bytes(row[1])

    def stored(self, seq: int) -> None:
        """The entry's evidence is in the object store now: drop its bytes."""
        with self._lock:
            self._db.execute("UPDATE entries SET clip = NULL, snapshot = NULL WHERE seq = ?", (seq,))

    def done(self, seq: int) -> None:
        with self._lock:
            self._db.execute("DELETE FROM entries WHERE seq = ?", (seq,))

    def fail(self, seq: int, reason: str) -> None:
        """Keep the entry on disk for an operator but stop retrying it (the database refused its content)."""
        with self._lock:
            self._db.execute("UPDATE entries SET failed = ? WHERE seq = ?", (reason[:2000], seq))

    def defer_all(self) -> None:
        with self._lock:
            self._db.execute("UPDATE entries SET deferred = 1 WHERE failed IS NULL")

    def counts(self) -> tuple[int, int]:
        """(entries owed to the database, of which still waiting for the object store)."""
        with self._lock:
            row = self._db.execute(
                "SELECT count(*), count(clip) FROM entries WHERE failed IS NULL"
            ).fetchone()
        return int(row[0]), int(row[1])

    def close(self) -> None:
        with self._lock:
            self._db.close()
