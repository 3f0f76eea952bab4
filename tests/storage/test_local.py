"""LocalStore specifics: on-disk layout, tamper detection, atomicity, disk full, concurrent writers."""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from audit_api.storage import (
    LocalStore,
    ObjectConflict,
    ObjectCorrupted,
    StorageError,
    StorageUnavailable,
    StoredObject,
)


def files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_layout_object_plus_sidecar(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)

    stored = store.put("ev/7/clip.mp4", b"movie", "video/mp4")

    assert files_under(tmp_path) == {"ev/7/clip.mp4", ".meta/ev/7/clip.mp4.json"}
    assert (tmp_path / "ev/7/clip.mp4").read_bytes() == b"movie"
    sidecar = json.loads((tmp_path / ".meta/ev/7/clip.mp4.json").read_text())
    assert sidecar == {"sha256": hashlib.sha256(b"movie").hexdigest(), "size": 5, "content_type": "video/mp4"}
    assert store.stat("ev/7/clip.mp4") == stored


def test_tampered_file_is_detected_without_expected_digest(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put("clip.mp4", b"original bytes", "video/mp4")

    (tmp_path / "clip.mp4").write_bytes(b"original byteZ")

    with pytest.raises(ObjectCorrupted, match="corrupted"):
        store.get("clip.mp4")


def test_conflicting_put_leaves_the_original_untouched(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put("clip.mp4", b"first", "video/mp4")
    before = files_under(tmp_path)

    with pytest.raises(ObjectConflict):
        store.put("clip.mp4", b"second", "video/mp4")

    assert files_under(tmp_path) == before
    assert store.get("clip.mp4") == b"first"


@pytest.mark.parametrize(("first", "second"), [("a", "a/b"), ("a/b", "a")])
def test_key_that_nests_under_or_over_an_object_conflicts(tmp_path: Path, first: str, second: str) -> None:
    store = LocalStore(tmp_path)
    store.put(first, b"1", "application/octet-stream")

    with pytest.raises(ObjectConflict, match=repr(second)):
        store.put(second, b"2", "application/octet-stream")


def test_object_without_sidecar_is_still_served(tmp_path: Path) -> None:
    (tmp_path / "legacy").mkdir()
    (tmp_path / "legacy/old.jpg").write_bytes(b"jpeg")
    store = LocalStore(tmp_path)

    assert store.get("legacy/old.jpg", sha256=hashlib.sha256(b"jpeg").hexdigest()) == b"jpeg"
    assert store.put("legacy/old.jpg", b"jpeg", "image/jpeg").sha256 == hashlib.sha256(b"jpeg").hexdigest()


def test_unreadable_sidecar_is_a_clear_error(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put("x.bin", b"x", "application/octet-stream")
    (tmp_path / ".meta/x.bin.json").write_text("{not json")

    with pytest.raises(StorageError, match=r"metadata of object 'x\.bin' is unreadable"):
        store.get("x.bin")


def test_unusable_root_fails_check_and_put(tmp_path: Path) -> None:
    root = tmp_path / "not-a-dir"
    root.write_bytes(b"")
    store = LocalStore(root)

    with pytest.raises(StorageUnavailable, match="not-a-dir"):
        store.check()
    with pytest.raises(StorageUnavailable, match="cannot write"):
        store.put("k.bin", b"x", "application/octet-stream")


def test_concurrent_writers_of_one_key(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    payloads = [b"same"] * 8 + [b"other"] * 8

    def put(data: bytes) -> StoredObject | str:
        try:
            return store.put("race.bin", data, "application/octet-stream")
        except ObjectConflict:
            return "conflict"

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(put, payloads))

    winner = store.get("race.bin")
    stored = [r for r in results if isinstance(r, StoredObject)]
    assert {r.sha256 for r in stored} == {hashlib.sha256(winner).hexdigest()}
    assert results.count("conflict") == 8
    assert files_under(tmp_path) == {"race.bin", ".meta/race.bin.json"}


def test_disk_full_is_unavailable_and_leaves_no_partial_file(tiny_disk: Path) -> None:
    store = LocalStore(tiny_disk / "evidence")
    small = store.put("small.jpg", b"s" * 1000, "image/jpeg")
    before = files_under(tiny_disk)

    with pytest.raises(StorageUnavailable, match="disk full"):
        store.put("big.mp4", os.urandom(2 * 1024 * 1024), "video/mp4")

    assert files_under(tiny_disk) == before
    assert not store.exists("big.mp4")
    assert store.get("small.jpg", sha256=small.sha256) == b"s" * 1000
    assert store.put("after.jpg", b"a" * 1000, "image/jpeg").size == 1000
