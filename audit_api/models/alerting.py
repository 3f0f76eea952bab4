"""Alert channels (where a site's alerts go) and the persistent delivery queue (alert × channel)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from audit_api.models.base import Base, str_enum, utcnow
from audit_api.models.events import Alert


class ChannelType(enum.StrEnum):
    APPRISE = "apprise"
    """Any Apprise URL: mailto://, wecombot://, dingtalk://, feishu://, slack://, ntfy://, json:// ..."""
    WEBHOOK = "webhook"
    """An http(s) URL we POST the alert to as JSON, signed with HMAC-SHA256 (see docs/alerts.md)."""


class EscalationLevel(enum.IntEnum):
    """Who an alert reaches: first the site's supervisors, then (unacknowledged past the site's deadline)
    its inspectors, then admins."""

    SUPERVISORS = 0
    INSPECTORS = 1
    ADMINS = 2


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class AlertChannel(Base):
    __tablename__ = "alert_channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[ChannelType] = mapped_column(str_enum(ChannelType))
    url: Mapped[str] = mapped_column(Text)  # holds secrets: never returned, logged or audited as is
    url_redacted: Mapped[str] = mapped_column(Text)
    signing_secret: Mapped[str | None] = mapped_column(String(128))  # webhooks only; shown once
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)  # violation kinds; empty means all
    level: Mapped[int] = mapped_column(default=0)  # escalation level it serves (see EscalationLevel)
    active: Mapped[bool] = mapped_column(default=True)  # deleting a channel keeps its delivery history
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertDelivery(Base):
    __tablename__ = "alert_deliveries"
    __table_args__ = (
        UniqueConstraint("alert_id", "channel_id"),
        Index("ix_alert_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("alert_channels.id", ondelete="CASCADE"), index=True)
    status: Mapped[DeliveryStatus] = mapped_column(str_enum(DeliveryStatus), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)  # counted when claimed, so a crash mid-send counts
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]  # a sender holds the row until then
    lease_token: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)  # redacted
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    alert: Mapped[Alert] = relationship()
    channel: Mapped[AlertChannel] = relationship()
