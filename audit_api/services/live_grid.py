"""Grid (thumbnail) views of a site's cameras, audited once per viewing rather than per frame.

A grid page fetches each camera's newest frame about once a second (GET .../live/frame). Every fetch
touches the viewer's grid session for that camera's site; a session nobody touched for
`Settings.live_grid_idle_s` has closed and is written to the audit log as one `live.grid_watched` entry
(entity `site:{id}`): who, from when to when, which cameras, how many frames. A daemon thread sweeps
closed sessions; the app's shutdown writes the open ones.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from audit_api.models import User
from audit_api.services.live import append_retrying
from audit_api.services.users import actor_of

log = logging.getLogger(__name__)
SWEEP_S = 1.0


@dataclass
class GridSession:
    user_id: int
    site_id: int
    started_at: datetime
    last_at: datetime
    cameras: set[int] = field(default_factory=set)
    frames: int = 0


def audit_grid(session: Session, grid: GridSession, ended_because: str) -> None:
    payload = {
        "started_at": grid.started_at,
        "ended_at": grid.last_at,
        "seconds": round((grid.last_at - grid.started_at).total_seconds(), 1),
        "camera_ids": sorted(grid.cameras),
        "frames": grid.frames,
        "ended_because": ended_because,
    }
    user = session.get(User, grid.user_id)
    append_retrying(session, actor_of(user), "live.grid_watched", f"site:{grid.site_id}", payload)


class GridSessions:
    """The open grid sessions of this process, keyed by (user, site)."""

    def __init__(
        self, factory: sessionmaker[Session], idle_s: float, clock: Callable[[], datetime] | None = None
    ):
        self._factory = factory
        self._idle = timedelta(seconds=idle_s)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._open: dict[tuple[int, int], GridSession] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def touch(self, user_id: int, site_id: int, camera_id: int) -> None:
        now = self._clock()
        with self._lock:
            grid = self._open.get((user_id, site_id))
            if grid is None:
                grid = self._open[(user_id, site_id)] = GridSession(user_id, site_id, now, now)
            grid.last_at = now
            grid.cameras.add(camera_id)
            grid.frames += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="live-grid-audit", daemon=True)
                self._thread.start()

    def sweep(self) -> int:
        """Audit every session idle for longer than `idle_s`; returns how many were closed."""
        now = self._clock()
        with self._lock:
            closed = [g for g in self._open.values() if now - g.last_at > self._idle]
            for grid in closed:
                del self._open[(grid.user_id, grid.site_id)]
        self._write(closed, "no thumbnail fetched since (page closed or left)")
        return len(closed)

    def close(self) -> None:
        """Stop sweeping and audit the sessions still open (server shutting down)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=SWEEP_S * 5)
        with self._lock:
            left, self._open = list(self._open.values()), {}
        self._write(left, "server stopped")

    def _write(self, grids: list[GridSession], why: str) -> None:
        for grid in grids:
            with self._factory() as session:
                audit_grid(session, grid, why)

    def _run(self) -> None:
        while not self._stop.wait(SWEEP_S):
            try:
                self.sweep()
            except Exception:  # a database outage must not end the sweeper
                log.exception("live grid audit: sweep failed; retrying")
