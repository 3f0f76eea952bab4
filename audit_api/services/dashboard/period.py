"""A reporting period: local days `start`..`end` (inclusive), bounded, turned into UTC spans per site."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from audit_api.schemas.bounds import MAX_PERIOD_DAYS
from audit_api.services.errors import Invalid


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @classmethod
    def of(cls, start: date, end: date) -> Period:
        """The period, or Invalid (422) when it ends before it starts or is longer than MAX_PERIOD_DAYS."""
        if end < start:
            raise Invalid(f"the period ends ({end.isoformat()}) before it starts ({start.isoformat()})")
        days = (end - start).days + 1
        if days > MAX_PERIOD_DAYS:
            raise Invalid(f"the period is {days} days long; at most {MAX_PERIOD_DAYS} days are allowed")
        return cls(start, end)

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    def boundaries(self, timezone: str) -> list[datetime]:
        """Local midnights from the first day to the day after the last, in UTC (len(days) + 1 of them):
        day i is [boundaries[i], boundaries[i + 1]), whatever daylight saving does in between."""
        tz = ZoneInfo(timezone)
        last = self.end + timedelta(days=1)
        days = [*self.days, last]
        return [datetime.combine(d, time(0), tz).astimezone(UTC) for d in days]

    def utc_span(self, timezone: str) -> tuple[datetime, datetime]:
        bounds = self.boundaries(timezone)
        return bounds[0], bounds[-1]


def hours_between(start: datetime, end: datetime) -> float:
    return max((end - start).total_seconds(), 0.0) / 3600


def quantile(values: list[float], q: float) -> float | None:
    """The q-quantile with linear interpolation between closest ranks (PostgreSQL's percentile_cont)."""
    if not values:
        return None
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
