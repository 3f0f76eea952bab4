"""Evidence retention (issue 13): short at upload, long once confirmed, expired unconfirmed evidence deleted
by the job (time advanced by passing `now`), recorded in the audit log; a confirmed clip on S3 (moto) refuses
deletion and overwrite. Both databases (`world`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
from minio.error import S3Error
from sqlalchemy import select

from audit_api.models import AuditLog, Event, EvidenceObject, utcnow
from audit_api.services import integrity
from audit_api.services.retention_job import RetentionJob
from audit_api.storage import ObjectConflict, ObjectLocked, S3Store
from tests.api.conftest import CLIP_BYTES, SNAPSHOT_BYTES, World
from tests.fixtures.s3 import S3_ACCESS_KEY, S3_SECRET_KEY, unique_bucket

DAY = timedelta(days=1)


def _review(world: World, headers: dict[str, str], event_id: int, verdict: str) -> None:
    response = world.post(f"/api/events/{event_id}/review", headers, {"verdict": verdict})
    assert response.status_code == 201, response.text


def _rows(world: World, event_id: int) -> list[EvidenceObject]:
    with world.sessions() as session:
        return list(session.scalars(select(EvidenceObject).where(EvidenceObject.event_id == event_id)))


def _expired_entries(world: World) -> list[AuditLog]:
    with world.sessions() as session:
        return list(
            session.scalars(
                select(AuditLog).where(AuditLog.action == "evidence.expired").order_by(AuditLog.seq)
            )
        )


def test_unconfirmed_evidence_expires_confirmed_survives(
    world: World, make_event: Callable[..., Event], inspector: dict[str, str], admin: dict[str, str]
) -> None:
    confirmed, never_reviewed, false_positive, signed = (make_event() for _ in range(4))
    _review(world, inspector, confirmed.id, "confirmed")
    _review(world, inspector, false_positive.id, "false_positive")
    _review(world, inspector, signed.id, "false_positive")
    assert world.post(f"/api/events/{signed.id}/signoff", inspector).status_code == 201
    job = RetentionJob(world.sessions, world.settings, world.store)
    short = world.settings.evidence_short_retention_days

    early = job.run_once(now=utcnow() + (short - 1) * DAY)  # not expired yet: nothing deleted
    assert early.expired.deleted == 0 and _expired_entries(world) == []
    run = job.run_once(now=utcnow() + (short + 1) * DAY)

    gone = {never_reviewed.id, false_positive.id}
    assert sorted(e for e in run.expired.events if e is not None) == sorted(gone) and run.expired.deleted == 4
    for event in (confirmed, never_reviewed, false_positive, signed):
        rows = _rows(world, event.id)
        assert {r.kind.value for r in rows} == {"clip", "snapshot"}
        for row in rows:
            assert (row.deleted_at is not None) == (event.id in gone), (event.id, row.object_key)
            assert world.store.exists(row.object_key) == (event.id not in gone)
        detail = world.client.get(f"/api/events/{event.id}", headers=inspector).json()
        assert (detail["evidence_deleted_at"] is not None) == (event.id in gone)  # the event page says so
    # One audit entry per event, naming every deleted object with its hash.
    entries = _expired_entries(world)
    assert sorted(e.entity for e in entries) == sorted(f"event:{i}" for i in gone)
    for entry in entries:
        event_id = int(entry.entity.split(":")[1])
        named = {(o["key"], o["sha256"]) for o in entry.payload["objects"]}
        assert named == {(r.object_key, r.sha256) for r in _rows(world, event_id)}
        assert entry.actor == "retention" and entry.payload["short_retention_days"] == short
    # A second run deletes nothing twice; `audit verify` counts the deleted objects as expired, not broken.
    assert job.run_once(now=utcnow() + (short + 2) * DAY).expired.deleted == 0
    with world.sessions() as session:
        verified = integrity.verify(session, world.store)
    assert verified and verified.objects_expired == 4 and verified.objects_checked == 4
    # The admins' storage figures: what is stored now, and what the job deleted, by kind.
    usage = world.client.get("/api/storage", headers=admin)
    assert usage.status_code == 200, usage.text
    north = next(s for s in usage.json()["sites"] if s["site_id"] == world.site_id)
    kinds = {k["kind"]: k for k in north["kinds"]}
    assert kinds["clip"]["objects"] == 2 and kinds["clip"]["deleted"] == 2
    assert kinds["snapshot"] == {
        "kind": "snapshot",
        "objects": 2,
        "bytes": 2 * len(SNAPSHOT_BYTES),
        "deleted": 2,
    }
    assert north["objects"] == 4 and north["bytes"] == 2 * len(SNAPSHOT_BYTES) + kinds["clip"]["bytes"]
    assert usage.json()["long_retention_days"] == world.settings.evidence_long_retention_days


@pytest.fixture
def s3(world: World, s3_endpoint: str) -> Iterator[S3Store]:
    """The world's app on an S3 bucket with object lock: 1 day COMPLIANCE at upload (the short retention)."""
    store = S3Store(s3_endpoint, S3_ACCESS_KEY, S3_SECRET_KEY, unique_bucket(), retention_days=1)
    store.ensure_bucket()
    world.app.state.store = store
    yield store
    store.close()


