"""Nothing lost across restarts, with real processes: `siteaudit worker` runs an RTSP camera (GStreamer,
ppe-2 looped: the vest-less man fires no_vest again and again) on a PostgreSQL of its own and moto S3.

- PostgreSQL stopped (pg_ctl) while events fire and the camera drops out → the worker is SIGKILLed →
  PostgreSQL and a worker on the same data dir come back: every event, close and outage interval the
  journal held is in the database exactly once, the clips in the store with their SHA-256.
- Two workers, the camera's owner SIGKILLed mid-event: the other takes the camera over and continues the
  open event (a source per epoch) instead of recording the incident twice.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from audit_api.db import make_engine, make_sessionmaker, upgrade_to_head
from audit_api.models import Camera, CameraKind, ClipKind, Event, RuleConfig, Site
from audit_api.models import UnmonitoredInterval as IntervalRow
from audit_api.storage import S3Store
from tests.e2e.test_live import wait_until
from tests.fixtures.outages import PgCluster, Workers
from tests.fixtures.rtsp import RtspServer, gst_rtsp_available
from tests.fixtures.s3 import S3_ACCESS_KEY, S3_SECRET_KEY, unique_bucket

pytestmark = [pytest.mark.slow, pytest.mark.soak, pytest.mark.rtsp, pytest.mark.postgres]  # bench/soak.sh
TTL_S = "3"


@dataclass
class Site1:
    sessions: sessionmaker[Session]
    workers: Workers
    pg: PgCluster
    camera: RtspServer
    store: S3Store


@pytest.fixture
def site(tmp_path: Path, videos: Path, s3_endpoint: str) -> Iterator[Site1]:
    if not gst_rtsp_available():
        pytest.skip("GStreamer RTSP server not installed")
    pg = PgCluster()
    camera = RtspServer([videos / "ppe-2.mp4"])
    camera.start()
    bucket = unique_bucket()
    store = S3Store(s3_endpoint, S3_ACCESS_KEY, S3_SECRET_KEY, bucket)
    url = pg.create_database(f"t_{uuid.uuid4().hex[:12]}")
    upgrade_to_head(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        site = Site(name="Depot")
        cam = Camera(name="gate", kind=CameraKind.RTSP, url=camera.url("ppe-2"))
        site.cameras.append(cam)
        session.add(site)
        session.flush()
        # Short items (cut every 6 s, closed after 2 s without a violation): events and closes keep coming.
        session.add(RuleConfig(camera_id=cam.id, config={"event_gap_s": 2.0, "max_event_s": 6.0}))
        session.commit()
    env = os.environ | {
        "SITEAUDIT_DATABASE_URL": url,
        "SITEAUDIT_SECRET_KEY": "durable-" + "k" * 40,
        "SITEAUDIT_LEASE_TTL_S": TTL_S,
        "SITEAUDIT_STORAGE_BACKEND": "s3",
        "SITEAUDIT_S3_ENDPOINT": s3_endpoint,
        "SITEAUDIT_S3_ACCESS_KEY": S3_ACCESS_KEY,
        "SITEAUDIT_S3_SECRET_KEY": S3_SECRET_KEY,
        "SITEAUDIT_S3_BUCKET": bucket,
    }
    env.pop("SITEAUDIT_DEV_MODE", None)
    workers = Workers(env, tmp_path)
    try:
        yield Site1(sessions, workers, pg, camera, store)
    finally:
        workers.stop_all()
        camera.kill()
        engine.dispose()
        store.close()
        pg.close()
        for name in workers.procs:
            assert "Traceback" not in workers.log(name), workers.log(name)[-4000:]


def _events(sessions: sessionmaker[Session]) -> list[Event]:
    with sessions() as session:
        events = list(session.scalars(select(Event).order_by(Event.started_at)))
        for event in events:
            _ = event.sources, event.clips
        return events


def _twice(events: list[Event]) -> list[tuple[int, int]]:
    """Pairs of events that record one incident twice: same camera, a shared kind, overlapping spans,
    recorded under two different lease epochs."""
    pairs = []
    for i, a in enumerate(events):
        for b in events[i + 1 :]:
            epochs_a = {s.lease_epoch for s in a.sources}
            epochs_b = {s.lease_epoch for s in b.sources}
            if (a.camera_id == b.camera_id and set(a.kinds) & set(b.kinds) and epochs_a != epochs_b
                    and a.started_at < b.ended_at and b.started_at < a.ended_at):  # fmt: skip
                pairs.append((a.id, b.id))
    return pairs


def test_events_closes_and_outages_journaled_while_postgres_is_down_survive_a_sigkill(site: Site1) -> None:
    w = site.workers
    w.start("w1")
    wait_until(lambda: _events(site.sessions), 300, "a first event with the database up")

    site.pg.stop()
    # Events and closes fire into the journal; the camera drops out for a few seconds (an outage).
    wait_until(lambda: [t for t, _ in w.journal("w1")].count("event") >= 1, 120, "an event in the journal")
    site.camera.kill()
    time.sleep(4)
    site.camera.start()
    wait_until(lambda: {"event", "close", "interval"} <= {t for t, _ in w.journal("w1")}, 180,
               "an event, a close and an outage in the journal")  # fmt: skip
    w.kill("w1")
    owed = w.journal("w1")
    print(f"journal at SIGKILL: {len(owed)} entries {sorted({t for t, _ in owed})}")

    site.pg.start()
    w.start("w1")  # the same data dir: the new process replays what the dead one owed
    wait_until(lambda: not w.journal("w1"), 120, "the journal to drain")

    events = _events(site.sessions)
    sources = {s.key: s for e in events for s in e.sources}
    with site.sessions() as session:
        interval_keys = [k for k in session.scalars(select(IntervalRow.source_key)) if k]
    for kind, key in owed:
        if kind == "event":
            assert key in sources, f"journaled event {key} not recorded"
        elif kind == "close":
            assert key in sources and sources[key].closed_at is not None, f"journaled close {key} not applied"
        else:
            assert interval_keys.count(key) == 1, f"outage {key}: {interval_keys.count(key)} rows"
    assert len(interval_keys) == len(set(interval_keys))
    assert _twice(events) == []
    for event in events:
        for clip in event.clips:
            data = site.store.get(clip.object_key)
            assert hashlib.sha256(data).hexdigest() == clip.sha256, clip.object_key
        assert {c.kind for c in event.clips} == {ClipKind.CLIP, ClipKind.SNAPSHOT}
    for kind, key in owed:  # replays keep the epoch they were captured under (the dead process's)
        assert kind != "event" or sources[key].lease_epoch == 1, (key, sources[key].lease_epoch)


def test_an_incident_across_a_takeover_is_recorded_once(site: Site1) -> None:
    with site.sessions() as session:  # long items: the incident stays one open item on its owner
        rules = session.scalars(select(RuleConfig)).one()
        rules.config = {"event_gap_s": 10.0, "max_event_s": 300.0}
        session.commit()
    w = site.workers
    for name in ("a", "b"):  # one lease each: whichever claims first owns the camera
        w.start(name, max_cameras="1")
    owner = wait_until(
        lambda: next((n for n in ("a", "b") if w.streaming(n)), None), 300, "a worker to run it"
    )
    other = "b" if owner == "a" else "a"
    wait_until(lambda: w.streaming(other) is not None, 300, f"worker {other} to serve metrics")
    (first,) = wait_until(lambda: _events(site.sessions), 300, "the owner's event")
    assert [s.closed_at for s in first.sources] == [None]  # open: the man is still there

    w.kill(owner)  # mid-event: its close never comes
    wait_until(lambda: w.streaming(other), 120, f"worker {other} to take the camera over")

    def continued() -> Event | None:
        events = _events(site.sessions)
        assert len(events) == 1, [(e.id, e.started_at, [s.lease_epoch for s in e.sources]) for e in events]
        return events[0] if len(events[0].sources) == 2 else None

    event = wait_until(continued, 300, "the new owner's item to continue the open event")
    assert sorted(s.lease_epoch for s in event.sources) == [1, 2]
    assert event.ended_at > first.ended_at
    time.sleep(5)  # a few more seconds of the incident: still one event
    assert len(_events(site.sessions)) == 1
