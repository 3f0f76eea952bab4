"""The history of a corrective action: each supervisor response (with its photos) and each inspector
decision (verified or rejected), kept row by row so a rejection never overwrites what came before."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from audit_api.models.base import Base, utcnow
from audit_api.models.people import User

if TYPE_CHECKING:
    from audit_api.models.events import CorrectiveAction


class ActionResponse(Base):
    """A supervisor's answer to a corrective action: what was done, and the photos showing it."""

    __tablename__ = "action_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(
        ForeignKey("corrective_actions.id", ondelete="CASCADE"), index=True
    )
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    note: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)

    action: Mapped[CorrectiveAction] = relationship(back_populates="responses")
    supervisor: Mapped[User] = relationship()
    photos: Mapped[list[ActionPhoto]] = relationship(
        back_populates="response", cascade="all, delete-orphan", order_by="ActionPhoto.position"
    )

    @property
    def supervisor_name(self) -> str:
        return self.supervisor.name or self.supervisor.email


class ActionPhoto(Base):
    """One photo of a response: re-encoded without metadata, stored write-once, with its SHA-256."""

    __tablename__ = "action_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("action_responses.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    object_key: Mapped[str] = mapped_column(String(1024))  # content-addressed: the same photo, the same key
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    content_type: Mapped[str] = mapped_column(String(100))
    width: Mapped[int]
    height: Mapped[int]

    response: Mapped[ActionResponse] = relationship(back_populates="photos")

    @property
    def action_id(self) -> int:
        return self.response.action_id

    @property
    def site_id(self) -> int:
        return self.response.action.site_id


class ActionDecision(Base):
    """An inspector's verdict on the latest response: accepted (the action is verified) or rejected."""

    __tablename__ = "action_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(
        ForeignKey("corrective_actions.id", ondelete="CASCADE"), index=True
    )
    inspector_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    accepted: Mapped[bool]
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)

    inspector: Mapped[User] = relationship()

    @property
    def inspector_name(self) -> str:
        return self.inspector.name or self.inspector.email
