"""Patrol plans: admins create and edit them (cameras of the plan's site, inspectors who are responsible);
whoever may see the site reads them. Each change commits with an audit row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from audit_api import audit_log
from audit_api.models import Camera, Role, Site, User
from audit_api.models.patrols import PatrolPlan, PatrolPlanCamera, PatrolRound
from audit_api.schemas.patrols import PatrolPlanBase, PatrolPlanCreate
from audit_api.services.errors import Invalid
from audit_api.services.listing import Page, paginate
from audit_api.services.scope import SiteScope
from audit_api.services.sites import flush_or_conflict
from audit_api.services.users import actor_of


def get_plan(session: Session, plan_id: int, viewer: User | None) -> PatrolPlan:
    """The plan if the viewer may see its site; NotFound otherwise."""
    plan = session.get(PatrolPlan, plan_id)
    return SiteScope.of(viewer).found(plan, lambda p: p.site_id, f"patrol plan {plan_id}")


def list_plans(
    session: Session, viewer: User, page: Page, site_id: int | None = None
) -> tuple[Sequence[PatrolPlan], int]:
    query = SiteScope.of(viewer).where(select(PatrolPlan), PatrolPlan.site_id)
    if site_id is not None:
        query = query.where(PatrolPlan.site_id == site_id)
    query = query.options(selectinload(PatrolPlan.cameras), selectinload(PatrolPlan.inspectors))
    return paginate(session, query.order_by(PatrolPlan.id), page)


def _cameras(session: Session, site_id: int, camera_ids: Sequence[int]) -> list[PatrolPlanCamera]:
    """The plan's camera rows in order; Invalid for unknown cameras or cameras of another site."""
    found = {c.id: c for c in session.scalars(select(Camera).where(Camera.id.in_(camera_ids)))}
    unknown = [i for i in camera_ids if i not in found]
    if unknown:
        raise Invalid(f"unknown camera ids: {unknown}")
    elsewhere = [i for i in camera_ids if found[i].site_id != site_id]
    if elsewhere:
        raise Invalid(f"cameras {elsewhere} belong to another site than the plan's site {site_id}")
    return [PatrolPlanCamera(camera_id=i, position=n) for n, i in enumerate(camera_ids)]


def _inspectors(session: Session, user_ids: Sequence[int]) -> list[User]:
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(user_ids)))}
    wrong = [i for i in user_ids if i not in users or users[i].role != Role.INSPECTOR or not users[i].active]
    if wrong:
        raise Invalid(f"users {wrong} are not active inspectors")
    return [users[i] for i in user_ids]


def _audit(plan: PatrolPlan) -> dict[str, Any]:
    return {
        "site_id": plan.site_id,
        "name": plan.name,
        "camera_ids": plan.camera_ids,
        "times": plan.times,
        "grace_minutes": plan.grace_minutes,
        "inspector_ids": plan.inspector_ids,
        "active": plan.active,
        "version": plan.version,
    }


def _apply(session: Session, plan: PatrolPlan, body: PatrolPlanBase) -> None:
    plan.name = body.name
    plan.times = list(body.times)
    plan.grace_minutes = body.grace_minutes
    plan.active = body.active
    plan.inspectors = _inspectors(session, body.inspector_ids)
    rows = _cameras(session, plan.site_id, body.camera_ids)
    if plan.camera_ids != [r.camera_id for r in rows]:
        plan.cameras.clear()
        session.flush()  # the old rows go before the new ones (same primary keys)
        plan.cameras.extend(rows)


def create_plan(session: Session, body: PatrolPlanCreate, admin: User) -> PatrolPlan:
    if session.get(Site, body.site_id) is None:
        raise Invalid(f"site {body.site_id} does not exist")
    plan = PatrolPlan(site_id=body.site_id)
    _apply(session, plan, body)
    session.add(plan)
    flush_or_conflict(session, f"patrol plan {body.name!r}")
    audit_log.append(session, actor_of(admin), "patrol_plan.created", f"patrol_plan:{plan.id}", _audit(plan))
    session.commit()
    return plan


def update_plan(session: Session, plan_id: int, body: PatrolPlanBase, admin: User) -> PatrolPlan:
    """Replace the plan's fields (its site stays); rounds already walked keep their own camera list."""
    plan = get_plan(session, plan_id, admin)
    _apply(session, plan, body)
    plan.version += 1
    flush_or_conflict(session, f"patrol plan {body.name!r}")
    audit_log.append(session, actor_of(admin), "patrol_plan.updated", f"patrol_plan:{plan.id}", _audit(plan))
    session.commit()
    return plan


def delete_plan(session: Session, plan_id: int, admin: User) -> None:
    """Plans with rounds are evidence: they are deactivated, never deleted."""
    plan = get_plan(session, plan_id, admin)
    has_rounds = session.scalars(
        select(PatrolRound.id).where(PatrolRound.plan_id == plan_id).limit(1)
    ).first()
    if has_rounds is not None:
        plan.active = False
        action = "patrol_plan.deactivated"
    else:
        session.delete(plan)
        action = "patrol_plan.deleted"
    audit_log.append(session, actor_of(admin), action, f"patrol_plan:{plan_id}", {"name": plan.name})
    session.commit()
