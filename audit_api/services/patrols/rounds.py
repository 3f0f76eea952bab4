"""Patrol rounds: an inspector starts a round (for an open slot of a plan, or ad hoc), opens each camera
(the step's start), gives a verdict (OK, or a finding: the camera's current frame is captured and opens a
manual event through the live capture service) and ends the round. Times are the server's clock.

Audit: one `patrol.step` entry per verdict and one `patrol.round` summary when the round ends, both with
entity `patrol_round:{id}` (who, when, each camera's verdict, the stills' hashes, seconds per camera).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from audit_api import audit_log
from audit_api.models import User, utcnow
from audit_api.models.patrols import PatrolPlan, PatrolRound, PatrolStep, RoundStatus, StepVerdict
from audit_api.schemas.live import CurrentFrame
from audit_api.schemas.patrols import RoundStart, StepVerdictIn
from audit_api.services import live as live_service
from audit_api.services.errors import Conflict, Invalid
from audit_api.services.listing import Page, paginate
from audit_api.services.patrols.plans import get_plan
from audit_api.services.patrols.schedule import find_slot
from audit_api.services.scope import SiteScope
from audit_api.services.sites import get_camera
from audit_api.services.users import actor_of
from audit_api.storage import ObjectStore


def get_round(session: Session, round_id: int, viewer: User | None) -> PatrolRound:
    found = session.get(PatrolRound, round_id)
    return SiteScope.of(viewer).found(found, lambda r: r.site_id, f"patrol round {round_id}")


def get_step(session: Session, step_id: int, viewer: User | None) -> PatrolStep:
    found = session.get(PatrolStep, step_id)
    return SiteScope.of(viewer).found(found, lambda s: s.round.site_id, f"patrol step {step_id}")


def list_rounds(
    session: Session,
    viewer: User,
    page: Page,
    *,
    site_id: int | None = None,
    plan_id: int | None = None,
    status: RoundStatus | None = None,
) -> tuple[Sequence[PatrolRound], int]:
    query = SiteScope.of(viewer).where(select(PatrolRound).join(PatrolRound.plan), PatrolPlan.site_id)
    if site_id is not None:
        query = query.where(PatrolPlan.site_id == site_id)
    if plan_id is not None:
        query = query.where(PatrolRound.plan_id == plan_id)
    if status is not None:
        query = query.where(PatrolRound.status == status)
    query = query.options(selectinload(PatrolRound.steps), selectinload(PatrolRound.plan))
    return paginate(session, query.order_by(PatrolRound.started_at.desc(), PatrolRound.id.desc()), page)


def start_round(
    session: Session, body: RoundStart, inspector: User, now: datetime | None = None
) -> PatrolRound:
    """A new open round with one step per camera of the plan (copied: later plan edits do not change it)."""
    now = now or utcnow()
    plan = get_plan(session, body.plan_id, inspector)
    if not plan.active:
        raise Conflict(f"patrol plan {plan.id} is inactive")
    if not plan.cameras:
        raise Conflict(f"patrol plan {plan.id} has no cameras left")
    if body.slot_at is not None:
        slot = find_slot(plan, body.slot_at, now)
        if slot is None:
            raise Invalid(f"{body.slot_at.isoformat()} is not a slot of patrol plan {plan.id}")
        if not slot.starts <= now <= slot.ends:
            raise Conflict(
                f"the {slot.day} {slot.time} slot's window is {slot.starts.isoformat()} to "
                f"{slot.ends.isoformat()}; start an ad hoc round outside it"
            )
    round_ = PatrolRound(plan_id=plan.id, inspector_id=inspector.id, slot_at=body.slot_at, started_at=now)
    round_.steps = [PatrolStep(camera_id=c.camera_id, position=c.position) for c in plan.cameras]
    session.add(round_)
    session.commit()
    return round_


def _own_open_round(round_: PatrolRound, inspector: User) -> None:
    if round_.inspector_id != inspector.id:
        raise Conflict(f"patrol round {round_.id} is walked by another inspector")
    if round_.status != RoundStatus.OPEN:
        raise Conflict(f"patrol round {round_.id} has ended")


def start_step(session: Session, step_id: int, inspector: User, now: datetime | None = None) -> PatrolStep:
    """The inspector opens the step's camera: its looked-at time starts now (the first opening counts)."""
    step = get_step(session, step_id, inspector)
    _own_open_round(step.round, inspector)
    get_camera(session, step.camera_id, inspector)
    if step.started_at is None:
        step.started_at = now or utcnow()
        session.commit()
    return step


