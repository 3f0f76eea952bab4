"""The worker's sink for a review item's whole span (segments) and each violation's still (issue 12).

Kept apart from recorder.py: `EventRecorder` gets these two `SpanSink` methods from `SpanEvidence`. Like the
opening evidence, objects go to the store first (write-once, SHA-256), then one transaction links them to
the event, fenced by the camera's lease (`check_lease`; refused → nothing written, the camera is dropped)
and recorded in the audit log with their hashes. The event is found by the review item's `EventSource` key, so
a segment or the stills arrive only after `publish` recorded it (the pipeline chains them so).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from audit_api import audit_log
from audit_api.models import ClipSegment, Event, EventSource, EvidenceKind, ViolationSnapshot
from audit_api.services import retention
from audit_api.services.events import WORKER_ACTOR, heads_column
from audit_api.services.leases import LeaseLost, LeaseToken, check_lease
from audit_api.storage import ObjectStore
from audit_api.worker.lease_keeper import LeaseKeeper
from detect.events import ReviewItem
from ingest._sink import SegmentEvidence, ViolationStill

log = logging.getLogger(__name__)


def item_key_base(camera_id: str, started_at: float, item_id: str) -> str:
    """camera / UTC day / review item id: the prefix of every object of one review item."""
    day = datetime.fromtimestamp(started_at, tz=UTC).strftime("%Y/%m/%d")
    return f"cameras/{camera_id}/{day}/{item_id}"


def segment_key(evidence: SegmentEvidence) -> str:
    base = item_key_base(evidence.camera_id, evidence.item_started_at, evidence.item_id)
    return f"{base}/segments/{evidence.segment.index:03d}.mp4"


def still_key(camera_id: str, item: ReviewItem, index: int) -> str:
    return f"{item_key_base(camera_id, item.started_at, item.id)}/violations/{index:03d}.jpg"


def _event_of(session: Session, camera_id: str, started_at: float, item_id: str) -> Event | None:
    """The event the review item was recorded into (or continued, after a lease takeover)."""
    event_id = session.scalar(select(EventSource.event_id).where(EventSource.key == item_id))
    return None if event_id is None else session.get(Event, event_id)


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


class SpanEvidence:
    """`SpanSink` for `EventRecorder` (which provides the attributes declared here)."""

    _sessions: sessionmaker[Session]
    store: ObjectStore
    leases: LeaseKeeper | None

    def _refused(self, exc: LeaseLost, item_id: str) -> None:
        log.warning(
            "%s: evidence of review item %s not recorded (another worker runs the camera)", exc, item_id
        )
        if self.leases is not None:
            self.leases.lose(exc.camera_id, exc.token)

    def _lease(self, camera_id: str) -> tuple[bool, LeaseToken | None]:
        """(may write, token): a fenced worker writes only for the cameras it holds."""
        if self.leases is None:
            return True, None
        token = self.leases.token(camera_id)
        return token is not None, token

    def store_segment(self, evidence: SegmentEvidence) -> None:
        """Store one segment of a review item's span and link it to the item's event."""
        allowed, token = self._lease(evidence.camera_id)
        if not allowed:
            log.warning("camera %s is not leased here: segment of %s not recorded", evidence.camera_id,
                        evidence.item_id)  # fmt: skip
            return
        segment = evidence.segment
        stored = self.store.put(segment_key(evidence), segment.clip.data, "video/mp4")
        with self._sessions() as session:
            try:
                if token is not None:
                    check_lease(session, int(evidence.camera_id), token)
            except LeaseLost as exc:
                self._refused(exc, f"segment {evidence.segment.index} of review item {evidence.item_id}")
                return
            event = _event_of(session, evidence.camera_id, evidence.item_started_at, evidence.item_id)
            if event is None:
                log.error("segment %d of review item %s stored as %s, but its event is not recorded (yet)",
                          segment.index, evidence.item_id, stored.key)  # fmt: skip
                return
            row = ClipSegment(
                event=event,
                index=segment.index,
                started_at=_utc(segment.start_ts),
                ended_at=_utc(segment.end_ts),
                object_key=stored.key,
                sha256=stored.sha256,
                size=stored.size,
                content_type=stored.content_type,
            )
            session.add(row)
            retention.register(session, stored, site_id=event.camera.site_id, event=event,
                               kind=EvidenceKind.SEGMENT)  # fmt: skip
            payload = {"index": segment.index, "sha256": stored.sha256, "started_at": row.started_at,
                       "ended_at": row.ended_at, "final": segment.final}  # fmt: skip
            audit_log.append(session, WORKER_ACTOR, "event.segment_recorded", f"event:{event.id}", payload)
            session.commit()

    def store_stills(self, camera_id: str, item: ReviewItem, stills: list[ViolationStill]) -> None:
        """Store each violation's still and link it to the violation's row (matched by kind, track, time)."""
        allowed, token = self._lease(camera_id)
        if not allowed or not stills:
            return
        stored = [
            (still, self.store.put(still_key(camera_id, item, i), still.jpeg, "image/jpeg"))
            for i, still in enumerate(stills)
        ]
        with self._sessions() as session:
            try:
                if token is not None:
                    check_lease(session, int(camera_id), token)
            except LeaseLost as exc:
                self._refused(exc, f"stills of review item {item.id}")
                return
            event = _event_of(session, camera_id, item.started_at, item.id)
            if event is None:
                log.error("stills of review item %s stored, but its event is not recorded (yet)", item.id)
                return
            rows = {(v.kind, v.track_id, v.ts): v for v in event.violations if v.snapshot is None}
            linked = []
            for still, obj in stored:
                v = still.violation
                row = rows.pop((v.kind, v.track_id, _utc(v.ts)), None)
                if row is None:
                    continue
                row.snapshot = ViolationSnapshot(
                    object_key=obj.key,
                    sha256=obj.sha256,
                    size=obj.size,
                    content_type=obj.content_type,
                    heads=heads_column(list(still.heads)),
                )
                retention.register(session, obj, site_id=event.camera.site_id, event=event,
                                   kind=EvidenceKind.STILL)  # fmt: skip
                linked.append({"violation_id": row.id, "sha256": obj.sha256})
            if linked:
                audit_log.append(
                    session, WORKER_ACTOR, "event.stills_recorded", f"event:{event.id}", {"stills": linked}
                )
            session.commit()
