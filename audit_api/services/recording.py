"""The worker's writes, as typed records with stable keys: an event (one review item), its close, an
unmonitored interval. Each write is idempotent — the same record applied twice changes nothing the
second time, and the database rejects the duplicate (primary key / unique key) — so the worker's journal
can replay anything it is not sure went through.

Fencing (`services.leases`): a *live* write (`replay=False`) carries the lease token the worker holds now;
`check_lease` refuses it with LeaseLost if another worker took the camera over (a stalled worker writes
nothing). A *replay* (`replay=True`: an entry the journal kept through a database outage or a restart)
was captured while its worker held the lease at that epoch; if the lease has moved on since, it is still
recorded, as evidence, with the epoch it was captured under (`EventSource.lease_epoch`,
`UnmonitoredInterval.lease_epoch`) — but never twice: an event that overlaps an event of another epoch
on the same camera and kind is merged into it (continuation) instead of becoming a second event.

Continuation also covers a takeover: the new lease holder's first item for an incident that the
previous epoch's worker opened (and could not close: it died) continues that event.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit_api import audit_log
from audit_api.models import (
    Camera,
    Event,
    EventSource,
    EventStatus,
    EventViolation,
    EvidenceKind,
    UnmonitoredInterval,
)
from audit_api.services import retention
from audit_api.services.events import WORKER_ACTOR, HeadRegions, ViolationIn, record_event
from audit_api.services.leases import LeaseLost, LeaseToken, check_lease
from audit_api.storage import StoredObject

log = logging.getLogger(__name__)


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EventRecord(_Record):
    """A review item with its stored evidence, as the worker hands it to the database."""

    key: str = Field(min_length=1, max_length=64, description="The review item id: stable across replays.")
    camera_id: int
    started_at: AwareDatetime
    ended_at: AwareDatetime
    violations: list[ViolationIn] = Field(min_length=1)
    snapshot: StoredObject
    snapshot_heads: HeadRegions | None = Field(
        None, description="Head regions of the snapshot (its blurred copy); None: not known (older worker)."
    )
    clip: StoredObject
    clip_duration_s: float | None
    model_version: str
    rule_snapshot: dict[str, Any]  # the rules as they ran (JSON document stored as is)
    lease: LeaseToken | None = None

    @property
    def kinds(self) -> list[str]:
        return sorted({v.kind for v in self.violations})


class CloseRecord(_Record):
    """A review item closed: its final end and the violations that joined it after it was recorded."""

    key: str = Field(min_length=1, max_length=64)
    camera_id: int
    ended_at: AwareDatetime
    violations: list[ViolationIn] = []
    lease: LeaseToken | None = None


class IntervalRecord(_Record):
    """A closed span in which the worker could not watch the camera."""

    camera_id: int
    started_at: AwareDatetime
    ended_at: AwareDatetime | None
    reason: str = Field(max_length=500)
    lease: LeaseToken | None = None

    @property
    def key(self) -> str:
        return f"{self.camera_id}:{self.started_at.timestamp()!r}"


def fence(session: Session, camera_id: int, lease: LeaseToken | None, replay: bool) -> None:
    """Live writes need the lease now; replays may carry the epoch they were captured under."""
    if lease is None:
        return
    try:
        check_lease(session, camera_id, lease)
    except LeaseLost:
        if not replay:
            raise
        log.info("camera %s: replaying a write captured under epoch %d (lease moved on since)",
                 camera_id, lease.epoch)  # fmt: skip


def _source(record: EventRecord | CloseRecord, event_id: int) -> EventSource:
    lease = record.lease
    return EventSource(
        key=record.key,
        event_id=event_id,
        worker_id=lease.worker_id if lease else None,
        lease_epoch=lease.epoch if lease else None,
    )


def _continued(session: Session, record: EventRecord, window_s: float, replay: bool) -> Event | None:
    """The event of another lease epoch, same camera and a shared kind, that this item continues.

    A live item continues an event still open at its source (the previous holder died before closing
    it) whose span or recording (the holder's last sign of the incident: under load an event is recorded
    long after it started) is within `window_s` before the item's start. A replay merges into any event
    of another epoch whose span is within `window_s` of its own (never a second event for one incident).
    """
    if record.lease is None:
        return None
    since = record.started_at - timedelta(seconds=window_s)
    recent_open = (
        select(EventSource.event_id)
        .where(EventSource.closed_at.is_(None), EventSource.recorded_at >= since)
        .scalar_subquery()
    )
    candidates = session.scalars(
        select(Event)
        .where(
            Event.camera_id == record.camera_id,
            Event.status == EventStatus.OPEN,
            Event.started_at <= record.ended_at + timedelta(seconds=window_s),
            or_(Event.ended_at >= since, Event.id.in_(recent_open)),
        )
        .order_by(Event.started_at)
    )
    mine = (record.lease.worker_id, record.lease.epoch)
    for event in candidates:
        sources = event.sources
        if not sources or any((s.worker_id, s.lease_epoch) == mine for s in sources):
            continue  # not a worker's event, or one of this epoch's own (a new incident)
        if not set(event.kinds) & set(record.kinds):
            continue
        if replay and event.ended_at >= since:
            return event
        if not replay and any(s.closed_at is None for s in sources):
            return event
    return None


def _extend(event: Event, violations: list[ViolationIn], started: datetime, ended: datetime) -> None:
    event.violations.extend(EventViolation(**v.model_dump()) for v in violations)
    event.kinds = sorted(set(event.kinds) | {v.kind for v in violations})
    event.started_at = min(event.started_at, started)
    event.ended_at = max(event.ended_at, ended, event.started_at)
    confidences = [v.confidence for v in violations if v.confidence is not None]
    if confidences:
        event.best_confidence = max(
            [*confidences, *([event.best_confidence] if event.best_confidence else [])]
        )


def record_worker_event(
    session: Session, record: EventRecord, *, replay: bool = False, continue_window_s: float = 60.0
) -> tuple[int, bool]:
    """Record the item once: returns (event id, True if a new event row was created). A key already
    recorded returns its event (a replay of something that went through). Raises LeaseLost (live write
    of a lost lease), NotFound/Invalid/Conflict as record_event does."""
    fence(session, record.camera_id, record.lease, replay)
    # One writer per camera at a time, so two epochs cannot both decide "no event to continue".
    session.scalar(select(Camera.id).where(Camera.id == record.camera_id).with_for_update())
    known = session.scalar(select(EventSource.event_id).where(EventSource.key == record.key))
    if known is not None:
        session.rollback()
        return known, False
    target = _continued(session, record, continue_window_s, replay)
    try:
        if target is not None:
            _extend(target, record.violations, record.started_at, record.ended_at)
            session.add(_source(record, target.id))
            # The continuing item's own clip and snapshot are evidence of the event too (named in the entry).
            site_id = target.camera.site_id
            for obj, kind in ((record.clip, EvidenceKind.CLIP), (record.snapshot, EvidenceKind.SNAPSHOT)):
                retention.register(session, obj, site_id=site_id, event=target, kind=kind)
            audit_log.append(
                session,
                WORKER_ACTOR,
                "event.continued",
                f"event:{target.id}",
                {
                    "review_item": record.key,
                    "lease_epoch": record.lease.epoch if record.lease else None,
                    "started_at": record.started_at,
                    "ended_at": record.ended_at,
                    "kinds": record.kinds,
                    "clip_key": record.clip.key,
                    "clip_sha256": record.clip.sha256,
                    "snapshot_key": record.snapshot.key,
                    "snapshot_sha256": record.snapshot.sha256,
                },
            )
            session.commit()
            return target.id, False
        event = record_event(
            session,
            camera_id=record.camera_id,
            kinds=record.kinds,
            started_at=record.started_at,
            ended_at=record.ended_at,
            violations=record.violations,
            snapshot=record.snapshot,
            clip=record.clip,
            clip_duration_s=record.clip_duration_s,
            model_version=record.model_version,
            rule_snapshot=record.rule_snapshot,
            commit=False,
            snapshot_heads=record.snapshot_heads,
        )
        session.add(_source(record, event.id))
        session.commit()
        return event.id, True
    except IntegrityError:  # the same key recorded concurrently: the database kept one
        session.rollback()
        known = session.scalar(select(EventSource.event_id).where(EventSource.key == record.key))
        if known is None:
            raise
        return known, False


def close_worker_event(session: Session, record: CloseRecord, *, replay: bool = False) -> int | None:
    """Apply the close once; returns the event id, or None if the item was never recorded (refused, or
    dropped) or its close was applied before."""
    fence(session, record.camera_id, record.lease, replay)
    now = datetime.now(UTC)
    # The guarded update is the database's own "once": a second close of the key updates no row.
    claimed = session.execute(
        update(EventSource)
        .where(EventSource.key == record.key, EventSource.closed_at.is_(None))
        .values(closed_at=now)
        .returning(EventSource.event_id)
    ).scalar_one_or_none()
    if claimed is None:
        session.rollback()
        return None
    event = session.get(Event, claimed)
    if event is None:  # pragma: no cover - the foreign key cascades
        session.rollback()
        return None
    _extend(event, record.violations, event.started_at, record.ended_at)
    audit_log.append(
        session,
        WORKER_ACTOR,
        "event.closed",
        f"event:{event.id}",
        {"ended_at": event.ended_at, "kinds": event.kinds, "violations": len(event.violations),
         "review_item": record.key},
    )  # fmt: skip
    session.commit()
    return event.id


def record_interval(session: Session, record: IntervalRecord, *, replay: bool = False) -> bool:
    """Store the interval once (keyed by camera and start); False if it was stored before."""
    fence(session, record.camera_id, record.lease, replay)
    key = record.key
    if session.scalar(select(UnmonitoredInterval.id).where(UnmonitoredInterval.source_key == key)):
        session.rollback()
        return False
    session.add(
        UnmonitoredInterval(
            camera_id=record.camera_id,
            started_at=record.started_at,
            ended_at=record.ended_at,
            reason=record.reason[:500],
            source_key=key,
            lease_epoch=record.lease.epoch if record.lease else None,
        )
    )
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return False
    return True
