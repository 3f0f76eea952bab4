"""The bounds every integer and date the API accepts must respect, declared once.

Ids are INTEGER columns, which PostgreSQL stores in 32 bits (SQLite in 64), and SQLAlchemy binds them with an
`::INTEGER` cast there, so a larger number is refused up front (422) instead of failing in the database (500).
LIMIT/OFFSET and the audit log's sequence numbers use the same bound. Dates are timezone-aware and between
MIN_DATETIME and MAX_DATETIME, so converting them to UTC can never overflow.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field

MAX_INT = 2**31 - 1
"""The largest id, offset or sequence number accepted (PostgreSQL INTEGER)."""

MAX_ID_LIST = 1000
"""The most ids one request body may list (e.g. a supervisor's site_ids)."""

MAX_BULK_REVIEW = 200
"""The most events one bulk review may judge at once (all or none)."""

DEFAULT_LIMIT = 100
"""Items per page of a list when the request names no `limit`."""

MAX_LIMIT = 500
"""The largest `limit` a list accepts."""

MAX_TOKEN_CHARS = 4096
"""The longest token accepted in a query string (live-view tokens, SSE access tokens, WHIP publish grants)."""

MAX_LANG_CHARS = 35
"""The longest `?lang=` accepted (a BCP 47 tag; the server knows zh-CN and en, others read as English)."""

MIN_DATETIME = datetime(2000, 1, 1, tzinfo=UTC)
MAX_DATETIME = datetime(2100, 1, 1, tzinfo=UTC)


def _within_years(value: datetime) -> datetime:
    # The year check first: comparing e.g. 0001-01-01T00:00+14:00 would need a UTC offset below year 1.
    if not MIN_DATETIME.year <= value.year <= MAX_DATETIME.year or not MIN_DATETIME <= value <= MAX_DATETIME:
        raise ValueError(f"must be between {MIN_DATETIME.isoformat()} and {MAX_DATETIME.isoformat()}")
    return value


BoundedDateTime = Annotated[AwareDatetime, AfterValidator(_within_years)]
"""A timezone-aware date and time between MIN_DATETIME and MAX_DATETIME."""

BodyId = Annotated[int, Field(ge=1, le=MAX_INT)]
"""An id inside a request body."""

MAX_PATROL_TIMES = 24
"""The most times of day one patrol plan may name (e.g. 09:00 and 15:00)."""

MAX_PATROL_CAMERAS = 64
"""The most cameras one patrol plan may step through."""

MAX_PATROL_INSPECTORS = 50
"""The most inspectors one patrol plan may name as responsible."""

MIN_PATROL_GRACE_MINUTES = 5
MAX_PATROL_GRACE_MINUTES = 720
"""A patrol slot's window: from its time of day to that time plus the grace (5 minutes to 12 hours)."""

MAX_PATROL_DAYS = 31
"""How many days back (today included) the patrol schedule reports on."""
MAX_PHOTOS_PER_RESPONSE = 6
"""The most photos one answer to a corrective action may carry (each at most Settings.max_photo_bytes)."""

MAX_PHOTO_PIXELS = 40_000_000
"""The most pixels (width × height) a photo may declare; more is refused (413) before it is decoded, so an
image bomb (a small file that decodes to gigabytes) costs nothing. 40 MP covers every phone camera."""

MAX_ACTION_DUE_DAYS = 366
"""A corrective action's due date lies in the future, at most this many days ahead."""


def _future_due(value: datetime) -> datetime:
    now = datetime.now(UTC)
    if value <= now:
        raise ValueError("due date must be in the future")
    if value > now + timedelta(days=MAX_ACTION_DUE_DAYS):
        raise ValueError(f"due date must be at most {MAX_ACTION_DUE_DAYS} days ahead")
    return value


DueDateTime = Annotated[BoundedDateTime, AfterValidator(_future_due)]
"""A corrective action's due date: timezone-aware, in the future, at most MAX_ACTION_DUE_DAYS ahead."""

MAX_PERIOD_DAYS = 366
"""The longest dashboard, export or report period (days, both ends included): a year, leap or not."""

MIN_DATE = MIN_DATETIME.date()
MAX_DATE = MAX_DATETIME.date()
