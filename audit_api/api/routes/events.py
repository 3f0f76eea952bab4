"""Events: listing and detail for every role (supervisors see their sites), evidence, inspector actions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, Response, status

from audit_api.api.deps import InspectorUser, SessionDep, SettingsDep, StoreDep, ViewerUser
from audit_api.api.params import Id, IdFilter, PageDep, Since, set_total
from audit_api.api.route_docs import CONFLICT, DocumentedRoute, errors
from audit_api.api.routes.evidence import Blurred, evidence_responses, image_for_viewer, serve
from audit_api.models import ClipKind, EventStatus
from audit_api.schemas.events import (
    BulkReviewIn,
    EventDetail,
    EventPage,
    EventSummary,
    ReviewIn,
    ReviewOut,
    SignOffIn,
    SignOffOut,
)
from audit_api.services import events as events_service
from audit_api.services import privacy, retention, workflow

router = APIRouter(prefix="/events", tags=["events"], route_class=DocumentedRoute)
_EXTENSIONS = {ClipKind.CLIP: "mp4", ClipKind.SNAPSHOT: "jpg"}


@router.get("")
def list_events(
    session: SessionDep,
    user: ViewerUser,
    page: PageDep,
    response: Response,
    site_id: IdFilter = None,
    camera_id: IdFilter = None,
    status: EventStatus | None = None,
    kind: Annotated[str | None, Query(max_length=64)] = None,
    since: Since = None,
) -> EventPage:
    events, total = events_service.list_events(
        session,
        user,
        site_id=site_id,
        camera_id=camera_id,
        status=status,
        kind=kind,
        since=since,
        page=page,
    )
    set_total(response, total)
    items = [EventSummary.model_validate(e) for e in events]
    return EventPage(items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/{event_id}")
def get_event(event_id: Id, session: SessionDep, user: ViewerUser) -> EventDetail:
    return EventDetail.model_validate(events_service.get_event(session, event_id, user))


def _evidence(
    event_id: Id,
    kind: ClipKind,
    session: SessionDep,
    user: ViewerUser,
    store: StoreDep,
    range_header: str | None,
) -> Response:
    event = events_service.get_event(session, event_id, user)
    clip = event.clip_of(kind)
    if clip is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"event {event_id} has no {kind.value}")
    return serve(clip, store, range_header, f"event-{event_id}-{kind.value}.{_EXTENSIONS[kind]}")


@router.get(
    "/{event_id}/clip", response_class=Response, responses=evidence_responses("video/mp4", ranges=True)
)
def get_clip(
    event_id: Id,
    session: SessionDep,
    user: ViewerUser,
    store: StoreDep,
    range: Annotated[str | None, Header()] = None,
) -> Response:
    """The MP4 evidence clip (supports `Range: bytes=...`)."""
    return _evidence(event_id, ClipKind.CLIP, session, user, store, range)


@router.get(
    "/{event_id}/snapshot",
    response_class=Response,
    responses=evidence_responses("image/jpeg", "image/png"),
)
def get_snapshot(
    event_id: Id, session: SessionDep, user: ViewerUser, store: StoreDep, blurred: Blurred = False
) -> Response:
    """The event's snapshot (JPEG), or its copy with blurred heads (PNG, see `blurred`)."""
    event = events_service.get_event(session, event_id, user)
    clip = event.clip_of(ClipKind.SNAPSHOT)
    if clip is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"event {event_id} has no snapshot")
    shown = image_for_viewer(session, store, privacy.of_snapshot(clip, event), user, blurred)
    extension = "png" if shown.object_key != clip.object_key else "jpg"
    return serve(shown, store, None, f"event-{event_id}-snapshot.{extension}")


@router.post("/review", status_code=status.HTTP_201_CREATED, responses=errors(404, 409))
def review_events(
    body: BulkReviewIn, session: SessionDep, inspector: InspectorUser, store: StoreDep, settings: SettingsDep
) -> list[ReviewOut]:
    """The same verdict (e.g. false positive) for a selection of events, atomically: all or none."""
    reviews = workflow.review_events(session, body.event_ids, inspector, body.verdict, body.comment)
    out = [ReviewOut.model_validate(r) for r in reviews]
    _keep(session, store, settings, body.event_ids)
    return out


def _keep(session: SessionDep, store: StoreDep, settings: SettingsDep, event_ids: list[int]) -> None:
    """Confirmed or signed-off evidence: its store lock goes to the long retention now (the retention job
    catches up if the store is down)."""
    retention.extend_confirmed(session, store, settings.evidence_long_retention_days, event_ids=event_ids)


@router.post("/{event_id}/review", status_code=status.HTTP_201_CREATED, responses=CONFLICT)
def review_event(
    event_id: Id,
    body: ReviewIn,
    session: SessionDep,
    inspector: InspectorUser,
    store: StoreDep,
    settings: SettingsDep,
) -> ReviewOut:
    review = workflow.review_event(session, event_id, inspector, body.verdict, body.comment)
    out = ReviewOut.model_validate(review)
    _keep(session, store, settings, [event_id])
    return out


@router.post("/{event_id}/signoff", status_code=status.HTTP_201_CREATED, responses=CONFLICT)
def sign_off(
    event_id: Id,
    session: SessionDep,
    inspector: InspectorUser,
    store: StoreDep,
    settings: SettingsDep,
    body: SignOffIn | None = None,
) -> SignOffOut:
    """Sign off a reviewed event: re-checks the clip's SHA-256 and records it with who and when."""
    body = body or SignOffIn()
    signoff = workflow.sign_off(
        session,
        event_id,
        inspector,
        store,
        action_description=body.action_description,
        action_due=body.action_due,
        action_supervisor_id=body.action_supervisor_id,
    )
    out = SignOffOut.model_validate(signoff)
    _keep(session, store, settings, [event_id])
    return out
