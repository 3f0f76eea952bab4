"""The worker's writes on SQLite and PostgreSQL: each record is applied once whatever replays it, a live
write of a lost lease is refused, a replay keeps the epoch it was captured under, and an incident seen by
two lease epochs (takeover, or a replay after one) is one event with a source per epoch, never two."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from audit_api.db import make_engine, make_sessionmaker
from audit_api.models import AuditLog, Camera, CameraKind, Event, EventSource, Site, UnmonitoredInterval
from audit_api.services import leases
from audit_api.services.events import ViolationIn
from audit_api.services.leases import LeaseLost, LeaseToken
from audit_api.services.recording import (
    CloseRecord,
    EventRecord,
    IntervalRecord,
    close_worker_event,
    record_interval,
    record_worker_event,
)
from audit_api.storage import StoredObject

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
TTL = 10.0
WINDOW_S = 60.0


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    factory = make_sessionmaker(engine)
    with factory() as session:
        site = Site(name="yard")
        site.cameras.append(Camera(name="gate", kind=CameraKind.WHIP))
        session.add(site)
        session.commit()
    yield factory
    engine.dispose()


def _take(sessions: sessionmaker[Session], worker: str, now: datetime) -> LeaseToken:
    with sessions() as session:
        held = leases.renew(session, worker, now=now, ttl_s=TTL, max_cameras=1)
    return LeaseToken(worker, held[1])


def _item(
    key: str, start_s: float, end_s: float, token: LeaseToken | None, kind: str = "no_vest"
) -> EventRecord:
    start, end = T0 + timedelta(seconds=start_s), T0 + timedelta(seconds=end_s)
    return EventRecord(
        key=key,
        camera_id=1,
        started_at=start,
        ended_at=end,
        violations=[ViolationIn(kind=kind, ts=start, track_id=1, confidence=0.8)],
        snapshot=StoredObject(f"cameras/1/{key}/snapshot.jpg", "b" * 64, 10, "image/jpeg"),
        clip=StoredObject(f"cameras/1/{key}/clip.mp4", "a" * 64, 100, "video/mp4"),
        clip_duration_s=10.0,
        model_version="m",
        rule_snapshot={"review_item": key},
        lease=token,
    )


def _record(sessions: sessionmaker[Session], item: EventRecord, *, replay: bool = False) -> tuple[int, bool]:
    with sessions() as session:
        return record_worker_event(session, item, replay=replay, continue_window_s=WINDOW_S)


def _close(sessions: sessionmaker[Session], key: str, end_s: float, token: LeaseToken | None,
           *, replay: bool = False) -> int | None:  # fmt: skip
    record = CloseRecord(key=key, camera_id=1, ended_at=T0 + timedelta(seconds=end_s), lease=token)
    with sessions() as session:
        return close_worker_event(session, record, replay=replay)


@dataclass
class Rows:
    events: int
    sources: dict[str, tuple[int, int | None, bool]]  # key → event id, epoch, closed


def _rows(sessions: sessionmaker[Session]) -> Rows:
    with sessions() as session:
        return Rows(
            session.scalar(select(func.count()).select_from(Event)) or 0,
            {
                s.key: (s.event_id, s.lease_epoch, s.closed_at is not None)
                for s in session.scalars(select(EventSource))
            },
        )


def test_a_record_replayed_is_applied_once(sessions: sessionmaker[Session]) -> None:
    token = _take(sessions, "a", T0)
    item = _item("item-1", 0, 2, token)
    event_id, new = _record(sessions, item)
    assert new and _record(sessions, item) == (event_id, False) == _record(sessions, item, replay=True)
    assert _close(sessions, "item-1", 8, token) == event_id
    assert _close(sessions, "item-1", 9, token, replay=True) is None  # the close was applied before
    outage = IntervalRecord(camera_id=1, started_at=T0, ended_at=T0 + timedelta(seconds=5), reason="down",
                            lease=token)  # fmt: skip
    with sessions() as session:
        assert record_interval(session, outage) is True
    with sessions() as session:
        assert record_interval(session, outage, replay=True) is False
    rows = _rows(sessions)
    assert rows.events == 1 and rows.sources == {"item-1": (event_id, 1, True)}
    with sessions() as session:
        assert session.get(Event, event_id).ended_at == T0 + timedelta(seconds=8)  # type: ignore[union-attr]
        assert session.scalar(select(func.count()).select_from(UnmonitoredInterval)) == 1
        closes = session.scalars(select(AuditLog).where(AuditLog.action == "event.closed")).all()
        assert len(closes) == 1


def test_a_live_write_of_a_lost_lease_is_refused_a_replay_keeps_its_epoch(
    sessions: sessionmaker[Session],
) -> None:
    old = _take(sessions, "a", T0)
    _take(sessions, "b", T0 + timedelta(seconds=TTL + 1))  # b takes the camera over: epoch 2
    with pytest.raises(LeaseLost):
        _record(sessions, _item("live", 0, 1, old))
    outage = IntervalRecord(
        camera_id=1, started_at=T0, ended_at=T0 + timedelta(seconds=3), reason="x", lease=old
    )
    with sessions() as session, pytest.raises(LeaseLost):
        record_interval(session, outage)
    assert _rows(sessions).events == 0
    # Captured under epoch 1 before the takeover and kept through an outage: evidence, with its epoch.
    event_id, new = _record(sessions, _item("journaled", 0, 1, old), replay=True)
    assert new and _rows(sessions).sources == {"journaled": (event_id, 1, False)}
    with sessions() as session:
        assert record_interval(session, outage, replay=True) is True
        assert session.scalars(select(UnmonitoredInterval.lease_epoch)).all() == [1]


# The first item spans 0–3 s (epoch 1, worker a), recorded at `recorded`; closed before the second?
# The second item (worker, start) → merged into the first event?
TAKEOVER_CASES = [
    pytest.param(False, 3, "b", 25, False, True, id="new holder continues the dead holder's open event"),
    pytest.param(False, 80, "b", 100, False, True, id="recorded late (load): continued too"),
    pytest.param(True, 3, "b", 25, False, False, id="an event its holder closed is not continued"),
    pytest.param(False, 3, "b", 25 + WINDOW_S + 5, False, False, id="beyond the window: a new event"),
    pytest.param(False, 3, "a", 25, False, False, id="same epoch: a new incident, a new event"),
    pytest.param(
        True, 3, "b", 25, True, True, id="a replay merges even into a closed event of another epoch"
    ),
]


@pytest.mark.parametrize(
    ("closed", "recorded", "second_worker", "second_start", "replay", "merged"), TAKEOVER_CASES
)
def test_an_incident_across_a_takeover_is_one_event(
    sessions: sessionmaker[Session], closed: bool, recorded: float, second_worker: str, second_start: float,
    replay: bool, merged: bool,
) -> None:  # fmt: skip
    first_token = _take(sessions, "a", T0)
    first_id, _ = _record(sessions, _item("first", 0, 3, first_token))
    with sessions() as session:  # recorded when it was published, on the clock of this test's timeline
        session.execute(update(EventSource).values(recorded_at=T0 + timedelta(seconds=recorded)))
        session.commit()
    if closed:
        _close(sessions, "first", 4, first_token)
    second_token = (
        first_token if second_worker == "a" else _take(sessions, "b", T0 + timedelta(seconds=TTL + 1))
    )
    second_id, new = _record(
        sessions, _item("second", second_start, second_start + 5, second_token), replay=replay
    )
    rows = _rows(sessions)
    if not merged:
        assert new and second_id != first_id and rows.events == 2
        return
    assert not new and second_id == first_id and rows.events == 1
    assert rows.sources == {"first": (first_id, 1, closed), "second": (first_id, 2, False)}
    _close(sessions, "second", second_start + 9, second_token)  # the new holder's close ends the event
    with sessions() as session:
        event = session.get(Event, first_id)
        assert event is not None and len(event.violations) == 2
        assert event.ended_at == T0 + timedelta(seconds=second_start + 9)
        (continued,) = session.scalars(select(AuditLog).where(AuditLog.action == "event.continued")).all()
        assert continued.payload["review_item"] == "second" and continued.payload["lease_epoch"] == 2


def test_a_replay_of_the_old_epoch_after_the_takeover_joins_the_new_event(
    sessions: sessionmaker[Session],
) -> None:
    """The old holder's journal replays after the new holder recorded the incident: still one event."""
    old = _take(sessions, "a", T0)
    new_token = _take(sessions, "b", T0 + timedelta(seconds=TTL + 1))
    new_id, _ = _record(sessions, _item("new", 20, 30, new_token))
    _close(sessions, "new", 35, new_token)
    replayed_id, created = _record(sessions, _item("old", 0, 3, old), replay=True)
    assert (replayed_id, created) == (new_id, False)
    assert _close(sessions, "old", 6, old, replay=True) == new_id
    with sessions() as session:
        event = session.get(Event, new_id)
        assert event is not None and event.started_at == T0 and event.ended_at == T0 + timedelta(seconds=35)
    assert _rows(sessions).events == 1
