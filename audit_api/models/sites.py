"""Sites, their cameras and the versioned per-camera configuration (zones, calibration, rules, health)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from audit_api.i18n import DEFAULT_SITE_LOCALE
from audit_api.models.base import Base, CameraKind, PrivacyBlur, str_enum, utcnow
from audit_api.models.people import User, supervised_sites


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    address: Mapped[str] = mapped_column(String(500), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # The language of the site's alerts and PDF reports (audit_api.i18n.SUPPORTED).
    locale: Mapped[str] = mapped_column(
        String(16), default=DEFAULT_SITE_LOCALE, server_default=DEFAULT_SITE_LOCALE
    )
    ack_deadline_s: Mapped[int] = mapped_column(default=600)  # unacknowledged alerts escalate after it
    # A camera unmonitored this long (inside working_hours, if set) alerts; NULL: no offline alerts.
    offline_alert_s: Mapped[int | None] = mapped_column(default=600)
    working_hours: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)  # weekly windows, local time
    privacy_blur: Mapped[PrivacyBlur] = mapped_column(
        str_enum(PrivacyBlur), default=PrivacyBlur.EXTERNAL, server_default=PrivacyBlur.EXTERNAL.value
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    cameras: Mapped[list[Camera]] = relationship(back_populates="site", cascade="all, delete-orphan")
    supervisors: Mapped[list[User]] = relationship(secondary=supervised_sites, back_populates="sites")


class Camera(Base):
    __tablename__ = "cameras"
    __table_args__ = (UniqueConstraint("site_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[CameraKind] = mapped_column(str_enum(CameraKind))
    url: Mapped[str | None] = mapped_column(String(2048))  # RTSP only
    whip_token_hash: Mapped[str | None] = mapped_column(String(128))  # WHIP only; never the token itself
    enabled: Mapped[bool] = mapped_column(default=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # sampling settings
    config_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    site: Mapped[Site] = relationship(back_populates="cameras")
    zones: Mapped[list[Zone]] = relationship(back_populates="camera", cascade="all, delete-orphan")
    calibration: Mapped[Calibration | None] = relationship(
        back_populates="camera", cascade="all, delete-orphan"
    )


class Zone(Base):
    __tablename__ = "zones"
    __table_args__ = (UniqueConstraint("camera_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    polygon: Mapped[list[list[float]]] = mapped_column(JSON)  # [[x, y], ...] normalised to [0, 1]
    required_ppe: Mapped[list[str]] = mapped_column(JSON, default=list)
    occupancy_cap: Mapped[int | None]
    schedule: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)  # weekly active windows
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    camera: Mapped[Camera] = relationship(back_populates="zones")


class Calibration(Base):
    """Image-to-ground homography inputs: normalised image points and matching world points in metres."""

    __tablename__ = "calibrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), unique=True)
    image_points: Mapped[list[list[float]]] = mapped_column(JSON)
    world_points_m: Mapped[list[list[float]]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    camera: Mapped[Camera] = relationship(back_populates="calibration")


class RuleConfig(Base):
    """Rule thresholds for one camera, or the global defaults when camera_id is NULL."""

    __tablename__ = "rule_configs"

    id: Mapped[int] = mapped_column(primary_key=True)
    camera_id: Mapped[int | None] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), unique=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CameraHealthInterval(Base):
    """A span during which a camera was in one health state (e.g. streaming, reconnecting)."""

    __tablename__ = "camera_health_intervals"

    id: Mapped[int] = mapped_column(primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(String(500), default="")


class UnmonitoredInterval(Base):
    """A span the system could not watch (camera down, overload): audits must know what was not seen."""

    __tablename__ = "unmonitored_intervals"

    id: Mapped[int] = mapped_column(primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(String(500))
    # Stable key of the worker's interval (camera and start), so a replay from the journal is stored once,
    # and the lease epoch it was observed under (None: written by the embedded worker before leases).
    source_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    lease_epoch: Mapped[int | None]


CAMERA_STATUS_STALE_AFTER = timedelta(seconds=30)
"""A camera_status row older than this: its worker is silent (it reports every 5 s)."""


class CameraStatus(Base):
    """The worker's latest live view of a camera (state, fps, last frame, reconnects), written every few
    seconds so API processes that run no worker (the deployed topology) can still report it."""

    __tablename__ = "camera_status"

    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime]


class CameraLease(Base):
    """Which worker runs a camera (deployed mode: several workers share the cameras through PostgreSQL).

    A worker claims free or expired rows (`SELECT … FOR UPDATE SKIP LOCKED`), renews `expires_at` by
    heartbeat and clears `worker_id` on a clean shutdown. `epoch` is the fencing token: bumped on every
    takeover, carried by every write the worker makes for the camera and compared in that write's
    transaction, so a worker that lost the lease can never record anything for it.
    """

    __tablename__ = "camera_leases"

    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True)
    worker_id: Mapped[str | None] = mapped_column(String(128), index=True)
    epoch: Mapped[int] = mapped_column(default=0)
    heartbeat_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    worker_url: Mapped[str | None] = mapped_column(String(500))
