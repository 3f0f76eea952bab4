"""Alerts for supervisors (their sites only; admins and inspectors see all)."""

from __future__ import annotations

from fastapi import APIRouter

from audit_api.api.deps import SessionDep, SupervisorUser, ViewerUser
from audit_api.api.route_docs import CONFLICT, DocumentedRoute
from audit_api.schemas.events import AlertOut
from audit_api.services import workflow

router = APIRouter(prefix="/alerts", tags=["alerts"], route_class=DocumentedRoute)


@router.get("")
def list_alerts(session: SessionDep, user: ViewerUser, unacknowledged: bool = False) -> list[AlertOut]:
    alerts = workflow.list_alerts(session, user, unacknowledged=unacknowledged)
    return [AlertOut.model_validate(a) for a in alerts]


@router.post("/{alert_id}/ack", responses=CONFLICT)
def acknowledge(alert_id: int, session: SessionDep, supervisor: SupervisorUser) -> AlertOut:
    return AlertOut.model_validate(workflow.acknowledge(session, alert_id, supervisor))
