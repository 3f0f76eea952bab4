"""Which frames are worth analysing: a timestamp-based rate limiter and a cheap motion gate.

Cameras deliver 25-30 fps but PPE rules need ~5; the detector is the expensive part, so these two
decide, per camera and in well under a millisecond, whether a frame goes to it.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from detect.tiling import TilingConfig
from ingest._frame import Frame


class SamplingConfig(BaseModel):
    """How one camera is sampled for analysis and how much video surrounds its evidence.

    Set per camera by an admin (stored as the camera's `config`) and applied by the worker's pipeline.
    The rules' debounce defaults (k of n frames) assume the default 5 fps.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    analysis_fps: float = Field(5.0, gt=0, le=30, description="Frames per second sent to the detector")
    motion_gate: bool = Field(True, description="Skip still frames (one is still analysed every 2 s)")
    preroll_s: float = Field(5.0, ge=0, le=60, description="Seconds of video kept before an event")
    postroll_s: float = Field(5.0, ge=0, le=60, description="Seconds of video recorded after an event")
    tiling: TilingConfig = Field(
        default_factory=TilingConfig,
        description="Detail pass for distant workers (wide shots): off, on, or auto (docs/architecture.md)",
    )


class FrameSampler:
    """Pass frames at about `target_fps`, judged by frame timestamps, not by counting frames.

    Counting (every 6th frame) breaks on 25 fps cameras, variable-rate WebRTC and dropped frames;
    a cadence of due times does not. A frame up to half an input interval early still counts, so
    timestamp jitter and float rounding pick the frame nearest the due time rather than the next one.
    """

    def __init__(self, target_fps: float = 5.0) -> None:
        if not target_fps > 0:
            raise ValueError(f"target_fps must be > 0, got {target_fps}")
        self.period = 1.0 / target_fps
        self._next_due: float | None = None
        self._last_ts: float | None = None
        self._input_interval = 0.0  # smoothed gap between input frames

    def due(self, frame: Frame) -> bool:
        return self.due_at(frame.ts)

    def due_at(self, ts: float) -> bool:
        last, self._last_ts = self._last_ts, ts
        if last is not None and ts > last:
            gap = ts - last
            self._input_interval = gap if not self._input_interval else 0.9 * self._input_interval + 0.1 * gap
        restarted = last is not None and ts < last  # new connection or clock step
        if self._next_due is None or restarted or ts >= self._next_due + self.period:
            self._next_due = ts + self.period  # first frame, or after a gap: restart the cadence
            return True
        early = min(0.5 * self._input_interval, 0.5 * self.period)
        if ts >= self._next_due - early:
            self._next_due += self.period  # anchored cadence: the mean rate is exactly target_fps
            return True
        return False

    def reset(self) -> None:
        self._next_due = None
        self._last_ts = None
        self._input_interval = 0.0


class MotionGate:
    """Skip analysis of frames where nothing moved, but look at least every `keepalive_s`.

    Compares a blurred grayscale thumbnail (`thumb_width` px wide) with the previous one: the
    score is the fraction of pixels that changed by more than `pixel_delta` grey levels. Blurring
    and the per-pixel threshold absorb sensor noise and compression flicker, so a static scene
    scores ~0. The keepalive bounds how stale a verdict (e.g. "no vest") can get on a still scene.
    """

    def __init__(
        self,
        threshold: float = 0.002,
        *,
        keepalive_s: float = 2.0,
        thumb_width: int = 160,
        pixel_delta: int = 20,
    ) -> None:
        if not 0 <= threshold <= 1:
            raise ValueError(f"threshold is a fraction of pixels in [0, 1], got {threshold}")
        if not keepalive_s > 0:
            raise ValueError(f"keepalive_s must be > 0, got {keepalive_s}")
        self.threshold = threshold
        self.keepalive_s = keepalive_s
        self.thumb_width = thumb_width
        self.pixel_delta = pixel_delta
        self.last_score = 0.0
        self.last_motion_ts: float | None = None  # ts of the newest frame that changed (or the first)
        self._previous: npt.NDArray[np.uint8] | None = None
        self._last_pass_ts: float | None = None

    def should_detect(self, frame: Frame) -> bool:
        thumb = self._thumbnail(frame.image)
        previous, self._previous = self._previous, thumb
        if previous is None or previous.shape != thumb.shape:
            self.last_score = 1.0
        else:
            changed = cv2.absdiff(thumb, previous) > self.pixel_delta
            self.last_score = float(np.count_nonzero(changed)) / changed.size
        if self.last_score > self.threshold or previous is None or previous.shape != thumb.shape:
            self.last_motion_ts = frame.ts
        stale = self._last_pass_ts is None or not 0 <= frame.ts - self._last_pass_ts < self.keepalive_s
        if self.last_score > self.threshold or stale:
            self._last_pass_ts = frame.ts
            return True
        return False

    def _thumbnail(self, image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        height, width = image.shape[:2]
        size = (self.thumb_width, max(1, round(height * self.thumb_width / width)))
        small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        return np.asarray(cv2.GaussianBlur(gray, (5, 5), 0), dtype=np.uint8)
