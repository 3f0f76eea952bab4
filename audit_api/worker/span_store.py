"""The worker's sink for a review item's whole span (segments) and each violation's still (issue 12).

Kept apart from recorder.py: `EventRecorder` gets these two `SpanSink` methods from `SpanEvidence`. Like the
opening evidence, objects go to the store first (write-once, SHA-256), then a typed record that links them
to the event goes through the recorder's journal (`services.span_recording`): applied at once, or replayed
in order after the item's event when the database was down — a late event still gets its span and stills.
Fenced by the camera's lease like every worker write (refused → nothing linked, the camera is dropped).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from audit_api.services.leases import LeaseLost, LeaseToken
from audit_api.services.span_recording import SegmentRecord, StillRecord, StillsRecord
from audit_api.storage import ObjectStore
from audit_api.worker.journal import Entry, SegmentEntry, StillsEntry
from audit_api.worker.lease_keeper import LeaseKeeper
from detect.events import ReviewItem
from ingest._sink import SegmentEvidence, ViolationStill

log = logging.getLogger(__name__)


def item_key_base(camera_id: str, started_at: float, item_id: str) -> str:
    """camera / UTC day / review item id: the prefix of every object of one review item."""
    day = datetime.fromtimestamp(started_at, tz=UTC).strftime("%Y/%m/%d")
    return f"cameras/{camera_id}/{day}/{item_id}"


def segment_key(evidence: SegmentEvidence) -> str:
    base = item_key_base(evidence.camera_id, evidence.item_started_at, evidence.item_id)
    return f"{base}/segments/{evidence.segment.index:03d}.mp4"


def still_key(camera_id: str, item: ReviewItem, index: int) -> str:
    return f"{item_key_base(camera_id, item.started_at, item.id)}/violations/{index:03d}.jpg"


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


class SpanEvidence:
    """`SpanSink` for `EventRecorder` (which provides the attributes declared here)."""

    store: ObjectStore
    leases: LeaseKeeper | None

    def _refused(self, exc: LeaseLost, item_id: str) -> None:
        log.warning(
            "%s: evidence of review item %s not recorded (another worker runs the camera)", exc, item_id
        )
        if self.leases is not None:
            self.leases.lose(exc.camera_id, exc.token)

    def _lease(self, camera_id: str) -> tuple[bool, LeaseToken | None]:
        """(may write, token): a fenced worker writes only for the cameras it holds."""
        if self.leases is None:
            return True, None
        token = self.leases.token(camera_id)
        return token is not None, token

    def _submit(self, entry: Entry, blobs: tuple[bytes, bytes] | None = None) -> None:
        raise NotImplementedError  # EventRecorder's: journal first, then the database

    def store_segment(self, evidence: SegmentEvidence) -> None:
        """Store one segment of a review item's span and link it to the item's event."""
        allowed, token = self._lease(evidence.camera_id)
        if not allowed:
            log.warning("camera %s is not leased here: segment of %s not recorded", evidence.camera_id,
                        evidence.item_id)  # fmt: skip
            return
        segment = evidence.segment
        stored = self.store.put(segment_key(evidence), segment.clip.data, "video/mp4")
        record = SegmentRecord(
            key=evidence.item_id,
            camera_id=int(evidence.camera_id),
            index=segment.index,
            started_at=_utc(segment.start_ts),
            ended_at=_utc(segment.end_ts),
            final=segment.final,
            object=stored,
            lease=token,
        )
        self._submit(SegmentEntry(record=record))

    def store_stills(self, camera_id: str, item: ReviewItem, stills: list[ViolationStill]) -> None:
        """Store each violation's still and link it to the violation's row (matched by kind, track, time)."""
        allowed, token = self._lease(camera_id)
        if not allowed or not stills:
            return
        records = [
            StillRecord(
                kind=still.violation.kind,
                track_id=still.violation.track_id,
                ts=_utc(still.violation.ts),
                object=self.store.put(still_key(camera_id, item, i), still.jpeg, "image/jpeg"),
                heads=[tuple(region) for region in still.heads],
            )
            for i, still in enumerate(stills)
        ]
        record = StillsRecord(key=item.id, camera_id=int(camera_id), stills=records, lease=token)
        self._submit(StillsEntry(record=record))
