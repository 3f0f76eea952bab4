"""Site reports: the request for one (a period of local days) and what the list shows."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from audit_api.models import ReportStatus, ReportTrigger
from audit_api.schemas.bounds import MAX_DATE, MAX_PERIOD_DAYS, MIN_DATE

ReportDay = Annotated[date, Field(ge=MIN_DATE, le=MAX_DATE)]


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: ReportDay = Field(description="first local day (the site's time zone)")
    end: ReportDay = Field(description=f"last local day, included; at most {MAX_PERIOD_DAYS} days in all")


class ReportOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    site_id: int
    start_day: date
    end_day: date
    trigger: ReportTrigger
    schedule_key: str | None
    status: ReportStatus
    created_at: datetime
    finished_at: datetime | None
    sha256: str | None = Field(description="SHA-256 of the stored PDF")
    size: int | None
    error: str | None
