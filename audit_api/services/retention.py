"""Evidence retention (issue 13): short at upload, long once confirmed, expired unconfirmed evidence deleted.

Every evidence object is registered (`register`, models.evidence.EvidenceObject) in the transaction that
links it to its event. At upload the store locks it for `evidence_short_retention_days` (S3 COMPLIANCE;
the local store has no lock, the registry is its record). When an inspector confirms the event or signs it
off (`confirm_event`, in the workflow's transaction) its objects are marked confirmed; the retention job
then extends their lock to `evidence_long_retention_days` from the confirmation (COMPLIANCE can be
extended, never shortened) — the review routes run that step at once (`extend_confirmed`), the job
catches up whatever a store outage left. Objects never confirmed and older than the short retention
(false positives, never reviewed) are deleted by the job (`expire`): each event's deletions are one
`evidence.expired` audit entry (keys and hashes), its registry rows keep `deleted_at` and the event
`evidence_deleted_at` (the event stays; its page says its evidence is gone). A store that still holds a lock
refuses (ObjectLocked): the object is kept and tried again at the next run.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from audit_api import audit_log
from audit_api.models import Event, EventStatus, EvidenceKind, EvidenceObject, Site, utcnow
from audit_api.storage import ObjectLocked, ObjectNotFound, ObjectStore, StorageError, StoredObject

log = logging.getLogger(__name__)

RETENTION_ACTOR = "retention"
BATCH = 200  # objects handled per transaction by the job
_KEPT = (EventStatus.CONFIRMED, EventStatus.SIGNED_OFF)


def register(
    session: Session,
    obj: StoredObject,
    *,
    site_id: int,
    event: Event | None,
    kind: EvidenceKind,
    original_key: str | None = None,
    confirmed: bool = False,
) -> EvidenceObject:
    """Register a stored evidence object in the caller's transaction (once per key: a replay or a
    content-addressed photo stored again keeps the first row, linked to the event if it was not yet).
    Objects of an event already confirmed or signed off (stills arriving after the review) are confirmed."""
    row = session.get(EvidenceObject, obj.key)
    now = utcnow()
    keep = confirmed or (event is not None and event.status in _KEPT)
    if row is None:
        row = EvidenceObject(
            object_key=obj.key,
            site_id=site_id,
            event_id=event.id if event is not None else None,
            kind=kind,
            sha256=obj.sha256,
            size=obj.size,
            content_type=obj.content_type,
            original_key=original_key,
            created_at=now,
            confirmed_at=now if keep else None,
        )
        session.add(row)
    else:
        if row.event_id is None and event is not None:
            row.event_id = event.id
        if keep and row.confirmed_at is None:
            row.confirmed_at = now
    return row


def link_to_event(session: Session, key: str, event: Event) -> None:
    """An opening snapshot's alert was linked to its recorded event: so is the snapshot's registry row."""
    session.execute(
        update(EvidenceObject)
        .where(EvidenceObject.object_key == key, EvidenceObject.event_id.is_(None))
        .values(event_id=event.id)
    )


def confirm_event(session: Session, event: Event) -> int:
    """The event was confirmed or signed off: its evidence gets the long retention (in the caller's
    transaction; the store's locks follow with `extend_confirmed`). Returns how many objects it marked."""
    result = session.execute(
        update(EvidenceObject)
        .where(EvidenceObject.event_id == event.id, EvidenceObject.confirmed_at.is_(None))
        .values(confirmed_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)


def extend_confirmed(
    session: Session,
    store: ObjectStore,
    long_days: int,
    *,
    event_ids: Sequence[int] | None = None,
    limit: int = BATCH,
) -> int:
    """Extend the store's lock of confirmed objects not extended yet (of `event_ids` only, when given: a
    review route right after its commit); commits. Stops at the first store failure (left for the next
    run of the job). Returns how many objects were extended."""
    query = select(EvidenceObject).where(
        EvidenceObject.confirmed_at.is_not(None),
        EvidenceObject.retained_until.is_(None),
        EvidenceObject.deleted_at.is_(None),
    )
    if event_ids is not None:
        query = query.where(EvidenceObject.event_id.in_(list(event_ids)))
    rows = session.scalars(query.order_by(EvidenceObject.confirmed_at).limit(limit)).all()
    done = 0
    for row in rows:
        assert row.confirmed_at is not None
        until = row.confirmed_at + timedelta(days=long_days)
        try:
            store.retain(row.object_key, until)
        except ObjectNotFound:
            log.error(
                "confirmed evidence %s is missing from the store; `siteaudit audit verify`", row.object_key
            )
            continue
        except StorageError as exc:
            log.warning(
                "retention of %s not extended yet (%s); the retention job retries", row.object_key, exc
            )
            break
        row.retained_until = until
        done += 1
    session.commit()
    return done


@dataclass
class Expired:
    """What one run of `expire` did: events whose evidence it deleted, objects deleted, objects kept."""

    events: list[int | None] = field(default_factory=list)
    deleted: int = 0
    refused: int = 0


def expire(
    session: Session, store: ObjectStore, short_days: int, now: datetime, *, limit: int = BATCH
) -> Expired:
    """Delete unconfirmed evidence older than `short_days` at `now`; commits once per event."""
    cutoff = now - timedelta(days=short_days)
    due = session.scalars(
        select(EvidenceObject)
        .where(
            EvidenceObject.confirmed_at.is_(None),
            EvidenceObject.deleted_at.is_(None),
            EvidenceObject.created_at <= cutoff,
        )
        .order_by(EvidenceObject.event_id, EvidenceObject.created_at)
        .limit(limit)
    ).all()
    by_event: dict[int | None, list[str]] = {}
    for row in due:
        by_event.setdefault(row.event_id, []).append(row.object_key)
    session.rollback()
    outcome = Expired()
    for event_id, keys in by_event.items():
        try:
            deleted, refused = _expire_event(session, store, event_id, keys, cutoff, short_days, now)
        except StorageError as exc:
            session.rollback()
            log.warning("retention job paused: the store is unavailable (%s)", exc)
            break
        outcome.deleted += deleted
        outcome.refused += refused
        if deleted:
            outcome.events.append(event_id)
    return outcome


def _expire_event(
    session: Session,
    store: ObjectStore,
    event_id: int | None,
    keys: list[str],
    cutoff: datetime,
    short_days: int,
    now: datetime,
) -> tuple[int, int]:
    """One event's expired objects: re-checked under a row lock (a confirmation racing the job wins),
    deleted from the store, marked, audit-logged; commits."""
    rows = session.scalars(
        select(EvidenceObject)
        .where(
            EvidenceObject.object_key.in_(keys),
            EvidenceObject.confirmed_at.is_(None),
            EvidenceObject.deleted_at.is_(None),
            EvidenceObject.created_at <= cutoff,
        )
        .order_by(EvidenceObject.object_key)
        .with_for_update()
    ).all()
    gone: list[dict[str, object]] = []
    refused = 0
    for row in rows:
        missing = False
        try:
            store.delete(row.object_key)
        except ObjectLocked as exc:
            log.info("expired evidence %s kept: %s", row.object_key, exc)
            refused += 1
            continue
        except ObjectNotFound:
            missing = True  # already gone from the store: recorded as deleted all the same
        row.deleted_at = now
        gone.append({"key": row.object_key, "sha256": row.sha256, "kind": row.kind, "size": row.size,
                     "missing": missing})  # fmt: skip
    if gone:
        entity = f"event:{event_id}" if event_id is not None else "evidence"
        payload = {"objects": gone, "short_retention_days": short_days, "at": now}
        audit_log.append(session, RETENTION_ACTOR, "evidence.expired", entity, payload)
        if event_id is not None:
            event = session.get(Event, event_id)
            if event is not None and event.evidence_deleted_at is None:
                event.evidence_deleted_at = now
    session.commit()
    return len(gone), refused


def deleted_keys(session: Session) -> set[str]:
    """Keys the retention job deleted (recorded in the audit log): not broken, just expired."""
    return set(
        session.scalars(select(EvidenceObject.object_key).where(EvidenceObject.deleted_at.is_not(None)))
    )


@dataclass(frozen=True)
class KindUsage:
    kind: EvidenceKind
    objects: int
    bytes: int
    deleted: int  # objects of this kind the retention job deleted


@dataclass(frozen=True)
class SiteUsage:
    site_id: int
    site: str
    kinds: list[KindUsage]

    @property
    def objects(self) -> int:
        return sum(k.objects for k in self.kinds)

    @property
    def bytes(self) -> int:
        return sum(k.bytes for k in self.kinds)


def usage(session: Session) -> list[SiteUsage]:
    """Stored evidence per site (every site, by name), bytes and object counts by kind (registry rows;
    deleted objects are counted apart, their bytes no longer stored)."""
    live = case((EvidenceObject.deleted_at.is_(None), 1), else_=0)
    rows = session.execute(
        select(
            EvidenceObject.site_id,
            EvidenceObject.kind,
            func.sum(live),
            func.sum(EvidenceObject.size * live),
            func.count() - func.sum(live),
        ).group_by(EvidenceObject.site_id, EvidenceObject.kind)
    ).all()
    by_site: dict[int, list[KindUsage]] = {}
    for site_id, kind, objects, size, deleted in rows:
        by_site.setdefault(site_id, []).append(
            KindUsage(EvidenceKind(kind), int(objects or 0), int(size or 0), int(deleted or 0))
        )
    sites = session.execute(select(Site.id, Site.name).order_by(Site.name)).all()
    return [
        SiteUsage(
            site_id, name, sorted(by_site.get(site_id, []), key=lambda k: list(EvidenceKind).index(k.kind))
        )
        for site_id, name in sites
    ]
