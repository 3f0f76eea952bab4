"""Users and the sites a supervisor is responsible for."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from audit_api.models.base import Base, Role, str_enum, utcnow

if TYPE_CHECKING:
    from audit_api.models.sites import Site

supervised_sites = Table(
    "supervised_sites",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("site_id", ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True),
)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[Role] = mapped_column(str_enum(Role))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Carried in every access token and login session: bumping it (password, role or deactivation) revokes
    # every token issued before.
    token_version: Mapped[int] = mapped_column(default=0, server_default="0")

    sites: Mapped[list[Site]] = relationship(secondary=supervised_sites, back_populates="supervisors")
