"""Camera leases on SQLite and PostgreSQL: claims spread up to max_cameras, expiry hands a camera over with
a new epoch, and a write carrying a stale epoch is refused with nothing written (the fencing check)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from audit_api.db import make_engine, make_sessionmaker
from audit_api.models import (
    Alert,
    AuditLog,
    Camera,
    CameraKind,
    CameraStatus,
    Event,
    Site,
    UnmonitoredInterval,
)
from audit_api.services import leases
from audit_api.services.events import record_event
from audit_api.services.leases import LeaseLost, LeaseToken, check_lease
from audit_api.storage import LocalStore, StoredObject
from audit_api.worker.lease_keeper import LeaseKeeper
from audit_api.worker.recorder import EventRecorder
from audit_api.worker.sync import publish_status
from ingest.health import UnmonitoredInterval as Interval

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
TTL = 10.0
CAMERAS = 6


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    factory = make_sessionmaker(engine)
    with factory() as session:
        site = Site(name="yard")
        site.cameras.extend(Camera(name=f"cam{i}", kind=CameraKind.WHIP) for i in range(CAMERAS))
        session.add(site)
        session.commit()
    yield factory
    engine.dispose()


def _renew(
    sessions: sessionmaker[Session], worker: str, now: datetime, max_cameras: int | None = 2
) -> dict[int, int]:
    with sessions() as session:
        return leases.renew(session, worker, now=now, ttl_s=TTL, max_cameras=max_cameras)


def test_claims_spread_over_workers_up_to_max_cameras(sessions: sessionmaker[Session]) -> None:
    held = {w: _renew(sessions, w, T0) for w in ("a", "b", "c", "d")}
    assert [len(h) for h in held.values()] == [2, 2, 2, 0]
    owners = [cid for h in held.values() for cid in h]
    assert sorted(owners) == list(range(1, CAMERAS + 1))  # each camera exactly one holder
    assert all(epoch == 1 for h in held.values() for epoch in h.values())
    # A heartbeat keeps them: same cameras, same epochs, nothing new for the idle worker.
    later = T0 + timedelta(seconds=TTL / 2)
    assert _renew(sessions, "a", later) == held["a"]
    assert _renew(sessions, "d", later) == {}


def test_expired_lease_is_taken_over_with_a_new_epoch(sessions: sessionmaker[Session]) -> None:
    a = _renew(sessions, "a", T0)
    b = _renew(sessions, "b", T0 + timedelta(seconds=TTL - 1))  # a's leases still live
    assert set(a).isdisjoint(b)
    c = _renew(sessions, "c", T0 + timedelta(seconds=TTL + 1))  # a missed its heartbeats
    assert c == {cid: 2 for cid in a}
    # The stalled worker comes back: its heartbeat finds nothing of its own.
    assert _renew(sessions, "a", T0 + timedelta(seconds=TTL + 2), max_cameras=0) == {}


def test_release_hands_cameras_over_at_once(sessions: sessionmaker[Session]) -> None:
    a = _renew(sessions, "a", T0)
    with sessions() as session:
        leases.release(session, "a")
    assert _renew(sessions, "b", T0 + timedelta(seconds=1)) == {cid: 2 for cid in a}


def test_disabled_camera_lease_is_given_up(sessions: sessionmaker[Session]) -> None:
    a = _renew(sessions, "a", T0)
    first = min(a)
    with sessions() as session:
        camera = session.get(Camera, first)
        assert camera is not None
        camera.enabled = False
        session.commit()
    again = _renew(sessions, "a", T0 + timedelta(seconds=1))
    assert first not in again and len(again) == 2


def test_sole_worker_takes_every_camera_over_at_start(sessions: sessionmaker[Session]) -> None:
    _renew(sessions, "old-process", T0)
    with sessions() as session:
        held = leases.renew(session, "new", now=T0, ttl_s=TTL, max_cameras=None, take_all=True)
    assert sorted(held) == list(range(1, CAMERAS + 1))


def _record(session: Session, camera_id: int, token: LeaseToken) -> Event:
    stored = StoredObject(f"k/{camera_id}/{token.epoch}/clip.mp4", "a" * 64, 10, "video/mp4")
    snap = StoredObject(f"k/{camera_id}/{token.epoch}/snap.jpg", "b" * 64, 10, "image/jpeg")
    violation = {"kind": "no_vest", "ts": T0, "confidence": 0.8}
    return record_event(
        session, camera_id=camera_id, kinds=["no_vest"], started_at=T0, ended_at=T0, violations=[violation],
        snapshot=snap, clip=stored, clip_duration_s=1.0, model_version="m", rule_snapshot={}, lease=token,
    )  # fmt: skip


def _counts(session: Session) -> tuple[int, ...]:
    return tuple(
        session.scalar(select(func.count()).select_from(m)) or 0
        for m in (Event, Alert, AuditLog, CameraStatus, UnmonitoredInterval)
    )


@pytest.mark.parametrize(
    ("worker", "epoch"), [("a", 1), ("b", 2), ("a", 3)], ids=["stale-epoch", "other-worker", "future-epoch"]
)
def test_write_with_a_lost_lease_is_refused_and_writes_nothing(
    sessions: sessionmaker[Session], worker: str, epoch: int
) -> None:
    camera = min(_renew(sessions, "a", T0))
    _renew(sessions, "c", T0 + timedelta(seconds=TTL + 1))  # takes the camera over: epoch 2, worker c
    with sessions() as session:
        before = _counts(session)
        with pytest.raises(LeaseLost, match=f"camera {camera}"):
            _record(session, camera, LeaseToken(worker, epoch))
    with sessions() as session:
        assert _counts(session) == before
        assert _record(session, camera, LeaseToken("c", 2)).id  # the holder's write goes through


def test_worker_writes_are_fenced_by_the_keeper(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    """camera_status and unmonitored intervals from a worker that lost the lease are not written; the
    keeper forgets the camera at once and wakes the sync loop."""
    keeper = LeaseKeeper(sessions, max_cameras=2, ttl_s=TTL, worker_id="a")
    held = keeper.renew()
    camera = min(held)
    # Another worker takes the camera over behind the keeper's back (as after a pause past the TTL).
    future = datetime.now(UTC) + timedelta(seconds=TTL + 1)
    _renew(sessions, "b", future, max_cameras=CAMERAS)
    with sessions() as session:
        before = _counts(session)
        publish_status(session, {str(camera): {"state": "streaming"}}, keeper)
    assert camera not in keeper.held and keeper.changed.is_set()
    keeper.changed.clear()
    other = max(held)  # still held as far as the keeper knows: the interval write's own check refuses it
    persist = EventRecorder(
        sessions, LocalStore(tmp_path / "evidence"), tmp_path / "journal", leases=keeper
    ).interval
    persist(Interval(str(camera), T0.timestamp(), T0.timestamp() + 5, "stalled"))
    persist(Interval(str(other), T0.timestamp(), T0.timestamp() + 5, "stalled"))
    with sessions() as session:
        assert _counts(session) == before
    assert keeper.held == {}


@pytest.mark.postgres
@pytest.mark.parametrize("blank_database_url", ["postgresql"], indirect=True)  # row locks are PostgreSQL's
def test_takeover_waits_for_a_write_in_flight(database_url: str, sessions: sessionmaker[Session]) -> None:
    """check_lease locks the row: a takeover cannot slip between the check and the commit of a write."""
    assert database_url.startswith("postgresql")
    camera = min(_renew(sessions, "a", T0))
    writer = sessions()
    check_lease(writer, camera, LeaseToken("a", 1))  # row locked FOR SHARE until commit
    taken: dict[int, int] = {}

    def take_over() -> None:
        with sessions() as session:
            # SKIP LOCKED: the camera being written is skipped, not waited for.
            taken.update(leases.renew(session, "c", now=T0 + timedelta(seconds=TTL + 1), ttl_s=TTL,
                                      max_cameras=CAMERAS))  # fmt: skip

    thread = threading.Thread(target=take_over)
    thread.start()
    thread.join(30)
    assert camera not in taken and len(taken) == CAMERAS - 1
    writer.commit()
    writer.close()
    assert camera in _renew(sessions, "c", T0 + timedelta(seconds=TTL + 2), max_cameras=CAMERAS)
