"""Alerts for supervisors (their sites only; admins and inspectors see all), newest first; the signed
one-time acknowledge links sent in messages (no sign-in: the token is the credential)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Response
from fastapi.responses import HTMLResponse

from audit_api.api.ack_page import confirm_page, done_page, refused_page
from audit_api.api.deps import SessionDep, SettingsDep, StoreDep, SupervisorUser, ViewerUser
from audit_api.api.params import MAX_ACK_TOKEN_CHARS, AckToken, Id, PageDep, set_total
from audit_api.api.route_docs import CONFLICT, DocumentedRoute, Responses, error
from audit_api.api.routes.evidence import evidence_responses, serve
from audit_api.models import Clip, ClipKind
from audit_api.schemas.events import AlertOut
from audit_api.services import workflow
from audit_api.services.alerting import links
from audit_api.services.errors import NotFound

router = APIRouter(prefix="/alerts", tags=["alerts"], route_class=DocumentedRoute)

NO_STORE = {"Cache-Control": "no-store"}
HTML: Responses = {200: {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "The page"}}
LINK_ERRORS: Responses = {
    400: {
        "content": {"text/html": {"schema": {"type": "string"}}, "application/json": {}},
        "description": "Not a valid acknowledge link (a page), or a body that cannot be parsed (JSON)",
    },
    410: {
        "content": {"text/html": {"schema": {"type": "string"}}},
        "description": "The link expired or was used",
    },
}


@router.get("")
def list_alerts(
    session: SessionDep, user: ViewerUser, page: PageDep, response: Response, unacknowledged: bool = False
) -> list[AlertOut]:
    alerts, total = workflow.list_alerts(session, user, page, unacknowledged=unacknowledged)
    set_total(response, total)
    return [AlertOut.model_validate(a) for a in alerts]


@router.get("/ack-link", responses=HTML | LINK_ERRORS)
def ack_link_page(token: AckToken, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    """The page a message's acknowledge link opens: what the alert is and one button. Changes nothing."""
    try:
        found = links.view(session, token, settings)
    except links.LinkRefused as exc:
        return HTMLResponse(refused_page(str(exc)), status_code=exc.status, headers=NO_STORE)
    return HTMLResponse(confirm_page(found.alert, token), headers=NO_STORE)


@router.post("/ack-link", responses=HTML | LINK_ERRORS)
def ack_link_use(
    token: Annotated[str, Form(min_length=1, max_length=MAX_ACK_TOKEN_CHARS)],
    session: SessionDep,
    settings: SettingsDep,
) -> HTMLResponse:
    """Acknowledge as the link's recipient (audit-logged); the link is used up."""
    try:
        used = links.consume(session, token, settings)
    except links.LinkRefused as exc:
        return HTMLResponse(refused_page(str(exc)), status_code=exc.status, headers=NO_STORE)
    return HTMLResponse(done_page(used.alert, used.by_this_link), headers=NO_STORE)


@router.post("/{alert_id}/ack", responses=CONFLICT)
def acknowledge(alert_id: Id, session: SessionDep, supervisor: SupervisorUser) -> AlertOut:
    return AlertOut.model_validate(workflow.acknowledge(session, alert_id, supervisor))


@router.get("/{alert_id}/snapshot", responses=evidence_responses("image/jpeg") | error(404))
def alert_snapshot(
    alert_id: Id,
    session: SessionDep,
    store: StoreDep,
    user: ViewerUser,
) -> Response:
    """The alert's snapshot with boxes: its event's, or the one taken when the violation opened."""
    alert = workflow.get_alert(session, alert_id, user)
    clip = alert.event.clip_of(ClipKind.SNAPSHOT) if alert.event is not None else None
    if clip is None and alert.snapshot_key and alert.snapshot_sha256:
        key, sha = alert.snapshot_key, alert.snapshot_sha256
        clip = Clip(kind=ClipKind.SNAPSHOT, object_key=key, sha256=sha, size=0, content_type="image/jpeg")
    if clip is None:
        raise NotFound(f"alert {alert_id} has no snapshot")
    return serve(clip, store, None, f"alert-{alert_id}.jpg")
