"""Evidence objects in an S3/MinIO bucket (minio SDK): server-verified SHA-256, optional object lock."""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import urlsplit

import urllib3
from minio import Minio
from minio.error import MinioException, S3Error
from minio.helpers import MAX_PART_SIZE, MIN_PART_SIZE, check_bucket_name
from minio.retention import Retention

from ._base import (
    CredentialsRefused,
    ObjectConflict,
    ObjectCorrupted,
    ObjectLocked,
    ObjectNotFound,
    StorageError,
    StorageUnavailable,
    StoredObject,
    validate_content_type,
    validate_key,
    verify_digest,
)

_SHA_META = "sha256"  # user metadata, travels as x-amz-meta-sha256
_MISSING = frozenset({"NoSuchKey", "NoSuchVersion", "NoSuchObject"})
# Wrong key, wrong secret, or a key without access to the bucket (a HEAD answers a bare 403: AccessDenied).
_CREDENTIALS = frozenset(
    {"InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken", "AccessDenied"}
)
_CHECKSUM_FAILURES = frozenset(
    {
        "BadDigest",
        "InvalidDigest",
        "XAmzContentSHA256Mismatch",
        "XAmzContentChecksumMismatch",
        "InvalidChecksum",
    }
)
_MAX_PRESIGN_S = 7 * 24 * 3600


