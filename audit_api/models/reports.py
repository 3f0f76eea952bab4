"""Periodic and on-demand site reports (PDF): one row per document, the object holding it and its SHA-256."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from audit_api.models.base import Base, str_enum, utcnow
from audit_api.models.sites import Site


class ReportStatus(enum.StrEnum):
    PENDING = "pending"  # claimed by a generator (scheduler or request), not stored yet
    READY = "ready"
    FAILED = "failed"


class ReportTrigger(enum.StrEnum):
    SCHEDULED = "scheduled"
    ON_DEMAND = "on_demand"


class SiteReport(Base):
    """A site's PDF report for the local days `start_day`..`end_day` (inclusive, the site's time zone).

    Scheduled reports carry `schedule_key` (e.g. "monthly:2025-03"): unique per site, so API replicas that
    run the scheduler at the same time insert the row once and only the inserter renders it. On-demand
    reports leave it NULL (NULLs never collide), one row per request.
    """

    __tablename__ = "site_reports"
    __table_args__ = (UniqueConstraint("site_id", "schedule_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    start_day: Mapped[date]
    end_day: Mapped[date]
    trigger: Mapped[ReportTrigger] = mapped_column(str_enum(ReportTrigger))
    schedule_key: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[ReportStatus] = mapped_column(str_enum(ReportStatus), default=ReportStatus.PENDING)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)  # a stale pending claim is taken over
    attempts: Mapped[int] = mapped_column(default=1)
    finished_at: Mapped[datetime | None]
    object_key: Mapped[str | None] = mapped_column(String(1024), unique=True)
    sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)

    site: Mapped[Site] = relationship()
