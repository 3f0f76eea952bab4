"""The dashboard: a period's figures per site and across the caller's sites (supervisors: their own)."""

from __future__ import annotations

from fastapi import APIRouter

from audit_api.api.deps import SessionDep, ViewerUser
from audit_api.api.params import IdFilter, PeriodDep
from audit_api.api.route_docs import DocumentedRoute
from audit_api.schemas.dashboard import DashboardOut
from audit_api.services import dashboard as dashboard_service

router = APIRouter(prefix="/dashboard", tags=["dashboard"], route_class=DocumentedRoute)


@router.get("")
def get_dashboard(
    session: SessionDep, user: ViewerUser, period: PeriodDep, site_id: IdFilter = None
) -> DashboardOut:
    """Violations per local day and kind, per camera and zone, compliance rate, false-positive share,
    sign-off and verification times, open and overdue actions, unmonitored hours (see `definitions`)."""
    return dashboard_service.dashboard(session, user, period, site_id=site_id)
