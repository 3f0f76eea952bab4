"""Violation alerts are raised when the violation opens, not when its clip is stored.

The worker calls `open_alert` as soon as a review item opens, with the annotated snapshot (stored first):
the alert and its deliveries are committed then, without an event. When the clip's post-roll is recorded
the event is recorded (services/events.py `record_event`), which calls `alert_for_event`: the opening
alert gets its event and a follow-up message (purpose `clip`) with the clip link goes to everyone the first
one reached. Without an opening alert (the worker could not write it: database down, or an event recorded
by hand) the alert is raised with the event, as before.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit_api import audit_log
from audit_api.models import Alert, AlertKind, Camera, ClipKind, DeliveryPurpose, Event, EvidenceKind
from audit_api.services import retention
from audit_api.services.alerting.queue import enqueue, follow_up
from audit_api.services.errors import Invalid, NotFound
from audit_api.services.leases import LeaseToken, check_lease
from audit_api.storage import StoredObject

WORKER_ACTOR = "worker"
MAX_KIND = 64


def _opening(session: Session, camera_id: int, review_item: str) -> Alert | None:
    return session.scalars(
        select(Alert).where(Alert.camera_id == camera_id, Alert.review_item == review_item)
    ).first()


def open_alert(
    session: Session,
    *,
    camera_id: int,
    kinds: list[str],
    started_at: datetime,
    review_item: str,
    snapshot: StoredObject,
    lease: LeaseToken | None = None,
    snapshot_heads: list[tuple[int, int, int, int]] | None = None,
) -> Alert:
    """Raise (once per review item) the alert of a violation that just opened, and queue its messages;
    commits. Raises LeaseLost (writes nothing) when `lease` no longer holds the camera."""
    if lease is not None:
        check_lease(session, camera_id, lease)
    camera = session.get(Camera, camera_id)
    if camera is None:
        raise NotFound(f"camera {camera_id} not found")
    if not kinds or any(not 1 <= len(k) <= MAX_KIND for k in kinds) or started_at.tzinfo is None:
        raise Invalid("an opening alert needs kinds (1 to 64 characters) and a timezone-aware start")
    existing = _opening(session, camera_id, review_item)
    if existing is not None:
        return existing
    alert = Alert(
        site_id=camera.site_id,
        kind=AlertKind.VIOLATION,
        kinds=sorted(set(kinds)),
        camera_id=camera_id,
        started_at=started_at,
        review_item=review_item,
        snapshot_key=snapshot.key,
        snapshot_sha256=snapshot.sha256,
        snapshot_heads=None if snapshot_heads is None else [list(map(int, r)) for r in snapshot_heads],
    )
    session.add(alert)
    session.flush()
    retention.register(session, snapshot, site_id=camera.site_id, event=None, kind=EvidenceKind.OPENING)
    deliveries = enqueue(session, alert, alert.kinds)
    payload = {
        "camera_id": camera_id,
        "kinds": alert.kinds,
        "started_at": started_at,
        "snapshot_sha256": snapshot.sha256,
        "deliveries": len(deliveries),
    }
    audit_log.append(session, WORKER_ACTOR, "alert.opened", f"alert:{alert.id}", payload)
    session.commit()
    return alert


def alert_for_event(session: Session, event: Event, review_item: str | None) -> tuple[Alert, int]:
    """The event's alert (in the caller's transaction): its opening alert, now linked to the event and
    followed by the clip message; or a new alert queued now. Returns it and how many messages were queued."""
    alert = _opening(session, event.camera_id, review_item) if review_item else None
    if alert is not None and alert.event_id is None:
        alert.event_id = event.id
        if alert.snapshot_key is not None:
            retention.link_to_event(session, alert.snapshot_key, event)
        alert.kinds = sorted(set(alert.kinds) | set(event.kinds))
        has_clip = any(c.kind == ClipKind.CLIP for c in event.clips)
        queued = follow_up(session, alert, DeliveryPurpose.CLIP) if has_clip else []
        return alert, len(queued)
    alert = Alert(
        event_id=event.id,
        site_id=event.camera.site_id,
        kind=AlertKind.VIOLATION,
        kinds=list(event.kinds),
        camera_id=event.camera_id,
        started_at=event.started_at,
        review_item=review_item,
    )
    session.add(alert)
    session.flush()
    return alert, len(enqueue(session, alert, event.kinds))  # same transaction: nothing lost
