"""One camera's path from frames to evidence: sampling, gating, pre-roll, rules, events and clips.

`CameraPipeline` has two sides. `offer(frame)` runs on the camera's decode thread for EVERY frame:
it feeds the pre-roll and any clip being recorded and says whether the frame is due for analysis.
`analyze(frame, detections)` runs on the inference thread for the due frames only: rules, events,
and — when a review item closes — clip encoding handed to a thread pool, then the sink.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field

import supervision as sv

from detect.analyzer import SceneAnalyzer
from detect.annotate import draw_snapshot, encode_jpeg
from detect.events import EventBuilder, EventUpdate, ReviewItem
from detect.privacy import HeadBlur
from detect.rules_config import CameraRules
from detect.tiling import BatchDetector, Plan, TilePlanner, detect_frames
from ingest._frame import Frame
from ingest._sink import EventSink, Evidence, Opening, OpeningSink, SegmentEvidence, SpanSink, ViolationStill
from ingest.clips import ClipRecorder, EncodedClip
from ingest.live import LiveDetections
from ingest.preroll import PreRollBuffer, StoredFrame
from ingest.sampler import FrameSampler, MotionGate, SamplingConfig
from ingest.segments import DEFAULT_SEGMENT_S, EncodedSegment, SpanRecorder

log = logging.getLogger(__name__)

MAX_STILLS_PER_ITEM = 500  # ~50 MB of JPEGs at worst; a 300 s item of a busy site has a few dozen
HEADS = HeadBlur()  # head regions kept with every snapshot and still, for their blurred copies (issue 13)
LIVE_WATCH_S = 10.0  # a live frame asked for within this long keeps the camera fully decoded


@dataclass(frozen=True)
class PipelineConfig:
    """Per-camera timing of analysis and evidence: the admin's `sampling` plus fixed internals."""

    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    keepalive_s: float = 2.0
    clip_fps: float = 10.0
    max_clip_s: float = 60.0
    segment_s: float = DEFAULT_SEGMENT_S  # the item's whole span is stored in pieces of at most this
    # With the motion gate on: after this long without motion (and no review item or clip open), the
    # source decodes keyframes only; motion seen on a keyframe resumes full decode from that GOP's start.
    # None: always decode every frame.
    idle_keyframes_after_s: float | None = 5.0


