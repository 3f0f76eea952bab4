"""Write-once object store in a local directory: `<root>/<key>` plus a JSON sidecar `<root>/.meta/<key>.json`.

Keys never start with "." (see validate_key), so `.meta/` and the `.<name>.<uuid>.tmp` staging files cannot
collide with objects. The sidecar is written first and the object is published last with os.link (atomic and
refuses to overwrite), so the object file's presence is the commit point of a put.
"""

from __future__ import annotations

import errno
import json
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from ._base import (
    ObjectConflict,
    ObjectNotFound,
    StorageError,
    StorageUnavailable,
    StoredObject,
    sha256_hex,
    validate_content_type,
    validate_key,
    verify_digest,
)

_META_DIR = ".meta"
_UNKNOWN_TYPE = "application/octet-stream"
_REASONS = {
    errno.ENOSPC: "disk full",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EIO: "I/O error",
}


class LocalStore:
    """Evidence objects in a directory; SHA-256 computed on write and verified on every read."""

    def __init__(self, root: Path) -> None:
        self._root = Path(root)
        self._lock = threading.Lock()  # makes exists-check + publish one step for threads of this process

    @property
    def root(self) -> Path:
        return self._root

    def put(self, key: str, data: bytes, content_type: str) -> StoredObject:
        validate_key(key)
        validate_content_type(content_type)
        new = StoredObject(key, sha256_hex(data), len(data), content_type)
        path, meta_path = self._paths(key)
        with self._lock, self._os_errors("write", key):
            existing = self._stored(key, path, meta_path)
            if existing is not None:
                return _same_or_conflict(existing, new)
            self._make_parents(key, path, meta_path)
            _write_atomic(meta_path, _encode_meta(new), overwrite=True)
            try:
                _write_atomic(path, data, overwrite=False)
            except FileExistsError:
                # Another process published the key first: write-once decides between us.
                return _same_or_conflict(self._require(key, path, meta_path), new)
            except BaseException:
                meta_path.unlink(missing_ok=True)
                raise
        return new

    def get(self, key: str, *, sha256: str | None = None) -> bytes:
        validate_key(key)
        path, meta_path = self._paths(key)
        with self._os_errors("read", key):
            try:
                data = path.read_bytes()
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                raise self._not_found(key) from None
            recorded = _read_meta(key, meta_path)
        verify_digest(key, data, recorded.sha256 if recorded else None, sha256)
        return data

    def stat(self, key: str) -> StoredObject:
        """The stored record (sha256, size, content type) without reading the object."""
        validate_key(key)
        with self._os_errors("read", key):
            return self._require(key, *self._paths(key))

    def exists(self, key: str) -> bool:
        validate_key(key)
        return self._paths(key)[0].is_file()

    def presigned_url(self, key: str, expires_s: int = 600) -> str | None:
        validate_key(key)
        return None  # served through the API, which streams get()

    def retain(self, key: str, until: datetime) -> None:
        validate_key(key)  # no lock here: the evidence registry holds the retention

    def delete(self, key: str) -> None:
        validate_key(key)
        path, meta_path = self._paths(key)
        with self._lock, self._os_errors("remove", key):
            if not path.is_file():
                raise self._not_found(key)
            path.unlink()
            meta_path.unlink(missing_ok=True)
            _fsync_dir(path.parent)

    def check(self) -> None:
        probe = self._root / _META_DIR / f".probe-{uuid.uuid4().hex}"
        with self._os_errors("write", "(probe)"):
            probe.parent.mkdir(parents=True, exist_ok=True)
            try:
                _write_atomic(probe, b"ok", overwrite=True)
            finally:
                probe.unlink(missing_ok=True)

    def _paths(self, key: str) -> tuple[Path, Path]:
        return self._root / key, self._root / _META_DIR / f"{key}.json"

    def _stored(self, key: str, path: Path, meta_path: Path) -> StoredObject | None:
        if path.is_dir():
            raise ObjectConflict(f"key {key!r} is a prefix of other objects in {self._root}")
        if not path.is_file():
            return None
        recorded = _read_meta(key, meta_path)
        if recorded is not None:
            return recorded
        # Object without sidecar (hand-copied file): describe it from its bytes.
        data = path.read_bytes()
        return StoredObject(key, sha256_hex(data), len(data), _UNKNOWN_TYPE)

    def _require(self, key: str, path: Path, meta_path: Path) -> StoredObject:
        stored = self._stored(key, path, meta_path)
        if stored is None:
            raise self._not_found(key)
        return stored

    def _make_parents(self, key: str, path: Path, meta_path: Path) -> None:
        self._root.mkdir(parents=True, exist_ok=True)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise ObjectConflict(f"key {key!r} lies under an existing object in {self._root}") from None
        meta_path.parent.mkdir(parents=True, exist_ok=True)

    def _not_found(self, key: str) -> ObjectNotFound:
        return ObjectNotFound(f"object {key!r} not found in local store {self._root}")

    @contextmanager
    def _os_errors(self, action: str, key: str) -> Iterator[None]:
        try:
            yield
        except StorageError:
            raise
        except OSError as exc:
            reason = _REASONS.get(exc.errno or 0, exc.strerror or type(exc).__name__)
            raise StorageUnavailable(f"local store {self._root}: cannot {action} {key!r}: {reason}") from exc


def _same_or_conflict(existing: StoredObject, new: StoredObject) -> StoredObject:
    if existing.sha256 != new.sha256:
        raise ObjectConflict(
            f"object {new.key!r} already stored with sha256 {existing.sha256}; evidence is write-once"
        )
    return existing


def _write_atomic(path: Path, data: bytes, *, overwrite: bool) -> None:
    """Stage in a hidden temp file, fsync, then publish (replace, or link which refuses to overwrite)."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        if overwrite:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _encode_meta(obj: StoredObject) -> bytes:
    return json.dumps({"sha256": obj.sha256, "size": obj.size, "content_type": obj.content_type}).encode()


def _read_meta(key: str, meta_path: Path) -> StoredObject | None:
    try:
        raw = json.loads(meta_path.read_bytes())
        return StoredObject(key, str(raw["sha256"]), int(raw["size"]), str(raw["content_type"]))
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError) as exc:
        raise StorageError(f"metadata of object {key!r} is unreadable ({meta_path}): {exc}") from exc