def _step_audit(step: PatrolStep, annotated_sha256: str | None) -> dict[str, Any]:
    round_ = step.round
    return {
        "round_id": round_.id,
        "plan_id": round_.plan_id,
        "slot_at": round_.slot_at,
        "position": step.position,
        "camera_id": step.camera_id,
        "verdict": step.verdict,
        "started_at": step.started_at,
        "verdict_at": step.verdict_at,
        "seconds": step.seconds,
        "note": step.note,
        "still_sha256": step.still_sha256,
        "annotated_sha256": annotated_sha256,
        "event_id": step.event_id,
    }


def decide_step(
    session: Session,
    store: ObjectStore,
    grab: Callable[[int], CurrentFrame],
    step_id: int,
    body: StepVerdictIn,
    inspector: User,
) -> PatrolStep:
    """Record the verdict; a finding first captures the camera's frame (`grab`: its current frame, from
    whichever worker runs it) and opens a manual event (the live capture service: stills stored and hashed,
    `live.captured` and `event.reported` audited)."""
    step = get_step(session, step_id, inspector)
    _own_open_round(step.round, inspector)
    if step.verdict is not None:
        raise Conflict(f"camera {step.camera_id} already has a verdict in this round")
    if step.started_at is None:
        raise Conflict(
            f"open camera {step.camera_id} (POST /api/patrol-steps/{step.id}/start) before judging it"
        )
    camera = get_camera(session, step.camera_id, inspector)
    annotated: str | None = None
    if body.verdict == StepVerdict.FINDING:
        assert body.finding is not None  # the schema requires it
        frame = grab(camera.id)  # this process's worker or the owning one: 503 before anything is written
        captured = live_service.capture(session, store, frame, camera, inspector, body.finding)
        step.still_sha256, step.event_id = captured.still.sha256, captured.event_id
        step.note = body.finding.note
        annotated = captured.annotated.sha256
    now = utcnow()
    step.verdict, step.verdict_at = body.verdict, now
    step.seconds = round((now - step.started_at).total_seconds(), 1)
    audit_log.append(
        session,
        actor_of(inspector),
        "patrol.step",
        f"patrol_round:{step.round_id}",
        _step_audit(step, annotated),
    )
    session.commit()
    return step


def end_round(session: Session, round_id: int, inspector: User, now: datetime | None = None) -> PatrolRound:
    """Close the round: complete when every camera has a verdict, incomplete otherwise; audited summary."""
    round_ = get_round(session, round_id, inspector)
    _own_open_round(round_, inspector)
    round_.ended_at = now or utcnow()
    decided = [s for s in round_.steps if s.verdict is not None]
    round_.status = RoundStatus.COMPLETE if len(decided) == len(round_.steps) else RoundStatus.INCOMPLETE
    summary = {
        "plan_id": round_.plan_id,
        "plan_version": round_.plan.version,
        "site_id": round_.site_id,
        "slot_at": round_.slot_at,
        "inspector_id": round_.inspector_id,
        "started_at": round_.started_at,
        "ended_at": round_.ended_at,
        "status": round_.status,
        "cameras": len(round_.steps),
        "checked": len(decided),
        "findings": sum(s.verdict == StepVerdict.FINDING for s in round_.steps),
        "seconds": round(sum(s.seconds or 0.0 for s in round_.steps), 1),
        "steps": [
            {
                "position": s.position,
                "camera_id": s.camera_id,
                "verdict": s.verdict,
                "seconds": s.seconds,
                "still_sha256": s.still_sha256,
                "event_id": s.event_id,
            }
            for s in round_.steps
        ],
    }
    audit_log.append(session, actor_of(inspector), "patrol.round", f"patrol_round:{round_.id}", summary)
    session.commit()
    return round_
