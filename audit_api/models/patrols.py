"""Remote patrols (issue 15): a site's patrol plans, the rounds inspectors walk and each camera's step.

A plan names cameras of its site (in order), times of day in the site's time zone and a grace window; each
time of each day is a *slot* whose window is [time, time + grace]. A round is walked by one inspector,
for a slot or ad hoc; its steps (one per camera, copied from the plan when the round starts) carry the
verdict, the still's hash for a finding and the seconds the camera was looked at, measured server-side.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Column, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from audit_api.models.base import Base, str_enum, utcnow
from audit_api.models.people import User
from audit_api.models.sites import Camera, Site

patrol_plan_inspectors = Table(
    "patrol_plan_inspectors",
    Base.metadata,
    Column("plan_id", ForeignKey("patrol_plans.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class RoundStatus(enum.StrEnum):
    OPEN = "open"
    COMPLETE = "complete"
    """Ended with a verdict for every camera."""
    INCOMPLETE = "incomplete"
    """Ended with cameras left unchecked."""


class StepVerdict(enum.StrEnum):
    OK = "ok"
    FINDING = "finding"


class PatrolPlan(Base):
    __tablename__ = "patrol_plans"
    __table_args__ = (UniqueConstraint("site_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    times: Mapped[list[str]] = mapped_column(JSON)  # "HH:MM", sorted
    grace_minutes: Mapped[int] = mapped_column(default=60)
    active: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    site: Mapped[Site] = relationship()
    cameras: Mapped[list[PatrolPlanCamera]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PatrolPlanCamera.position"
    )
    inspectors: Mapped[list[User]] = relationship(secondary=patrol_plan_inspectors, order_by=User.id)

    @property
    def camera_ids(self) -> list[int]:
        return [c.camera_id for c in self.cameras]

    @property
    def inspector_ids(self) -> list[int]:
        return [u.id for u in self.inspectors]


class PatrolPlanCamera(Base):
    __tablename__ = "patrol_plan_cameras"

    plan_id: Mapped[int] = mapped_column(ForeignKey("patrol_plans.id", ondelete="CASCADE"), primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int]

    plan: Mapped[PatrolPlan] = relationship(back_populates="cameras")


class PatrolRound(Base):
    __tablename__ = "patrol_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("patrol_plans.id", ondelete="RESTRICT"), index=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    slot_at: Mapped[datetime | None] = mapped_column(index=True)  # the slot's start (UTC); None: ad hoc
    status: Mapped[RoundStatus] = mapped_column(str_enum(RoundStatus), default=RoundStatus.OPEN)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]

    plan: Mapped[PatrolPlan] = relationship()
    inspector: Mapped[User] = relationship()
    steps: Mapped[list[PatrolStep]] = relationship(
        back_populates="round", cascade="all, delete-orphan", order_by="PatrolStep.position"
    )

    @property
    def site_id(self) -> int:
        return self.plan.site_id


class PatrolStep(Base):
    __tablename__ = "patrol_steps"
    __table_args__ = (UniqueConstraint("round_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("patrol_rounds.id", ondelete="CASCADE"), index=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="RESTRICT"))
    position: Mapped[int]
    started_at: Mapped[datetime | None]  # when the inspector first opened the camera in this round
    verdict_at: Mapped[datetime | None]
    verdict: Mapped[StepVerdict | None] = mapped_column(str_enum(StepVerdict))
    seconds: Mapped[float | None]  # verdict_at - started_at, server clock
    note: Mapped[str] = mapped_column(Text, default="")
    still_sha256: Mapped[str | None] = mapped_column(String(64))  # a finding's captured still
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="RESTRICT"))

    round: Mapped[PatrolRound] = relationship(back_populates="steps")
    camera: Mapped[Camera] = relationship()


class PatrolMiss(Base):
    """A slot whose window closed without a complete round, flagged once (and alerted, if channels want
    `patrol_missed`)."""

    __tablename__ = "patrol_misses"
    __table_args__ = (UniqueConstraint("plan_id", "slot_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("patrol_plans.id", ondelete="CASCADE"), index=True)
    slot_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(32))  # missed | incomplete
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    plan: Mapped[PatrolPlan] = relationship()
