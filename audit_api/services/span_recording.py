"""The worker's span writes (issue 12): a segment of a review item's recorded span, and the violations'
stills, as typed records that go through the worker's journal like events (`services.recording`).

The objects are in the store before a record exists; the record links them to the item's event, found by
the review item's `EventSource` key. The journal applies a camera's entries in order (event, segments,
close, stills), so an event recorded late — the database was down, or the worker restarted — still gets
its segments and stills. Each apply is idempotent: a segment already linked (event, index) or a violation
that already has its still changes nothing. Fencing is the events' (`recording.fence`).
"""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit_api import audit_log
from audit_api.models import ClipSegment, Event, EventSource, EvidenceKind, ViolationSnapshot
from audit_api.services import retention
from audit_api.services.errors import NotFound
from audit_api.services.events import WORKER_ACTOR, HeadRegions, heads_column
from audit_api.services.leases import LeaseToken
from audit_api.services.recording import fence
from audit_api.storage import StoredObject


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SegmentRecord(_Record):
    """One stored segment of a review item's span."""

    key: str = Field(min_length=1, max_length=64, description="The review item id (EventSource key).")
    camera_id: int
    index: int = Field(ge=0)
    started_at: AwareDatetime
    ended_at: AwareDatetime
    final: bool
    object: StoredObject
    lease: LeaseToken | None = None


class StillRecord(_Record):
    """One violation's stored still, matched to its row by kind, track and time."""

    kind: str
    track_id: int | None
    ts: AwareDatetime
    object: StoredObject
    heads: HeadRegions = Field(default_factory=list, description="Head regions of the still (blurred copy)")


class StillsRecord(_Record):
    """The stills of a closed review item."""

    key: str = Field(min_length=1, max_length=64)
    camera_id: int
    stills: list[StillRecord] = Field(min_length=1)
    lease: LeaseToken | None = None


def _event_of(session: Session, key: str) -> Event:
    """The event the review item was recorded into (or continued, after a lease takeover)."""
    event_id = session.scalar(select(EventSource.event_id).where(EventSource.key == key))
    event = None if event_id is None else session.get(Event, event_id)
    if event is None:  # its event entry came first in the journal: it failed, or was refused
        raise NotFound(f"review item {key} has no recorded event")
    return event


def record_segment(session: Session, record: SegmentRecord, *, replay: bool = False) -> bool:
    """Link the segment to its event once; False if it was linked before. Raises NotFound (no event),
    LeaseLost (a live write of a lost lease)."""
    fence(session, record.camera_id, record.lease, replay)
    event = _event_of(session, record.key)
    known = session.scalar(
        select(ClipSegment.id).where(ClipSegment.event_id == event.id, ClipSegment.index == record.index)
    )
    if known is not None:
        session.rollback()
        return False
    obj = record.object
    retention.register(session, obj, site_id=event.camera.site_id, event=event, kind=EvidenceKind.SEGMENT)
    session.add(
        ClipSegment(
            event=event,
            index=record.index,
            started_at=record.started_at,
            ended_at=record.ended_at,
            object_key=obj.key,
            sha256=obj.sha256,
            size=obj.size,
            content_type=obj.content_type,
        )
    )
    payload = {"index": record.index, "sha256": obj.sha256, "started_at": record.started_at,
               "ended_at": record.ended_at, "final": record.final}  # fmt: skip
    audit_log.append(session, WORKER_ACTOR, "event.segment_recorded", f"event:{event.id}", payload)
    session.commit()
    return True


def record_stills(session: Session, record: StillsRecord, *, replay: bool = False) -> int:
    """Give each violation without a still its own; returns how many were linked (0 on a replay that
    went through before)."""
    fence(session, record.camera_id, record.lease, replay)
    event = _event_of(session, record.key)
    rows = {(v.kind, v.track_id, v.ts): v for v in event.violations if v.snapshot is None}
    linked = []
    for still in record.stills:
        row = rows.pop((still.kind, still.track_id, still.ts), None)
        if row is None:
            continue
        obj = still.object
        row.snapshot = ViolationSnapshot(
            object_key=obj.key,
            sha256=obj.sha256,
            size=obj.size,
            content_type=obj.content_type,
            heads=heads_column(still.heads),
        )
        retention.register(session, obj, site_id=event.camera.site_id, event=event, kind=EvidenceKind.STILL)
        linked.append({"violation_id": row.id, "sha256": obj.sha256})
    if not linked:
        session.rollback()
        return 0
    audit_log.append(session, WORKER_ACTOR, "event.stills_recorded", f"event:{event.id}", {"stills": linked})
    session.commit()
    return len(linked)
