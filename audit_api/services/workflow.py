"""The inspector/supervisor workflow: review → sign-off (opening a corrective action, see
services.actions), plus alert acknowledgement. Every step checks the state machine, commits and lands in
the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit_api import audit_log
from audit_api.models import (
    Alert,
    ClipKind,
    Event,
    EventStatus,
    Review,
    SignOff,
    User,
    Verdict,
    utcnow,
)
from audit_api.services import actions, retention
from audit_api.services.alerting.notices import SUPERVISOR_ALERTS
from audit_api.services.errors import Conflict
from audit_api.services.events import get_event
from audit_api.services.listing import Page, paginate
from audit_api.services.scope import SiteScope
from audit_api.services.users import actor_of
from audit_api.storage import ObjectCorrupted, ObjectNotFound, ObjectStore


def review_event(session: Session, event_id: int, inspector: User, verdict: Verdict, comment: str) -> Review:
    """Record a verdict; an event may be re-reviewed until it is signed off."""
    event = get_event(session, event_id, inspector)
    if event.status == EventStatus.SIGNED_OFF:
        raise Conflict(f"event {event_id} is signed off and can no longer be reviewed")
    review = Review(event=event, inspector_id=inspector.id, verdict=verdict, comment=comment)
    event.status = EventStatus(verdict.value)
    session.add(review)
    session.flush()
    if verdict == Verdict.CONFIRMED:
        retention.confirm_event(session, event)
    payload = {"verdict": verdict, "comment": comment}
    audit_log.append(session, actor_of(inspector), "event.reviewed", f"event:{event_id}", payload)
    session.commit()
    return review


def review_events(
    session: Session, event_ids: Sequence[int], inspector: User, verdict: Verdict, comment: str
) -> list[Review]:
    """The same verdict for several events in one transaction: every event is reviewed, or none is.

    NotFound names the first id the inspector cannot see (another site's is unknown, as everywhere);
    Conflict lists the events already signed off."""
    events = [get_event(session, event_id, inspector) for event_id in dict.fromkeys(event_ids)]
    signed = [e.id for e in events if e.status == EventStatus.SIGNED_OFF]
    if signed:
        raise Conflict(f"events {signed} are signed off and can no longer be reviewed; none was reviewed")
    reviews = []
    for event in events:
        review = Review(event=event, inspector_id=inspector.id, verdict=verdict, comment=comment)
        event.status = EventStatus(verdict.value)
        session.add(review)
        reviews.append(review)
        if verdict == Verdict.CONFIRMED:
            retention.confirm_event(session, event)
    session.flush()
    payload = {"verdict": verdict, "comment": comment, "bulk": len(events)}
    for event in events:
        audit_log.append(session, actor_of(inspector), "event.reviewed", f"event:{event.id}", payload)
    session.commit()
    return reviews


def _check_evidence(event: Event, store: ObjectStore | None) -> str | None:
    """The clip's recorded SHA-256, after re-reading the object to prove it still matches. A manual event
    (opened from a live capture) has no clip: its still is the evidence signed."""
    clip = event.clip_of(ClipKind.CLIP) or event.clip_of(ClipKind.SNAPSHOT)
    if clip is None:
        return None
    if store is not None:
        try:
            store.get(clip.object_key, sha256=clip.sha256)
        except (ObjectCorrupted, ObjectNotFound) as exc:
            raise Conflict(
                f"evidence {clip.kind.value} of event {event.id} failed its integrity check: {exc}"
            ) from exc
    return clip.sha256


def sign_off(
    session: Session,
    event_id: int,
    inspector: User,
    store: ObjectStore | None,
    *,
    action_description: str | None = None,
    action_due: datetime | None = None,
    action_supervisor_id: int | None = None,
) -> SignOff:
    """Sign off a reviewed event, recording the clip hash; a confirmed event opens a corrective action
    (due date and responsible supervisor checked by services.actions; nothing is written when refused)."""
    event = get_event(session, event_id, inspector)
    if event.signoff is not None:
        raise Conflict(f"event {event_id} is already signed off")
    verdict = event.verdict
    if verdict is None:
        raise Conflict(f"event {event_id} must be reviewed before sign-off")
    signoff = SignOff(event=event, inspector_id=inspector.id, clip_sha256=_check_evidence(event, store))
    event.status = EventStatus.SIGNED_OFF
    session.add(signoff)
    retention.confirm_event(
        session, event
    )  # signed evidence is kept the long retention, whatever the verdict
    payload: dict[str, object] = {"verdict": verdict, "clip_sha256": signoff.clip_sha256}
    if verdict == Verdict.CONFIRMED:
        kinds = ", ".join(event.kinds)
        description = action_description or f"Resolve {kinds} seen by camera {event.camera_id}"
        action = actions.open_action(session, event, inspector, description, action_due, action_supervisor_id)
        payload["corrective_action_id"] = action.id
    session.flush()
    audit_log.append(session, actor_of(inspector), "event.signed_off", f"event:{event_id}", payload)
    session.commit()
    return signoff


def list_alerts(
    session: Session, viewer: User, page: Page, *, unacknowledged: bool = False
) -> tuple[Sequence[Alert], int]:
    """Newest first."""
    query = select(Alert).order_by(Alert.created_at.desc(), Alert.id.desc())
    query = SiteScope.of(viewer).where(query, Alert.site_id).where(SUPERVISOR_ALERTS)
    if unacknowledged:
        query = query.where(Alert.acknowledged_at.is_(None))
    return paginate(session, query, page)


def get_alert(session: Session, alert_id: int, viewer: User | None) -> Alert:
    """The alert if the viewer may see its site; NotFound otherwise (notices are not acknowledged)."""
    alert = session.scalar(select(Alert).where(Alert.id == alert_id, SUPERVISOR_ALERTS))
    return SiteScope.of(viewer).found(alert, lambda a: a.site_id, f"alert {alert_id}")


def acknowledge(session: Session, alert_id: int, supervisor: User) -> Alert:
    alert = get_alert(session, alert_id, supervisor)
    if alert.acknowledged_at is not None:
        raise Conflict(f"alert {alert_id} was already acknowledged")
    alert.acknowledged_by_id, alert.acknowledged_at = supervisor.id, utcnow()
    audit_log.append(session, actor_of(supervisor), "alert.acknowledged", f"alert:{alert_id}", {})
    session.commit()
    return alert
