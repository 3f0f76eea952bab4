"""Corrective actions, the dispatch → rectify → re-check part of the workflow: an inspector opens one at
sign-off with a due date and the responsible supervisor; a supervisor of the event's site answers with a
note and photos; an inspector verifies it (closed) or rejects it with a reason (reopened). Every response
and decision is kept as its own row, and every step lands in the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, not_, select
from sqlalchemy.orm import Session

from audit_api import audit_log
from audit_api.models import (
    ActionDecision,
    ActionPhoto,
    ActionResponse,
    ActionStatus,
    Camera,
    CorrectiveAction,
    Event,
    EvidenceKind,
    Role,
    User,
    utcnow,
)
from audit_api.schemas.bounds import MAX_PHOTOS_PER_RESPONSE
from audit_api.services import retention
from audit_api.services.errors import Conflict, Invalid
from audit_api.services.listing import Page, paginate
from audit_api.services.photos import clean_photo
from audit_api.services.scope import SiteScope
from audit_api.services.users import actor_of
from audit_api.storage import ObjectStore, sha256_hex


@dataclass(frozen=True)
class PhotoUpload:
    """One uploaded file as received: its client-side name (for messages only) and its bytes."""

    name: str
    data: bytes


@dataclass(frozen=True)
class ActionFilter:
    status: ActionStatus | None = None
    overdue: bool | None = None
    site_id: int | None = None


def overdue_clause(now: datetime) -> ColumnElement[bool]:
    """SQL twin of CorrectiveAction.overdue: due before `now` and still waiting for the site's response."""
    return and_(
        CorrectiveAction.due.is_not(None),
        CorrectiveAction.due < now,
        CorrectiveAction.status.in_(CorrectiveAction.AWAITING_RESPONSE),
    )


def site_supervisors(session: Session, site_id: int) -> list[User]:
    """The active supervisors of a site, by name: who an action of that site may be assigned to."""
    query = (
        select(User)
        .where(User.role == Role.SUPERVISOR, User.active.is_(True), User.sites.any(id=site_id))
        .order_by(User.name, User.email)
    )
    return list(session.scalars(query))


def _responsible(session: Session, site_id: int, supervisor_id: int) -> User:
    user = session.get(User, supervisor_id)
    if user is None or user not in site_supervisors(session, site_id):
        raise Invalid(f"user {supervisor_id} is not an active supervisor of site {site_id}")
    return user


def open_action(
    session: Session,
    event: Event,
    inspector: User,
    description: str,
    due: datetime | None,
    supervisor_id: int | None,
) -> CorrectiveAction:
    """Add the action a confirmed event's sign-off opens (flushed; the caller commits)."""
    supervisor = None if supervisor_id is None else _responsible(session, event.site_id, supervisor_id)
    action = CorrectiveAction(
        event=event, description=description, due=due, supervisor=supervisor, opened_by_id=inspector.id
    )
    session.add(action)
    session.flush()
    payload = {"event_id": event.id, "description": description, "due": due, "supervisor_id": supervisor_id}
    audit_log.append(session, actor_of(inspector), "action.opened", f"action:{action.id}", payload)
    return action


def get_action(session: Session, action_id: int, viewer: User | None) -> CorrectiveAction:
    """The corrective action if the viewer may see its event's site; NotFound otherwise."""
    action = session.get(CorrectiveAction, action_id)
    return SiteScope.of(viewer).found(action, lambda a: a.event.site_id, f"corrective action {action_id}")


def get_photo(session: Session, photo_id: int, viewer: User | None) -> ActionPhoto:
    """A corrective action's photo if the viewer may see the action's site; NotFound otherwise."""
    photo = session.get(ActionPhoto, photo_id)
    return SiteScope.of(viewer).found(photo, lambda p: p.site_id, f"photo {photo_id}")


