"""Remote patrols: plans (admins write; whoever sees the site reads), rounds and their steps (inspectors
walk them), and the schedule of slots (due, done, missed, incomplete) for the inspector page and the
dashboard. Thin routes over audit_api.services.patrols."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from audit_api.api import worker_proxy
from audit_api.api.deps import AdminUser, InspectorUser, SessionDep, StoreDep, ViewerUser
from audit_api.api.params import Id, IdFilter, PageDep, PatrolDays, set_total
from audit_api.api.route_docs import CONFLICT, DocumentedRoute, error
from audit_api.models.patrols import RoundStatus
from audit_api.schemas.live import CurrentFrame
from audit_api.schemas.patrols import (
    PatrolPlanBase,
    PatrolPlanCreate,
    PatrolPlanPublic,
    PatrolRoundPublic,
    PatrolSlot,
    PatrolStepPublic,
    RoundStart,
    StepVerdictIn,
)
from audit_api.services.patrols import plans, rounds, schedule

router = APIRouter(tags=["patrols"], route_class=DocumentedRoute)


@router.get("/patrol-plans")
def list_plans(
    session: SessionDep, user: ViewerUser, page: PageDep, response: Response, site_id: IdFilter = None
) -> list[PatrolPlanPublic]:
    found, total = plans.list_plans(session, user, page, site_id)
    set_total(response, total)
    return [PatrolPlanPublic.model_validate(p) for p in found]


@router.post("/patrol-plans", status_code=status.HTTP_201_CREATED, responses=CONFLICT)
def create_plan(body: PatrolPlanCreate, session: SessionDep, admin: AdminUser) -> PatrolPlanPublic:
    """422 for times out of range, unknown cameras or cameras of another site; 409 for a duplicate name."""
    return PatrolPlanPublic.model_validate(plans.create_plan(session, body, admin))


@router.get("/patrol-plans/{plan_id}")
def get_plan(plan_id: Id, session: SessionDep, user: ViewerUser) -> PatrolPlanPublic:
    return PatrolPlanPublic.model_validate(plans.get_plan(session, plan_id, user))


@router.put("/patrol-plans/{plan_id}", responses=CONFLICT)
def update_plan(plan_id: Id, body: PatrolPlanBase, session: SessionDep, admin: AdminUser) -> PatrolPlanPublic:
    return PatrolPlanPublic.model_validate(plans.update_plan(session, plan_id, body, admin))


@router.delete("/patrol-plans/{plan_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_plan(plan_id: Id, session: SessionDep, admin: AdminUser) -> Response:
    """A plan with rounds is evidence: it is deactivated instead."""
    plans.delete_plan(session, plan_id, admin)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/patrols/schedule")
def patrol_schedule(
    session: SessionDep,
    user: ViewerUser,
    days: PatrolDays = 1,
    site_id: IdFilter = None,
    plan_id: IdFilter = None,
) -> list[PatrolSlot]:
    """Every slot of the caller's sites' active plans over the last `days` days (newest first): upcoming,
    due (window open), done (a complete round ended in the window), incomplete or missed."""
    return schedule.schedule(session, user, days=days, site_id=site_id, plan_id=plan_id)


@router.get("/patrol-rounds")
def list_rounds(
    session: SessionDep,
    user: ViewerUser,
    page: PageDep,
    response: Response,
    site_id: IdFilter = None,
    plan_id: IdFilter = None,
    round_status: Annotated[RoundStatus | None, Query(alias="status")] = None,
) -> list[PatrolRoundPublic]:
    found, total = rounds.list_rounds(
        session, user, page, site_id=site_id, plan_id=plan_id, status=round_status
    )
    set_total(response, total)
    return [PatrolRoundPublic.model_validate(r) for r in found]


@router.post(
    "/patrol-rounds",
    status_code=status.HTTP_201_CREATED,
    responses=CONFLICT | error(404, "No such patrol plan (or not visible to the caller)"),
)
def start_round(body: RoundStart, session: SessionDep, inspector: InspectorUser) -> PatrolRoundPublic:
    """Start a round of the plan: for `slot_at` while that slot's window is open, else ad hoc."""
    return PatrolRoundPublic.model_validate(rounds.start_round(session, body, inspector))


@router.get("/patrol-rounds/{round_id}")
def get_round(round_id: Id, session: SessionDep, user: ViewerUser) -> PatrolRoundPublic:
    return PatrolRoundPublic.model_validate(rounds.get_round(session, round_id, user))


@router.post("/patrol-rounds/{round_id}/end", responses=CONFLICT)
def end_round(round_id: Id, session: SessionDep, inspector: InspectorUser) -> PatrolRoundPublic:
    """End the round (complete when every camera has a verdict); its summary goes to the audit log."""
    return PatrolRoundPublic.model_validate(rounds.end_round(session, round_id, inspector))


@router.post("/patrol-steps/{step_id}/start", responses=CONFLICT)
def start_step(step_id: Id, session: SessionDep, inspector: InspectorUser) -> PatrolStepPublic:
    """The inspector opens this camera of the round: the time it is looked at starts (server clock)."""
    return PatrolStepPublic.model_validate(rounds.start_step(session, step_id, inspector))


@router.post(
    "/patrol-steps/{step_id}/verdict",
    responses=CONFLICT | error(503, "a finding needs a worker running the camera (Retry-After)"),
)
def decide_step(
    step_id: Id,
    body: StepVerdictIn,
    request: Request,
    session: SessionDep,
    store: StoreDep,
    inspector: InspectorUser,
) -> PatrolStepPublic:
    """OK, or a finding: the camera's current frame is captured (like POST /api/cameras/{id}/captures;
    in deployed mode fetched from the owning worker) and opens a manual event with the note; audited as
    `patrol.step`."""

    def grab(camera_id: int) -> CurrentFrame:
        return worker_proxy.current_frame(request, camera_id)

    return PatrolStepPublic.model_validate(rounds.decide_step(session, store, grab, step_id, body, inspector))
