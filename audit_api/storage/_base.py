"""Storage contract shared by every backend: the stored-object record, the error family, key rules."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

# Keys become file paths (local) and object names (S3): one safe charset everywhere, so an evidence key that
# works in the demo also works in production. Segments may not start with "." (no "..", no hidden temp names).
_SEGMENT = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}")
_MAX_KEY_LEN = 1024
_TOKEN = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*"
_CONTENT_TYPE = re.compile(rf"{_TOKEN}/{_TOKEN}(?:\s*;\s*{_TOKEN}=(?:{_TOKEN}|\"[^\"\r\n]*\"))*")


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    sha256: str  # lowercase hex digest of the bytes
    size: int
    content_type: str


class StorageError(Exception):
    """Base of every storage failure; the message is one readable line."""


class ObjectNotFound(StorageError):
    pass


class ObjectCorrupted(StorageError):
    """The bytes do not hash to the expected SHA-256 (on read, or as received by the server on write)."""


class ObjectConflict(StorageError):
    """Write-once violation: the key already holds different bytes."""


class ObjectLocked(StorageError):
    """The store refuses to delete the object: its retention (object lock) has not ended."""


class StorageUnavailable(StorageError):
    """The backend cannot be used right now (endpoint down, disk full, permission); retry or spool."""


class CredentialsRefused(StorageUnavailable):
    """The S3 endpoint answered but refused the access key or signature: a setting to fix (refused at
    start by `siteaudit worker`/`serve`); while running it is spooled like any outage (rotated keys)."""


class InvalidKey(StorageError, ValueError):
    pass


class InvalidContentType(StorageError, ValueError):
    pass


@runtime_checkable
class ObjectStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> StoredObject: ...

    def get(self, key: str, *, sha256: str | None = None) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def presigned_url(self, key: str, expires_s: int = 600) -> str | None: ...

    def check(self) -> None: ...

    def retain(self, key: str, until: datetime) -> None:
        """Keep the object at least until `until` (S3: extend its COMPLIANCE lock; never shortened). The
        local store keeps no lock of its own: the evidence registry records retention for it."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object (every version); ObjectLocked while its retention runs, ObjectNotFound if
        absent. Only the retention job deletes evidence."""
        ...


def validate_key(key: str) -> str:
    """Return `key` unchanged if it is a safe relative object key, else raise InvalidKey."""
    if not isinstance(key, str) or not key:
        raise InvalidKey("object key must be a non-empty string")
    if len(key) > _MAX_KEY_LEN:
        raise InvalidKey(f"object key longer than {_MAX_KEY_LEN} characters")
    if key.startswith("/"):
        raise InvalidKey(f"object key {key!r} must be relative (no leading '/')")
    for segment in key.split("/"):
        if not _SEGMENT.fullmatch(segment):
            raise InvalidKey(
                f"object key {key!r} has an invalid segment {segment!r}: use letters, digits, '.', '_', '-', "
                "not starting with '.'"
            )
    return key


def validate_content_type(content_type: str) -> str:
    if not isinstance(content_type, str) or not _CONTENT_TYPE.fullmatch(content_type):
        raise InvalidContentType(f"content type {content_type!r} is not of the form 'type/subtype'")
    return content_type


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verify_digest(key: str, data: bytes, *expected: str | None) -> str:
    """Hash `data` once and compare against every non-None expected digest; return the digest."""
    actual = sha256_hex(data)
    for want in expected:
        if want is not None and want.lower() != actual:
            raise ObjectCorrupted(f"object {key!r} is corrupted: sha256 {actual} != expected {want.lower()}")
    return actual
