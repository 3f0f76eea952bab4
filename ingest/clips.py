"""Evidence clips: frames -> browser-playable H.264 MP4, and recording "N s before + N s after" an event.

The MP4 is H.264 main profile, yuv420p, even dimensions and `+faststart` (moov atom first), which
every browser plays from the first byte of a Range request. Timestamps come from the frames' wall
clock (`ts`), so a clip of a 25 fps camera sampled at 10 fps, or of a jittery WebRTC stream,
plays at true speed (variable frame rate, millisecond timebase).
"""

from __future__ import annotations

import hashlib
import itertools
import statistics
import tempfile
import threading
from collections.abc import Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av

from ingest._frame import Frame
from ingest.preroll import PreRollBuffer, StoredFrame

TIME_BASE = Fraction(1, 1000)  # pts in milliseconds of wall-clock time


@dataclass(frozen=True, slots=True)
class EncodedClip:
    data: bytes
    duration_s: float
    width: int
    height: int
    frame_count: int
    sha256: str

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True, slots=True)
class ClipWriter:
    """Encoding settings; `encode_mp4` is safe to call from several threads at once."""

    max_width: int = 1280
    crf: int = 26  # visually fine for evidence at ~1 Mbit/s for 720p site footage
    preset: str = "veryfast"  # encoding runs on a shared 2-core worker
    profile: str = "main"

    def encode_mp4(self, frames: Sequence[Frame], fps: float | None = None) -> EncodedClip:
        """Encode `frames` (oldest first) to MP4; `fps` is the nominal rate (default: estimated).

        Frames of another size than the first are scaled to the clip size. Raises ValueError
        for an empty sequence.
        """
        if not frames:
            raise ValueError("cannot encode a clip without frames")
        rate = fps or estimate_fps(frames)
        width, height = output_size(frames[0].width, frames[0].height, self.max_width)
        pts = millisecond_pts(frames)
        # FFmpeg can only move the moov atom to the front (faststart) of a real, re-openable file.
        with tempfile.TemporaryDirectory(prefix="siteaudit-clip-") as tmp:
            path = Path(tmp) / "clip.mp4"
            self._write(path, frames, pts, rate, width, height)
            data = path.read_bytes()
        duration = pts[-1] / 1000 + 1.0 / rate
        return EncodedClip(data, duration, width, height, len(frames), hashlib.sha256(data).hexdigest())

    def _write(
        self, path: Path, frames: Sequence[Frame], pts: list[int], rate: float, width: int, height: int
    ) -> None:
        with av.open(str(path), mode="w", format="mp4", options={"movflags": "+faststart"}) as out:
            stream = out.add_stream(
                "libx264",
                rate=Fraction(rate).limit_denominator(1001),
                options={"crf": str(self.crf), "preset": self.preset, "profile": self.profile},
            )
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.codec_context.time_base = TIME_BASE
            for frame, frame_pts in zip(frames, pts, strict=True):
                picture = av.VideoFrame.from_ndarray(frame.image, format="bgr24")
                picture = picture.reformat(width=width, height=height, format="yuv420p")
                picture.pts, picture.time_base = frame_pts, TIME_BASE
                out.mux(stream.encode(picture))
            out.mux(stream.encode(None))


def encode_mp4(
    frames: Sequence[Frame], fps: float | None = None, *, max_width: int = 1280, crf: int = 26
) -> EncodedClip:
    """Encode with default settings (see ClipWriter)."""
    return ClipWriter(max_width=max_width, crf=crf).encode_mp4(frames, fps)


