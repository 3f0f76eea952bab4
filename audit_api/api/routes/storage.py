"""Stored evidence per site (admins): bytes and object counts by kind, and the retention in force."""

from __future__ import annotations

from fastapi import APIRouter

from audit_api.api.deps import AdminUser, SessionDep, SettingsDep
from audit_api.api.route_docs import DocumentedRoute
from audit_api.schemas.storage import SiteUsageOut, StorageUsageOut
from audit_api.services import retention

router = APIRouter(prefix="/storage", tags=["storage"], route_class=DocumentedRoute)


@router.get("")
def storage_usage(session: SessionDep, settings: SettingsDep, admin: AdminUser) -> StorageUsageOut:
    """Every site's stored evidence (clips, snapshots, segments, stills, opening snapshots, action photos,
    blurred copies): objects and bytes by kind, plus how many the retention job deleted."""
    return StorageUsageOut(
        short_retention_days=settings.evidence_short_retention_days,
        long_retention_days=settings.evidence_long_retention_days,
        sites=[SiteUsageOut.model_validate(u) for u in retention.usage(session)],
    )
