"""Declarative base, portable column types and the string enums shared by the models."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import DateTime, Dialect, Enum, MetaData
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

# Deterministic constraint names so Alembic migrations are identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the offset, so it is re-attached)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def str_enum(enum_type: type[enum.StrEnum]) -> Enum:
    """Store an enum as its plain string value (VARCHAR, no native type) so both backends match."""
    return Enum(
        enum_type,
        native_enum=False,
        create_constraint=False,
        length=32,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class Role(enum.StrEnum):
    ADMIN = "admin"
    INSPECTOR = "inspector"
    SUPERVISOR = "supervisor"


class CameraKind(enum.StrEnum):
    RTSP = "rtsp"
    WHIP = "whip"


class EventStatus(enum.StrEnum):
    OPEN = "open"
    CONFIRMED = "confirmed"
    FALSE_POSITIVE = "false_positive"
    SIGNED_OFF = "signed_off"


class Verdict(enum.StrEnum):
    CONFIRMED = "confirmed"
    FALSE_POSITIVE = "false_positive"


class ClipKind(enum.StrEnum):
    CLIP = "clip"
    SNAPSHOT = "snapshot"


class PrivacyBlur(enum.StrEnum):
    """Where a site's snapshots show blurred heads (inspectors always see the original).

    EXTERNAL (default): everything that leaves the system — alert channels (e-mail attachment, webhook
    snapshot link, Web Push image) and exported reports. ALSO_SUPERVISORS: those and the supervisor page.
    OFF: the original everywhere."""

    EXTERNAL = "external"
    ALSO_SUPERVISORS = "also_supervisors"
    OFF = "off"


class EvidenceKind(enum.StrEnum):
    """What a stored evidence object is (the storage figures per site count by it)."""

    CLIP = "clip"
    SNAPSHOT = "snapshot"
    SEGMENT = "segment"
    STILL = "still"
    OPENING = "opening"  # the snapshot an alert was raised with, before its event was recorded
    PHOTO = "photo"  # a corrective action's photo
    BLURRED = "blurred"  # the head-blurred copy of a snapshot, still or opening snapshot


class ActionStatus(enum.StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    VERIFIED = "verified"
    REOPENED = "reopened"
