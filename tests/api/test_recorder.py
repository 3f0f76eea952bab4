"""The worker's sink when the database or the store is down: what it owes the database (event, its span
segments, close, violation stills, outage) waits in its journal file, survives the process, and is
recorded once (same object hashes) when the service is back; a replay of something already recorded
changes nothing. Real clip bytes."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import numpy as np
import pytest
import supervision as sv
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import sessionmaker

from audit_api.models import Clip, ClipKind, ClipSegment, Event, EventSource, UnmonitoredInterval
from audit_api.storage import LocalStore, S3Store
from audit_api.worker.recorder import EventRecorder
from detect.analyzer import Violation
from detect.events import ReviewItem, Snapshot
from ingest._sink import Evidence, SegmentEvidence, ViolationStill
from ingest.clips import EncodedClip, encode_mp4
from ingest.files import VideoFileSource
from ingest.health import UnmonitoredInterval as Outage
from ingest.segments import EncodedSegment
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


def _counts(world: World) -> tuple[int, int, int]:
    with world.sessions() as session:
        return (
            session.scalar(select(func.count()).select_from(Event)) or 0,
            session.scalar(
                select(func.count()).select_from(EventSource).where(EventSource.closed_at.is_not(None))
            )
            or 0,
            session.scalar(select(func.count()).select_from(UnmonitoredInterval)) or 0,
        )


def test_database_outage_journals_event_close_and_outage_and_replays_them_once(
    world: World, tmp_path: Path, clip: tuple[EncodedClip, np.ndarray]
) -> None:
    store = LocalStore(tmp_path / "evidence")
    journal = tmp_path / "journal.sqlite3"
    dead = sessionmaker(create_engine(f"postgresql+psycopg://x@127.0.0.1:{free_port()}/none"))
    evidence = evidence_for(world.camera_id, clip)
    cam = str(world.camera_id)

    down = EventRecorder(dead, store, journal)
    down.publish(evidence)  # no exception: the event waits in the journal
    item = evidence.event
    for index in range(2):  # the item's span, recorded while the database is down
        segment = EncodedSegment(item.id, index, item.started_at + index, evidence.clip, final=index == 1)
        down.store_segment(SegmentEvidence(cam, item.id, item.started_at, segment))
    later = Violation("no_vest", 2, None, item.started_at + 1, (1.0, 2.0, 3.0, 4.0), 0.9)
    item.violations.append(later)  # one more violation joins before the item closes
    down.close(cam, item)
    stills = [ViolationStill(v, b"\xff\xd8still-%d" % v.track_id) for v in item.violations]
    down.store_stills(cam, item, stills)
    down.interval(Outage(cam, 1_700_000_000.0, 1_700_000_030.0, "camera unreachable"))
    assert down.pending == 6 and down.drain() == 0 and _counts(world) == (0, 0, 0)
    down.journal.close()  # the process dies here; what it owed is on disk

    back = EventRecorder(world.sessions, store, journal)
    owed = [pending.entry for pending in back.journal.pending()]
    assert [e.type for e in owed] == ["event", "segment", "segment", "close", "stills", "interval"]
    assert back.pending == 6 and back.drain() == 6 and back.pending == 0
    assert _counts(world) == (1, 1, 1)

    def linked() -> tuple[list[int], dict[int | None, bytes]]:
        with world.sessions() as session:
            event = session.scalars(select(Event)).one()
            segments = session.scalars(select(ClipSegment.index).order_by(ClipSegment.index)).all()
            by_track = {
                v.track_id: store.get(v.snapshot.object_key, sha256=v.snapshot.sha256)
                for v in event.violations
                if v.snapshot is not None
            }
            return list(segments), by_track

    with world.sessions() as session:
        (event,) = session.scalars(select(Event)).all()
        clip_row = session.scalars(select(Clip).where(Clip.kind == ClipKind.CLIP)).one()
        assert event.kinds == ["no_vest"] and event.camera_id == world.camera_id
        assert len(event.violations) == 2 and event.ended_at.timestamp() == pytest.approx(item.ended_at)
        assert clip_row.sha256 == evidence.clip.sha256
        assert store.get(clip_row.object_key, sha256=clip_row.sha256) == evidence.clip.data
    # every violation (also the one that joined at the close) has its own still; the span is linked
    assert linked() == ([0, 1], {1: b"\xff\xd8still-1", 2: b"\xff\xd8still-2"})

    # Killed after the commits but before the entries left the journal: the replay changes nothing.
    for entry in owed:
        back.journal.append(entry)
    assert back.drain() == 6 and _counts(world) == (1, 1, 1)
    with world.sessions() as session:
        assert len(session.scalars(select(Event)).one().violations) == 2
    assert linked() == ([0, 1], {1: b"\xff\xd8still-1", 2: b"\xff\xd8still-2"})
    back.journal.close()


def test_span_evidence_of_an_event_the_database_refused_is_set_aside(
    world: World, tmp_path: Path, clip: tuple[EncodedClip, np.ndarray]
) -> None:
    """A segment whose review item has no event (its event entry failed) is kept for an operator."""
    recorder = EventRecorder(world.sessions, LocalStore(tmp_path / "evidence"), tmp_path / "journal.sqlite3")
    item = evidence_for(world.camera_id, clip).event
    segment = EncodedSegment(item.id, 0, item.started_at, clip[0], final=True)
    recorder.store_segment(SegmentEvidence(str(world.camera_id), item.id, item.started_at, segment))
    assert recorder.pending == 0  # not retried forever
    failed = sqlite3.connect(tmp_path / "journal.sqlite3").execute("SELECT failed FROM entries").fetchall()
    assert failed == [(f"review item {item.id} has no recorded event",)]
    recorder.journal.close()


def test_full_disk_keeps_evidence_until_space_returns(
    world: World, tiny_disk: Path, clip: tuple[EncodedClip, np.ndarray]
) -> None:
    store = LocalStore(tiny_disk / "evidence")
    recorder = EventRecorder(world.sessions, store, tiny_disk / "journal.sqlite3")
    ballast = tiny_disk / "ballast.bin"
    ballast.write_bytes(b"\0" * (1024 * 1024 - 64 * 1024))  # the disk is (almost) full
    evidence = evidence_for(world.camera_id, clip)

    recorder.publish(evidence)  # the clip fits neither the store nor the journal: nothing raised or lost
    recorder.close(str(world.camera_id), evidence.event)  # the item closes meanwhile
    assert recorder.unstored == 1 and recorder.drain() == 0
    with world.sessions() as session:
        assert session.scalars(select(Event)).all() == []

    ballast.unlink()  # space is back
    assert recorder.drain() == 2 and recorder.unstored == 0 and recorder.pending == 0
    with world.sessions() as session:
        (event,) = session.scalars(select(Event)).all()
        clip_row = session.scalars(select(Clip).where(Clip.kind == ClipKind.CLIP)).one()
        assert clip_row.sha256 == evidence.clip.sha256
        assert event.ended_at.timestamp() == pytest.approx(evidence.event.ended_at)  # the late close applied
    recorder.journal.close()


def test_evidence_the_store_refuses_waits_in_the_journal_across_a_restart(
    world: World, tmp_path: Path, clip: tuple[EncodedClip, np.ndarray]
) -> None:
    """S3 down without a spool: the clip bytes wait in the journal file, and survive the process."""
    dead_s3 = S3Store(f"http://127.0.0.1:{free_port()}", "key", "secret-key", "evidence")
    journal = tmp_path / "journal.sqlite3"
    evidence = evidence_for(world.camera_id, clip)
    first = EventRecorder(world.sessions, dead_s3, journal)
    first.publish(evidence)
    first.close(str(world.camera_id), evidence.event)
    assert (first.pending, first.unstored) == (2, 1)
    first.journal.close()

    store = LocalStore(tmp_path / "evidence")  # the store is back (here: another backend, same keys)
    second = EventRecorder(world.sessions, store, journal)
    assert second.drain() == 2 and second.pending == 0
    with world.sessions() as session:
        clip_row = session.scalars(select(Clip).where(Clip.kind == ClipKind.CLIP)).one()
        assert store.get(clip_row.object_key, sha256=evidence.clip.sha256) == evidence.clip.data
    second.journal.close()


def test_an_entry_the_journal_cannot_read_is_set_aside_and_the_rest_drains(
    world: World, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.sqlite3"
    recorder = EventRecorder(world.sessions, LocalStore(tmp_path / "evidence"), journal)
    with sqlite3.connect(journal) as db:  # e.g. written by another version of the worker
        db.execute(
            "INSERT INTO entries (camera_id, body) VALUES (?, ?)", (world.camera_id, '{"type": "nope"}')
        )
    recorder.interval(Outage(str(world.camera_id), 1_700_000_000.0, 1_700_000_010.0, "down"))
    assert recorder.pending == 0 and _counts(world) == (0, 0, 1)
    with sqlite3.connect(journal) as db:
        (reason,) = db.execute("SELECT failed FROM entries").fetchone()
    assert reason.startswith("unreadable entry")
    recorder.journal.close()


def test_events_parked_by_an_older_worker_move_into_the_journal(world: World, tmp_path: Path) -> None:
    """The outbox file format of workers before the journal (DATA_DIR/outbox/*.json) is imported at start."""
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    ts = "2026-11-30T08:00:00+00:00"
    obj = {"sha256": "a" * 64, "size": 90}
    parked = {
        "camera_id": world.camera_id, "kinds": ["no_vest"], "started_at": ts, "ended_at": ts,
        "violations": [{"kind": "no_vest", "track_id": 1, "zone_id": None, "ts": ts, "box": [0, 0, 1, 1],
                        "confidence": 0.8}],
        "snapshot": obj | {"key": "cameras/1/old/snapshot.jpg", "content_type": "image/jpeg"},
        "clip": obj | {"key": "cameras/1/old/clip.mp4", "content_type": "video/mp4"},
        "clip_duration_s": 10.0, "model_version": "m", "rule_snapshot": {"review_item": "old-item"},
        "lease": None,
    }  # fmt: skip
    (outbox / "20261130T080000000000-old-item.json").write_text(json.dumps(parked))
    recorder = EventRecorder(world.sessions, LocalStore(tmp_path / "evidence"), tmp_path / "journal.sqlite3")
    assert not list(outbox.glob("*.json")) and recorder.pending == 1
    assert recorder.drain() == 1
    with world.sessions() as session:
        assert session.scalars(select(EventSource.key)).all() == ["old-item"]
    recorder.journal.close()
