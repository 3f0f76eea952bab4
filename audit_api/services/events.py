"""Recording finished events (called by the worker) and querying them (called by the API)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from audit_api import audit_log
from audit_api.audit_log import canonical_json
from audit_api.models import (
    Camera,
    Clip,
    ClipKind,
    ClipSegment,
    Event,
    EventStatus,
    EventViolation,
    EvidenceKind,
    User,
    ViolationSnapshot,
)
from audit_api.services import retention
from audit_api.services.alerting.opening import alert_for_event
from audit_api.services.errors import Conflict, Invalid, NotFound
from audit_api.services.leases import LeaseToken, check_lease
from audit_api.services.listing import Page, paginate
from audit_api.services.scope import SiteScope
from audit_api.storage import StoredObject

WORKER_ACTOR = "worker"


class ViolationIn(BaseModel):
    """One violation dict as handed over by the worker."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(min_length=1, max_length=64)
    ts: AwareDatetime
    track_id: int | None = None
    zone_id: int | None = None
    box: list[float] | None = Field(None, min_length=4, max_length=4)
    confidence: float | None = Field(None, ge=0, le=1)


def _rule_version(rule_snapshot: dict[str, Any]) -> str:
    """The snapshot's own version label, else a short content hash so equal rule sets share a version."""
    label = rule_snapshot.get("rule_version")
    if label is not None:
        return str(label)
    return "sha256:" + hashlib.sha256(canonical_json(rule_snapshot).encode()).hexdigest()[:16]


HeadRegions = list[tuple[int, int, int, int]]
"""Head regions of a stored image, pixel x1, y1, x2, y2 (detect.privacy.HeadBlur.regions), for its blurred
copy; None where they are not known."""


def heads_column(heads: HeadRegions | None) -> list[list[int]] | None:
    return None if heads is None else [[int(v) for v in region] for region in heads]


def _clip_row(
    kind: ClipKind, stored: StoredObject, duration_s: float | None, heads: HeadRegions | None = None
) -> Clip:
    return Clip(
        kind=kind,
        object_key=stored.key,
        sha256=stored.sha256,
        size=stored.size,
        duration_s=duration_s,
        content_type=stored.content_type,
        heads=heads_column(heads),
    )