class CameraPipeline:
    """Sampling, rules and evidence for one camera (see the module docstring for the threading)."""

    def __init__(
        self,
        camera_id: str,
        rules: CameraRules,
        *,
        sink: EventSink,
        clip_pool: Executor,
        model_version: str,
        config: PipelineConfig | None = None,
    ) -> None:
        self.camera_id = camera_id
        self.rules = rules
        self.config = cfg = config or PipelineConfig()
        self._sink = sink
        self._pool = clip_pool
        self._model_version = model_version
        sampling = cfg.sampling
        self._sampler = FrameSampler(sampling.analysis_fps)
        self._gate = MotionGate(keepalive_s=cfg.keepalive_s) if sampling.motion_gate else None
        self._clips = ClipRecorder(
            PreRollBuffer(sampling.preroll_s + 1.0, fps_cap=cfg.clip_fps),
            pre_roll_s=sampling.preroll_s,
            post_roll_s=sampling.postroll_s,
            max_clip_s=cfg.max_clip_s,
            executor=clip_pool,
        )
        # The whole span on video and a still per violation, for a sink that stores them.
        self._span_sink = sink if isinstance(sink, SpanSink) else None
        self._spans = (
            None
            if self._span_sink is None
            else SpanRecorder(
                self._clips.buffer,
                pre_roll_s=sampling.preroll_s,
                post_roll_s=sampling.postroll_s,
                segment_s=cfg.segment_s,
                fps=cfg.clip_fps,
            )
        )
        self._stills: dict[str, list[ViolationStill]] = {}  # review item id → its violations' stills
        self._analyzer: SceneAnalyzer | None = None  # built on the first frame, once the size is known
        self.tiling = TilePlanner(sampling.tiling)  # detail passes for distant workers
        self._input_size: int | None = None  # the detector's, as given to the last tile_plan
        self._builder = EventBuilder(camera_id, rules)
        self._opened: dict[str, Future[None]] = {}  # review item id → its evidence being stored
        self._lock = threading.Lock()  # guards `published` (clip thread and inference thread)
        self._rules_lock = threading.Lock()  # a camera removed mid-frame: finish() waits for analyze()
        self.published: list[Future[None]] = []  # pending (or failed) evidence/close hand-overs
        # Counters since start: due at the analysis rate, skipped as still (motion gate), analysed.
        self.sampled = self.gated = self.analysed = 0
        self.latest_detections: LiveDetections | None = None  # the newest analysed frame's boxes (live view)
        self._last_offered: float | None = None
        self._watched_at: float | None = None  # monotonic time a live viewer last asked for a frame

    def latest_frame(self) -> StoredFrame | None:
        """The newest JPEG of the pre-roll ring: what live viewers are sent (no decode, no re-encode).

        Asking counts as being watched: a watched camera is decoded in full (see `keyframes_only`).
        """
        self._watched_at = time.monotonic()
        return self._clips.buffer.latest()

    # -- decode thread -------------------------------------------------------------------------
    def keyframes_only(self) -> bool:
        """May the source decode keyframes only? Idle: gate on, no motion lately, no item or clip open.

        The gate still sees every keyframe (each is due), so motion is noticed within one GOP; the
        pre-roll meanwhile holds one frame per GOP (the price of an idle camera costing ~1/30 of a decode).
        """
        after, gate = self.config.idle_keyframes_after_s, self._gate
        if after is None or gate is None or gate.last_motion_ts is None or self._last_offered is None:
            return False
        if self._builder.open_event is not None or self._clips.pending_count:
            return False
        if self._watched_at is not None and time.monotonic() - self._watched_at < LIVE_WATCH_S:
            return False  # someone is watching it live: one picture per GOP would look frozen
        return self._last_offered - gate.last_motion_ts >= after

    def offer(self, frame: Frame) -> bool:
        """Keep the frame for evidence; True when it should be analysed."""
        self._last_offered = frame.ts
        stored = self._clips.push(frame)
        if stored is not None and self._spans is not None:
            self._spans.push(stored)
        if not self._sampler.due(frame):
            return False
        self.sampled += 1
        if self._gate is None or self._gate.should_detect(frame):
            return True
        self.gated += 1
        return False

    # -- inference thread ------------------------------------------------------------------------
    def tile_plan(self, frame: Frame, input_size: int) -> Plan:
        """The detail passes this frame gets besides the plain one (the camera's `sampling.tiling`)."""
        self._input_size = input_size
        return self.tiling.plan(frame.width, frame.height, input_size, frame.ts)

    def detect_and_analyze(self, frame: Frame, detector: BatchDetector) -> list[EventUpdate]:
        """One frame on its own (demo, tests): detect as the worker does, then `analyze`."""
        (found,) = detect_frames(detector, [frame.image], [self.tile_plan(frame, detector.input_size)])
        return self.analyze(frame, found)

    def analyze(self, frame: Frame, detections: sv.Detections) -> list[EventUpdate]:
        """Run the rules on one analysed frame and act on the review items it opens or closes."""
        with self._rules_lock:
            size = (frame.width, frame.height)
            if self._analyzer is None or self._analyzer.frame_size != size:
                # First frame, or the stream changed resolution (a phone turned, a camera reconfigured):
                # zones and the ground plane are scaled to the frame, so rebuild (tracks restart).
                self._analyzer = SceneAnalyzer(
                    self.camera_id, self.rules, size, fps=self.config.sampling.analysis_fps
                )
            analysis = self._analyzer.analyze(detections, frame.ts)
            if self._input_size is not None:
                self.tiling.observe(detections, frame.width, frame.height, self._input_size, frame.ts)
            self.analysed += 1
            self.latest_detections = LiveDetections(frame.ts, size, detections, tuple(analysis.violations))
            updates = self._builder.update(analysis, frame.image)
            self._keep_stills(updates, frame, detections)
            self._apply(updates)
        self._clips.flush_overdue(frame.ts)
        if self._spans is not None:
            self._spans.flush_overdue(frame.ts)
        return updates

    def finish(self, ts: float) -> list[EventUpdate]:
        """End of stream: close open items and encode whatever each has recorded."""
        with self._rules_lock:
            updates = self._builder.flush(ts)
            self._apply(updates)
        self._clips.finish_all()
        if self._spans is not None:
            self._spans.finish_all()
        return updates

    def _keep_stills(self, updates: list[EventUpdate], frame: Frame, detections: sv.Detections) -> None:
        """The violations that fired on this frame each get a still with their own box in red."""
        if self._span_sink is None:
            return
        for update in updates:
            if update.type == "closed":
                continue
            stills = self._stills.setdefault(update.event.id, [])
            for violation in update.event.violations[len(stills) :]:
                if len(stills) >= MAX_STILLS_PER_ITEM:
                    log.warning("camera %s: review item %s has over %d stills; later ones are not kept",
                                self.camera_id, update.event.id, MAX_STILLS_PER_ITEM)  # fmt: skip
                    break
                image = draw_snapshot(frame.image, detections, [violation])
                heads = HEADS.head_regions(detections, image.shape)
                stills.append(ViolationStill(violation, encode_jpeg(image), heads))

    def _apply(self, updates: list[EventUpdate]) -> None:
        for update in updates:
            item = update.event
            if update.type == "opened":
                self._announce(item)  # alert now; the clip (after its post-roll) follows
                # Evidence goes out as soon as the post-roll is recorded; the item's final span and
                # violations follow when it closes.
                clip = self._clips.open(item.started_at)
                done = self._track()
                self._opened[item.id] = done
                clip.future.add_done_callback(functools.partial(self._publish, item, done=done))
                if self._spans is not None:
                    self._spans.open(item.id, item.started_at, functools.partial(self._segment, item, done))
            elif update.type == "closed":
                stills = self._stills.pop(item.id, [])
                if self._spans is not None and item.ended_at is not None:
                    self._spans.close(item.id, item.ended_at)
                opened = self._opened.pop(item.id, None)
                if opened is None:
                    continue
                closed = self._track()
                opened.add_done_callback(functools.partial(self._close, item, done=closed))
                if self._span_sink is not None and stills:
                    sink = self._span_sink
                    action = functools.partial(sink.store_stills, self.camera_id, item, stills)
                    closed.add_done_callback(functools.partial(self._after, action, self._track(), "stills"))

    def _announce(self, item: ReviewItem) -> None:
        """Tell an OpeningSink of the item with its snapshot, on the clip pool (the inference thread only
        hands over the copy it was given). Best effort: the event's record alerts if this one fails."""
        if not isinstance(self._sink, OpeningSink):
            return
        sink, snapshot = self._sink, item.best_snapshot
        if snapshot is None or snapshot.image is None:
            return
        frame, detections, violations = snapshot.image, snapshot.detections, snapshot.violations

        def run() -> None:
            try:
                image = draw_snapshot(frame, detections, violations)
                heads = HEADS.head_regions(detections, image.shape)
                opening = Opening(
                    self.camera_id, item.id, item.kinds, item.started_at, encode_jpeg(image), heads
                )
                sink.opened(opening)
            except Exception:
                log.exception("camera %s: opening alert for review item %s failed", self.camera_id, item.id)

        with contextlib.suppress(RuntimeError):  # shutting down: the event's record raises the alert
            self._pool.submit(run)

    def _track(self) -> Future[None]:
        """A new hand-over to the sink; finished ones are forgotten unless they failed (a live camera
        runs for months), so `published` holds what is pending plus any failure to surface."""
        future: Future[None] = Future()
        with self._lock:
            self.published = [f for f in self.published if not f.done() or f.exception() is not None]
            self.published.append(future)
        return future

    def _close(self, item: ReviewItem, opened: Future[None], *, done: Future[None]) -> None:
        """Once the opening evidence is stored, record the item's final span (on the clip thread)."""
        if opened.exception() is not None:
            done.set_exception(RuntimeError(f"review item {item.id} was never stored"))
            return

        def run() -> None:
            try:
                self._sink.close(self.camera_id, item)
                done.set_result(None)
            except Exception as exc:
                log.exception("camera %s: closing review item %s failed", self.camera_id, item.id)
                done.set_exception(exc)

        try:
            self._pool.submit(run)
        except RuntimeError:  # the worker is shutting down: record the end now, on this thread
            run()

    def _publish(self, item: ReviewItem, encoded: Future[EncodedClip], *, done: Future[None]) -> None:
        """Runs on the clip thread once the clip is encoded: snapshot, then the sink."""
        try:
            snapshot = item.best_snapshot
            if snapshot is None or snapshot.image is None:
                raise ValueError("review item has no snapshot frame")
            image = draw_snapshot(snapshot.image, snapshot.detections, snapshot.violations)
            evidence = Evidence(
                self.camera_id,
                item,
                encoded.result(),
                encode_jpeg(image),
                self._model_version,
                HEADS.head_regions(snapshot.detections, image.shape),
            )
            self._sink.publish(evidence)
            done.set_result(None)
        except Exception as exc:
            log.exception("camera %s: evidence for review item %s was not stored", self.camera_id, item.id)
            done.set_exception(exc)

    def _segment(self, item: ReviewItem, opened: Future[None], segment: EncodedSegment) -> None:
        """A segment of the item's span is encoded (recording thread): stored once the item is."""
        assert self._span_sink is not None
        evidence = SegmentEvidence(self.camera_id, item.id, item.started_at, segment)
        action = functools.partial(self._span_sink.store_segment, evidence)
        opened.add_done_callback(functools.partial(self._after, action, self._track(), "segment"))

    def _after(self, action: Callable[[], None], done: Future[None], what: str, before: Future[None]) -> None:
        """Run `action` on the clip thread once `before` (the item's own record) succeeded."""
        if before.exception() is not None:
            done.set_exception(RuntimeError(f"{what} not stored: its review item was not"))
            return

        def run() -> None:
            try:
                action()
                done.set_result(None)
            except Exception as exc:
                log.exception("camera %s: storing a %s failed", self.camera_id, what)
                done.set_exception(exc)

        try:
            self._pool.submit(run)
        except RuntimeError:  # the worker is shutting down
            run()
