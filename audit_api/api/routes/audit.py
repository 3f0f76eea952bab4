"""Reading and verifying the hash-chained audit log (admins and inspectors)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from audit_api import audit_log
from audit_api.api.deps import SessionDep, StoreDep, require_role
from audit_api.api.params import AfterSeq, Limit, set_total
from audit_api.api.route_docs import DocumentedRoute
from audit_api.models import AuditLog, Role, User
from audit_api.schemas.bounds import DEFAULT_LIMIT
from audit_api.services import integrity
from audit_api.services.listing import Page, paginate

router = APIRouter(prefix="/audit", tags=["audit"], route_class=DocumentedRoute)
AuditReader = Annotated[User, Depends(require_role(Role.ADMIN, Role.INSPECTOR))]


class AuditEntry(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    at: datetime
    actor: str
    action: str
    entity: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str


class ChainStatus(BaseModel):
    valid: bool
    checked: int
    first_bad_seq: int | None
    reason: str | None = None
    """What mismatched at first_bad_seq."""


class BrokenObjectOut(BaseModel):
    what: str
    key: str
    sha256: str
    reason: str


class IntegrityStatus(BaseModel):
    """The chain and every stored object's hash; `valid` only when both are intact."""

    valid: bool
    chain: ChainStatus
    objects_checked: int
    objects_broken: int
    objects_expired: int = Field(0, description="Deleted by the retention job (named in the audit log)")
    first_broken_object: BrokenObjectOut | None


def chain_status(check: audit_log.ChainCheck) -> ChainStatus:
    return ChainStatus(
        valid=bool(check), checked=check.checked, first_bad_seq=check.first_bad_seq, reason=check.reason
    )


@router.get("")
def list_entries(
    session: SessionDep,
    user: AuditReader,
    response: Response,
    entity: Annotated[str | None, Query(max_length=200)] = None,
    after_seq: AfterSeq = 0,
    limit: Limit = DEFAULT_LIMIT,
) -> list[AuditEntry]:
    """Entries in chain order after `after_seq` (page on with the last seq received)."""
    query = select(AuditLog).where(AuditLog.seq > after_seq).order_by(AuditLog.seq)
    if entity is not None:
        query = query.where(AuditLog.entity == entity)
    entries, total = paginate(session, query, Page(limit=limit))
    set_total(response, total)
    return [AuditEntry.model_validate(row) for row in entries]


@router.get("/verify")
def verify_chain(session: SessionDep, user: AuditReader) -> ChainStatus:
    return chain_status(audit_log.verify(session))


@router.get("/integrity")
def verify_integrity(session: SessionDep, user: AuditReader, store: StoreDep) -> IntegrityStatus:
    """The hash chain, and every stored evidence object re-read from the store and hashed again (clips,
    snapshots, corrective-action photos, live captures). Names the first broken entry and object."""
    return integrity_status(integrity.verify(session, store))


def integrity_status(result: integrity.Integrity) -> IntegrityStatus:
    first = result.first_broken_object
    broken = None if first is None else BrokenObjectOut(**vars(first.ref), reason=first.reason)
    return IntegrityStatus(
        valid=bool(result),
        chain=chain_status(result.chain),
        objects_checked=result.objects_checked,
        objects_broken=result.objects_broken,
        objects_expired=result.objects_expired,
        first_broken_object=broken,
    )
