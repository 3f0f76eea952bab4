"""Printable reports (PDF through audit_api.services.pdf). The rectification report of a closed action
is `rectification.py` (a Jinja2 template in templates/); both are worded in the site's language
(audit_api.i18n). This module holds the site reports: generated on demand (API) or on a schedule
(scheduler.py), stored write-once in the object store with their SHA-256, listed and downloaded through the
site scope.

Claiming is what makes the schedule safe on several API replicas: a scheduled report's row is inserted
with its unique (site, schedule_key) before anything is rendered; the replica whose insert fails leaves
it alone. A claim that was never finished (its replica died) is taken over once `report_lease_s` old, by
a conditional UPDATE that only one replica can win.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit_api import audit_log
from audit_api.models import (
    ActionStatus,
    Camera,
    CorrectiveAction,
    Event,
    ReportStatus,
    ReportTrigger,
    Site,
    SiteReport,
    User,
    utcnow,
)
from audit_api.services.dashboard import Period, dashboard
from audit_api.services.errors import Conflict, NotFound
from audit_api.services.listing import Page, paginate
from audit_api.services.pdf import PdfRenderError, render_pdf
from audit_api.services.reports.document import MAX_LISTED, OpenAction, ReportData, report_html
from audit_api.services.scope import SiteScope
from audit_api.services.sites import get_site
from audit_api.services.users import actor_of
from audit_api.storage import ObjectCorrupted, ObjectNotFound, ObjectStore, StorageError

log = logging.getLogger(__name__)
SYSTEM_ACTOR = "report-scheduler"


def report_data(session: Session, site: Site, period: Period, now: datetime) -> ReportData:
    figures = dashboard(session, None, period, site_id=site.id, now=now)
    start, end = period.utc_span(site.timezone)
    site_actions = (
        select(CorrectiveAction, Camera.name)
        .join(Event, Event.id == CorrectiveAction.event_id)
        .join(Camera, Camera.id == Event.camera_id)
        .where(Camera.site_id == site.id)
    )
    status_counts = (
        select(CorrectiveAction.status, func.count())
        .join(Event, Event.id == CorrectiveAction.event_id)
        .join(Camera, Camera.id == Event.camera_id)
        .where(
            Camera.site_id == site.id, CorrectiveAction.created_at >= start, CorrectiveAction.created_at < end
        )
        .group_by(CorrectiveAction.status)
    )
    counted = {ActionStatus(s).value: n for s, n in session.execute(status_counts)}
    rectification = {s.value: counted.get(s.value, 0) for s in ActionStatus}
    open_query = site_actions.where(CorrectiveAction.status != ActionStatus.VERIFIED)
    overdue_first = case((CorrectiveAction.due < now, 0), else_=1)
    listed = session.execute(
        open_query.order_by(overdue_first, CorrectiveAction.created_at, CorrectiveAction.id).limit(MAX_LISTED)
    ).all()
    open_actions = [
        OpenAction(
            id=a.id, event_id=a.event_id, camera=camera, description=a.description, status=a.status.value,
            opened=a.created_at, due=a.due, overdue=a.due is not None and a.due < now,
        )
        for a, camera in listed
    ]  # fmt: skip
    return ReportData(
        site_name=site.name,
        timezone=site.timezone,
        locale=site.locale,
        figures=figures,
        rectification=rectification,
        open_actions=open_actions,
        open_total=figures.totals.open_actions,
    )


def _render_and_store(session: Session, store: ObjectStore, report: SiteReport) -> SiteReport:
    """Render the claimed report, store it, mark it ready (or failed, with the reason); commits."""
    site = report.site
    now = utcnow()
    try:
        html = report_html(report_data(session, site, Period(report.start_day, report.end_day), now), now)
        pdf = render_pdf(html)
        folder = f"reports/site-{site.id}/{report.start_day}_{report.end_day}"
        key = f"{folder}/report-{report.id}-{report.attempts}.pdf"
        stored = store.put(key, pdf, "application/pdf")
    except (PdfRenderError, StorageError) as exc:
        report.status, report.error, report.finished_at = ReportStatus.FAILED, str(exc)[:2000], utcnow()
        session.commit()
        log.warning("site report %s (site %s) failed: %s", report.id, site.id, exc)
        return report
    report.object_key, report.sha256, report.size = stored.key, stored.sha256, stored.size
    report.status, report.error, report.finished_at = ReportStatus.READY, None, utcnow()
    actor = SYSTEM_ACTOR if report.requested_by_id is None else f"user:{report.requested_by_id}"
    audit_log.append(
        session, actor, "report.generated", f"report:{report.id}",
        {"site_id": site.id, "start": report.start_day.isoformat(), "end": report.end_day.isoformat(),
         "sha256": stored.sha256, "object_key": stored.key, "trigger": report.trigger},
    )  # fmt: skip
    session.commit()
    return report


def generate_on_demand(
    session: Session, store: ObjectStore, site_id: int, period: Period, requester: User
) -> SiteReport:
    """Render a report of one site for the period now (the request waits); NotFound outside the scope."""
    site = get_site(session, site_id, requester)
    report = SiteReport(
        site=site, start_day=period.start, end_day=period.end, trigger=ReportTrigger.ON_DEMAND,
        requested_by_id=requester.id,
    )  # fmt: skip
    session.add(report)
    session.flush()
    audit_log.append(
        session, actor_of(requester), "report.requested", f"report:{report.id}",
        {"site_id": site.id, "start": period.start.isoformat(), "end": period.end.isoformat()},
    )  # fmt: skip
    session.commit()
    return _render_and_store(session, store, report)


def claim_scheduled(
    session: Session, site_id: int, period: Period, key: str, lease_s: float, max_attempts: int = 3
) -> SiteReport | None:
    """The scheduled report row for (site, key) if this caller won it: a new row, or a stale claim (older
    than lease_s, pending or failed, attempts left) taken over. None: another replica has it or it is done."""
    report = SiteReport(
        site_id=site_id, start_day=period.start, end_day=period.end, trigger=ReportTrigger.SCHEDULED,
        schedule_key=key,
    )  # fmt: skip
    session.add(report)
    try:
        session.commit()
        return report
    except IntegrityError:
        session.rollback()
    stale = utcnow() - timedelta(seconds=lease_s)
    taken = session.execute(
        update(SiteReport)
        .where(
            SiteReport.site_id == site_id,
            SiteReport.schedule_key == key,
            SiteReport.status != ReportStatus.READY,
            SiteReport.claimed_at < stale,
            SiteReport.attempts < max_attempts,
        )
        .values(claimed_at=utcnow(), attempts=SiteReport.attempts + 1, status=ReportStatus.PENDING)
    )
    session.commit()
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return session.scalars(
        select(SiteReport).where(SiteReport.site_id == site_id, SiteReport.schedule_key == key)
    ).one()


def generate_scheduled(session: Session, store: ObjectStore, report: SiteReport) -> SiteReport:
    return _render_and_store(session, store, report)


def list_reports(
    session: Session, viewer: User, page: Page, site_id: int | None = None
) -> tuple[Sequence[SiteReport], int]:
    """Newest period first, then newest report."""
    query = select(SiteReport).order_by(SiteReport.start_day.desc(), SiteReport.id.desc())
    query = SiteScope.of(viewer).where(query, SiteReport.site_id)
    if site_id is not None:
        query = query.where(SiteReport.site_id == site_id)
    return paginate(session, query, page)


def get_report(session: Session, report_id: int, viewer: User) -> SiteReport:
    report = session.get(SiteReport, report_id)
    return SiteScope.of(viewer).found(report, lambda r: r.site_id, f"report {report_id}")


def report_pdf(
    session: Session, store: ObjectStore, report_id: int, viewer: User
) -> tuple[SiteReport, bytes]:
    """The stored PDF, SHA-256 checked; Conflict while it is not ready or when the object fails its check,
    NotFound outside the scope. Other storage errors (an outage) propagate as StorageError."""
    report = get_report(session, report_id, viewer)
    if report.status != ReportStatus.READY or report.object_key is None:
        raise Conflict(f"report {report_id} is {report.status.value}, not ready")
    try:
        return report, store.get(report.object_key, sha256=report.sha256)
    except ObjectCorrupted as exc:
        raise Conflict(f"report {report_id} failed its integrity check: {exc}") from exc
    except ObjectNotFound as exc:
        raise NotFound(f"report {report_id}'s document is missing: {exc}") from exc


def previous_period(schedule: str, today: date) -> tuple[Period, str]:
    """The last complete period before `today` (a local date) and its schedule key."""
    if schedule == "weekly":
        end = today - timedelta(days=today.weekday() + 1)  # last Sunday
        start = end - timedelta(days=6)
        iso = start.isocalendar()
        return Period(start, end), f"weekly:{iso.year}-W{iso.week:02d}"
    end = today.replace(day=1) - timedelta(days=1)
    return Period(end.replace(day=1), end), f"monthly:{end.year}-{end.month:02d}"
