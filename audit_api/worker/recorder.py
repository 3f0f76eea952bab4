"""The worker's event sink: evidence objects into the store, then the event rows into the database.

Order matters for "lose nothing": objects are written first (write-once, SHA-256 verified; the S3 store
spools locally during an outage), then the event is recorded with the objects' hashes. Every database
write the worker owes — an event, its close, an unmonitored interval — goes through the journal
(`worker.journal`, a SQLite file under the data dir): appended first, applied at once if the database
answers, else kept and replayed in order when it is back, also after a restart. Each record has a stable
key (the review item id; camera and start for an interval) and the database keeps it once
(`services.recording`), so a replay never records anything twice.

Fencing: with a LeaseKeeper, each record carries the lease token the worker held for its camera when the
evidence was captured. A live write of a lost lease is refused (nothing recorded, the worker drops the
camera); a replay is recorded with the epoch it was captured under, merged into any overlapping event of
another epoch rather than doubled (see `services.recording`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from audit_api.services.errors import ServiceError
from audit_api.services.events import ViolationIn
from audit_api.services.leases import LeaseLost, LeaseToken
from audit_api.services.recording import (
    CloseRecord,
    EventRecord,
    IntervalRecord,
    close_worker_event,
    record_interval,
    record_worker_event,
)
from audit_api.services.span_recording import record_segment, record_stills
from audit_api.storage import ObjectStore, StorageUnavailable, StoredObject
from audit_api.worker import opening as opening_alerts
from audit_api.worker.journal import CloseEntry, Entry, EventEntry, IntervalEntry, Journal, SegmentEntry
from audit_api.worker.lease_keeper import LeaseKeeper
from audit_api.worker.span_store import SpanEvidence
from detect.analyzer import Violation
from detect.events import ReviewItem
from ingest._sink import Evidence, Opening
from ingest.health import UnmonitoredInterval

log = logging.getLogger(__name__)

LEGACY_OUTBOX = "outbox"  # where workers before the journal parked events (imported at start)
MAX_IN_MEMORY = 200  # entries the journal itself could not take (full disk), ≈ 100 MB of clips


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def evidence_keys(evidence: Evidence) -> tuple[str, str]:
    """Object keys: camera / UTC day / review item id — unique, sortable, readable in a bucket browser."""
    day = _utc(evidence.event.started_at).strftime("%Y/%m/%d")
    base = f"cameras/{evidence.camera_id}/{day}/{evidence.event.id}"
    return f"{base}/clip.mp4", f"{base}/snapshot.jpg"


def violation_rows(violations: Sequence[Violation], frame_size: tuple[int, int] | None) -> list[ViolationIn]:
    """DB rows for violations; boxes normalised to the frame so they survive re-encoding at another size."""
    w, h = frame_size or (1, 1)
    return [
        ViolationIn(
            kind=v.kind,
            track_id=v.track_id,
            # Zone ids are DB ids rendered as strings by the runtime; None is the implicit whole frame.
            zone_id=int(v.zone_id) if v.zone_id and v.zone_id.isdigit() else None,
            ts=_utc(v.ts),
            box=[round(float(x) / d, 5) for x, d in zip(v.box, (w, h, w, h), strict=True)],
            confidence=float(v.confidence),
        )
        for v in violations
    ]


def _frame_size(item: ReviewItem) -> tuple[int, int] | None:
    snap = item.best_snapshot
    if snap is None or snap.image is None:
        return None
    return int(snap.image.shape[1]), int(snap.image.shape[0])


def _local_object(key: str, data: bytes, content_type: str) -> StoredObject:
    return StoredObject(key, hashlib.sha256(data).hexdigest(), len(data), content_type)


@dataclass(frozen=True)
class _Published:
    """What the close of an item needs from its publish: violations recorded then, frame size, token."""

    violations: int
    size: tuple[int, int] | None
    token: LeaseToken | None


class _Outcome:
    DONE, DB_DOWN, STORE_DOWN, FAILED = "done", "db_down", "store_down", "failed"


class EventRecorder(SpanEvidence):
    """Implements ingest's EventSink, SpanSink (segments and stills, see span_store) and the watchdog's
    interval callback for the audit database."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        store: ObjectStore,
        journal: Path,
        *,
        leases: LeaseKeeper | None = None,
        continue_window_s: float = 60.0,
    ) -> None:
        self._sessions = sessions
        self.leases = leases  # None: no fencing (one process, e.g. `siteaudit demo` analysing a file)
        self.store = store
        self.journal = Journal(journal)
        self.continue_window_s = continue_window_s
        self._lock = threading.Lock()
        self._drain_lock = threading.Lock()
        self.recorded: list[int] = []  # ids of the event rows this process created
        self._published: dict[str, _Published] = {}  # review item id → until the item closes
        # Entries the journal refused (its disk is full too): kept in memory, after the journal's.
        self._memory: deque[tuple[Entry, tuple[bytes, bytes] | None]] = deque()
        self._import_outbox(Path(journal).parent / LEGACY_OUTBOX)

    def _import_outbox(self, outbox: Path) -> None:
        """Events parked by an older worker (one JSON file each in DATA_DIR/outbox) move into the journal."""
        for path in sorted(outbox.glob("*.json")) if outbox.is_dir() else []:
            try:
                parked = json.loads(path.read_text())
                parked.pop("kinds", None)  # derived from the violations now
                record = EventRecord.model_validate(parked | {"key": parked["rule_snapshot"]["review_item"]})
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log.error("parked event %s not readable (%s); left in place", path, exc)
                continue
            self.journal.append(EventEntry(record=record))
            path.unlink()
            log.info("parked event %s moved into the journal", path.name)

    # -- the sink ------------------------------------------------------------------------------------
    def publish(self, evidence: Evidence) -> None:
        token = self._token(evidence.camera_id)
        if self.leases is not None and token is None:
            log.warning("camera %s is not leased here: review item %s not recorded", evidence.camera_id,
                        evidence.event.id)  # fmt: skip
            return
        item = evidence.event
        size = _frame_size(item)
        with self._lock:
            self._published[item.id] = _Published(len(item.violations), size, token)
        clip_key, snap_key = evidence_keys(evidence)
        blobs: tuple[bytes, bytes] | None = None
        try:
            clip = self.store.put(clip_key, evidence.clip.data, "video/mp4")
            snapshot = self.store.put(snap_key, evidence.snapshot_jpeg, "image/jpeg")
        except StorageUnavailable as exc:
            log.error("evidence for review item %s kept in the journal for retry: %s", item.id, exc)
            clip = _local_object(clip_key, evidence.clip.data, "video/mp4")
            snapshot = _local_object(snap_key, evidence.snapshot_jpeg, "image/jpeg")
            blobs = (evidence.clip.data, evidence.snapshot_jpeg)
        ended = item.ended_at if item.ended_at is not None else item.last_violation_at
        record = EventRecord(
            key=item.id,
            camera_id=int(evidence.camera_id),
            started_at=_utc(item.started_at),
            ended_at=_utc(ended),
            violations=violation_rows(item.violations, size),
            snapshot=snapshot,
            snapshot_heads=list(evidence.snapshot_heads),
            clip=clip,
            clip_duration_s=evidence.clip.duration_s,
            model_version=evidence.model_version,
            rule_snapshot=item.rule_snapshot | {"rule_version": item.rule_version, "review_item": item.id},
            lease=token,
        )
        self._submit(EventEntry(record=record), blobs)

    def opened(self, opening: Opening) -> None:
        """An item opened: alert now, before its clip's post-roll (issue 14; see worker/opening.py)."""
        opening_alerts.announce(self._sessions, self.store, opening, self.leases)

    def close(self, camera_id: str, item: ReviewItem) -> None:
        """Record the closed item's final end and the violations that joined it after it opened."""
        with self._lock:
            published = self._published.pop(item.id, None)
        if published is None:
            log.warning(
                "review item %s closed but its event was not published here; end not updated", item.id
            )
            return
        ended = item.ended_at if item.ended_at is not None else item.last_violation_at
        record = CloseRecord(
            key=item.id,
            camera_id=int(camera_id),
            ended_at=_utc(ended),
            violations=violation_rows(item.violations[published.violations :], published.size),
            lease=published.token,
        )
        self._submit(CloseEntry(record=record))

    def interval(self, interval: UnmonitoredInterval) -> None:
        """The watchdog's callback: each closed unmonitored interval becomes a row for reports (while this
        worker holds the camera's lease)."""
        if not interval.camera_id.isdigit():
            return  # e.g. the demo's probe
        token = self._token(interval.camera_id)
        if self.leases is not None and token is None:
            log.info("camera %s is not leased here: unmonitored interval not stored", interval.camera_id)
            return
        record = IntervalRecord(
            camera_id=int(interval.camera_id),
            started_at=_utc(interval.start),
            ended_at=_utc(interval.end) if interval.end else None,
            reason=interval.reason[:500],
            lease=token,
        )
        self._submit(IntervalEntry(record=record))

    # -- journal -------------------------------------------------------------------------------------
    @property
    def pending(self) -> int:
        """Writes owed to the database (journal and memory)."""
        return self.journal.counts()[0] + len(self._memory)

    @property
    def unstored(self) -> int:
        """Of those, events whose evidence still waits for the object store."""
        return self.journal.counts()[1] + sum(1 for _, blobs in self._memory if blobs is not None)

    def drain(self) -> int:
        """Apply what the journal holds, oldest first per camera; returns how many entries went through.
        Stops at the first database error; a camera whose evidence the store refuses waits (its later
        entries too), the other cameras go on."""
        done = 0
        with self._drain_lock:
            blocked: set[int] = set()
            for pending in self.journal.pending():
                if pending.camera_id in blocked:
                    continue
                blobs = self.journal.blobs(pending.seq) if pending.has_blobs else None
                outcome, reason = self._apply(pending.entry, pending.deferred, blobs)
                if blobs is not None and outcome != _Outcome.STORE_DOWN:
                    self.journal.stored(pending.seq)  # in the store now: the bytes need not stay here
                if outcome == _Outcome.DB_DOWN:
                    self.journal.defer_all()
                    return done
                if outcome == _Outcome.STORE_DOWN:
                    blocked.add(pending.camera_id)
                    continue
                if outcome == _Outcome.FAILED:
                    self.journal.fail(pending.seq, reason)
                else:
                    self.journal.done(pending.seq)
                    done += 1
            for _ in range(len(self._memory)):
                entry, blobs = self._memory[0]
                if entry.record.camera_id in blocked:
                    self._memory.rotate(-1)
                    continue
                outcome, _ = self._apply(entry, True, blobs)
                if outcome == _Outcome.DB_DOWN:
                    return done
                if outcome == _Outcome.STORE_DOWN:
                    blocked.add(entry.record.camera_id)
                    self._memory.rotate(-1)
                    continue
                with self._lock:
                    self._memory.popleft()
                done += outcome == _Outcome.DONE
        return done

    def _submit(self, entry: Entry, blobs: tuple[bytes, bytes] | None = None) -> None:
        camera = entry.record.camera_id
        with self._lock:  # once a camera has entries in memory, its later ones follow them there (order)
            in_memory = any(e.record.camera_id == camera for e, _ in self._memory)
        try:
            if in_memory:
                raise sqlite3.OperationalError("earlier entries of this camera are waiting in memory")
            self.journal.append(entry, blobs)
        except sqlite3.Error as exc:
            log.error("journal %s refused a %s (%s); kept in memory", self.journal.path, entry.type, exc)
            with self._lock:
                if len(self._memory) >= MAX_IN_MEMORY:
                    lost, _ = self._memory.popleft()
                    log.error("%s for camera %s dropped: memory queue full", lost.type, lost.record.camera_id)
                self._memory.append((entry, blobs))
        self.drain()

    def _apply(self, entry: Entry, replay: bool, blobs: tuple[bytes, bytes] | None) -> tuple[str, str]:
        """One entry against the store (its evidence, if it still carries it) and the database."""
        if isinstance(entry, EventEntry) and blobs is not None and not self._store(entry.record, blobs):
            return _Outcome.STORE_DOWN, ""
        record = entry.record
        try:
            with self._sessions() as session:
                if isinstance(entry, EventEntry):
                    event_id, new = record_worker_event(
                        session, entry.record, replay=replay, continue_window_s=self.continue_window_s
                    )
                    if new:
                        with self._lock:
                            self.recorded.append(event_id)
                elif isinstance(entry, CloseEntry):
                    if close_worker_event(session, entry.record, replay=replay) is None:
                        log.info("close of review item %s: nothing to close (not recorded, or closed before)",
                                 entry.record.key)  # fmt: skip
                elif isinstance(entry, IntervalEntry):
                    record_interval(session, entry.record, replay=replay)
                elif isinstance(entry, SegmentEntry):
                    record_segment(session, entry.record, replay=replay)
                else:
                    record_stills(session, entry.record, replay=replay)
        except LeaseLost as exc:
            self._refused(exc, f"{entry.type} for camera {record.camera_id}")
        except SQLAlchemyError as exc:
            log.error("database unavailable (%s); %s for camera %s kept in the journal",
                      exc.__class__.__name__, entry.type, record.camera_id)  # fmt: skip
            return _Outcome.DB_DOWN, ""
        # the database refused the content: kept for an operator, the rest goes on
        except ServiceError as exc:
            log.error("%s for camera %s refused by the database: %s", entry.type, record.camera_id, exc)
            return _Outcome.FAILED, str(exc)
        return _Outcome.DONE, ""

    def _store(self, record: EventRecord, blobs: tuple[bytes, bytes]) -> bool:
        """Put the journaled evidence; False while the store refuses. The stored hashes are the record's."""
        try:
            for obj, data in zip((record.clip, record.snapshot), blobs, strict=True):
                stored = self.store.put(obj.key, data, obj.content_type)
                if stored.sha256 != obj.sha256:
                    raise StorageUnavailable(
                        f"{obj.key} stored with sha256 {stored.sha256}, expected {obj.sha256}"
                    )
        except StorageUnavailable as exc:
            log.warning("evidence of review item %s still not stored: %s", record.key, exc)
            return False
        return True

    def _token(self, camera_id: str) -> LeaseToken | None:
        return self.leases.token(camera_id) if self.leases is not None else None
