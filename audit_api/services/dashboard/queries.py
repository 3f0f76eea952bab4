"""The SQL behind the dashboard, one site and one UTC span at a time (portable: SQLite and PostgreSQL).

Counts are grouped in the database; day buckets are a CASE over the site's local midnights (in UTC), so
daylight saving needs nothing from the database's time zone support. What needs date arithmetic
(durations, clipping outage intervals to the period) fetches the few timestamps it needs and is done in
Python, identically on both backends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from audit_api.models import (
    ActionStatus,
    Camera,
    CorrectiveAction,
    Event,
    EventViolation,
    Review,
    SignOff,
    UnmonitoredInterval,
    Verdict,
    Zone,
)

LatestReview = aliased(Review, name="latest_review")
AnySelect = Select[*tuple[Any, ...]]
"""A select of any columns (SQLAlchemy 2.1 types a select by its column tuple)."""


def latest_review_id() -> Any:
    """event_id → id of its newest review (reviews are only appended)."""
    return (
        select(Review.event_id, func.max(Review.id).label("review_id"))
        .group_by(Review.event_id)
        .subquery("latest")
    )


def with_verdict(query: AnySelect) -> AnySelect:
    """`query` (which joins Event) outer-joined to each event's latest review (LatestReview)."""
    latest = latest_review_id()
    return query.outerjoin(latest, latest.c.event_id == Event.id).outerjoin(
        LatestReview, LatestReview.id == latest.c.review_id
    )


def not_rejected() -> ColumnElement[bool]:
    return or_(LatestReview.verdict.is_(None), LatestReview.verdict != Verdict.FALSE_POSITIVE)


def confirmed() -> ColumnElement[int]:
    return func.coalesce(func.sum(case((LatestReview.verdict == Verdict.CONFIRMED, 1), else_=0)), 0)


@dataclass
class SiteRows:
    """What the database answered for one site and span; the service turns it into figures."""

    daily: dict[tuple[date, str], int] = field(default_factory=dict)
    cameras: dict[int, tuple[int, int]] = field(default_factory=dict)  # camera → (violations, confirmed)
    zones: dict[tuple[int, int | None], tuple[int, int]] = field(default_factory=dict)
    outages: list[tuple[int, datetime, datetime | None]] = field(default_factory=list)
    events: int = 0
    verdicts: dict[Verdict, int] = field(default_factory=dict)
    signoff_s: list[float] = field(default_factory=list)
    verify_s: list[float] = field(default_factory=list)
    open_actions: int = 0
    overdue_actions: int = 0


def _violations(site_id: int, start: datetime, end: datetime) -> AnySelect:
    """Violation rows of the site's cameras inside [start, end), false positives excluded."""
    query = select().select_from(EventViolation).join(Event, Event.id == EventViolation.event_id)
    query = with_verdict(query.join(Camera, Camera.id == Event.camera_id))
    return query.where(
        Camera.site_id == site_id, EventViolation.ts >= start, EventViolation.ts < end, not_rejected()
    )


def site_rows(
    session: Session, site_id: int, boundaries: Sequence[datetime], days: Sequence[date], now: datetime
) -> SiteRows:
    start, end = boundaries[0], boundaries[-1]
    rows = SiteRows()
    day = case(
        *[(EventViolation.ts < boundaries[i + 1], i) for i in range(len(days))], else_=len(days) - 1
    ).label("day")
    daily = _violations(site_id, start, end).add_columns(day, EventViolation.kind, func.count())
    for index, kind, count in session.execute(daily.group_by(day, EventViolation.kind)):
        rows.daily[(days[index], kind)] = count
    per_camera = _violations(site_id, start, end).add_columns(Event.camera_id, func.count(), confirmed())
    for camera_id, count, confirmed_count in session.execute(per_camera.group_by(Event.camera_id)):
        rows.cameras[camera_id] = (count, int(confirmed_count))
    per_zone = _violations(site_id, start, end).add_columns(
        Event.camera_id, EventViolation.zone_id, func.count(), confirmed()
    )
    per_zone = per_zone.group_by(Event.camera_id, EventViolation.zone_id)
    for camera_id, zone_id, count, confirmed_count in session.execute(per_zone):
        rows.zones[(camera_id, zone_id)] = (count, int(confirmed_count))
    outages = (
        select(UnmonitoredInterval.camera_id, UnmonitoredInterval.started_at, UnmonitoredInterval.ended_at)
        .join(Camera, Camera.id == UnmonitoredInterval.camera_id)
        .where(
            Camera.site_id == site_id,
            UnmonitoredInterval.started_at < end,
            or_(UnmonitoredInterval.ended_at.is_(None), UnmonitoredInterval.ended_at > start),
        )
    )
    rows.outages = [(c, s, e) for c, s, e in session.execute(outages)]
    site_events = and_(Camera.site_id == site_id, Event.started_at >= start, Event.started_at < end)
    events = with_verdict(select(LatestReview.verdict, func.count()).select_from(Event).join(Event.camera))
    for verdict, count in session.execute(events.where(site_events).group_by(LatestReview.verdict)):
        rows.events += count
        if verdict is not None:
            rows.verdicts[Verdict(verdict)] = count
    signoffs = (
        select(Event.started_at, SignOff.at).join(Event.camera).join(SignOff, SignOff.event_id == Event.id)
    )
    rows.signoff_s = [
        (at - began).total_seconds() for began, at in session.execute(signoffs.where(site_events))
    ]
    verified = (
        select(CorrectiveAction.created_at, CorrectiveAction.verified_at)
        .join(Event, Event.id == CorrectiveAction.event_id)
        .join(Camera, Camera.id == Event.camera_id)
        .where(
            Camera.site_id == site_id,
            CorrectiveAction.created_at >= start,
            CorrectiveAction.created_at < end,
            CorrectiveAction.status == ActionStatus.VERIFIED,
        )
    )
    rows.verify_s = [(v - c).total_seconds() for c, v in session.execute(verified) if v is not None]
    open_query = (
        select(func.count(), func.coalesce(func.sum(case((CorrectiveAction.due < now, 1), else_=0)), 0))
        .select_from(CorrectiveAction)
        .join(Event, Event.id == CorrectiveAction.event_id)
        .join(Camera, Camera.id == Event.camera_id)
        .where(Camera.site_id == site_id, CorrectiveAction.status != ActionStatus.VERIFIED)
    )
    open_count, overdue = session.execute(open_query).one()
    rows.open_actions, rows.overdue_actions = open_count, int(overdue)
    return rows


def site_cameras(session: Session, site_id: int) -> list[tuple[int, str]]:
    query = select(Camera.id, Camera.name).where(Camera.site_id == site_id).order_by(Camera.id)
    return [(camera_id, name) for camera_id, name in session.execute(query)]


def zone_names(session: Session, zone_ids: set[int]) -> dict[int, str]:
    if not zone_ids:
        return {}
    query = select(Zone.id, Zone.name).where(Zone.id.in_(sorted(zone_ids)))
    return {zone_id: name for zone_id, name in session.execute(query)}
