"""S3Store against a real (moto) S3 server: checksums, object lock, bucket setup, outage mapping."""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from minio.error import S3Error

from audit_api.storage import (
    ObjectCorrupted,
    S3Store,
    StorageError,
    StorageUnavailable,
)
from tests.fixtures.net import free_port
from tests.fixtures.s3 import S3_ACCESS_KEY, S3_SECRET_KEY, unique_bucket


def test_upload_carries_the_sha256_checksum(s3_store: S3Store) -> None:
    stored = s3_store.put("ev/1.mp4", b"clip bytes", "video/mp4")

    response = s3_store.client.get_object(
        s3_store.bucket, "ev/1.mp4", request_headers={"x-amz-checksum-mode": "ENABLED"}
    )
    try:
        headers = response.headers
    finally:
        response.close()
        response.release_conn()
    assert (
        headers["x-amz-checksum-sha256"] == base64.b64encode(hashlib.sha256(b"clip bytes").digest()).decode()
    )
    assert headers["x-amz-meta-sha256"] == stored.sha256
    assert s3_store.stat("ev/1.mp4") == stored


def test_locked_evidence_cannot_be_deleted(s3_store: S3Store) -> None:
    s3_store.put("ev/locked.mp4", b"evidence", "video/mp4")
    version = s3_store.client.stat_object(s3_store.bucket, "ev/locked.mp4").version_id
    assert version is not None

    with pytest.raises(S3Error) as refused:
        s3_store.client.remove_object(s3_store.bucket, "ev/locked.mp4", version_id=version)

    assert refused.value.code == "AccessDenied"
    assert s3_store.get("ev/locked.mp4") == b"evidence"


def test_object_replaced_behind_our_back_is_detected(s3_store: S3Store) -> None:
    stored = s3_store.put("ev/2.jpg", b"genuine", "image/jpeg")
    # A writer bypassing the store uploads a new version that claims the old digest.
    s3_store.client.put_object(
        s3_store.bucket, "ev/2.jpg", io.BytesIO(b"forged!"), 7, metadata={"sha256": stored.sha256}
    )

    with pytest.raises(ObjectCorrupted, match="corrupted"):
        s3_store.get("ev/2.jpg")


def test_first_put_creates_a_locked_bucket(s3_endpoint: str) -> None:
    store = S3Store(f"http://{s3_endpoint}", S3_ACCESS_KEY, S3_SECRET_KEY, unique_bucket())
    try:
        store.put("k.bin", b"x", "application/octet-stream")

        assert store.client.get_object_lock_config(store.bucket) is not None
        assert store.get("k.bin") == b"x"
    finally:
        store.close()


def test_existing_bucket_without_lock_is_refused(s3_endpoint: str) -> None:
    plain = S3Store(s3_endpoint, S3_ACCESS_KEY, S3_SECRET_KEY, unique_bucket(), object_lock=False)
    plain.ensure_bucket()
    locked = S3Store(s3_endpoint, S3_ACCESS_KEY, S3_SECRET_KEY, plain.bucket, object_lock=True)
    try:
        with pytest.raises(StorageError, match="without object lock") as refused:
            locked.check()
        assert not isinstance(refused.value, StorageUnavailable)
    finally:
        plain.close()
        locked.close()


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.put("k.bin", b"x", "application/octet-stream"),
        lambda s: s.get("k.bin"),
        lambda s: s.exists("k.bin"),
        lambda s: s.check(),
    ],
    ids=["put", "get", "exists", "check"],
)
def test_dead_endpoint_is_unavailable(call: Callable[[S3Store], object]) -> None:
    port = free_port()
    store = S3Store(f"127.0.0.1:{port}", S3_ACCESS_KEY, S3_SECRET_KEY, "evidence", retries=0)
    try:
        with pytest.raises(StorageUnavailable, match=f"127.0.0.1:{port} unreachable"):
            call(store)
    finally:
        store.close()


def store_with(endpoint: str = "127.0.0.1:9", bucket: str = "evidence", **options: Any) -> S3Store:
    return S3Store(endpoint, S3_ACCESS_KEY, S3_SECRET_KEY, bucket, **options)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: store_with(bucket="ev"), "invalid bucket name"),
        (lambda: store_with(endpoint="ftp://host:21"), "must be host:port"),
        (lambda: store_with(endpoint="http://host:9000/path"), "must be host:port"),
        (lambda: store_with(retention_days=0), "retention_days"),
        (lambda: store_with(retention_days=3, object_lock=False), "retention_days"),
    ],
)
def test_bad_configuration_is_rejected(build: Callable[[], S3Store], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()


@pytest.mark.parametrize("expires_s", [0, 8 * 24 * 3600])
def test_presign_expiry_is_bounded(s3_store: S3Store, expires_s: int) -> None:
    with pytest.raises(ValueError, match="expires_s"):
        s3_store.presigned_url("k.bin", expires_s=expires_s)


def test_presigned_url_names_the_public_endpoint(s3_endpoint: str) -> None:
    """Browsers may reach S3 by another address; the URL is signed for that host and still verifies."""
    port = s3_endpoint.rsplit(":", 1)[1]
    store = S3Store(
        s3_endpoint, S3_ACCESS_KEY, S3_SECRET_KEY, unique_bucket(), public_endpoint=f"http://localhost:{port}"
    )
    try:
        store.put("ev/3.jpg", b"public", "image/jpeg")
        url = store.presigned_url("ev/3.jpg")

        assert url is not None
        assert url.startswith(f"http://localhost:{port}/{store.bucket}/ev/3.jpg?")
        assert httpx.get(url).content == b"public"
    finally:
        store.close()
