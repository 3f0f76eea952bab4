"""The worker's event sink: evidence objects into the store, then the event rows into the database.

Order matters for "lose nothing": objects are written first (write-once, SHA-256 verified; the S3 store
spools locally during an outage), then one DB transaction records the event with the objects' hashes.
If the database is down, the evidence package is kept in an outbox directory and retried, so a
finished review item survives a restart of the worker too.

Fencing: with a LeaseKeeper, each package carries the lease token the worker held for its camera when
the evidence was published; the recording transaction checks it (`services.leases.check_lease`) and a
refused write records nothing and makes the worker drop the camera.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from audit_api import audit_log
from audit_api.models import Event, EventViolation
from audit_api.services.events import WORKER_ACTOR, record_event
from audit_api.services.leases import LeaseLost, LeaseToken, check_lease
from audit_api.storage import ObjectStore, StorageUnavailable, StoredObject
from audit_api.worker.lease_keeper import LeaseKeeper
from audit_api.worker.span_store import SpanEvidence
from detect.analyzer import Violation
from detect.events import ReviewItem
from ingest._sink import Evidence

log = logging.getLogger(__name__)

MAX_UNSTORED = 200  # ≈ 100 MB of clips; beyond that the oldest evidence is dropped (and logged as such)
# event id, violations stored so far, frame size, lease token of the write that recorded it
OpenItem = tuple[int, int, tuple[int, int] | None, LeaseToken | None]


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def evidence_keys(evidence: Evidence) -> tuple[str, str]:
    """Object keys: camera / UTC day / review item id — unique, sortable, readable in a bucket browser."""
    day = _utc(evidence.event.started_at).strftime("%Y/%m/%d")
    base = f"cameras/{evidence.camera_id}/{day}/{evidence.event.id}"
    return f"{base}/clip.mp4", f"{base}/snapshot.jpg"


def violation_rows(
    violations: Sequence[Violation], frame_size: tuple[int, int] | None
) -> list[dict[str, Any]]:
    """DB rows for violations; boxes normalised to the frame so they survive re-encoding at another size."""
    w, h = frame_size or (1, 1)
    return [
        {
            "kind": v.kind,
            "track_id": v.track_id,
            # Zone ids are DB ids rendered as strings by the runtime; None is the implicit whole frame.
            "zone_id": int(v.zone_id) if v.zone_id and v.zone_id.isdigit() else None,
            "ts": _utc(v.ts),
            "box": [round(float(x) / d, 5) for x, d in zip(v.box, (w, h, w, h), strict=True)],
            "confidence": float(v.confidence),
        }
        for v in violations
    ]


def _frame_size(item: ReviewItem) -> tuple[int, int] | None:
    snap = item.best_snapshot
    if snap is None or snap.image is None:
        return None
    return int(snap.image.shape[1]), int(snap.image.shape[0])


class EventRecorder(SpanEvidence):
    """Implements ingest's EventSink (and SpanSink, see span_store) for the audit database; remembers the
    DB ids it created."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        store: ObjectStore,
        outbox: Path,
        *,
        leases: LeaseKeeper | None = None,
    ) -> None:
        self._sessions = sessions
        self.leases = leases  # None: no fencing (one process, e.g. `siteaudit demo` analysing a file)
        self.store = store
        self._outbox = outbox
        self._lock = threading.Lock()
        self.recorded: list[int] = []
        # review item id → OpenItem, until the item closes
        self._open: dict[str, OpenItem] = {}
        # Evidence the store refused (full disk, outage without spool), kept in memory and retried,
        # with the closes that arrived for it meanwhile.
        self._unstored: deque[tuple[Evidence, LeaseToken | None]] = deque(maxlen=MAX_UNSTORED)
        self._late_close: dict[str, ReviewItem] = {}

    def publish(self, evidence: Evidence) -> None:
        token = None
        if self.leases is not None:
            token = self.leases.token(evidence.camera_id)
            if token is None:
                log.warning("camera %s is not leased here: review item %s not recorded", evidence.camera_id,
                            evidence.event.id)  # fmt: skip
                return
        try:
            self._store_and_record(evidence, token)
        except StorageUnavailable as exc:
            with self._lock:
                if len(self._unstored) == self._unstored.maxlen:
                    oldest = self._unstored[0][0].event.id
                    log.error("evidence for review item %s dropped: retry queue full", oldest)
                self._unstored.append((evidence, token))
            log.error("evidence for review item %s kept in memory for retry: %s", evidence.event.id, exc)

    def retry_unstored(self) -> int:
        """Store what the object store refused before (oldest first); returns how many went through."""
        done = 0
        while True:
            with self._lock:
                if not self._unstored:
                    return done
                evidence, token = self._unstored.popleft()
            try:
                self._store_and_record(evidence, token)
            except StorageUnavailable:
                with self._lock:
                    self._unstored.appendleft((evidence, token))
                return done
            done += 1
            with self._lock:
                late = self._late_close.pop(evidence.event.id, None)
            if late is not None:
                self.close(evidence.camera_id, late)

    @property
    def unstored(self) -> int:
        with self._lock:
            return len(self._unstored)

    def _store_and_record(self, evidence: Evidence, token: LeaseToken | None) -> None:
        clip_key, snap_key = evidence_keys(evidence)
        clip = self.store.put(clip_key, evidence.clip.data, "video/mp4")
        snapshot = self.store.put(snap_key, evidence.snapshot_jpeg, "image/jpeg")
        row = self._row(evidence, clip, snapshot, token)
        try:
            self._record(row, _frame_size(evidence.event))
        except LeaseLost as exc:
            self._refused(exc, evidence.event.id)
        except SQLAlchemyError as exc:
            path = self._park(evidence.event.id, row)
            log.error("database unavailable (%s); event parked in %s for retry", exc.__class__.__name__, path)

    def close(self, camera_id: str, item: ReviewItem) -> None:
        """Record the closed item's final end and the violations that joined it after it opened."""
        with self._lock:
            if any(e.event.id == item.id for e, _ in self._unstored):
                self._late_close[item.id] = item  # applied once its evidence is stored
                return
            known = self._open.pop(item.id, None)
        if known is None:
            log.warning("review item %s closed but its event was not recorded here; end not updated", item.id)
            return
        event_id, stored, size, token = known
        ended = _utc(item.ended_at if item.ended_at is not None else item.last_violation_at)
        with self._lock, self._sessions() as session:
            if token is not None:
                try:
                    check_lease(session, int(camera_id), token)
                except LeaseLost as exc:
                    self._refused(exc, item.id)
                    return
            event = session.get(Event, event_id)
            if event is None:
                return
            new = violation_rows(item.violations[stored:], size)
            event.violations.extend(EventViolation(**row) for row in new)
            event.kinds = sorted(set(event.kinds) | {row["kind"] for row in new})
            event.ended_at = max(ended, event.started_at)
            audit_log.append(
                session,
                WORKER_ACTOR,
                "event.closed",
                f"event:{event.id}",
                {"ended_at": event.ended_at, "kinds": event.kinds, "violations": len(event.violations)},
            )
            session.commit()

    def retry_outbox(self) -> int:
        """Record parked events (oldest first); returns how many went through."""
        done = 0
        for path in sorted(self._outbox.glob("*.json")):
            row = json.loads(path.read_text())
            row["started_at"] = datetime.fromisoformat(row["started_at"])
            row["ended_at"] = datetime.fromisoformat(row["ended_at"])
            for v in row["violations"]:
                v["ts"] = datetime.fromisoformat(v["ts"])
            row["clip"] = StoredObject(**row["clip"])
            row["snapshot"] = StoredObject(**row["snapshot"])
            row["lease"] = LeaseToken(**row["lease"]) if row.get("lease") else None
            try:
                self._record(row)
            except LeaseLost as exc:
                self._refused(exc, row["rule_snapshot"]["review_item"])
            except SQLAlchemyError:
                break
            path.unlink()
            done += 1
        return done

    def _refused(self, exc: LeaseLost, item_id: str) -> None:
        log.warning("%s: review item %s not recorded (another worker runs the camera)", exc, item_id)
        if self.leases is not None:
            self.leases.lose(exc.camera_id, exc.token)

    def _row(
        self, evidence: Evidence, clip: StoredObject, snapshot: StoredObject, token: LeaseToken | None
    ) -> dict[str, Any]:
        item = evidence.event
        ended = item.ended_at if item.ended_at is not None else item.last_violation_at
        return {
            "camera_id": int(evidence.camera_id),
            "kinds": item.kinds,
            "started_at": _utc(item.started_at),
            "ended_at": _utc(ended),
            "violations": violation_rows(item.violations, _frame_size(item)),
            "snapshot": snapshot,
            "clip": clip,
            "clip_duration_s": evidence.clip.duration_s,
            "model_version": evidence.model_version,
            "rule_snapshot": item.rule_snapshot | {"rule_version": item.rule_version, "review_item": item.id},
            "lease": token,
        }

    def _record(self, row: dict[str, Any], size: tuple[int, int] | None = None) -> None:
        with self._lock, self._sessions() as session:
            event = record_event(session, **row)
            self.recorded.append(event.id)
            item_id = row["rule_snapshot"]["review_item"]
            self._open[item_id] = (event.id, len(row["violations"]), size, row["lease"])

    def _park(self, item_id: str, row: dict[str, Any]) -> Path:
        self._outbox.mkdir(parents=True, exist_ok=True)
        path = self._outbox / f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{item_id}.json"
        serialisable = row | {
            "started_at": row["started_at"].isoformat(),
            "ended_at": row["ended_at"].isoformat(),
            "violations": [v | {"ts": v["ts"].isoformat()} for v in row["violations"]],
            "clip": _object_dict(row["clip"]),
            "snapshot": _object_dict(row["snapshot"]),
            "lease": None if row["lease"] is None else dataclasses.asdict(row["lease"]),
        }
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(serialisable))
        tmp.replace(path)
        return path


def _object_dict(obj: StoredObject) -> dict[str, Any]:
    return {"key": obj.key, "sha256": obj.sha256, "size": obj.size, "content_type": obj.content_type}
