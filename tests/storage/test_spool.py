"""SpoolingStore: a storage outage loses nothing (real moto servers, stopped mid-test; real spool dirs)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from audit_api.storage import (
    LocalStore,
    ObjectConflict,
    S3Store,
    SpoolingStore,
    StorageUnavailable,
    StoredObject,
    open_store,
)
from tests.fixtures.net import free_port
from tests.fixtures.s3 import S3_ACCESS_KEY, S3_SECRET_KEY, start_moto, unique_bucket


class RecordingStore(LocalStore):
    """A real LocalStore that remembers the order of the puts it receives."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.put_keys: list[str] = []

    def put(self, key: str, data: bytes, content_type: str) -> StoredObject:
        self.put_keys.append(key)
        return super().put(key, data, content_type)


def dead_s3() -> S3Store:
    return S3Store(f"127.0.0.1:{free_port()}", S3_ACCESS_KEY, S3_SECRET_KEY, "evidence", retries=0)


def spooled_files(spool: Path) -> set[str]:
    return {str(p.relative_to(spool)) for p in spool.rglob("*") if p.is_file()}


def test_outage_mid_run_loses_nothing(tmp_path: Path, s3_store: S3Store) -> None:
    server, endpoint = start_moto()
    doomed = S3Store(endpoint, S3_ACCESS_KEY, S3_SECRET_KEY, unique_bucket(), retries=0)
    store = SpoolingStore(doomed, tmp_path / "spool", retry_after_s=0)
    before = store.put("ev/0.mp4", b"uploaded before the outage", "video/mp4")
    assert store.pending() == 0

    server.stop()
    spooled = {f"ev/{i}.mp4": f"clip {i} during the outage".encode() for i in (1, 2, 3)}
    receipts = {key: store.put(key, data, "video/mp4") for key, data in spooled.items()}

    assert before.key == "ev/0.mp4"
    assert {k: r.sha256 for k, r in receipts.items()} == {
        k: hashlib.sha256(d).hexdigest() for k, d in spooled.items()
    }
    assert store.pending() == 3
    assert store.get("ev/2.mp4", sha256=receipts["ev/2.mp4"].sha256) == spooled["ev/2.mp4"]
    assert store.exists("ev/2.mp4")
    assert store.presigned_url("ev/2.mp4") is None
    store.check()  # still usable: writes land in the spool
    with pytest.raises(StorageUnavailable):
        store.primary.check()
    assert store.drain() == 0  # primary still down: nothing leaves the spool
    assert store.pending() == 3
    doomed.close()

    # The process restarts against a healthy S3 with the same spool directory.
    recovered = SpoolingStore(s3_store, tmp_path / "spool")
    assert recovered.pending() == 3
    assert recovered.drain() == 3

    assert recovered.pending() == 0
    assert spooled_files(tmp_path / "spool") == set()
    for key, data in spooled.items():
        assert s3_store.get(key, sha256=receipts[key].sha256) == data
        assert recovered.presigned_url(key) is not None


def test_drain_preserves_arrival_order(tmp_path: Path) -> None:
    outage = SpoolingStore(dead_s3(), tmp_path / "spool", retry_after_s=0)
    keys = ["cam2/b.mp4", "cam1/z.mp4", "cam1/a.mp4", "cam3/m.jpg"]
    for key in keys:
        outage.put(key, key.encode(), "application/octet-stream")

    target = RecordingStore(tmp_path / "primary")
    assert SpoolingStore(target, tmp_path / "spool").drain() == len(keys)

    assert target.put_keys == keys
    assert all(target.get(k) == k.encode() for k in keys)


def test_spooled_key_stays_write_once(tmp_path: Path) -> None:
    store = SpoolingStore(dead_s3(), tmp_path / "spool")
    first = store.put("ev/9.jpg", b"first", "image/jpeg")

    assert store.put("ev/9.jpg", b"first", "image/jpeg") == first
    with pytest.raises(ObjectConflict):
        store.put("ev/9.jpg", b"second", "image/jpeg")
    assert store.pending() == 1


def test_conflicting_spooled_object_is_kept_not_lost(tmp_path: Path) -> None:
    spool = SpoolingStore(dead_s3(), tmp_path / "spool")
    spool.put("ev/1.jpg", b"spooled copy", "image/jpeg")
    spool.put("ev/2.jpg", b"fine", "image/jpeg")
    primary = LocalStore(tmp_path / "primary")
    primary.put("ev/1.jpg", b"different copy already there", "image/jpeg")

    drained = SpoolingStore(primary, tmp_path / "spool")

    assert drained.drain() == 1
    assert drained.pending() == 1
    assert drained.get("ev/1.jpg") == b"spooled copy"
    assert primary.get("ev/2.jpg") == b"fine"


@pytest.mark.parametrize(("retry_after_s", "primary_attempts"), [(0.0, 3), (60.0, 1)])
def test_dead_primary_is_skipped_for_retry_after(
    tmp_path: Path, retry_after_s: float, primary_attempts: int
) -> None:
    unwritable = tmp_path / "a-file-not-a-dir"
    unwritable.write_bytes(b"")
    primary = RecordingStore(unwritable)
    store = SpoolingStore(primary, tmp_path / "spool", retry_after_s=retry_after_s)

    for i in range(3):
        store.put(f"k{i}.bin", b"x", "application/octet-stream")

    assert len(primary.put_keys) == primary_attempts
    assert store.pending() == 3


def test_spool_failure_reaches_the_caller(tmp_path: Path) -> None:
    spool_dir = tmp_path / "spool-is-a-file"
    spool_dir.write_bytes(b"")
    store = SpoolingStore(dead_s3(), spool_dir)

    with pytest.raises(StorageUnavailable, match="spool-is-a-file"):
        store.put("k.bin", b"x", "application/octet-stream")
    with pytest.raises(StorageUnavailable):
        store.check()


def test_open_store_builds_the_configured_backend(tmp_path: Path, s3_endpoint: str) -> None:
    local = open_store("local", data_dir=tmp_path)
    remote = open_store(
        "s3",
        data_dir=tmp_path,
        s3_endpoint=s3_endpoint,
        s3_access_key=S3_ACCESS_KEY,
        s3_secret_key=S3_SECRET_KEY,
        s3_bucket=unique_bucket(),
    )

    assert isinstance(local, LocalStore)
    assert local.put("a.bin", b"a", "application/octet-stream").size == 1
    assert (tmp_path / "evidence/a.bin").is_file()
    assert isinstance(remote, SpoolingStore)
    remote.check()
    assert remote.put("b.bin", b"b", "application/octet-stream").size == 1
    assert remote.pending() == 0
    with pytest.raises(ValueError, match="unknown storage backend"):
        open_store("ftp", data_dir=tmp_path)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs an endpoint"):
        open_store("s3", data_dir=tmp_path)
