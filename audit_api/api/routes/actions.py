"""Corrective actions: the responsible site's supervisors answer with a note and photos, inspectors verify
or reject; overdue actions are listed per site; a closed action's rectification report is a PDF."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, File, Form, Response, UploadFile

from audit_api.api.deps import InspectorUser, SessionDep, SettingsDep, StoreDep, SupervisorUser, ViewerUser
from audit_api.api.params import Id, IdFilter, Lang, PageDep, set_total
from audit_api.api.route_docs import CONFLICT, DocumentedRoute, error, errors
from audit_api.api.routes.evidence import evidence_responses, serve
from audit_api.models import ActionStatus
from audit_api.schemas.actions import MAX_NOTE_CHARS, ActionOut, RejectIn, VerifyIn
from audit_api.schemas.bounds import MAX_PHOTOS_PER_RESPONSE
from audit_api.services import actions as service
from audit_api.services.reports import rectification

router = APIRouter(tags=["corrective actions"], route_class=DocumentedRoute)

PHOTO_UPLOAD_PATH = re.compile(r"/api/actions/[0-9]+/respond")
"""The one route whose body may be larger than Settings.max_upload_bytes (see photo_upload_limit)."""
_FORM_OVERHEAD = 64 * 1024  # the note and the multipart headers around the photos


def photo_upload_limit(max_photo_bytes: int) -> int:
    """The largest body of an answer: MAX_PHOTOS_PER_RESPONSE photos of at most max_photo_bytes each."""
    return MAX_PHOTOS_PER_RESPONSE * max_photo_bytes + _FORM_OVERHEAD


@router.get("/actions")
def list_actions(
    session: SessionDep,
    user: ViewerUser,
    page: PageDep,
    response: Response,
    status: ActionStatus | None = None,
    overdue: bool | None = None,
    site_id: IdFilter = None,
) -> list[ActionOut]:
    """Oldest first. `overdue=true`: past the due date and still waiting for the site's answer."""
    where = service.ActionFilter(status=status, overdue=overdue, site_id=site_id)
    actions, total = service.list_actions(session, user, page, where)
    set_total(response, total)
    return [ActionOut.model_validate(a) for a in actions]


@router.get("/actions/{action_id}")
def get_action(action_id: Id, session: SessionDep, user: ViewerUser) -> ActionOut:
    return ActionOut.model_validate(service.get_action(session, action_id, user))


@router.post("/actions/{action_id}/respond", responses=CONFLICT | errors(413, 415))
def respond(
    action_id: Id,
    session: SessionDep,
    supervisor: SupervisorUser,
    store: StoreDep,
    settings: SettingsDep,
    note: Annotated[str, Form(min_length=1, max_length=MAX_NOTE_CHARS, description="what was done")],
    photos: Annotated[
        list[UploadFile],
        File(description=f"1 to {MAX_PHOTOS_PER_RESPONSE} JPEG or PNG photos (metadata is stripped)"),
    ],
) -> ActionOut:
    """Answer an open or reopened action. Photos are decoded to prove they are images, refused when too
    large (413, in bytes or pixels), not JPEG/PNG (415) or undecodable (422), all before anything is
    stored; then stored write-once with their SHA-256."""
    limit = settings.max_photo_bytes
    uploads = [
        service.PhotoUpload(photo.filename or f"photo {n}", photo.file.read(limit + 1))
        for n, photo in enumerate(photos, start=1)
    ]
    action = service.respond(session, store, action_id, supervisor, note, uploads, max_photo_bytes=limit)
    return ActionOut.model_validate(action)


@router.post("/actions/{action_id}/verify", responses=CONFLICT)
def verify(action_id: Id, body: VerifyIn, session: SessionDep, inspector: InspectorUser) -> ActionOut:
    """Accept the latest answer: the action is closed (verified)."""
    return ActionOut.model_validate(service.decide(session, action_id, inspector, body.note, accept=True))


@router.post("/actions/{action_id}/reopen", responses=CONFLICT)
def reopen(action_id: Id, body: RejectIn, session: SessionDep, inspector: InspectorUser) -> ActionOut:
    """Reject the latest answer with a reason: the action is reopened for a new answer (history kept)."""
    return ActionOut.model_validate(service.decide(session, action_id, inspector, body.note, accept=False))


_PHOTO_RESPONSES = evidence_responses("image/jpeg")
_PHOTO_RESPONSES[200]["content"]["image/png"] = _PHOTO_RESPONSES[200]["content"]["image/jpeg"]


@router.get("/action-photos/{photo_id}", response_class=Response, responses=_PHOTO_RESPONSES)
def get_photo(photo_id: Id, session: SessionDep, user: ViewerUser, store: StoreDep) -> Response:
    """A photo of a corrective action's answer (as stored: re-encoded, no metadata; SHA-256 checked)."""
    photo = service.get_photo(session, photo_id, user)
    extension = "png" if photo.content_type == "image/png" else "jpg"
    return serve(photo, store, None, f"action-{photo.action_id}-photo-{photo_id}.{extension}")


_PDF = {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}


@router.get(
    "/actions/{action_id}/report.pdf",
    response_class=Response,
    responses={200: {"description": "The rectification report", **_PDF}}
    | error(409, "The action is not closed (verified) yet, or its evidence fails its integrity check")
    | errors(503),
)
def get_report(
    action_id: Id, session: SessionDep, user: ViewerUser, store: StoreDep, lang: Lang = None
) -> Response:
    """The rectification report of a closed action: the violation, the notice, every answer with its
    photos, every decision, who did each step and when, and the SHA-256 of the evidence and of the
    audit-log entries it rests on. In the site's language, or `lang`."""
    action = service.get_action(session, action_id, user)
    report = rectification.render(session, store, action, user, lang)
    headers = {
        "Content-Disposition": f'inline; filename="rectification-action-{action_id}.pdf"',
        "X-Content-SHA256": report.sha256,
        "Cache-Control": "private, no-store",
    }
    return Response(report.pdf, media_type="application/pdf", headers=headers)
