"""Events, their evidence and the inspector/supervisor workflow rows hanging off them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from audit_api.models.actions import ActionDecision, ActionResponse
from audit_api.models.base import ActionStatus, Base, ClipKind, EventStatus, Verdict, str_enum, utcnow
from audit_api.models.people import User
from audit_api.models.sites import Camera, Site


class Event(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="RESTRICT"), index=True)
    kinds: Mapped[list[str]] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime]
    status: Mapped[EventStatus] = mapped_column(str_enum(EventStatus), default=EventStatus.OPEN, index=True)
    rule_snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)  # rules, zones, thresholds that fired
    model_version: Mapped[str] = mapped_column(String(200))
    rule_version: Mapped[str] = mapped_column(String(200))
    best_confidence: Mapped[float | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Its unconfirmed evidence expired and was deleted by the retention job (the rows and hashes stay).
    evidence_deleted_at: Mapped[datetime | None]

    camera: Mapped[Camera] = relationship()
    violations: Mapped[list[EventViolation]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="EventViolation.ts"
    )
    clips: Mapped[list[Clip]] = relationship(back_populates="event", cascade="all, delete-orphan")
    segments: Mapped[list[ClipSegment]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="ClipSegment.index"
    )
    reviews: Mapped[list[Review]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="Review.at"
    )
    signoff: Mapped[SignOff | None] = relationship(back_populates="event", cascade="all, delete-orphan")
    actions: Mapped[list[CorrectiveAction]] = relationship(
        back_populates="event", cascade="all, delete-orphan"
    )
    sources: Mapped[list[EventSource]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="EventSource.recorded_at"
    )

    @property
    def site_id(self) -> int:
        return self.camera.site_id

    @property
    def verdict(self) -> Verdict | None:
        """The latest review's verdict (the status says signed_off once signed)."""
        return self.reviews[-1].verdict if self.reviews else None

    def clip_of(self, kind: ClipKind) -> Clip | None:
        return next((c for c in self.clips if c.kind == kind), None)


class EventSource(Base):
    """A worker's review item recorded into an event: its stable key (the item id), so a replay after a
    restart or an outage is recognised and never recorded twice, the lease epoch it was captured under
    (evidence of who watched), and when its close was applied (a close is applied once). An event has one
    source, or more when a new lease holder continued the open event of a previous epoch (takeover)."""

    __tablename__ = "event_sources"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    worker_id: Mapped[str | None] = mapped_column(String(128))
    lease_epoch: Mapped[int | None]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]

    event: Mapped[Event] = relationship(back_populates="sources")


class EventViolation(Base):
    """One rule violation by one track (or one zone, for crowding) at one time, inside an event."""

    __tablename__ = "event_violations"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    track_id: Mapped[int | None]
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zones.id", ondelete="SET NULL"))
    ts: Mapped[datetime]
    box: Mapped[list[float] | None] = mapped_column(JSON)  # [x1, y1, x2, y2] normalised
    confidence: Mapped[float | None]

    event: Mapped[Event] = relationship(back_populates="violations")
    snapshot: Mapped[ViolationSnapshot | None] = relationship(
        back_populates="violation", cascade="all, delete-orphan"
    )


