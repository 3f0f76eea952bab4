"""Grid (thumbnail) views are audited once per viewing, not per frame: every frame a viewer fetches for a
site's grid extends that viewer's session; a session idle past `live_grid_idle_s` is one audit entry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from audit_api.models import AuditLog, User
from audit_api.services.live_grid import GridSessions
from tests.api.conftest import World

T0 = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)


def _users(world: World) -> dict[str, int]:
    with world.sessions() as session:
        return {u.email: u.id for u in session.scalars(select(User))}


def _entries(world: World) -> list[AuditLog]:
    with world.sessions() as session:
        query = select(AuditLog).where(AuditLog.action == "live.grid_watched").order_by(AuditLog.seq)
        return list(session.scalars(query))


def test_one_entry_per_grid_session(world: World) -> None:
    now = [T0]
    grids = GridSessions(world.sessions, idle_s=10, clock=lambda: now[0])
    users = _users(world)
    boss, inspector = users["boss@example.com"], users["inspector@example.com"]
    for second in range(0, 30, 1):  # a grid of two cameras refreshing once a second for 30 s
        now[0] = T0 + timedelta(seconds=second)
        grids.touch(boss, world.site_id, world.camera_id)
        grids.touch(boss, world.site_id, world.camera_id + 1000)
        assert grids.sweep() == 0
    now[0] = T0 + timedelta(seconds=35)
    grids.touch(inspector, world.site_id, world.camera_id)
    now[0] = T0 + timedelta(seconds=39)
    assert grids.sweep() == 0 and _entries(world) == []  # the boss's grid is idle for 10 s: not yet
    now[0] = T0 + timedelta(seconds=40)
    assert grids.sweep() == 1
    (entry,) = _entries(world)
    assert (entry.actor, entry.entity) == (f"user:{boss}", f"site:{world.site_id}")
    assert entry.payload["camera_ids"] == [world.camera_id, world.camera_id + 1000]
    assert (entry.payload["frames"], entry.payload["seconds"]) == (60, 29.0)
    assert entry.payload["started_at"] == T0.isoformat()
    grids.close()  # the inspector's grid is still open: written at shutdown
    last = _entries(world)[-1]
    assert (last.actor, last.payload["frames"], last.payload["ended_because"]) == (
        f"user:{inspector}", 1, "server stopped",
    )  # fmt: skip
    assert len(_entries(world)) == 2
