"""One page of a list query, with the total count of the whole list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int = 0


def paginate(session: Session, query: Select[T], page: Page) -> tuple[Sequence[T], int]:
    """The page's rows (the query must be ordered) and how many rows the whole query matches."""
    counted: Select[Any] = select(func.count()).select_from(query.order_by(None).subquery())
    total = session.scalar(counted) or 0
    return session.scalars(query.limit(page.limit).offset(page.offset)).all(), total
