"""Stored evidence per site, for admins (GET /api/storage)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from audit_api.models import EvidenceKind


class KindUsageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: EvidenceKind
    objects: int = Field(description="Objects stored now")
    bytes: int = Field(description="Their size in bytes")
    deleted: int = Field(description="Objects of this kind deleted by the retention job")


class SiteUsageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    site_id: int
    site: str
    objects: int
    bytes: int
    kinds: list[KindUsageOut]


class StorageUsageOut(BaseModel):
    short_retention_days: int = Field(description="Unconfirmed evidence is deleted after this")
    long_retention_days: int = Field(description="Confirmed or signed-off evidence is kept this long")
    sites: list[SiteUsageOut]
