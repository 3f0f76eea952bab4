"""Corrective actions: supervisors respond for their sites, inspectors verify or reopen."""

from __future__ import annotations

from fastapi import APIRouter, Response

from audit_api.api.deps import InspectorUser, SessionDep, SupervisorUser, ViewerUser
from audit_api.api.params import Id, PageDep, set_total
from audit_api.api.route_docs import CONFLICT, DocumentedRoute
from audit_api.models import ActionStatus
from audit_api.schemas.events import ActionOut, RespondIn, VerifyIn
from audit_api.services import workflow

router = APIRouter(prefix="/actions", tags=["corrective actions"], route_class=DocumentedRoute)


@router.get("")
def list_actions(
    session: SessionDep,
    user: ViewerUser,
    page: PageDep,
    response: Response,
    status: ActionStatus | None = None,
) -> list[ActionOut]:
    actions, total = workflow.list_actions(session, user, page, status)
    set_total(response, total)
    return [ActionOut.model_validate(a) for a in actions]


@router.post("/{action_id}/respond", responses=CONFLICT)
def respond(action_id: Id, body: RespondIn, session: SessionDep, supervisor: SupervisorUser) -> ActionOut:
    return ActionOut.model_validate(workflow.respond(session, action_id, supervisor, body.response))


@router.post("/{action_id}/verify", responses=CONFLICT)
def verify(action_id: Id, body: VerifyIn, session: SessionDep, inspector: InspectorUser) -> ActionOut:
    return ActionOut.model_validate(workflow.verify(session, action_id, inspector, body.note, accept=True))


@router.post("/{action_id}/reopen", responses=CONFLICT)
def reopen(action_id: Id, body: VerifyIn, session: SessionDep, inspector: InspectorUser) -> ActionOut:
    return ActionOut.model_validate(workflow.verify(session, action_id, inspector, body.note, accept=False))