def _retain_until(store: S3Store, key: str) -> datetime:
    head = store.client.stat_object(store.bucket, key).metadata
    assert head.get("x-amz-object-lock-mode") == "COMPLIANCE", dict(head)
    return datetime.fromisoformat(str(head["x-amz-object-lock-retain-until-date"]).replace("Z", "+00:00"))


def test_confirmed_clip_on_s3_refuses_deletion_and_overwrite(
    world: World, s3: S3Store, make_event: Callable[..., Event], inspector: dict[str, str]
) -> None:
    events = []
    for n in range(2):
        clip = s3.put(f"s3/{n}/clip.mp4", CLIP_BYTES + bytes([n]), "video/mp4")
        snapshot = s3.put(f"s3/{n}/snapshot.jpg", SNAPSHOT_BYTES, "image/jpeg")
        events.append(make_event(clip=clip, snapshot=snapshot))
    confirmed, unconfirmed = events
    clip_key = confirmed.clips[0].object_key
    assert _retain_until(s3, clip_key) < utcnow() + 2 * DAY  # short at upload

    _review(world, inspector, confirmed.id, "confirmed")  # extended at once, by the review route

    long_until = utcnow() + world.settings.evidence_long_retention_days * DAY
    for row in _rows(world, confirmed.id):
        assert row.retained_until is not None
        assert abs(_retain_until(s3, row.object_key) - long_until) < DAY
    with pytest.raises(ObjectLocked):
        s3.delete(clip_key)
    version = s3.client.stat_object(s3.bucket, clip_key).version_id
    with pytest.raises(S3Error) as refused:
        s3.client.remove_object(s3.bucket, clip_key, version_id=version)
    assert refused.value.code == "AccessDenied"
    with pytest.raises(ObjectConflict):
        s3.put(clip_key, b"forged clip", "video/mp4")
    assert s3.get(clip_key, sha256=confirmed.clips[0].sha256) == CLIP_BYTES + bytes([0])

    # Past the short retention in the database's view: the job deletes nothing confirmed, and the S3 lock
    # (set at upload, real time) still refuses the unconfirmed one: kept, retried at the next run.
    run = RetentionJob(world.sessions, world.settings, s3).run_once(
        now=utcnow() + (world.settings.evidence_short_retention_days + 1) * DAY
    )
    assert run.expired.deleted == 0 and run.expired.refused == 2
    for event in (confirmed, unconfirmed):
        for row in _rows(world, event.id):
            assert row.deleted_at is None and s3.exists(row.object_key)
    assert _expired_entries(world) == []
