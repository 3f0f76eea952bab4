"""Alerts for supervisors (their sites only; admins and inspectors see all), newest first."""

from __future__ import annotations

from fastapi import APIRouter, Response

from audit_api.api.deps import SessionDep, SupervisorUser, ViewerUser
from audit_api.api.params import Id, PageDep, set_total
from audit_api.api.route_docs import CONFLICT, DocumentedRoute
from audit_api.schemas.events import AlertOut
from audit_api.services import workflow

router = APIRouter(prefix="/alerts", tags=["alerts"], route_class=DocumentedRoute)


@router.get("")
def list_alerts(
    session: SessionDep, user: ViewerUser, page: PageDep, response: Response, unacknowledged: bool = False
) -> list[AlertOut]:
    alerts, total = workflow.list_alerts(session, user, page, unacknowledged=unacknowledged)
    set_total(response, total)
    return [AlertOut.model_validate(a) for a in alerts]


@router.post("/{alert_id}/ack", responses=CONFLICT)
def acknowledge(alert_id: Id, session: SessionDep, supervisor: SupervisorUser) -> AlertOut:
    return AlertOut.model_validate(workflow.acknowledge(session, alert_id, supervisor))