class S3Store:
    """Write-once evidence in one bucket. Every upload carries its SHA-256 checksum so the server rejects
    damaged bytes, and every read is re-hashed against the digest recorded at upload time."""

    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        *,
        secure: bool = False,
        region: str = "us-east-1",
        object_lock: bool = True,
        retention_days: int | None = None,
        retention_mode: Literal["COMPLIANCE", "GOVERNANCE"] = "COMPLIANCE",
        connect_timeout_s: float = 3.0,
        read_timeout_s: float = 60.0,
        retries: int = 2,
        public_endpoint: str | None = None,
    ) -> None:
        if retention_days is not None and (retention_days < 1 or not object_lock):
            raise ValueError("retention_days needs object_lock=True and must be >= 1")
        check_bucket_name(bucket, strict=True)  # ValueError with the offending name
        host, secure = _split_endpoint(endpoint, secure)
        self._endpoint = host
        self._bucket = bucket
        self._region = region
        self._object_lock = object_lock
        self._retention_days = retention_days
        self._retention_mode = retention_mode
        self._bucket_ready = False
        # Short timeouts and few retries: an outage must surface quickly so the caller can spool.
        self._http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=connect_timeout_s, read=read_timeout_s),
            retries=urllib3.Retry(
                total=retries, read=0, backoff_factor=0.2, status_forcelist=(500, 502, 503, 504)
            ),
            maxsize=10,
        )
        self._client = Minio(
            host, access_key, secret_key, secure=secure, region=region, http_client=self._http
        )
        # URLs are signed for the host the browser will use, which may differ from ours (docker's
        # "minio:9000" vs "localhost:9000"). Signing is local: this client never opens a connection.
        self._signer = self._client
        if public_endpoint is not None:
            public_host, public_secure = _split_endpoint(public_endpoint, secure)
            self._signer = Minio(
                public_host,
                access_key,
                secret_key,
                secure=public_secure,
                region=region,
                http_client=self._http,
            )

    @property
    def bucket(self) -> str:
        return self._bucket

    @property
    def client(self) -> Minio:
        """The underlying minio client (for admin tasks and tests, not for evidence writes)."""
        return self._client

    def ensure_bucket(self) -> None:
        """Create the bucket (object-lock enabled when asked); refuse an existing bucket lacking the lock."""
        with self._errors("(bucket)"):
            if not self._client.bucket_exists(self._bucket):
                try:
                    self._client.make_bucket(self._bucket, self._region, object_lock=self._object_lock)
                except S3Error as exc:
                    if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                        raise
            elif self._object_lock:
                self._require_lock()
        self._bucket_ready = True

    def put(self, key: str, data: bytes, content_type: str) -> StoredObject:
        validate_key(key)
        validate_content_type(content_type)
        if len(data) > MAX_PART_SIZE:
            raise StorageError(f"object {key!r} is {len(data)} bytes; single verified uploads stop at 5 GiB")
        digest = hashlib.sha256(data).digest()
        new = StoredObject(key, digest.hex(), len(data), content_type)
        if not self._bucket_ready:
            self.ensure_bucket()
        existing = self._stat(key)
        if existing is not None:
            if existing.sha256 != new.sha256:
                raise ObjectConflict(
                    f"object {key!r} already stored with sha256 {existing.sha256}; evidence is write-once"
                )
            return existing
        checksum = base64.b64encode(digest).decode()
        headers: dict[str, str | list[str] | tuple[str]] = {
            "x-amz-sdk-checksum-algorithm": "SHA256",
            "x-amz-checksum-sha256": checksum,
            _SHA_META: new.sha256,
        }
        with self._errors(key):
            result = self._client.put_object(
                self._bucket,
                key,
                io.BytesIO(data),
                len(data),
                content_type=content_type,
                metadata=headers,
                retention=self._retention(),
                part_size=max(MIN_PART_SIZE, len(data)),  # one PUT: the checksum covers the whole object
            )
        echoed = result.http_headers.get("x-amz-checksum-sha256")
        if echoed is not None and echoed != checksum:
            raise ObjectCorrupted(f"S3 stored {key!r} with checksum {echoed}, expected {checksum}")
        return new

    def get(self, key: str, *, sha256: str | None = None) -> bytes:
        validate_key(key)
        with self._errors(key):
            response = self._client.get_object(self._bucket, key)
            try:
                data = response.read()
                recorded = response.headers.get(f"x-amz-meta-{_SHA_META}")
            finally:
                response.close()
                response.release_conn()
        verify_digest(key, data, recorded, sha256)
        return data

    def stat(self, key: str) -> StoredObject:
        validate_key(key)
        existing = self._stat(key)
        if existing is None:
            raise ObjectNotFound(f"object {key!r} not found in bucket {self._bucket}")
        return existing

    def exists(self, key: str) -> bool:
        validate_key(key)
        return self._stat(key) is not None

    def presigned_url(self, key: str, expires_s: int = 600) -> str | None:
        validate_key(key)
        if not 1 <= expires_s <= _MAX_PRESIGN_S:
            raise ValueError(f"expires_s must be between 1 and {_MAX_PRESIGN_S}, got {expires_s}")
        with self._errors(key):  # signing is local: the region is given, so no lookup round-trip
            return self._signer.presigned_get_object(self._bucket, key, expires=timedelta(seconds=expires_s))

    def check(self) -> None:
        self.ensure_bucket()

    def retain(self, key: str, until: datetime) -> None:
        """Extend the object's lock to `until` (COMPLIANCE can be extended, never shortened: a lock that
        already runs longer is left as is). No-op on a bucket without object lock."""
        validate_key(key)
        if not self._object_lock:
            return
        with self._errors(key):
            info = self._client.stat_object(self._bucket, key)
            current = (info.metadata or {}).get("x-amz-object-lock-retain-until-date")
            if current is not None and _parse_time(str(current)) >= until:
                return
            self._client.set_object_retention(self._bucket, key, Retention(self._retention_mode, until))

    def delete(self, key: str) -> None:
        """Remove every version of the object; ObjectLocked while a version's retention runs."""
        validate_key(key)
        with self._errors(key):
            versions = [
                o.version_id
                for o in self._client.list_objects(self._bucket, prefix=key, include_version=True)
                if o.object_name == key
            ]
            if not versions:
                raise ObjectNotFound(f"object {key!r} not found in bucket {self._bucket}")
            for version in versions:
                try:
                    self._client.remove_object(self._bucket, key, version_id=version)
                except S3Error as exc:
                    if exc.code == "AccessDenied":
                        raise ObjectLocked(
                            f"object {key!r} in bucket {self._bucket} is under retention; not deleted"
                        ) from None
                    raise

    def close(self) -> None:
        self._http.clear()

    def _stat(self, key: str) -> StoredObject | None:
        with self._errors(key):
            try:
                info = self._client.stat_object(self._bucket, key)
            except S3Error as exc:
                if exc.code in _MISSING:
                    return None
                raise
        recorded = (info.metadata or {}).get(f"x-amz-meta-{_SHA_META}")
        if recorded is None:
            raise StorageError(f"object {key!r} in bucket {self._bucket} has no sha256 metadata")
        return StoredObject(key, str(recorded), int(info.size or 0), str(info.content_type))

    def _require_lock(self) -> None:
        try:
            self._client.get_object_lock_config(self._bucket)
        except S3Error as exc:
            if exc.code != "ObjectLockConfigurationNotFoundError":
                raise
            raise StorageError(
                f"bucket {self._bucket} exists without object lock; evidence needs a bucket created with "
                "object lock (it cannot be enabled later)"
            ) from None

    def _retention(self) -> Retention | None:
        if self._retention_days is None:
            return None
        until = datetime.now(UTC) + timedelta(days=self._retention_days)
        return Retention(self._retention_mode, until)

    @contextmanager
    def _errors(self, key: str) -> Iterator[None]:
        """Translate minio/urllib3 failures into the storage error family with one readable line."""
        try:
            yield
        except S3Error as exc:
            raise self._translate(exc, key) from exc
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            reason = _first_line(getattr(exc, "reason", None) or exc)
            raise StorageUnavailable(f"S3 endpoint {self._endpoint} unreachable: {reason}") from exc

    def _translate(self, exc: S3Error, key: str) -> StorageError:
        code = exc.code or "UnknownError"
        if code in _MISSING:
            return ObjectNotFound(f"object {key!r} not found in bucket {self._bucket}")
        if code in _CHECKSUM_FAILURES:
            return ObjectCorrupted(f"S3 rejected {key!r}: checksum mismatch ({code})")
        if code == "NoSuchBucket":
            self._bucket_ready = False  # recreated on the next put
        if code in _CREDENTIALS:
            return CredentialsRefused(
                f"S3 {self._endpoint} refused the credentials for bucket {self._bucket} ({code}): check "
                "SITEAUDIT_S3_ACCESS_KEY, SITEAUDIT_S3_SECRET_KEY and the key's access to the bucket"
            )
        # Everything else (missing bucket, throttling, server errors) is retryable after a fix:
        # the caller spools instead of losing the object.
        return StorageUnavailable(f"S3 {self._endpoint} bucket {self._bucket}: {code}: {exc.message or ''}")


def _split_endpoint(endpoint: str, secure: bool) -> tuple[str, bool]:
    """Accept `host:port` or `http(s)://host:port`; a URL scheme decides TLS."""
    if "://" not in endpoint:
        return endpoint, secure
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path.strip("/"):
        raise ValueError(f"S3 endpoint {endpoint!r} must be host:port or http(s)://host:port")
    return parts.netloc, parts.scheme == "https"


def _parse_time(value: str) -> datetime:
    """An ISO 8601 time as S3 sends it (`2026-12-01T17:00:00.000Z`), timezone-aware."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _first_line(value: object) -> str:
    text = str(value).strip()
    return text.splitlines()[0][:200] if text else type(value).__name__