def output_size(width: int, height: int, max_width: int) -> tuple[int, int]:
    """Scale down to max_width keeping the aspect ratio; both even (yuv420p needs 2x2 blocks)."""
    scale = min(1.0, max_width / width)
    return max(2, int(width * scale) // 2 * 2), max(2, round(height * scale) // 2 * 2)


def millisecond_pts(frames: Sequence[Frame]) -> list[int]:
    """Strictly increasing pts in ms from the first frame's ts (equal or backward ts nudged by 1 ms)."""
    first = frames[0].ts
    pts: list[int] = []
    for frame in frames:
        value = round((frame.ts - first) * 1000)
        pts.append(max(value, pts[-1] + 1) if pts else 0)
    return pts


def estimate_fps(frames: Sequence[Frame]) -> float:
    gaps = [b.ts - a.ts for a, b in itertools.pairwise(frames) if b.ts > a.ts]
    if not gaps:
        return 10.0
    return min(60.0, max(1.0, 1.0 / statistics.median(gaps)))


@dataclass
class PendingClip:
    """A clip being recorded; `future` resolves to the EncodedClip once recording and encoding end.

    `start_ts` = event time - pre-roll. `end_ts` is when recording stops: event time + post-roll,
    or, for `until_closed` clips, the close time + post-roll once close() is called.
    """

    event_ts: float
    start_ts: float
    end_ts: float | None
    cap_ts: float  # hard end: start_ts + max_clip_s
    post_roll_s: float
    frames: list[StoredFrame] = field(default_factory=list)
    future: Future[EncodedClip] = field(default_factory=Future)

    def close(self, end_ts: float) -> None:
        """The event ended at `end_ts`: record the post-roll after it, then encode."""
        self.end_ts = min(end_ts + self.post_roll_s, self.cap_ts)

    def add(self, stored: StoredFrame) -> None:
        if stored.ts >= self.start_ts and (not self.frames or stored.ts > self.frames[-1].ts):
            self.frames.append(stored)

    def complete_at(self, ts: float) -> bool:
        return ts >= (self.cap_ts if self.end_ts is None else self.end_ts)


class ClipRecorder:
    """Records pre-roll + post-roll clips for one camera and encodes them off the hot path.

    Usage (decode thread and event loop may be different threads)::

        recorder = ClipRecorder(PreRollBuffer(seconds=6), pre_roll_s=5, post_roll_s=5)
        recorder.push(frame)                     # every frame (feeds the pre-roll buffer too)
        clip = recorder.open(event_ts)           # 5 s before .. 5 s after event_ts
        clip = recorder.open(event_ts, until_closed=True); ...; clip.close(end_ts)
        clip.future.result()                     # -> EncodedClip

    Recorded frames are the buffer's JPEGs (shared, not re-encoded), so a pending clip costs about
    100 KB per frame; `max_clip_s` bounds it. If frames stop arriving, `flush_overdue(now)` or
    `finish_all()` encodes what was recorded.
    """

    def __init__(
        self,
        buffer: PreRollBuffer,
        *,
        pre_roll_s: float = 5.0,
        post_roll_s: float = 5.0,
        max_clip_s: float = 60.0,
        writer: ClipWriter | None = None,
        executor: Executor | None = None,
    ) -> None:
        if pre_roll_s > buffer.seconds:
            raise ValueError(f"pre_roll_s={pre_roll_s} exceeds the buffer's {buffer.seconds} s")
        self.buffer = buffer
        self.pre_roll_s = pre_roll_s
        self.post_roll_s = post_roll_s
        self.max_clip_s = max_clip_s
        self.writer = writer or ClipWriter()
        self._own_executor = executor is None
        self._executor = executor or ThreadPoolExecutor(max_workers=1, thread_name_prefix="clip-encode")
        self._lock = threading.Lock()
        self._pending: list[PendingClip] = []

    def push(self, frame: Frame) -> StoredFrame | None:
        """Buffer the frame and add it to the pending clips; returns what the buffer stored (or None)."""
        stored = self.buffer.push(frame)
        if stored is None:
            return None
        with self._lock:
            for clip in self._pending:
                clip.add(stored)
            done = [c for c in self._pending if c.complete_at(stored.ts)]
            self._pending = [c for c in self._pending if c not in done]
        for clip in done:
            self._submit(clip)
        return stored

    def open(self, event_ts: float, *, until_closed: bool = False) -> PendingClip:
        start = event_ts - self.pre_roll_s
        end = None if until_closed else event_ts + self.post_roll_s
        clip = PendingClip(event_ts, start, end, start + self.max_clip_s, self.post_roll_s)
        with self._lock:
            # Everything from the pre-roll on, including frames pushed since event_ts was analysed.
            for stored in self.buffer.stored_window(start, float("inf")):
                clip.add(stored)
            self._pending.append(clip)
        return clip

    def flush_overdue(self, now: float, grace_s: float = 2.0) -> int:
        """Encode clips whose end passed `grace_s` ago without a frame to end them (camera down)."""
        with self._lock:
            late = [c for c in self._pending if c.complete_at(now - grace_s)]
            self._pending = [c for c in self._pending if c not in late]
        for clip in late:
            self._submit(clip)
        return len(late)

    def finish_all(self) -> None:
        """Encode every pending clip with what it has now (camera stopping)."""
        with self._lock:
            pending, self._pending = self._pending, []
        for clip in pending:
            self._submit(clip)

    def shutdown(self) -> None:
        self.finish_all()
        if self._own_executor:
            self._executor.shutdown(wait=True)

    @property
    def pending_count(self) -> int:
        with self._lock:
            return len(self._pending)

    def _submit(self, clip: PendingClip) -> None:
        frames = [f for f in clip.frames if clip.end_ts is None or f.ts <= clip.end_ts]
        if not frames:
            clip.future.set_exception(ValueError(f"no frames recorded for the clip at ts {clip.event_ts}"))
            return
        work = self._executor.submit(self._encode, frames)
        work.add_done_callback(lambda done: _chain(done, clip.future))

    def _encode(self, frames: list[StoredFrame]) -> EncodedClip:
        return self.writer.encode_mp4([stored.decode() for stored in frames])


def _chain(source: Future[EncodedClip], target: Future[EncodedClip]) -> None:
    error = source.exception()
    if error is not None:
        target.set_exception(error)
    else:
        target.set_result(source.result())
