"""The patrol schedule: each time of each day of an active plan is a slot whose window is
[time, time + grace] in the site's time zone. A slot is *done* when a complete round of the plan ended in
its window; once the window has closed it is *incomplete* (a round was started but not completed in
time) or *missed* (no round). `flag_missed` records each closed, undone slot once, audits it and queues a
`patrol_missed` alert for the site's channels; the alert sender's loop calls it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from audit_api import audit_log
from audit_api.models import User, utcnow
from audit_api.models.patrols import PatrolMiss, PatrolPlan, PatrolRound, RoundStatus
from audit_api.schemas.alerting import PatrolNotice
from audit_api.schemas.patrols import PatrolSlot, SlotState
from audit_api.services.alerting.notices import queue_notice
from audit_api.services.scope import SiteScope

SYSTEM_ACTOR = "system"
PATROL_MISSED = "patrol_missed"
"""The alert kind of a missed or incomplete patrol slot (channels with kinds filter on it)."""
FLAG_LOOKBACK_DAYS = 2
"""flag_missed looks at slots of today and this many days before (a sender down longer misses some)."""


def site_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@dataclass(frozen=True)
class Slot:
    plan: PatrolPlan
    time: str
    day: date
    starts: datetime
    ends: datetime


def plan_slots(plan: PatrolPlan, days: int, now: datetime) -> Iterator[Slot]:
    """The plan's slots of the last `days` local days (today included), oldest first; slots whose window
    closed before the plan existed are not its slots."""
    zone = site_zone(plan.site.timezone)
    today = now.astimezone(zone).date()
    grace = timedelta(minutes=plan.grace_minutes)
    for back in range(days - 1, -1, -1):
        day = today - timedelta(days=back)
        for hhmm in plan.times:
            local = datetime.combine(day, time(int(hhmm[:2]), int(hhmm[3:])), tzinfo=zone)
            starts = local.astimezone(now.tzinfo)
            if starts + grace >= plan.created_at:
                yield Slot(plan, hhmm, day, starts, starts + grace)


def find_slot(plan: PatrolPlan, slot_at: datetime, now: datetime) -> Slot | None:
    """The plan's slot starting at `slot_at` (today's or yesterday's), if there is one."""
    return next((s for s in plan_slots(plan, 2, now) if s.starts == slot_at), None)


def _counts_for(round_: PatrolRound, slot: Slot) -> bool:
    if round_.slot_at is not None:
        return round_.slot_at == slot.starts
    return slot.starts <= round_.started_at <= slot.ends  # an ad hoc round walked in the window


def slot_state(slot: Slot, rounds: Sequence[PatrolRound], now: datetime) -> tuple[SlotState, int | None]:
    """The slot's state and its round (the complete one, else the latest)."""
    mine = [r for r in rounds if _counts_for(r, slot)]
    done = [
        r
        for r in mine
        if r.status == RoundStatus.COMPLETE and r.ended_at is not None and r.ended_at <= slot.ends
    ]
    if done:
        return "done", done[0].id
    latest = max(mine, key=lambda r: r.started_at).id if mine else None
    if now < slot.starts:
        return "upcoming", latest
    if now <= slot.ends:
        return "due", latest
    return ("incomplete" if mine else "missed"), latest


def _rounds_since(session: Session, plan_ids: Sequence[int], since: datetime) -> dict[int, list[PatrolRound]]:
    rounds: dict[int, list[PatrolRound]] = {i: [] for i in plan_ids}
    query = select(PatrolRound).where(PatrolRound.plan_id.in_(plan_ids), PatrolRound.started_at >= since)
    for r in session.scalars(query.order_by(PatrolRound.started_at)):
        rounds[r.plan_id].append(r)
    return rounds


def _active_plans(session: Session, viewer: User | None, site_id: int | None) -> Sequence[PatrolPlan]:
    query = SiteScope.of(viewer).where(select(PatrolPlan), PatrolPlan.site_id)
    query = query.where(PatrolPlan.active.is_(True))
    if site_id is not None:
        query = query.where(PatrolPlan.site_id == site_id)
    query = query.options(selectinload(PatrolPlan.site), selectinload(PatrolPlan.inspectors))
    return session.scalars(query.order_by(PatrolPlan.id)).all()


def schedule(
    session: Session,
    viewer: User | None,
    *,
    days: int,
    site_id: int | None = None,
    plan_id: int | None = None,
    now: datetime | None = None,
) -> list[PatrolSlot]:
    """Every slot of the last `days` days of the viewer's active plans, newest first, with its state."""
    now = now or utcnow()
    plans = [p for p in _active_plans(session, viewer, site_id) if plan_id is None or p.id == plan_id]
    slots = [s for p in plans for s in plan_slots(p, days, now)]
    if not slots:
        return []
    rounds = _rounds_since(session, [p.id for p in plans], min(s.starts for s in slots))
    out = []
    for slot in slots:
        state, round_id = slot_state(slot, rounds[slot.plan.id], now)
        out.append(
            PatrolSlot(
                plan_id=slot.plan.id,
                plan=slot.plan.name,
                site_id=slot.plan.site_id,
                time=slot.time,
                date=slot.day.isoformat(),
                slot_at=slot.starts,
                window_ends_at=slot.ends,
                state=state,
                round_id=round_id,
                inspector_ids=slot.plan.inspector_ids,
            )
        )
    return sorted(out, key=lambda s: (s.slot_at, s.plan_id), reverse=True)


def flag_missed(session: Session, now: datetime | None = None) -> list[PatrolMiss]:
    """Record, audit and alert each slot whose window closed without a complete round (once per slot)."""
    now = now or utcnow()
    flagged = []
    for slot in schedule(session, None, days=FLAG_LOOKBACK_DAYS + 1, now=now):
        if slot.state not in ("missed", "incomplete"):
            continue
        seen = select(PatrolMiss.id).where(
            PatrolMiss.plan_id == slot.plan_id, PatrolMiss.slot_at == slot.slot_at
        )
        if session.scalars(seen).first() is not None:
            continue
        miss = PatrolMiss(plan_id=slot.plan_id, slot_at=slot.slot_at, status=slot.state)
        try:
            session.add(miss)
            session.flush()
        except IntegrityError:  # another sender flagged it first
            session.rollback()
            continue
        notice = PatrolNotice(plan=slot.plan, date=slot.date, time=slot.time, state=slot.state,
                              window_ends_at=slot.window_ends_at, link="/inspector.html#patrols")  # fmt: skip
        alert = queue_notice(session, site_id=slot.site_id, kind=PATROL_MISSED, notice=notice)
        miss.alert_id = alert.id
        payload = {
            "plan_id": slot.plan_id,
            "site_id": slot.site_id,
            "slot_at": slot.slot_at,
            "time": slot.time,
            "date": slot.date,
            "state": slot.state,
            "round_id": slot.round_id,
            "alert_id": alert.id,
        }
        audit_log.append(session, SYSTEM_ACTOR, "patrol.missed", f"patrol_plan:{slot.plan_id}", payload)
        session.commit()
        flagged.append(miss)
    return flagged
