"""Outage tolerance: objects the primary store cannot take are kept in a local spool and drained later."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from pathlib import Path

from ._base import (
    ObjectConflict,
    ObjectCorrupted,
    ObjectNotFound,
    ObjectStore,
    StorageUnavailable,
    StoredObject,
    validate_content_type,
    validate_key,
)
from ._local import LocalStore, _write_atomic

log = logging.getLogger(__name__)

_QUEUE_DIR = ".queue"


class _SpoolDir(LocalStore):
    """A LocalStore plus an arrival-ordered queue of keys; objects leave once safe in the primary store."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self._queue = self.root / _QUEUE_DIR  # keys never start with ".", so no collision with objects
        self._queue_lock = threading.Lock()

    def enqueue(self, key: str, data: bytes, content_type: str) -> StoredObject:
        # The queue entry lands first, so every spooled object has one; drain drops entries without object.
        with self._queue_lock:
            entries = self.entries()
            entry = self._queue / f"{int(entries[-1].stem) + 1 if entries else 0:012d}.key"
            with self._os_errors("queue", key):
                self._queue.mkdir(parents=True, exist_ok=True)
                _write_atomic(entry, key.encode(), overwrite=False)
            try:
                return self.put(key, data, content_type)
            except BaseException:
                entry.unlink(missing_ok=True)
                raise

    def entries(self) -> list[Path]:
        """Queue entries, oldest first (zero-padded sequence numbers sort in order)."""
        if not self._queue.is_dir():
            return []
        return sorted(self._queue.glob("*.key"))

    def entry_key(self, entry: Path) -> str:
        with self._os_errors("read", entry.name):
            return entry.read_text()

    def discard(self, entry: Path, key: str) -> None:
        path, meta_path = self._paths(key)
        with self._os_errors("remove", key):
            entry.unlink(missing_ok=True)
            path.unlink(missing_ok=True)
            meta_path.unlink(missing_ok=True)


class SpoolingStore:
    """Wraps a primary store so a storage outage loses nothing.

    `put` falls back to the spool when the primary raises StorageUnavailable and still returns the
    StoredObject (same sha256). After a failure the primary is not retried for `retry_after_s`, so a dead
    endpoint costs one timeout, not one per object. `drain()` (call it periodically) re-uploads spooled
    objects in arrival order, reads each back with its digest, and only then removes it from the spool.
    """

    def __init__(self, primary: ObjectStore, spool_dir: Path, *, retry_after_s: float = 5.0) -> None:
        self._primary = primary
        self._spool = _SpoolDir(Path(spool_dir))
        self._retry_after_s = retry_after_s
        self._down_until = 0.0
        self._drain_lock = threading.Lock()

    @property
    def primary(self) -> ObjectStore:
        return self._primary

    def put(self, key: str, data: bytes, content_type: str) -> StoredObject:
        validate_key(key)
        validate_content_type(content_type)
        if self._spool.exists(key):  # not drained yet: write-once is judged against the spooled copy
            return self._spool.put(key, data, content_type)
        if time.monotonic() >= self._down_until:
            try:
                return self._primary.put(key, data, content_type)
            except StorageUnavailable as exc:
                self._mark_down()
                log.warning("primary store unavailable, spooling %s: %s", key, exc)
        return self._spool.enqueue(key, data, content_type)

    def get(self, key: str, *, sha256: str | None = None) -> bytes:
        try:
            return self._spool.get(key, sha256=sha256)
        except ObjectNotFound:
            return self._primary.get(key, sha256=sha256)

    def exists(self, key: str) -> bool:
        return self._spool.exists(key) or self._primary.exists(key)

    def presigned_url(self, key: str, expires_s: int = 600) -> str | None:
        if self._spool.exists(key):
            return None  # only the API can serve a spooled object
        return self._primary.presigned_url(key, expires_s)

    def retain(self, key: str, until: datetime) -> None:
        if self._spool.exists(key):
            raise StorageUnavailable(f"object {key!r} is still spooled; its retention is set once uploaded")
        self._primary.retain(key, until)

    def delete(self, key: str) -> None:
        for entry in self._spool.entries():
            if self._spool.entry_key(entry) == key:
                self._spool.discard(entry, key)
                return
        self._primary.delete(key)

    def check(self) -> None:
        """Raise StorageUnavailable only if nothing can be stored: the spool covers a primary outage.
        Use `primary.check()` to report the degraded state."""
        self._spool.check()

    def pending(self) -> int:
        return len(self._spool.entries())

    def drain(self) -> int:
        """Upload spooled objects in order; return how many left the spool. Stops at the first outage."""
        drained = 0
        with self._drain_lock:
            for entry in self._spool.entries():
                key = self._spool.entry_key(entry)
                try:
                    if self._upload(key):
                        drained += 1
                except StorageUnavailable as exc:
                    self._mark_down()
                    log.warning("drain paused, primary still unavailable: %s", exc)
                    break
                except (ObjectConflict, ObjectCorrupted, ObjectNotFound) as exc:
                    log.error("spooled object %s kept in %s: %s", key, self._spool.root, exc)
                    continue
                self._spool.discard(entry, key)
            else:
                self._down_until = 0.0
        return drained

    def _upload(self, key: str) -> bool:
        """Copy one spooled object to the primary and prove it by reading it back; False if nothing to do."""
        try:
            spooled = self._spool.stat(key)
            data = self._spool.get(key, sha256=spooled.sha256)
        except ObjectNotFound:
            return False  # crashed between queue entry and object: the put never returned
        self._primary.put(key, data, spooled.content_type)
        self._primary.get(key, sha256=spooled.sha256)
        return True

    def _mark_down(self) -> None:
        self._down_until = time.monotonic() + self._retry_after_s