class Clip(Base):
    """A stored evidence object (MP4 clip or JPEG snapshot) and the SHA-256 it had when written."""

    __tablename__ = "clips"
    __table_args__ = (UniqueConstraint("event_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ClipKind] = mapped_column(str_enum(ClipKind))
    object_key: Mapped[str] = mapped_column(String(1024), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    duration_s: Mapped[float | None]
    content_type: Mapped[str] = mapped_column(String(100))
    # A snapshot's head regions (pixel x1, y1, x2, y2 of the stored image) for its blurred copy; NULL:
    # not known (recorded before issue 13), the blurred copy is then pixelated as a whole.
    heads: Mapped[list[list[int]] | None] = mapped_column(JSON)

    event: Mapped[Event] = relationship(back_populates="clips")


class ClipSegment(Base):
    """One piece of an event's whole recorded span (pre-roll + span + post-roll), in order: the video
    time t plays at offset t - started_at of segment `index`."""

    __tablename__ = "clip_segments"
    __table_args__ = (UniqueConstraint("event_id", "index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    index: Mapped[int]
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime]
    object_key: Mapped[str] = mapped_column(String(1024), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    content_type: Mapped[str] = mapped_column(String(100))

    event: Mapped[Event] = relationship(back_populates="segments")

    @property
    def duration_s(self) -> float:
        return (self.ended_at - self.started_at).total_seconds()


class ViolationSnapshot(Base):
    """A violation's own still (the frame it fired on, its box in red) and the SHA-256 it was stored with."""

    __tablename__ = "violation_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    violation_id: Mapped[int] = mapped_column(
        ForeignKey("event_violations.id", ondelete="CASCADE"), unique=True
    )
    object_key: Mapped[str] = mapped_column(String(1024), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    content_type: Mapped[str] = mapped_column(String(100))
    heads: Mapped[list[list[int]] | None] = mapped_column(JSON)  # head regions, as Clip.heads

    violation: Mapped[EventViolation] = relationship(back_populates="snapshot")

    @property
    def event_id(self) -> int:
        return self.violation.event_id


class Review(Base):
    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    verdict: Mapped[Verdict] = mapped_column(str_enum(Verdict))
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)

    event: Mapped[Event] = relationship(back_populates="reviews")
    inspector: Mapped[User] = relationship()

    @property
    def inspector_name(self) -> str:
        return self.inspector.name or self.inspector.email


class SignOff(Base):
    __tablename__ = "signoffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), unique=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    clip_sha256: Mapped[str | None] = mapped_column(String(64))  # evidence hash the inspector signed

    event: Mapped[Event] = relationship(back_populates="signoff")
    inspector: Mapped[User] = relationship()

    @property
    def inspector_name(self) -> str:
        return self.inspector.name or self.inspector.email


class CorrectiveAction(Base):
    __tablename__ = "corrective_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    description: Mapped[str] = mapped_column(Text)
    due: Mapped[datetime | None]
    status: Mapped[ActionStatus] = mapped_column(str_enum(ActionStatus), default=ActionStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    supervisor_response: Mapped[str | None] = mapped_column(Text)
    responded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    responded_at: Mapped[datetime | None]
    verification_note: Mapped[str | None] = mapped_column(Text)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    verified_at: Mapped[datetime | None]
    # Set by the inspector when the action opens (None on actions opened before they existed).
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))

    event: Mapped[Event] = relationship(back_populates="actions")
    supervisor: Mapped[User | None] = relationship(foreign_keys=[supervisor_id])
    opened_by: Mapped[User | None] = relationship(foreign_keys=[opened_by_id])
    responses: Mapped[list[ActionResponse]] = relationship(
        back_populates="action", cascade="all, delete-orphan", order_by="ActionResponse.id"
    )
    decisions: Mapped[list[ActionDecision]] = relationship(
        cascade="all, delete-orphan", order_by="ActionDecision.id"
    )

    AWAITING_RESPONSE: ClassVar[tuple[ActionStatus, ...]] = (ActionStatus.OPEN, ActionStatus.REOPENED)

    @property
    def site_id(self) -> int:
        return self.event.site_id

    @property
    def supervisor_name(self) -> str | None:
        return None if self.supervisor is None else self.supervisor.name or self.supervisor.email

    @property
    def overdue(self) -> bool:
        """Past its due date while still waiting for the site's response (see services.actions)."""
        return self.due is not None and self.status in self.AWAITING_RESPONSE and self.due < utcnow()


class Alert(Base):
    """Something a site's people must be told about: a violation (with its event once recorded) or a
    camera that went offline. Delivered per channel and per push subscription (alert_deliveries)."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    # NULL while a violation alert waits for its event (sent at open, before the clip's post-roll) and
    # always for camera_offline alerts and notices (patrol_missed: its text in `detail`).
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32), default="violation", server_default="violation")
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)  # violation kinds, or ["camera_offline"]
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # a notice's title, lines and link
    camera_id: Mapped[int | None] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime | None]  # the violation's first frame / the outage's start
    review_item: Mapped[str | None] = mapped_column(String(64))  # the worker's id, to find it at record
    snapshot_key: Mapped[str | None] = mapped_column(String(1024))  # the opening snapshot (before the event)
    snapshot_sha256: Mapped[str | None] = mapped_column(String(64))
    snapshot_heads: Mapped[list[list[int]] | None] = mapped_column(JSON)  # head regions, as Clip.heads
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    acknowledged_at: Mapped[datetime | None]
    acknowledged_via: Mapped[str | None] = mapped_column(String(300))  # an ack link: whose link it was
    escalation_level: Mapped[int] = mapped_column(default=0)  # 0 site supervisors, 1 inspectors, 2 admins
    escalated_at: Mapped[datetime | None]
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # escalation steps, in order
    resolved_at: Mapped[datetime | None]  # camera_offline: the camera came back
    notified_at: Mapped[datetime | None]  # camera_offline: its message was queued (or folded into another)
    folded_into_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"))

    event: Mapped[Event | None] = relationship()
    site: Mapped[Site] = relationship()
    camera: Mapped[Camera | None] = relationship()
