"""The last few seconds of a camera, kept so an evidence clip can start *before* the violation.

Storage choice: JPEG (quality 80) at full resolution. A raw 720p BGR frame is 2.7 MB, so 6 s at
10 fps would be ~166 MB per camera; the site footage as JPEG is ~70-110 KB a frame (~6 MB), and
encoding takes ~2 ms per stored frame on the decode thread (OpenCV releases the GIL).
Downscaling raw frames to 360p would still take ~40 MB and lose the detail inspectors zoom into.
Keeping H.264 packets instead would be smallest, but a clip must then start at a keyframe and
camera GOPs are often longer than the pre-roll itself.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from ingest._frame import Frame
from ingest.sampler import FrameSampler


@dataclass(frozen=True, slots=True)
class StoredFrame:
    """A frame kept as JPEG bytes; `decode()` gives back a `Frame`."""

    camera_id: str
    ts: float
    pts: float
    jpeg: bytes

    def decode(self) -> Frame:
        buffer = np.frombuffer(self.jpeg, dtype=np.uint8)
        image = cv2.imdecode(buffer, cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"corrupt JPEG in pre-roll of camera {self.camera_id} at ts {self.ts}")
        return Frame(self.camera_id, self.ts, self.pts, np.asarray(image, dtype=np.uint8))


def encode_jpeg(image: npt.NDArray[np.uint8], quality: int) -> bytes:
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError(f"cannot JPEG-encode an image of shape {image.shape}")
    return bytes(buffer)


class PreRollBuffer:
    """Ring buffer of the last `seconds` of frames (by frame ts), at most `fps_cap` frames/s.

    Memory is bounded twice: by time, and by `max_bytes` (oldest frames go first). One thread
    (the camera's decode thread) pushes; any thread may read windows meanwhile.
    """

    def __init__(
        self,
        seconds: float = 6.0,
        *,
        fps_cap: float = 10.0,
        jpeg_quality: int = 80,
        max_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        if not seconds > 0 or not fps_cap > 0:
            raise ValueError(f"seconds and fps_cap must be > 0, got {seconds} and {fps_cap}")
        if not 1 <= jpeg_quality <= 100:
            raise ValueError(f"jpeg_quality must be in 1..100, got {jpeg_quality}")
        self.seconds = seconds
        self._cadence = FrameSampler(fps_cap)  # even 10 fps out of 25 or 30 fps input
        self.jpeg_quality = jpeg_quality
        self.max_bytes = max_bytes
        self._frames: deque[StoredFrame] = deque()
        self._bytes = 0
        self._lock = threading.Lock()

    def push(self, frame: Frame) -> StoredFrame | None:
        """Keep the frame if it is due under the fps cap.

        Returns what was stored (so a clip being recorded can share the JPEG), or None if skipped.
        """
        if not self._cadence.due(frame):
            return None
        stored = StoredFrame(
            frame.camera_id, frame.ts, frame.pts, encode_jpeg(frame.image, self.jpeg_quality)
        )
        with self._lock:
            if self._frames and frame.ts < self._frames[-1].ts:
                self._clear_locked()  # timestamps went back (new connection): old frames don't fit
            self._frames.append(stored)
            self._bytes += len(stored.jpeg)
            self._evict_locked()
        return stored

    def window(self, start_ts: float, end_ts: float) -> list[Frame]:
        """Decoded frames with start_ts <= ts <= end_ts, oldest first."""
        return [stored.decode() for stored in self.stored_window(start_ts, end_ts)]

    def stored_window(self, start_ts: float, end_ts: float) -> list[StoredFrame]:
        """Like window(), without decoding."""
        with self._lock:
            return [s for s in self._frames if start_ts <= s.ts <= end_ts]

    def latest(self) -> StoredFrame | None:
        """The newest stored frame (what a live viewer is shown), or None when empty."""
        with self._lock:
            return self._frames[-1] if self._frames else None

    @property
    def bytes_used(self) -> int:
        with self._lock:
            return self._bytes

    def __len__(self) -> int:
        with self._lock:
            return len(self._frames)

    @property
    def span(self) -> tuple[float, float] | None:
        """(oldest ts, newest ts) held, or None when empty."""
        with self._lock:
            return (self._frames[0].ts, self._frames[-1].ts) if self._frames else None

    def clear(self) -> None:
        with self._lock:
            self._clear_locked()
        self._cadence.reset()

    def _evict_locked(self) -> None:
        horizon = self._frames[-1].ts - self.seconds
        while self._frames and (self._frames[0].ts < horizon or self._bytes > self.max_bytes):
            self._bytes -= len(self._frames.popleft().jpeg)

    def _clear_locked(self) -> None:
        self._frames.clear()
        self._bytes = 0
