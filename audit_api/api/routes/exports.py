"""CSV exports (events, corrective actions, unmonitored intervals) with the dashboard page's filters,
streamed from a server-side cursor (audit_api/services/exports.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from audit_api.api.deps import SessionDep, SessionmakerDep, ViewerUser
from audit_api.api.params import IdFilter, PeriodDep
from audit_api.api.route_docs import DocumentedRoute, Responses
from audit_api.models import EventStatus
from audit_api.services import exports
from audit_api.services.exports import ExportFilter, ExportKind

router = APIRouter(prefix="/exports", tags=["exports"], route_class=DocumentedRoute)
CSV: Responses = {
    200: {
        "description": "UTF-8 CSV (with a BOM), one header row; streamed",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}


def _stream(
    sessions: SessionmakerDep, session: SessionDep, user: ViewerUser, kind: ExportKind, f: ExportFilter
) -> StreamingResponse:
    f.check(session, user)  # 404 for another site's id, before the first byte
    session.close()  # the stream reads through its own session; the request's is done
    return StreamingResponse(
        exports.stream_csv(sessions, user.id, kind, f),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{exports.filename(kind, f)}"'},
    )


@router.get("/events.csv", response_class=StreamingResponse, responses=CSV)
def export_events(
    sessions: SessionmakerDep,
    session: SessionDep,
    user: ViewerUser,
    period: PeriodDep,
    site_id: IdFilter = None,
    camera_id: IdFilter = None,
    kind: Annotated[str | None, Query(max_length=64)] = None,
    status: EventStatus | None = None,
) -> StreamingResponse:
    """Events that started in the period (local days of each event's site), oldest first."""
    f = ExportFilter(period, site_id=site_id, camera_id=camera_id, kind=kind, status=status)
    return _stream(sessions, session, user, ExportKind.EVENTS, f)


@router.get("/actions.csv", response_class=StreamingResponse, responses=CSV)
def export_actions(
    sessions: SessionmakerDep,
    session: SessionDep,
    user: ViewerUser,
    period: PeriodDep,
    site_id: IdFilter = None,
    camera_id: IdFilter = None,
) -> StreamingResponse:
    """Corrective actions opened in the period, with their status, due time and answers."""
    f = ExportFilter(period, site_id=site_id, camera_id=camera_id)
    return _stream(sessions, session, user, ExportKind.ACTIONS, f)


@router.get("/unmonitored.csv", response_class=StreamingResponse, responses=CSV)
def export_unmonitored(
    sessions: SessionmakerDep,
    session: SessionDep,
    user: ViewerUser,
    period: PeriodDep,
    site_id: IdFilter = None,
    camera_id: IdFilter = None,
) -> StreamingResponse:
    """Unmonitored intervals overlapping the period, with the hours inside it."""
    f = ExportFilter(period, site_id=site_id, camera_id=camera_id)
    return _stream(sessions, session, user, ExportKind.UNMONITORED, f)
