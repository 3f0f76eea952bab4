"""One camera's path from frames to evidence: sampling, gating, pre-roll, rules, events and clips.

`CameraPipeline` has two sides. `offer(frame)` runs on the camera's decode thread for EVERY frame:
it feeds the pre-roll and any clip being recorded and says whether the frame is due for analysis.
`analyze(frame, detections)` runs on the inference thread for the due frames only: rules, events,
and — when a review item closes — clip encoding handed to a thread pool, then the sink.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field

import supervision as sv

from detect.analyzer import SceneAnalyzer
from detect.annotate import draw_snapshot, encode_jpeg
from detect.events import EventBuilder, EventUpdate, ReviewItem
from detect.rules_config import CameraRules
from ingest._frame import Frame
from ingest._sink import EventSink, Evidence
from ingest.clips import ClipRecorder, EncodedClip
from ingest.live import LiveDetections
from ingest.preroll import PreRollBuffer, StoredFrame
from ingest.sampler import FrameSampler, MotionGate, SamplingConfig

log = logging.getLogger(__name__)

LIVE_WATCH_S = 10.0  # a live frame asked for within this long keeps the camera fully decoded


@dataclass(frozen=True)
class PipelineConfig:
    """Per-camera timing of analysis and evidence: the admin's `sampling` plus fixed internals."""

    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    keepalive_s: float = 2.0
    clip_fps: float = 10.0
    max_clip_s: float = 60.0
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
        self._analyzer: SceneAnalyzer | None = None  # built on the first frame, once the size is known
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
        self._clips.push(frame)
        if not self._sampler.due(frame):
            return False
        self.sampled += 1
        if self._gate is None or self._gate.should_detect(frame):
            return True
        self.gated += 1
        return False

    # -- inference thread ------------------------------------------------------------------------
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
            self.analysed += 1
            self.latest_detections = LiveDetections(frame.ts, size, detections, tuple(analysis.violations))
            updates = self._builder.update(analysis, frame.image)
            self._apply(updates)
        self._clips.flush_overdue(frame.ts)
        return updates

    def finish(self, ts: float) -> list[EventUpdate]:
        """End of stream: close open items and encode whatever each has recorded."""
        with self._rules_lock:
            updates = self._builder.flush(ts)
            self._apply(updates)
        self._clips.finish_all()
        return updates

    def _apply(self, updates: list[EventUpdate]) -> None:
        for update in updates:
            item = update.event
            if update.type == "opened":
                # Evidence goes out as soon as the post-roll is recorded, so supervisors are alerted
                # within seconds; the item's final span and violations follow when it closes.
                clip = self._clips.open(item.started_at)
                done = self._track()
                self._opened[item.id] = done
                clip.future.add_done_callback(functools.partial(self._publish, item, done=done))
            elif update.type == "closed":
                opened = self._opened.pop(item.id, None)
                if opened is None:
                    continue
                closed = self._track()
                opened.add_done_callback(functools.partial(self._close, item, done=closed))

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
                self.camera_id, item, encoded.result(), encode_jpeg(image), self._model_version
            )
            self._sink.publish(evidence)
            done.set_result(None)
        except Exception as exc:
            log.exception("camera %s: evidence for review item %s was not stored", self.camera_id, item.id)
            done.set_exception(exc)
