"""The worker's sink when the database is down: evidence is stored, the event waits in the outbox, and is
recorded (same object hashes) once the database is back. Real clip bytes from the shared footage."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import supervision as sv
from sqlalchemy import create_engine, select
from sqlalchemy.orm import sessionmaker

from audit_api.models import Clip, ClipKind, Event
from audit_api.storage import LocalStore
from audit_api.worker.recorder import EventRecorder
from detect.analyzer import Violation
from detect.events import ReviewItem, Snapshot
from ingest._sink import Evidence
from ingest.clips import EncodedClip, encode_mp4
from ingest.files import VideoFileSource
from tests.api.conftest import World
from tests.fixtures.net import free_port


@pytest.fixture(scope="module")
def clip(videos: Path) -> tuple[EncodedClip, np.ndarray]:
    frames = []
    for frame in VideoFileSource("cam", videos / "ppe-2.mp4").frames():
        frames.append(frame)
        if len(frames) == 25:
            break
    return encode_mp4(frames), frames[0].image


def evidence_for(camera_id: int, clip: tuple[EncodedClip, np.ndarray]) -> Evidence:
    data, image = clip
    now = time.time()
    violation = Violation("no_vest", 1, None, now, (680.0, 60.0, 1090.0, 718.0), 0.8)
    item = ReviewItem(str(camera_id), now, now, {"rules": {"k": 3}}, 1, violations=[violation])
    item.best_snapshot = Snapshot(image, sv.Detections.empty(), [violation], now, 0.8)
    item.ended_at = now + 2
    return Evidence(str(camera_id), item, data, b"\xff\xd8snapshot", "test-model")


def test_database_outage_parks_the_event_and_loses_nothing(
    world: World, tmp_path: Path, clip: tuple[EncodedClip, np.ndarray]
) -> None:
    store = LocalStore(tmp_path / "evidence")
    outbox = tmp_path / "outbox"
    dead = sessionmaker(create_engine(f"postgresql+psycopg://x@127.0.0.1:{free_port()}/none"))
    evidence = evidence_for(world.camera_id, clip)

    EventRecorder(dead, store, outbox).publish(evidence)  # no exception: the event is parked
    (parked,) = outbox.glob("*.json")
    assert evidence.event.id in parked.name
    with world.sessions() as session:
        assert session.scalars(select(Event)).all() == []

    recorder = EventRecorder(world.sessions, store, outbox)
    assert recorder.retry_outbox() == 1 and not list(outbox.glob("*.json"))
    with world.sessions() as session:
        (event,) = session.scalars(select(Event)).all()
        clip_row = session.scalars(select(Clip).where(Clip.kind == ClipKind.CLIP)).one()
        assert event.kinds == ["no_vest"] and event.camera_id == world.camera_id
        assert clip_row.sha256 == evidence.clip.sha256
        assert store.get(clip_row.object_key, sha256=clip_row.sha256) == evidence.clip.data


def test_full_disk_keeps_evidence_in_memory_until_space_returns(
    world: World, tiny_disk: Path, clip: tuple[EncodedClip, np.ndarray]
) -> None:
    store = LocalStore(tiny_disk / "evidence")
    ballast = tiny_disk / "ballast.bin"
    ballast.write_bytes(b"\0" * (1024 * 1024 - 64 * 1024))  # the disk is (almost) full
    recorder = EventRecorder(world.sessions, store, tiny_disk / "outbox")
    evidence = evidence_for(world.camera_id, clip)

    recorder.publish(evidence)  # the clip does not fit: nothing raised, nothing lost
    recorder.close(str(world.camera_id), evidence.event)  # the item closes meanwhile
    assert recorder.unstored == 1 and recorder.retry_unstored() == 0
    with world.sessions() as session:
        assert session.scalars(select(Event)).all() == []

    ballast.unlink()  # space is back
    assert recorder.retry_unstored() == 1 and recorder.unstored == 0
    with world.sessions() as session:
        (event,) = session.scalars(select(Event)).all()
        clip_row = session.scalars(select(Clip).where(Clip.kind == ClipKind.CLIP)).one()
        assert clip_row.sha256 == evidence.clip.sha256
        assert event.ended_at.timestamp() == pytest.approx(evidence.event.ended_at)  # the late close applied
