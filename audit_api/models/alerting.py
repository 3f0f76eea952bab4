"""Alert channels (where a site's alerts go) and the persistent delivery queue (alert × channel)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from audit_api.models.base import Base, str_enum, utcnow
from audit_api.models.events import Alert
from audit_api.models.people import User


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


class AlertKind(enum.StrEnum):
    VIOLATION = "violation"
    CAMERA_OFFLINE = "camera_offline"
    PATROL_MISSED = "patrol_missed"  # a notice: no event, not acknowledged, not escalated (alerting.notices)


class DeliveryPurpose(enum.StrEnum):
    """Which message of an alert a delivery carries."""

    ALERT = "alert"  # the alert itself (violation at open; camera offline, with what was folded in)
    CLIP = "clip"  # the follow-up once the violation's clip is stored
    RESOLVED = "resolved"  # the offline camera(s) came back


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
    locale: Mapped[str | None] = mapped_column(String(16))  # its messages' language; NULL: the site's
    active: Mapped[bool] = mapped_column(default=True)  # deleting a channel keeps its delivery history
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PushSubscription(Base):
    """A browser's Web Push subscription (PushSubscription.toJSON()) for one signed-in user."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(String(2048), unique=True)  # the push service URL: a secret
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True)  # False once the push service said it is gone
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()


class WebPushKeys(Base):
    """The VAPID key pair, created once on first start (one row, id 1) and shared by every process."""

    __tablename__ = "web_push_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    private_pem: Mapped[str] = mapped_column(Text)
    public_key: Mapped[str] = mapped_column(String(200))  # base64url uncompressed P-256 point
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertDelivery(Base):
    __tablename__ = "alert_deliveries"
    __table_args__ = (
        UniqueConstraint("alert_id", "channel_id", "purpose"),
        UniqueConstraint("alert_id", "subscription_id", "purpose"),
        Index("ix_alert_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    # Exactly one of channel_id (a site's channel) and subscription_id (one user's Web Push) is set.
    channel_id: Mapped[int | None] = mapped_column(
        ForeignKey("alert_channels.id", ondelete="CASCADE"), index=True
    )
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("push_subscriptions.id", ondelete="CASCADE"), index=True
    )
    level: Mapped[int] = mapped_column(default=0, server_default="0")  # the recipients' escalation level
    purpose: Mapped[DeliveryPurpose] = mapped_column(
        str_enum(DeliveryPurpose), default=DeliveryPurpose.ALERT, server_default="alert"
    )
    status: Mapped[DeliveryStatus] = mapped_column(str_enum(DeliveryStatus), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)  # counted when claimed, so a crash mid-send counts
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]  # a sender holds the row until then
    lease_token: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)  # redacted
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    alert: Mapped[Alert] = relationship()
    channel: Mapped[AlertChannel | None] = relationship()
    subscription: Mapped[PushSubscription | None] = relationship()

    @property
    def recipient(self) -> str:
        """Who this delivery reaches, as the ack link's audit entry names it."""
        level = EscalationLevel(self.level).name.lower()
        if self.channel is not None:
            return f"channel {self.channel.id} ({self.channel.name}, {level})"
        assert self.subscription is not None
        return f"web push of user {self.subscription.user_id} ({level})"


class AckLink(Base):
    """A signed one-time acknowledge link sent in one delivery: the token's `jti`, consumed on use."""

    __tablename__ = "alert_ack_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    jti: Mapped[str] = mapped_column(String(64), unique=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("alert_deliveries.id", ondelete="CASCADE"), unique=True
    )
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    level: Mapped[int]
    recipient: Mapped[str] = mapped_column(String(300))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