def list_actions(
    session: Session, viewer: User, page: Page, where: ActionFilter
) -> tuple[Sequence[CorrectiveAction], int]:
    """Oldest first; `overdue` lists the actions past their due date still waiting for the site."""
    query = select(CorrectiveAction).join(CorrectiveAction.event).join(Event.camera)
    query = SiteScope.of(viewer).where(query.order_by(CorrectiveAction.id), Camera.site_id)
    if where.status is not None:
        query = query.where(CorrectiveAction.status == where.status)
    if where.site_id is not None:
        query = query.where(Camera.site_id == where.site_id)
    if where.overdue is not None:
        late = overdue_clause(utcnow())
        query = query.where(late if where.overdue else not_(late))
    return paginate(session, query, page)


def respond(
    session: Session,
    store: ObjectStore,
    action_id: int,
    supervisor: User,
    note: str,
    photos: Sequence[PhotoUpload],
    *,
    max_photo_bytes: int,
) -> CorrectiveAction:
    """Record a supervisor's answer. Every photo is checked (and cleaned) before any is stored, and the
    photos are stored before the database rows that name them are committed."""
    action = get_action(session, action_id, supervisor)
    if action.status not in CorrectiveAction.AWAITING_RESPONSE:
        raise Conflict(f"corrective action {action_id} is {action.status.value}, not awaiting a response")
    if not 1 <= len(photos) <= MAX_PHOTOS_PER_RESPONSE:
        raise Invalid(f"an answer needs 1 to {MAX_PHOTOS_PER_RESPONSE} photos, got {len(photos)}")
    cleaned = [clean_photo(p.data, p.name, max_photo_bytes) for p in photos]
    rows = []
    stored_photos = []
    for position, photo in enumerate(cleaned):
        key = f"actions/{action.id}/photos/{sha256_hex(photo.data)}.{photo.extension}"
        stored = store.put(key, photo.data, photo.content_type)
        stored_photos.append(stored)
        rows.append(
            ActionPhoto(
                position=position,
                object_key=stored.key,
                sha256=stored.sha256,
                size=stored.size,
                content_type=stored.content_type,
                width=photo.width,
                height=photo.height,
            )
        )
    response = ActionResponse(supervisor_id=supervisor.id, note=note, photos=rows)
    action.responses.append(response)
    action.status = ActionStatus.ANSWERED
    action.supervisor_response = note
    action.responded_by_id, action.responded_at = supervisor.id, utcnow()
    for stored in stored_photos:  # a corrective action is opened on a confirmed event: long retention
        retention.register(session, stored, site_id=action.site_id, event=action.event,
                           kind=EvidenceKind.PHOTO, confirmed=True)  # fmt: skip
    session.flush()
    payload = {
        "response_id": response.id,
        "note": note,
        "photos": [{"id": p.id, "key": p.object_key, "sha256": p.sha256, "size": p.size} for p in rows],
    }
    audit_log.append(session, actor_of(supervisor), "action.responded", f"action:{action_id}", payload)
    session.commit()
    return action


def decide(session: Session, action_id: int, inspector: User, note: str, *, accept: bool) -> CorrectiveAction:
    """Accept (verified, closed) or reject (reopened; `note` is the reason) the latest answer."""
    action = get_action(session, action_id, inspector)
    if action.status != ActionStatus.ANSWERED:
        raise Conflict(f"corrective action {action_id} is {action.status.value}, not answered")
    decision = ActionDecision(inspector_id=inspector.id, accepted=accept, note=note)
    action.decisions.append(decision)
    action.status = ActionStatus.VERIFIED if accept else ActionStatus.REOPENED
    action.verification_note = note
    action.verified_by_id, action.verified_at = inspector.id, utcnow()
    session.flush()
    verb = "action.verified" if accept else "action.reopened"
    answered = action.responses[-1].id if action.responses else None  # None: answered before history
    payload = {"decision_id": decision.id, "note": note, "response_id": answered}
    audit_log.append(session, actor_of(inspector), verb, f"action:{action_id}", payload)
    session.commit()
    return action
