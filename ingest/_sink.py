"""Where finished review items leave the worker: the evidence package and the sink that stores it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from detect.analyzer import Violation
from detect.events import ReviewItem
from detect.privacy import HeadRegion
from ingest.clips import EncodedClip
from ingest.segments import EncodedSegment


@dataclass(frozen=True)
class Evidence:
    """A closed review item with its encoded clip and annotated snapshot, ready to be stored."""

    camera_id: str
    event: ReviewItem
    clip: EncodedClip
    snapshot_jpeg: bytes
    model_version: str
    snapshot_heads: tuple[HeadRegion, ...] = ()  # head regions of the snapshot, for its blurred copy


@dataclass(frozen=True)
class Opening:
    """A review item that just opened, with its annotated snapshot: enough to alert before the clip's
    post-roll is recorded (issue 14). The same item's Evidence follows via `EventSink.publish`."""

    camera_id: str
    item_id: str
    kinds: list[str]
    started_at: float
    snapshot_jpeg: bytes
    snapshot_heads: tuple[HeadRegion, ...] = ()


@runtime_checkable
class OpeningSink(Protocol):
    """A sink that also wants to hear of items as they open (optional: the pipeline checks for it)."""

    def opened(self, opening: Opening) -> None:
        """Called on the clip thread pool right after the item opened; must not raise."""
        ...


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


@dataclass(frozen=True)
class SegmentEvidence:
    """One finished segment of a review item's recorded span (pre-roll + span + post-roll)."""

    camera_id: str
    item_id: str
    item_started_at: float  # names the item's objects (with its id), like Evidence
    segment: EncodedSegment


@dataclass(frozen=True)
class ViolationStill:
    """One violation's own snapshot: the frame it fired on, with that violator's box drawn in red."""

    violation: Violation
    jpeg: bytes
    heads: tuple[HeadRegion, ...] = ()  # head regions of the still, for its blurred copy


@runtime_checkable
class SpanSink(Protocol):
    """A sink that also takes the whole span on video and one still per violation. The pipeline records
    spans only for such a sink; calls come from the clip thread pool, after the item's `publish`."""

    def store_segment(self, evidence: SegmentEvidence) -> None:
        """A segment of the item's span is finished (segments arrive in order; the last one is `final`)."""
        ...

    def store_stills(self, camera_id: str, item: ReviewItem, stills: list[ViolationStill]) -> None:
        """The item closed (after `close`): each of its violations' stills."""
        ...
