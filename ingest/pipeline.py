"""One camera's path from frames to evidence: sampling, gating, pre-roll, rules, events and clips.

`CameraPipeline` has two sides. `offer(frame)` runs on the camera's decode thread for EVERY frame:
it feeds the pre-roll and any clip being recorded and says whether the frame is due for analysis.
`analyze(frame, detections)` runs on the inference thread for the due frames only: rules, events,
and — when a review item closes — clip encoding handed to a thread pool, then the sink.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field

import supervision as sv

from detect.analyzer import SceneAnalyzer
from detect.annotate import draw_snapshot, encode_jpeg
from detect.events import EventBuilder, EventUpdate, ReviewItem
from detect.rules_config import CameraRules
from ingest._frame import Frame
from ingest._sink import Evidence, EventSink
from ingest.clips import encode_mp4
from ingest.preroll import PreRollBuffer
from ingest.sampler import FrameSampler, MotionGate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PipelineConfig:
    """Per-camera timing of analysis and evidence."""

    analysis_fps: float = 5.0
    motion_gating: bool = True
    keepalive_s: float = 2.0
    pre_roll_s: float = 5.0
    post_roll_s: float = 5.0
    clip_fps: float = 10.0
    max_clip_s: float = 60.0


@dataclass
class _Recording:
    """Frames kept for one open review item, from its pre-roll on."""

    event_id: str
    frames: list[Frame] = field(default_factory=list)
    closed: ReviewItem | None = None  # set when the item closed; recording continues for the post-roll


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
        self.config = config or PipelineConfig()
        self._sink = sink
        self._pool = clip_pool
        self._model_version = model_version
        self._sampler = FrameSampler(self.config.analysis_fps)
        self._gate = MotionGate(keepalive_s=self.config.keepalive_s) if self.config.motion_gating else None
        self._preroll = PreRollBuffer(seconds=self.config.pre_roll_s + 1.0, fps_cap=self.config.clip_fps)
        self._analyzer: SceneAnalyzer | None = None  # built on the first frame, once the size is known
        self._builder = EventBuilder(camera_id, rules)
        self._lock = threading.Lock()  # guards _recordings (decode thread appends, inference thread opens)
        self._recordings: dict[str, _Recording] = {}
        self._last_kept_ts = float("-inf")
        self.pending: list[Future[None]] = []

    # -- decode thread -------------------------------------------------------------------------
    def offer(self, frame: Frame) -> bool:
        """Keep the frame for evidence; True when it should be analysed."""
        self._preroll.push(frame)
        if frame.ts - self._last_kept_ts >= 1.0 / self.config.clip_fps:
            self._last_kept_ts = frame.ts
            self._feed_recordings(frame)
        if not self._sampler.due(frame):
            return False
        return self._gate is None or self._gate.should_detect(frame)

    def _feed_recordings(self, frame: Frame) -> None:
        finished: list[_Recording] = []
        with self._lock:
            for rec in list(self._recordings.values()):
                rec.frames.append(frame)
                if rec.closed is not None and frame.ts >= self._clip_end(rec.closed):
                    finished.append(self._recordings.pop(rec.event_id))
        for rec in finished:
            self._submit(rec)

    # -- inference thread ------------------------------------------------------------------------
    def analyze(self, frame: Frame, detections: sv.Detections) -> list[EventUpdate]:
        """Run the rules on one analysed frame and act on the review items it opens or closes."""
        if self._analyzer is None:
            self._analyzer = SceneAnalyzer(
                self.camera_id, self.rules, (frame.width, frame.height), fps=self.config.analysis_fps
            )
        analysis = self._analyzer.analyze(detections, frame.ts)
        updates = self._builder.update(analysis, frame.image)
        self._apply(updates)
        return updates

    def finish(self, ts: float) -> list[EventUpdate]:
        """End of stream: close open items and encode whatever each has recorded."""
        updates = self._builder.flush(ts)
        self._apply(updates)
        with self._lock:
            leftovers = list(self._recordings.values())
            self._recordings.clear()
        for rec in leftovers:
            if rec.closed is not None:
                self._submit(rec)
        return updates

    @property
    def distance_rule_enabled(self) -> bool:
        return self._analyzer.distance_rule_enabled if self._analyzer else self.rules.calibration is not None

    def _apply(self, updates: list[EventUpdate]) -> None:
        for update in updates:
            item = update.event
            if update.type == "opened":
                start = item.started_at - self.config.pre_roll_s
                with self._lock:
                    self._recordings[item.id] = _Recording(item.id, self._preroll.window(start, item.started_at))
            elif update.type == "closed":
                with self._lock:
                    rec = self._recordings.get(item.id)
                    if rec is not None:
                        rec.closed = item.copy()

    def _clip_end(self, item: ReviewItem) -> float:
        return min(item.last_violation_at + self.config.post_roll_s, item.started_at + self.config.max_clip_s)

    def _submit(self, rec: _Recording) -> None:
        assert rec.closed is not None
        self.pending.append(self._pool.submit(self._publish, rec.closed, rec.frames))

    def _publish(self, item: ReviewItem, frames: list[Frame]) -> None:
        start = item.started_at - self.config.pre_roll_s
        end = self._clip_end(item)
        window = [f for f in frames if start <= f.ts <= end] or frames
        try:
            clip = encode_mp4(window)
            snapshot = item.best_snapshot
            if snapshot is None or snapshot.image is None:
                raise ValueError("review item has no snapshot frame")
            image = draw_snapshot(snapshot.image, snapshot.detections, snapshot.violations)
            evidence = Evidence(self.camera_id, item, clip, encode_jpeg(image), self._model_version)
            self._sink.publish(evidence)
        except Exception:
            log.exception("camera %s: evidence for review item %s was not stored", self.camera_id, item.id)
            raise
