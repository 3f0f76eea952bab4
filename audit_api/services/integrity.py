"""Is the record intact? The audit log's hash chain, and every stored evidence object re-read from the
store and hashed again: event clips and snapshots, span segments, violation stills, corrective-action
photos, live captures (recorded only in their audit-log entries), and every object of the evidence registry
(blurred copies, opening snapshots, continued items' evidence). Objects the retention job deleted (each named
in an `evidence.expired` audit entry, its registry row marked) are counted as expired, not broken. Reports
the first broken entry and the first broken object, in words."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit_api import audit_log
from audit_api.models import ActionPhoto, AuditLog, Clip, ClipSegment, EvidenceObject, ViolationSnapshot
from audit_api.services.retention import deleted_keys
from audit_api.storage import ObjectCorrupted, ObjectNotFound, ObjectStore, StorageError


@dataclass(frozen=True)
class ObjectRef:
    """One stored object the database vouches for: what it is, where, and the SHA-256 it was stored with."""

    what: str
    key: str
    sha256: str


@dataclass(frozen=True)
class BrokenObject:
    ref: ObjectRef
    reason: str


@dataclass(frozen=True)
class Integrity:
    chain: audit_log.ChainCheck
    objects_checked: int
    first_broken_object: BrokenObject | None
    objects_broken: int
    objects_expired: int = 0  # deleted by the retention job (recorded in the audit log)

    def __bool__(self) -> bool:
        return bool(self.chain) and self.first_broken_object is None


def _clips(session: Session) -> Iterator[ObjectRef]:
    for clip in session.scalars(select(Clip).order_by(Clip.id)):
        yield ObjectRef(f"{clip.kind.value} of event {clip.event_id}", clip.object_key, clip.sha256)


def _segments(session: Session) -> Iterator[ObjectRef]:
    for segment in session.scalars(select(ClipSegment).order_by(ClipSegment.id)):
        what = f"segment {segment.index} of event {segment.event_id}"
        yield ObjectRef(what, segment.object_key, segment.sha256)


def _stills(session: Session) -> Iterator[ObjectRef]:
    for still in session.scalars(select(ViolationSnapshot).order_by(ViolationSnapshot.id)):
        yield ObjectRef(f"still of violation {still.violation_id}", still.object_key, still.sha256)


def _photos(session: Session) -> Iterator[ObjectRef]:
    for photo in session.scalars(select(ActionPhoto).order_by(ActionPhoto.id)):
        yield ObjectRef(
            f"photo {photo.id} of corrective action {photo.action_id}", photo.object_key, photo.sha256
        )


def _captures(session: Session) -> Iterator[ObjectRef]:
    """Live captures: their stills are named (key + SHA-256) only by their `live.captured` entry."""
    for entry in session.scalars(
        select(AuditLog).where(AuditLog.action == "live.captured").order_by(AuditLog.seq)
    ):
        for part in ("still", "annotated"):
            still = entry.payload.get(part)
            if (
                isinstance(still, dict)
                and isinstance(still.get("key"), str)
                and isinstance(still.get("sha256"), str)
            ):
                yield ObjectRef(f"capture {part} (audit entry {entry.seq})", still["key"], still["sha256"])


def _registered(session: Session) -> Iterator[ObjectRef]:
    """The evidence registry: blurred copies (issue 13) and whatever the tables above do not name."""
    for row in session.scalars(
        select(EvidenceObject).order_by(EvidenceObject.created_at, EvidenceObject.object_key)
    ):
        owner = f"event {row.event_id}" if row.event_id is not None else f"site {row.site_id}"
        what = f"blurred copy of {row.original_key}" if row.original_key else f"{row.kind.value} of {owner}"
        yield ObjectRef(what, row.object_key, row.sha256)


SOURCES: tuple[Callable[[Session], Iterator[ObjectRef]], ...] = (
    _clips,
    _segments,
    _stills,
    _photos,
    _captures,
    _registered,
)
"""Every kind of stored evidence; a new kind of object adds its lister here."""


def _check(store: ObjectStore, ref: ObjectRef) -> str | None:
    try:
        store.get(ref.key, sha256=ref.sha256)
    except ObjectCorrupted as exc:
        return f"its bytes no longer match the recorded SHA-256 ({exc})"
    except ObjectNotFound:
        return "it is missing from the store"
    except StorageError as exc:
        return f"the store could not read it ({exc})"
    return None


def verify(session: Session, store: ObjectStore) -> Integrity:
    """Check the chain, then every object (all of them, counting the broken ones)."""
    chain = audit_log.verify(session)
    checked = broken = 0
    first: BrokenObject | None = None
    seen: set[str] = set()
    expired = deleted_keys(session)
    for source in SOURCES:
        for ref in source(session):
            if ref.key in seen:  # a content-addressed photo answered twice is one object
                continue
            seen.add(ref.key)
            if ref.key in expired:
                continue
            checked += 1
            reason = _check(store, ref)
            if reason is not None:
                broken += 1
                first = first or BrokenObject(ref, reason)
    return Integrity(chain, checked, first, broken, len(expired & seen))
