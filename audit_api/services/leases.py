"""Camera leases in the database: claim, heartbeat, release, and the fencing check every worker write makes.

A lease row per enabled camera (`camera_leases`). A worker claims rows that are free (`worker_id` NULL)
or expired with `SELECT … FOR UPDATE SKIP LOCKED` — two workers claiming at once never wait for or get
the same row — and bumps `epoch` on each claim. Its heartbeat pushes `expires_at` forward; a killed
worker's rows expire and the next claim of another worker takes them over with a new epoch.

Safety does not rest on clocks: `check_lease` runs in the transaction of each write the worker makes
for a camera and locks the lease row (FOR SHARE), so a takeover either happens before the write (which
is then refused) or waits until the write has committed.

SQLite (embedded: one process, one worker) runs the same statements; it has no row locks (SKIP LOCKED
renders as nothing) and serialises writers instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from audit_api.models import Camera, CameraLease


@dataclass(frozen=True)
class LeaseToken:
    """What a worker's write for a camera carries: who holds the lease, at which epoch."""

    worker_id: str
    epoch: int


class LeaseLost(Exception):
    """The worker no longer holds the lease (at that epoch): the write is refused, nothing is written."""

    def __init__(self, camera_id: int, token: LeaseToken) -> None:
        super().__init__(f"camera {camera_id}: worker {token.worker_id} lost its lease (epoch {token.epoch})")
        self.camera_id = camera_id
        self.token = token


def check_lease(session: Session, camera_id: int, token: LeaseToken) -> None:
    """Raise LeaseLost unless `token` still holds the camera's lease; locks the row until commit."""
    held = session.scalar(
        select(CameraLease.epoch)
        .where(CameraLease.camera_id == camera_id, CameraLease.worker_id == token.worker_id)
        .with_for_update(read=True)
    )
    if held != token.epoch:
        raise LeaseLost(camera_id, token)


def _ensure_rows(session: Session) -> None:
    """A (free) lease row for every enabled camera that has none yet; concurrent inserts are no-ops."""
    has_row = select(CameraLease.camera_id).where(CameraLease.camera_id == Camera.id).exists()
    missing = select(Camera.id).where(Camera.enabled.is_(True), ~has_row)
    ids = list(session.scalars(missing))
    if not ids:
        return
    rows = [{"camera_id": cid, "epoch": 0} for cid in ids]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(CameraLease).values(rows).on_conflict_do_nothing(index_elements=["camera_id"]))


def renew(
    session: Session,
    worker_id: str,
    *,
    now: datetime,
    ttl_s: float,
    max_cameras: int | None,
    worker_url: str | None = None,
    take_all: bool = False,
) -> dict[int, int]:
    """Heartbeat the worker's leases, give up those of disabled cameras, claim free or expired ones up to
    `max_cameras` (None: no limit), and commit. Returns what it holds now: camera id → epoch.

    `take_all` (one worker per database, e.g. the embedded SQLite process on start) claims every enabled
    camera whoever held it, with a new epoch — a restarted process does not wait for its own old leases.
    """
    expires = now + timedelta(seconds=ttl_s)
    enabled = select(Camera.id).where(Camera.enabled.is_(True))
    mine = CameraLease.worker_id == worker_id
    session.execute(
        update(CameraLease)
        .where(mine, CameraLease.camera_id.not_in(enabled))
        .values(worker_id=None, expires_at=now, worker_url=None)
    )
    session.execute(
        update(CameraLease).where(mine).values(heartbeat_at=now, expires_at=expires, worker_url=worker_url)
    )
    _ensure_rows(session)
    held = {
        cid: epoch
        for cid, epoch in session.execute(select(CameraLease.camera_id, CameraLease.epoch).where(mine))
    }
    room = None if max_cameras is None else max_cameras - len(held)
    if room is None or room > 0:
        free = or_(CameraLease.worker_id.is_(None), CameraLease.expires_at < now)
        query = (
            select(CameraLease)
            .join(Camera, Camera.id == CameraLease.camera_id)
            .where(Camera.enabled.is_(True), or_(CameraLease.worker_id.is_(None), ~mine))
            .order_by(CameraLease.camera_id)
            .with_for_update(skip_locked=True, of=CameraLease)
        )
        if not take_all:
            query = query.where(free)
        if room is not None:
            query = query.limit(room)
        for lease in session.scalars(query):
            lease.worker_id, lease.epoch = worker_id, lease.epoch + 1
            lease.heartbeat_at, lease.expires_at, lease.worker_url = now, expires, worker_url
            held[lease.camera_id] = lease.epoch
    session.commit()
    return held


def release(session: Session, worker_id: str, camera_ids: list[int] | None = None) -> None:
    """Give the worker's leases up (all, or those cameras) so another worker may claim them at once."""
    query = update(CameraLease).where(CameraLease.worker_id == worker_id)
    if camera_ids is not None:
        query = query.where(CameraLease.camera_id.in_(camera_ids))
    session.execute(query.values(worker_id=None, expires_at=None, worker_url=None))
    session.commit()


def live_holder(session: Session, camera_id: int, now: datetime) -> CameraLease | None:
    """The camera's lease if a worker holds it and its heartbeat is current; None otherwise."""
    lease = session.get(CameraLease, camera_id)
    if lease is None or lease.worker_id is None or lease.expires_at is None or lease.expires_at < now:
        return None
    return lease
