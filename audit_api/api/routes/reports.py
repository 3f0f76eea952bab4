"""Site reports (PDF): generate one now, list them, download one (SHA-256 checked)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Response, status

from audit_api.api.deps import SessionDep, StoreDep, ViewerUser, require_role
from audit_api.api.params import Id, IdFilter, PageDep, set_total
from audit_api.api.route_docs import CONFLICT, DocumentedRoute, Responses, errors
from audit_api.models import Role, User
from audit_api.schemas.reports import ReportIn, ReportOut
from audit_api.services import reports as reports_service
from audit_api.services.dashboard import Period
from audit_api.storage import StorageError

router = APIRouter(tags=["reports"], route_class=DocumentedRoute)
StaffUser = Annotated[User, Depends(require_role(Role.ADMIN, Role.INSPECTOR))]
PDF: Responses = {
    200: {"description": "The PDF (SHA-256 verified)", "content": {"application/pdf": {}}},
    **CONFLICT,
    **errors(503),
}


@router.post("/sites/{site_id}/reports", status_code=status.HTTP_201_CREATED)
def create_report(
    site_id: Id, body: ReportIn, session: SessionDep, store: StoreDep, user: StaffUser
) -> ReportOut:
    """Render the site's report for the period now and store it (status `failed` says why it could not)."""
    period = Period.of(body.start, body.end)
    return ReportOut.model_validate(reports_service.generate_on_demand(session, store, site_id, period, user))


@router.get("/reports")
def list_reports(
    session: SessionDep, user: ViewerUser, page: PageDep, response: Response, site_id: IdFilter = None
) -> list[ReportOut]:
    reports, total = reports_service.list_reports(session, user, page, site_id)
    set_total(response, total)
    return [ReportOut.model_validate(r) for r in reports]


@router.get("/reports/{report_id}", response_class=Response, responses=PDF)
def download_report(report_id: Id, session: SessionDep, store: StoreDep, user: ViewerUser) -> Response:
    try:
        report, data = reports_service.report_pdf(session, store, report_id, user)
    except StorageError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"report store unavailable: {exc}") from exc
    name = f"siteaudit-report-site{report.site_id}-{report.start_day}-{report.end_day}.pdf"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "ETag": f'"{report.sha256}"'}
    return Response(data, media_type="application/pdf", headers=headers)
