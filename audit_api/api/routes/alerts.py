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
from audit_api.api.routes.evidence import (
    Blurred,
    ServedObject,
    evidence_responses,
    external_image,
    image_for_viewer,
    serve,
)
from audit_api.schemas.events import AlertOut
from audit_api.services import privacy, workflow
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


SNAPSHOT_RESPONSES = evidence_responses("image/jpeg", "image/png")


def _name(alert_id: int, shown: ServedObject, original: privacy.Original) -> str:
    return f"alert-{alert_id}.{'jpg' if shown.object_key == original.key else 'png'}"


@router.get("/ack-link/snapshot", responses=SNAPSHOT_RESPONSES | LINK_ERRORS | error(404))
def ack_link_snapshot(
    token: AckToken, session: SessionDep, settings: SettingsDep, store: StoreDep
) -> Response:
    """The snapshot of an acknowledge link's alert, as alert channels get it (blurred heads unless the
    site's `privacy_blur` is `off`): the link a webhook's message and a Web Push notification name.
    Changes nothing; refused like the link (400, 410)."""
    try:
        found = links.view(session, token, settings)
    except links.LinkRefused as exc:
        return HTMLResponse(refused_page(str(exc)), status_code=exc.status, headers=NO_STORE)
    original = privacy.of_alert(found.alert)
    if original is None:
        raise NotFound("the link's alert has no snapshot")
    shown = external_image(session, store, original)
    return serve(shown, store, None, _name(found.alert.id, shown, original))


@router.get("/{alert_id}/snapshot", responses=SNAPSHOT_RESPONSES | error(404))
def alert_snapshot(
    alert_id: Id,
    session: SessionDep,
    store: StoreDep,
    user: ViewerUser,
    blurred: Blurred = False,
) -> Response:
    """The alert's snapshot with boxes: its event's, or the one taken when the violation opened."""
    alert = workflow.get_alert(session, alert_id, user)
    original = privacy.of_alert(alert)
    if original is None:
        raise NotFound(f"alert {alert_id} has no snapshot")
    shown = image_for_viewer(session, store, original, user, blurred)
    return serve(shown, store, None, _name(alert_id, shown, original))
