"""Evidence object storage: local directory or S3/MinIO, SHA-256 verified, write-once, spooled on outage."""

from ._base import (
    CredentialsRefused,
    InvalidContentType,
    InvalidKey,
    ObjectConflict,
    ObjectCorrupted,
    ObjectLocked,
    ObjectNotFound,
    ObjectStore,
    StorageError,
    StorageUnavailable,
    StoredObject,
    sha256_hex,
    validate_key,
)
from ._factory import open_store
from ._local import LocalStore
from ._s3 import S3Store
from ._spool import SpoolingStore

__all__ = [
    "CredentialsRefused",
    "InvalidContentType",
    "InvalidKey",
    "LocalStore",
    "ObjectConflict",
    "ObjectCorrupted",
    "ObjectLocked",
    "ObjectNotFound",
    "ObjectStore",
    "S3Store",
    "SpoolingStore",
    "StorageError",
    "StorageUnavailable",
    "StoredObject",
    "open_store",
    "sha256_hex",
    "validate_key",
]
