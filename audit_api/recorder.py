"""The worker's event sink: evidence objects into the store, then the event rows into the database.

Order matters for "lose nothing": objects are written first (write-once, SHA-256 verified; the S3 store
spools locally during an outage), then one DB transaction records the event with the objects' hashes.
If the database is down, the evidence package is kept in an outbox directory and retried, so a
finished review item survives a restart of the worker too.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from audit_api.services.events import record_event
from audit_api.storage import ObjectStore, StoredObject
from ingest._sink import Evidence

log = logging.getLogger(__name__)


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def evidence_keys(evidence: Evidence) -> tuple[str, str]:
    """Object keys: camera / UTC day / review item id — unique, sortable, readable in a bucket browser."""
    day = _utc(evidence.event.started_at).strftime("%Y/%m/%d")
    base = f"cameras/{evidence.camera_id}/{day}/{evidence.event.id}"
    return f"{base}/clip.mp4", f"{base}/snapshot.jpg"


def violation_rows(evidence: Evidence) -> list[dict[str, Any]]:
    return [
        {
            "kind": v.kind,
            "track_id": v.track_id,
            # Zone ids are DB ids rendered as strings by the runtime; None is the implicit whole frame.
            "zone_id": int(v.zone_id) if v.zone_id and v.zone_id.isdigit() else None,
            "ts": _utc(v.ts),
            "box": [float(x) for x in v.box],
            "confidence": float(v.confidence),
        }
        for v in evidence.event.violations
    ]


class EventRecorder:
    """Implements ingest's EventSink for the audit database; remembers the DB ids it created."""

    def __init__(self, sessions: sessionmaker[Session], store: ObjectStore, outbox: Path) -> None:
        self._sessions = sessions
        self.store = store
        self._outbox = outbox
        self._lock = threading.Lock()
        self.recorded: list[int] = []

    def publish(self, evidence: Evidence) -> None:
        clip_key, snap_key = evidence_keys(evidence)
        clip = self.store.put(clip_key, evidence.clip.data, "video/mp4")
        snapshot = self.store.put(snap_key, evidence.snapshot_jpeg, "image/jpeg")
        row = self._row(evidence, clip, snapshot)
        try:
            self._record(row)
        except SQLAlchemyError as exc:
            path = self._park(evidence.event.id, row)
            log.error("database unavailable (%s); event parked in %s for retry", exc.__class__.__name__, path)

    def retry_outbox(self) -> int:
        """Record parked events (oldest first); returns how many went through."""
        done = 0
        for path in sorted(self._outbox.glob("*.json")):
            row = json.loads(path.read_text())
            row["started_at"] = datetime.fromisoformat(row["started_at"])
            row["ended_at"] = datetime.fromisoformat(row["ended_at"])
            for v in row["violations"]:
                v["ts"] = datetime.fromisoformat(v["ts"])
            row["clip"] = StoredObject(**row["clip"])
            row["snapshot"] = StoredObject(**row["snapshot"])
            try:
                self._record(row)
            except SQLAlchemyError:
                break
            path.unlink()
            done += 1
        return done

    def _row(self, evidence: Evidence, clip: StoredObject, snapshot: StoredObject) -> dict[str, Any]:
        item = evidence.event
        ended = item.ended_at if item.ended_at is not None else item.last_violation_at
        return {
            "camera_id": int(evidence.camera_id),
            "kinds": item.kinds,
            "started_at": _utc(item.started_at),
            "ended_at": _utc(ended),
            "violations": violation_rows(evidence),
            "snapshot": snapshot,
            "clip": clip,
            "clip_duration_s": evidence.clip.duration_s,
            "model_version": evidence.model_version,
            "rule_snapshot": item.rule_snapshot | {"rule_version": item.rule_version, "review_item": item.id},
        }

    def _record(self, row: dict[str, Any]) -> None:
        with self._lock, self._sessions() as session:
            event = record_event(session, **row)
            self.recorded.append(event.id)

    def _park(self, item_id: str, row: dict[str, Any]) -> Path:
        self._outbox.mkdir(parents=True, exist_ok=True)
        path = self._outbox / f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{item_id}.json"
        serialisable = row | {
            "started_at": row["started_at"].isoformat(),
            "ended_at": row["ended_at"].isoformat(),
            "violations": [v | {"ts": v["ts"].isoformat()} for v in row["violations"]],
            "clip": _object_dict(row["clip"]),
            "snapshot": _object_dict(row["snapshot"]),
        }
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(serialisable))
        tmp.replace(path)
        return path


def _object_dict(obj: StoredObject) -> dict[str, Any]:
    return {"key": obj.key, "sha256": obj.sha256, "size": obj.size, "content_type": obj.content_type}
