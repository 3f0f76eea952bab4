"""The evidence registry: one row per stored evidence object, for retention and the storage figures.

Every object the worker or the API stores as evidence (clip, snapshot, segment, still, opening snapshot,
action photo, blurred copy) is registered here in the transaction that links it to its event. Retention
(services.retention): an object is kept `evidence_short_retention_days` after `created_at` unless its event
was confirmed or signed off (`confirmed_at`), then it is kept `evidence_long_retention_days` from then
(`retained_until`: the end applied to the store's lock). Unconfirmed objects past the short retention are
deleted by the retention job; their row stays with `deleted_at` (the audit log names what was deleted).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from audit_api.models.base import Base, EvidenceKind, str_enum, utcnow


class EvidenceObject(Base):
    __tablename__ = "evidence_objects"

    object_key: Mapped[str] = mapped_column(String(1024), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    # NULL for an opening snapshot until its event is recorded (then linked with the alert).
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    kind: Mapped[EvidenceKind] = mapped_column(str_enum(EvidenceKind))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    content_type: Mapped[str] = mapped_column(String(100))
    original_key: Mapped[str | None] = mapped_column(String(1024), index=True)  # a blurred copy's source
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    confirmed_at: Mapped[datetime | None]  # its event was confirmed or signed off: long retention
    retained_until: Mapped[datetime | None]  # the long retention's end, once applied to the store
    deleted_at: Mapped[datetime | None]  # deleted by the retention job (unconfirmed, expired)
