"""Which sites a user may see, one rule for every read and write: admins and inspectors see every site,
supervisors only the sites they supervise. Anything outside the scope is reported exactly like an id that
does not exist (NotFound), so ids of other sites cannot be probed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute

from audit_api.models import Role, User
from audit_api.services.errors import NotFound

T = TypeVar("T")
Q = TypeVar("Q", bound=Select[Any])


@dataclass(frozen=True)
class SiteScope:
    site_ids: frozenset[int] | None
    """The visible sites; None means every site."""

    @classmethod
    def of(cls, viewer: User | None) -> SiteScope:
        """The viewer's scope; None is the system itself (CLI, worker), which sees everything."""
        if viewer is not None and viewer.role == Role.SUPERVISOR:
            return cls(frozenset(site.id for site in viewer.sites))
        return cls(None)

    def allows(self, site_id: int) -> bool:
        return self.site_ids is None or site_id in self.site_ids

    def where(self, query: Q, site_column: InstrumentedAttribute[int]) -> Q:
        """The query restricted to rows whose `site_column` is a visible site."""
        if self.site_ids is None:
            return query
        restricted: Q = query.where(site_column.in_(sorted(self.site_ids)))
        return restricted

    def found(self, obj: T | None, site_of: Callable[[T], int], what: str) -> T:
        """`obj` if it exists and belongs to a visible site; NotFound("<what> not found") otherwise."""
        if obj is None or not self.allows(site_of(obj)):
            raise NotFound(f"{what} not found")
        return obj
