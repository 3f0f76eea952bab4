"""CSV exports of events, corrective actions and unmonitored intervals, streamed.

The route checks the filters and the site scope first (422/404 before any byte is sent); the rows then come
from a server-side cursor (`yield_per`: PostgreSQL streams a named cursor, SQLite steps its cursor), are
encoded CSV_BATCH rows at a time and sent as they come, so an export of any size holds only one batch in
memory. Times are UTC (ISO 8601) with the site's local time beside them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from audit_api.models import (
    ActionStatus,
    Camera,
    CorrectiveAction,
    Event,
    EventStatus,
    EventViolation,
    SignOff,
    Site,
    UnmonitoredInterval,
    User,
)
from audit_api.services.dashboard.period import Period
from audit_api.services.dashboard.queries import AnySelect, LatestReview, with_verdict
from audit_api.services.scope import SiteScope
from audit_api.services.sites import get_camera, get_site

CSV_BATCH = 1000
"""Rows fetched from the cursor and encoded per chunk sent."""


class ExportKind(StrEnum):
    EVENTS = "events"
    ACTIONS = "actions"
    UNMONITORED = "unmonitored"


@dataclass(frozen=True)
class ExportFilter:
    """The dashboard page's filters. The period is local days in each site's time zone."""

    period: Period
    site_id: int | None = None
    camera_id: int | None = None
    kind: str | None = None  # events only
    status: EventStatus | None = None  # events only

    def check(self, session: Session, viewer: User) -> None:
        """NotFound (404) for a site or camera outside the viewer's scope; nothing is streamed then."""
        if self.site_id is not None:
            get_site(session, self.site_id, viewer)
        if self.camera_id is not None:
            get_camera(session, self.camera_id, viewer)


def _local(ts: datetime | None, tz: ZoneInfo) -> str:
    return "" if ts is None else ts.astimezone(tz).isoformat()


def _utc(ts: datetime | None) -> str:
    return "" if ts is None else ts.astimezone(UTC).isoformat()


def _wide(period: Period) -> tuple[datetime, datetime]:
    """UTC bounds a day wider than the period on each side: they hold its local days in any time zone
    (sites may differ); each row is then kept or dropped exactly, in its own site's zone (`_keep`)."""
    start = datetime.combine(period.start - timedelta(days=1), time(0), UTC)
    return start, datetime.combine(period.end + timedelta(days=2), time(0), UTC)


def _in_period(column: Any, period: Period) -> Any:
    start, end = _wide(period)
    return and_(column >= start, column < end)


def _keep(ts: datetime, tz: ZoneInfo, period: Period) -> bool:
    return period.start <= ts.astimezone(tz).date() <= period.end


def _scoped(query: AnySelect, viewer: User, f: ExportFilter) -> AnySelect:
    query = SiteScope.of(viewer).where(query, Camera.site_id)
    if f.site_id is not None:
        query = query.where(Camera.site_id == f.site_id)
    if f.camera_id is not None:
        query = query.where(Camera.id == f.camera_id)
    return query


EVENT_COLUMNS = [
    "event_id", "site", "camera", "started_at_utc", "started_at_local", "ended_at_utc", "kinds", "violations",
    "status", "verdict", "signed_off_at_utc", "best_confidence", "model_version", "rule_version",
]  # fmt: skip


def _events(viewer: User, f: ExportFilter) -> tuple[AnySelect, Callable[[Any], list[Any] | None]]:
    count = select(func.count()).where(EventViolation.event_id == Event.id).correlate(Event).scalar_subquery()
    query: AnySelect = select(
        Event.id, Site.name, Site.timezone, Camera.name, Event.started_at, Event.ended_at, Event.kinds, count,
        Event.status, LatestReview.verdict, SignOff.at, Event.best_confidence, Event.model_version,
        Event.rule_version,
    ).select_from(Event)  # fmt: skip
    query = query.join(Camera, Camera.id == Event.camera_id).join(Site, Site.id == Camera.site_id)
    query = with_verdict(query).outerjoin(SignOff, SignOff.event_id == Event.id)
    query = _scoped(query, viewer, f).where(_in_period(Event.started_at, f.period))
    if f.status is not None:
        query = query.where(Event.status == f.status)
    if f.kind is not None:
        query = query.where(Event.violations.any(EventViolation.kind == f.kind))
    query = query.order_by(Event.started_at, Event.id)

    def row(r: Any) -> list[Any] | None:
        tz = ZoneInfo(r[2])
        if not _keep(r[4], tz, f.period):
            return None
        verdict = "" if r[9] is None else str(r[9])
        return [r[0], r[1], r[3], _utc(r[4]), _local(r[4], tz), _utc(r[5]), ";".join(r[6]), r[7],
                str(r[8]), verdict, _utc(r[10]), "" if r[11] is None else r[11], r[12], r[13]]  # fmt: skip

    return query, row


