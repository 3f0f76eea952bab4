"""The ObjectStore contract, run on both backends (local directory and S3 on a moto server)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import httpx
import pytest

from audit_api.storage import (
    InvalidContentType,
    InvalidKey,
    LocalStore,
    ObjectConflict,
    ObjectCorrupted,
    ObjectNotFound,
    ObjectStore,
    S3Store,
    StoredObject,
)

CLIP = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40


@pytest.mark.parametrize(
    ("key", "data", "content_type"),
    [
        ("events/2026/11/25/cam-1_ev42.mp4", CLIP, "video/mp4"),
        ("snap.jpg", b"\xff\xd8\xff\xe0jpeg", "image/jpeg"),
        ("a/b/c/d/e/f/empty.bin", b"", "application/octet-stream"),
        ("notes/report.txt", "Prüfbericht".encode(), "text/plain; charset=utf-8"),
    ],
)
def test_put_get_roundtrip(object_store: ObjectStore, key: str, data: bytes, content_type: str) -> None:
    stored = object_store.put(key, data, content_type)

    expected = StoredObject(key, hashlib.sha256(data).hexdigest(), len(data), content_type)
    assert stored == expected
    assert object_store.get(key) == data
    assert object_store.get(key, sha256=expected.sha256) == data
    assert object_store.get(key, sha256=expected.sha256.upper()) == data
    assert object_store.exists(key)


def test_wrong_digest_is_corruption(object_store: ObjectStore) -> None:
    object_store.put("clip.mp4", CLIP, "video/mp4")

    with pytest.raises(ObjectCorrupted, match=r"clip\.mp4"):
        object_store.get("clip.mp4", sha256=hashlib.sha256(b"other bytes").hexdigest())


def test_missing_object(object_store: ObjectStore) -> None:
    object_store.put("present.bin", b"x", "application/octet-stream")

    assert not object_store.exists("absent.bin")
    assert not object_store.exists("present.bin/child")
    with pytest.raises(ObjectNotFound, match=r"absent\.bin"):
        object_store.get("absent.bin")


@pytest.mark.parametrize(
    "key",
    [
        "",
        "/etc/passwd",
        "../escape",
        "a/../../escape",
        "a/./b",
        "a//b",
        "trailing/",
        ".hidden",
        "dir/.meta",
        "with space",
        "back\\slash",
        "nul\x00byte",
        "newline\n",
        "ümlaut",
        "x" * 1025,
    ],
)
def test_bad_keys_rejected(object_store: ObjectStore, key: str) -> None:
    with pytest.raises(InvalidKey, match="object key"):
        object_store.put(key, b"data", "application/octet-stream")
    with pytest.raises(InvalidKey):
        object_store.get(key)
    with pytest.raises(InvalidKey):
        object_store.exists(key)


@pytest.mark.parametrize("content_type", ["", "video", "video/", "video/mp4\r\nX-Injected: 1", "a b/c"])
def test_bad_content_type_rejected(object_store: ObjectStore, content_type: str) -> None:
    with pytest.raises(InvalidContentType, match="content type"):
        object_store.put("ok.bin", b"data", content_type)
    assert not object_store.exists("ok.bin")


def test_put_is_idempotent_and_write_once(object_store: ObjectStore) -> None:
    first = object_store.put("ev/1.mp4", CLIP, "video/mp4")

    assert object_store.put("ev/1.mp4", CLIP, "video/mp4") == first
    with pytest.raises(ObjectConflict, match="write-once"):
        object_store.put("ev/1.mp4", CLIP + b"tampered", "video/mp4")
    assert object_store.get("ev/1.mp4", sha256=first.sha256) == CLIP


def test_large_object(object_store: ObjectStore) -> None:
    data = os.urandom(20 * 1024 * 1024)

    stored = object_store.put("big/clip.mp4", data, "video/mp4")

    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert object_store.get("big/clip.mp4", sha256=stored.sha256) == data


def test_check_passes_on_a_usable_store(object_store: ObjectStore) -> None:
    object_store.check()
    object_store.check()


def test_presigned_url_is_fetchable(s3_store: S3Store) -> None:
    s3_store.put("ev/2.jpg", b"\xff\xd8snapshot", "image/jpeg")

    url = s3_store.presigned_url("ev/2.jpg", expires_s=60)

    assert url is not None
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.content == b"\xff\xd8snapshot"
    assert response.headers["content-type"] == "image/jpeg"


def test_local_store_has_no_presigned_url(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put("ev/2.jpg", b"snapshot", "image/jpeg")

    assert store.presigned_url("ev/2.jpg") is None
