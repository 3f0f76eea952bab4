"""The worker's side of camera leases: which cameras it holds, at which epoch, renewed by heartbeat.

`LeaseKeeper.renew()` (called by CameraSync every `interval_s`, a third of the lease TTL) heartbeats,
claims free or expired cameras up to `max_cameras` and returns what the worker holds. Every write the
worker makes for a camera carries `token(camera)`; when such a write is refused (`LeaseLost`), `lose()`
forgets the camera at once and wakes the sync loop, which stops it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from audit_api.services import leases
from audit_api.services.leases import LeaseToken

log = logging.getLogger(__name__)


def new_worker_id() -> str:
    """Unique per process and readable in the table: host, pid and a random suffix."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class LeaseKeeper:
    """Holds a worker's camera leases. Thread-safe: `token` and `lose` are called from camera threads.

    `sole_worker` (the embedded SQLite process): no `max_cameras` limit, and the first renew takes every
    enabled camera over whoever held it, so a restarted process runs its cameras again at once.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        max_cameras: int,
        ttl_s: float,
        worker_url: str | None = None,
        sole_worker: bool = False,
        worker_id: str | None = None,
    ) -> None:
        self.worker_id = worker_id or new_worker_id()
        self.ttl_s = ttl_s
        self.interval_s = ttl_s / 3
        self._sessions = sessions
        self._max = None if sole_worker else max_cameras
        self._url = worker_url
        self._take_all = sole_worker
        self._held: dict[int, int] = {}
        self._lock = threading.Lock()
        self.changed = threading.Event()  # set when a lease was found lost: the sync loop acts at once

    def renew(self) -> dict[int, int]:
        """Heartbeat + claim in one transaction; returns camera id → epoch held now."""
        with self._sessions() as session:
            held = leases.renew(
                session,
                self.worker_id,
                now=datetime.now(UTC),
                ttl_s=self.ttl_s,
                max_cameras=self._max,
                worker_url=self._url,
                take_all=self._take_all,
            )
        self._take_all = False
        with self._lock:
            lost = {cid for cid, epoch in self._held.items() if held.get(cid) != epoch}
            gained = {cid for cid, epoch in held.items() if self._held.get(cid) != epoch}
            self._held = dict(held)
        for cid in sorted(lost):
            log.warning("camera %s: lease lost; stopping it here", cid)
        for cid in sorted(gained):
            log.info("camera %s: lease taken (epoch %d)", cid, held[cid])
        return held

    def token(self, camera_id: str | int) -> LeaseToken | None:
        """The token a write for this camera carries; None when this worker does not hold it."""
        cid = int(camera_id) if isinstance(camera_id, int) or camera_id.isdigit() else None
        with self._lock:
            epoch = self._held.get(cid) if cid is not None else None
        return None if epoch is None else LeaseToken(self.worker_id, epoch)

    def lose(self, camera_id: str | int, token: LeaseToken | None = None) -> None:
        """A write was refused: forget the camera (if still at that epoch) and wake the sync loop."""
        cid = int(camera_id)
        with self._lock:
            if token is None or self._held.get(cid) == token.epoch:
                self._held.pop(cid, None)
        log.warning("camera %s: write refused, the lease belongs to another worker now", cid)
        self.changed.set()

    @property
    def held(self) -> dict[int, int]:
        with self._lock:
            return dict(self._held)

    def release(self) -> None:
        """Clean shutdown: hand every lease back so other workers take the cameras at once."""
        with self._lock:
            self._held = {}
        try:
            with self._sessions() as session:
                leases.release(session, self.worker_id)
        except Exception:
            log.exception("leases not released; they expire in %.0f s", self.ttl_s)