ACTION_COLUMNS = [
    "action_id", "event_id", "site", "camera", "opened_at_utc", "opened_at_local", "due_utc", "status",
    "overdue", "responded_at_utc", "verified_at_utc", "description", "supervisor_response",
    "verification_note",
]  # fmt: skip


def _actions(viewer: User, f: ExportFilter) -> tuple[AnySelect, Callable[[Any], list[Any] | None]]:
    query: AnySelect = select(
        CorrectiveAction.id, CorrectiveAction.event_id, Site.name, Site.timezone, Camera.name,
        CorrectiveAction.created_at, CorrectiveAction.due, CorrectiveAction.status,
        CorrectiveAction.responded_at, CorrectiveAction.verified_at, CorrectiveAction.description,
        CorrectiveAction.supervisor_response, CorrectiveAction.verification_note,
    ).select_from(CorrectiveAction).join(Event, Event.id == CorrectiveAction.event_id)  # fmt: skip
    query = query.join(Camera, Camera.id == Event.camera_id).join(Site, Site.id == Camera.site_id)
    query = _scoped(query, viewer, f).where(_in_period(CorrectiveAction.created_at, f.period))
    query = query.order_by(CorrectiveAction.created_at, CorrectiveAction.id)
    now = datetime.now(UTC)

    def row(r: Any) -> list[Any] | None:
        tz = ZoneInfo(r[3])
        if not _keep(r[5], tz, f.period):
            return None
        overdue = r[7] != ActionStatus.VERIFIED and r[6] is not None and r[6] < now
        return [r[0], r[1], r[2], r[4], _utc(r[5]), _local(r[5], tz), _utc(r[6]), str(r[7]),
                "yes" if overdue else "no", _utc(r[8]), _utc(r[9]), r[10], r[11] or "",
                r[12] or ""]  # fmt: skip

    return query, row


UNMONITORED_COLUMNS = [
    "interval_id", "site", "camera", "started_at_utc", "started_at_local", "ended_at_utc", "hours_in_period",
    "reason",
]  # fmt: skip


def _unmonitored(viewer: User, f: ExportFilter) -> tuple[AnySelect, Callable[[Any], list[Any] | None]]:
    wide_start, wide_end = _wide(f.period)
    query: AnySelect = select(
        UnmonitoredInterval.id, Site.name, Site.timezone, Camera.name, UnmonitoredInterval.started_at,
        UnmonitoredInterval.ended_at, UnmonitoredInterval.reason,
    ).select_from(UnmonitoredInterval).join(Camera, Camera.id == UnmonitoredInterval.camera_id)  # fmt: skip
    query = _scoped(query.join(Site, Site.id == Camera.site_id), viewer, f)
    # overlapping the period (an interval that began before it still counts)
    query = query.where(
        UnmonitoredInterval.started_at < wide_end,
        or_(UnmonitoredInterval.ended_at.is_(None), UnmonitoredInterval.ended_at > wide_start),
    ).order_by(UnmonitoredInterval.started_at, UnmonitoredInterval.id)
    now = datetime.now(UTC)

    def row(r: Any) -> list[Any] | None:
        start, end = f.period.utc_span(r[2])
        clipped_end = min(r[5] or min(end, now), end)
        hours = max((clipped_end - max(r[4], start)).total_seconds(), 0) / 3600
        if r[4] >= end or (r[5] is not None and r[5] <= start):
            return None
        return [r[0], r[1], r[3], _utc(r[4]), _local(r[4], ZoneInfo(r[2])), _utc(r[5]), round(hours, 4), r[6]]

    return query, row


_BUILDERS = {ExportKind.EVENTS: (EVENT_COLUMNS, _events), ExportKind.ACTIONS: (ACTION_COLUMNS, _actions),
             ExportKind.UNMONITORED: (UNMONITORED_COLUMNS, _unmonitored)}  # fmt: skip


def filename(kind: ExportKind, f: ExportFilter) -> str:
    return f"siteaudit-{kind.value}-{f.period.start.isoformat()}-{f.period.end.isoformat()}.csv"


def stream_csv(
    sessions: sessionmaker[Session], viewer_id: int, kind: ExportKind, f: ExportFilter
) -> Iterator[bytes]:
    """UTF-8 CSV (with a BOM, so spreadsheet programs read Chinese names right), CSV_BATCH rows a chunk.

    Runs in its own session (the response outlives the request's): the viewer is loaded again by id."""
    columns, build = _BUILDERS[kind]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    yield ("\ufeff" + buffer.getvalue()).encode()
    with sessions() as session:
        viewer = session.get(User, viewer_id)
        if viewer is None:
            return
        query, row = build(viewer, f)
        result = session.execute(query.execution_options(yield_per=CSV_BATCH))
        for batch in result.partitions():
            yield _encode(batch, row)


def _encode(batch: Sequence[Any], row: Callable[[Any], list[Any] | None]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for r in batch:
        values = row(r)
        if values is not None:
            writer.writerow(values)
    return buffer.getvalue().encode()
