"""retain/delete, the two operations of evidence retention, on both backends (moto S3, a local dir)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from audit_api.storage import LocalStore, ObjectLocked, ObjectNotFound, S3Store
from tests.fixtures.s3 import S3_ACCESS_KEY, S3_SECRET_KEY, unique_bucket


def _lock_until(store: S3Store, key: str) -> datetime:
    head = store.client.stat_object(store.bucket, key).metadata
    return datetime.fromisoformat(str(head["x-amz-object-lock-retain-until-date"]).replace("Z", "+00:00"))


def test_s3_retention_is_extended_never_shortened_and_refuses_deletion(s3_store: S3Store) -> None:
    s3_store.put("ev/clip.mp4", b"clip", "video/mp4")
    short = _lock_until(s3_store, "ev/clip.mp4")
    assert short < datetime.now(UTC) + timedelta(days=2)  # the fixture's 1-day lock at upload
    long = datetime.now(UTC) + timedelta(days=1095)
    s3_store.retain("ev/clip.mp4", long)
    assert abs(_lock_until(s3_store, "ev/clip.mp4") - long) < timedelta(seconds=2)
    s3_store.retain("ev/clip.mp4", datetime.now(UTC) + timedelta(days=3))  # shorter: left as is
    assert abs(_lock_until(s3_store, "ev/clip.mp4") - long) < timedelta(seconds=2)
    with pytest.raises(ObjectLocked, match="under retention"):
        s3_store.delete("ev/clip.mp4")
    assert s3_store.get("ev/clip.mp4") == b"clip"


def test_s3_without_lock_deletes_every_version(s3_endpoint: str) -> None:
    store = S3Store(s3_endpoint, S3_ACCESS_KEY, S3_SECRET_KEY, unique_bucket(), object_lock=False)
    try:
        store.put("ev/snap.jpg", b"jpeg", "image/jpeg")
        store.retain("ev/snap.jpg", datetime.now(UTC) + timedelta(days=30))  # no lock: nothing to extend
        store.delete("ev/snap.jpg")
        assert not store.exists("ev/snap.jpg")
        with pytest.raises(ObjectNotFound):
            store.delete("ev/snap.jpg")
    finally:
        store.close()


def test_local_delete_removes_object_and_metadata(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "evidence")
    store.put("ev/a.jpg", b"jpeg", "image/jpeg")
    store.retain("ev/a.jpg", datetime.now(UTC) + timedelta(days=30))  # recorded in the registry, not here
    store.delete("ev/a.jpg")
    assert (
        not store.exists("ev/a.jpg") and not (tmp_path / "evidence" / ".meta" / "ev" / "a.jpg.json").exists()
    )
    with pytest.raises(ObjectNotFound):
        store.delete("ev/a.jpg")
    store.put("ev/a.jpg", b"other", "image/jpeg")  # the key is free again (a deleted object is gone)
