"""The bounds every integer and date the API accepts must respect, declared once.

Ids are INTEGER columns, which PostgreSQL stores in 32 bits (SQLite in 64), and SQLAlchemy binds them with an
`::INTEGER` cast there, so a larger number is refused up front (422) instead of failing in the database (500).
LIMIT/OFFSET and the audit log's sequence numbers use the same bound. Dates are timezone-aware and between
MIN_DATETIME and MAX_DATETIME, so converting them to UTC can never overflow.
"""

from __future__ import annotations

from datetime import UTC, datetime
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
