"""Evidence beyond an event's opening clip: its whole recorded span in segments and each violation's still.

Ids are global (a segment id, a violation id); another site's object is unknown (404), as everywhere.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response

from audit_api.api.deps import SessionDep, StoreDep, ViewerUser
from audit_api.api.params import Id
from audit_api.api.route_docs import DocumentedRoute
from audit_api.api.routes.evidence import Blurred, evidence_responses, image_for_viewer, serve
from audit_api.services import events as events_service
from audit_api.services import privacy

router = APIRouter(tags=["events"], route_class=DocumentedRoute)


@router.get(
    "/segments/{segment_id}", response_class=Response, responses=evidence_responses("video/mp4", ranges=True)
)
def get_segment(
    segment_id: Id,
    session: SessionDep,
    user: ViewerUser,
    store: StoreDep,
    range: Annotated[str | None, Header()] = None,
) -> Response:
    """One segment of an event's whole recorded span, MP4 (supports `Range: bytes=...`)."""
    segment = events_service.get_segment(session, segment_id, user)
    return serve(segment, store, range, f"event-{segment.event_id}-segment-{segment.index}.mp4")


@router.get(
    "/violations/{violation_id}/snapshot",
    response_class=Response,
    responses=evidence_responses("image/jpeg", "image/png"),
)
def get_violation_snapshot(
    violation_id: Id, session: SessionDep, user: ViewerUser, store: StoreDep, blurred: Blurred = False
) -> Response:
    """One violation's own still: the frame it fired on, the violator's box drawn in red (or its copy
    with blurred heads, PNG: see `blurred`)."""
    still = events_service.get_violation_still(session, violation_id, user)
    shown = image_for_viewer(session, store, privacy.of_still(still), user, blurred)
    return serve(
        shown,
        store,
        None,
        f"violation-{violation_id}.{'png' if shown.object_key != still.object_key else 'jpg'}",
    )