def record_event(
    session: Session,
    *,
    camera_id: int,
    kinds: list[str],
    started_at: datetime,
    ended_at: datetime,
    violations: Sequence[dict[str, Any] | ViolationIn],
    snapshot: StoredObject,
    clip: StoredObject | None,
    clip_duration_s: float | None,
    model_version: str,
    rule_snapshot: dict[str, Any],
    lease: LeaseToken | None = None,
    commit: bool = True,
    snapshot_heads: HeadRegions | None = None,
) -> Event:
    """Store a finished event with its evidence, violations and site alert, then commit (all or nothing;
    `commit=False`: flushed only, the caller adds its own rows and commits).

    Every kind must be evidenced by at least one violation (the kind filter of list_events relies on it).
    A manual event (opened by an inspector from a live capture) has no clip: its evidence is the still.
    Raises NotFound for an unknown camera, Invalid for inconsistent input and Conflict when the evidence
    keys are already recorded; nothing is written then. With `lease` (a worker's write), raises LeaseLost
    and writes nothing unless that token still holds the camera's lease, checked in this transaction.
    """
    if lease is not None:
        check_lease(session, camera_id, lease)
    camera = session.get(Camera, camera_id)
    if camera is None:
        raise NotFound(f"camera {camera_id} not found")
    if not kinds:
        raise Invalid("an event needs at least one kind")
    if started_at.tzinfo is None or ended_at.tzinfo is None:
        raise Invalid("started_at and ended_at must be timezone-aware")
    if ended_at < started_at:
        raise Invalid(f"event ends ({ended_at.isoformat()}) before it starts ({started_at.isoformat()})")
    try:
        parsed = [ViolationIn.model_validate(v) for v in violations]
    except ValidationError as exc:
        raise Invalid(f"bad violation: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}") from exc
    unevidenced = set(kinds) - {v.kind for v in parsed}
    if unevidenced:
        raise Invalid(f"kinds without any violation: {sorted(unevidenced)}")
    confidences = [v.confidence for v in parsed if v.confidence is not None]
    try:
        event = Event(
            camera=camera,
            kinds=sorted({v.kind for v in parsed}),
            started_at=started_at,
            ended_at=ended_at,
            status=EventStatus.OPEN,
            rule_snapshot=rule_snapshot,
            model_version=model_version,
            rule_version=_rule_version(rule_snapshot),
            best_confidence=max(confidences, default=None),
            violations=[EventViolation(**v.model_dump()) for v in parsed],
            clips=[
                *([_clip_row(ClipKind.CLIP, clip, clip_duration_s)] if clip is not None else []),
                _clip_row(ClipKind.SNAPSHOT, snapshot, None, snapshot_heads),
            ],
        )
        session.add(event)
        session.flush()
        for obj, kind in ((clip, EvidenceKind.CLIP), (snapshot, EvidenceKind.SNAPSHOT)):
            if obj is not None:
                retention.register(session, obj, site_id=camera.site_id, event=event, kind=kind)
        review_item = rule_snapshot.get("review_item")
        _, deliveries = alert_for_event(session, event, str(review_item) if review_item else None)
        audit_log.append(
            session,
            WORKER_ACTOR,
            "event.recorded",
            f"event:{event.id}",
            {
                "camera_id": camera_id,
                "kinds": event.kinds,
                "started_at": started_at,
                "ended_at": ended_at,
                "clip_sha256": clip.sha256 if clip is not None else None,
                "snapshot_sha256": snapshot.sha256,
                "model_version": model_version,
                "rule_version": event.rule_version,
                "alert_deliveries": deliveries,
            },
        )
        if commit:
            session.commit()
        else:
            session.flush()
    except IntegrityError as exc:
        session.rollback()
        keys = " or ".join(o.key for o in (clip, snapshot) if o is not None)
        raise Conflict(f"evidence {keys} already belongs to another event") from exc
    except Exception:
        session.rollback()
        raise
    return event


def get_event(session: Session, event_id: int, viewer: User | None) -> Event:
    """The event if the viewer may see its camera's site; NotFound otherwise."""
    event = session.get(Event, event_id)
    return SiteScope.of(viewer).found(event, lambda e: e.site_id, f"event {event_id}")


def get_segment(session: Session, segment_id: int, viewer: User | None) -> ClipSegment:
    """A segment of an event's recorded span, if the viewer may see the event's site; NotFound otherwise."""
    segment = session.get(ClipSegment, segment_id)
    return SiteScope.of(viewer).found(segment, lambda s: s.event.site_id, f"segment {segment_id}")


def get_violation_still(session: Session, violation_id: int, viewer: User | None) -> ViolationSnapshot:
    """The still of one violation, if the viewer may see its event's site; NotFound otherwise."""
    violation = session.get(EventViolation, violation_id)
    if violation is not None and violation.snapshot is None:
        violation = None  # no still: the same answer as an unknown violation
    scope = SiteScope.of(viewer)
    found = scope.found(violation, lambda v: v.event.site_id, f"still of violation {violation_id}")
    assert found.snapshot is not None
    return found.snapshot


def list_events(
    session: Session,
    viewer: User,
    *,
    site_id: int | None = None,
    camera_id: int | None = None,
    status: EventStatus | None = None,
    kind: str | None = None,
    since: datetime | None = None,
    page: Page,
) -> tuple[Sequence[Event], int]:
    """One page of events (newest first) and the total matching count."""
    query = SiteScope.of(viewer).where(select(Event).join(Event.camera), Camera.site_id)
    if site_id is not None:
        query = query.where(Camera.site_id == site_id)
    if camera_id is not None:
        query = query.where(Event.camera_id == camera_id)
    if status is not None:
        query = query.where(Event.status == status)
    if kind is not None:
        # Kinds live in a JSON list; the violation rows carry the same kinds in an indexed column.
        query = query.where(Event.violations.any(EventViolation.kind == kind))
    if since is not None:
        query = query.where(Event.started_at >= since)
    query = query.options(selectinload(Event.camera), selectinload(Event.reviews))
    return paginate(session, query.order_by(Event.started_at.desc(), Event.id.desc()), page)
