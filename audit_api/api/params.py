"""Path, query and header parameters shared by the routes, with their bounds (from audit_api.schemas.bounds).

Out-of-bounds values are refused with 422 before any query runs. A `Range` header longer than
MAX_RANGE_HEADER_CHARS is answered 416 like any other range the server will not serve (see evidence.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Path, Query, Response

from audit_api.schemas.bounds import (
    DEFAULT_LIMIT,
    MAX_DATE,
    MAX_INT,
    MAX_LANG_CHARS,
    MAX_LIMIT,
    MAX_PATROL_DAYS,
    MAX_PERIOD_DAYS,
    MIN_DATE,
    BoundedDateTime,
)
from audit_api.services.dashboard.period import Period
from audit_api.services.listing import Page

Id = Annotated[int, Path(ge=1, le=MAX_INT, description=f"1 to {MAX_INT}")]
"""An object id in the path."""

IdFilter = Annotated[int | None, Query(ge=1, le=MAX_INT, description=f"1 to {MAX_INT}")]
"""An optional id filter in the query string."""

Since = Annotated[BoundedDateTime | None, Query(description="timezone-aware, years 2000 to 2100")]

AfterSeq = Annotated[int, Query(ge=0, le=MAX_INT, description="entries after this sequence number")]

Lang = Annotated[
    str | None,
    Query(
        max_length=MAX_LANG_CHARS,
        description="The language of the document: zh-CN or en; default the site's locale. A language the "
        "server does not have gives English.",
    ),
]
"""A document's language preference (audit_api.i18n.resolve)."""

MAX_ACK_TOKEN_CHARS = 1000
"""An acknowledge link's token (a short JWT, ~250 characters)."""

AckToken = Annotated[str, Query(min_length=1, max_length=MAX_ACK_TOKEN_CHARS, description="the link's token")]

MAX_RANGE_HEADER_CHARS = 100
"""A longer `Range` header is not parsed (416); a real single range is far shorter."""

TOTAL_COUNT_HEADER = "X-Total-Count"


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"items per page, 1 to {MAX_LIMIT}")]
Offset = Annotated[int, Query(ge=0, le=MAX_INT, description="items to skip")]


def page(limit: Limit = DEFAULT_LIMIT, offset: Offset = 0) -> Page:
    return Page(limit=limit, offset=offset)


PageDep = Annotated[Page, Depends(page)]
"""`limit` and `offset` of a list (default DEFAULT_LIMIT, at most MAX_LIMIT items)."""


def set_total(response: Response, total: int) -> None:
    """Tell the client how many items the whole list has (the body carries one page)."""
    response.headers[TOTAL_COUNT_HEADER] = str(total)


def parse_id(text: str) -> int | None:
    """`text` as an id within bounds, else None (for ids that arrive as strings, e.g. WHIP camera ids)."""
    if not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_INT)):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_INT else None


PatrolDays = Annotated[
    int, Query(ge=1, le=MAX_PATROL_DAYS, description=f"days back, today included, 1 to {MAX_PATROL_DAYS}")
]
"""How many local days of patrol slots a schedule answer covers."""


Day = Annotated[
    date, Query(ge=MIN_DATE, le=MAX_DATE, description="a local day (YYYY-MM-DD), years 2000 to 2100")
]


DEFAULT_PERIOD_DAYS = 30
"""The period when the request names none: the last 30 days up to today (UTC)."""


def period(start: Day | None = None, end: Day | None = None) -> Period:
    """`start`..`end`, both included, at most MAX_PERIOD_DAYS days; an end before the start is a 422.
    Without `end`: today (UTC); without `start`: DEFAULT_PERIOD_DAYS days up to `end`."""
    end = end or datetime.now(UTC).date()
    return Period.of(start or end - timedelta(days=DEFAULT_PERIOD_DAYS - 1), end)


PeriodDep = Annotated[Period, Depends(period)]
f"""A period of local days (at most {MAX_PERIOD_DAYS})."""
