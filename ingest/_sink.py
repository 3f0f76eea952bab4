"""Where finished review items leave the worker: the evidence package and the sink that stores it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from detect.events import ReviewItem
from ingest.clips import EncodedClip


@dataclass(frozen=True)
class Evidence:
    """A closed review item with its encoded clip and annotated snapshot, ready to be stored."""

    camera_id: str
    event: ReviewItem
    clip: EncodedClip
    snapshot_jpeg: bytes
    model_version: str


class EventSink(Protocol):
    """Stores evidence durably (object store + database). Called from the clip thread pool, in order.

    It must not lose evidence on a transient outage: spool and retry rather than raise.
    """

    def publish(self, evidence: Evidence) -> None:
        """A review item opened: its clip (pre-roll + post-roll around the first violation) and snapshot."""
        ...

    def close(self, camera_id: str, item: ReviewItem) -> None:
        """The item closed: its final span and every violation it bundles (published before)."""
        ...
