"""A review item's whole span on video: pre-roll + span + post-roll, encoded as it is recorded.

Why not hold the frames and encode at the end (like `ClipRecorder`): a review item may last minutes
(`max_event_s`, 300 s by default), and 300 s x 10 fps of ~100 KB JPEGs is ~300 MB per camera. Here each
span has its own encoder thread fed through a bounded queue of the pre-roll buffer's JPEGs (shared, not
re-encoded); the encoder writes to a temporary MP4 file and the span is cut into segments of at most
`segment_s` seconds, each handed over (bytes of one segment, ~1 Mbit/s) as soon as it is finished. Memory
per recording span is the queue (at most `queue_frames` JPEGs) + one x264 encoder + one finished segment,
whatever the span's length. Measurements: docs/architecture.md ("Evidence clips").
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import queue
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.container
import av.video.stream

from ingest._frame import Frame
from ingest.clips import TIME_BASE, ClipWriter, EncodedClip, output_size
from ingest.preroll import PreRollBuffer, StoredFrame

log = logging.getLogger(__name__)

DEFAULT_SEGMENT_S = 60.0
DEFAULT_QUEUE_FRAMES = 100  # ~10 s at 10 fps, ~10 MB of JPEGs: absorbs a slow store or a busy CPU
MAX_WAIT_S = 0.5  # a full queue holds the decode thread back this long before a frame is dropped


@dataclass(frozen=True, slots=True)
class EncodedSegment:
    """One finished piece of a review item's span: `start_ts` is its first frame's wall-clock time, and
    a time t of the span plays at offset t - start_ts of this clip (millisecond pts from that frame)."""

    item_id: str
    index: int
    start_ts: float
    clip: EncodedClip
    final: bool

    @property
    def end_ts(self) -> float:
        return self.start_ts + self.clip.duration_s


class SegmentEncoder:
    """Frames in, one at a time, to an MP4 on disk (H.264 as ClipWriter, variable frame rate, `+faststart`
    applied when finished). Not thread-safe: one recording thread owns it."""

    def __init__(self, first: Frame, writer: ClipWriter, fps: float) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="siteaudit-segment-")
        self._path = Path(self._dir.name) / "segment.mp4"
        self._fps = fps
        self.width, self.height = output_size(first.width, first.height, writer.max_width)
        self.start_ts = first.ts
        self._last_pts = -1
        self.frame_count = 0
        self._out: av.container.OutputContainer = av.open(
            str(self._path), mode="w", format="mp4", options={"movflags": "+faststart"}
        )
        stream: av.video.stream.VideoStream = self._out.add_stream(
            "libx264",
            rate=Fraction(fps).limit_denominator(1001),
            options={"crf": str(writer.crf), "preset": writer.preset, "profile": writer.profile},
        )
        stream.width, stream.height, stream.pix_fmt = self.width, self.height, "yuv420p"
        stream.codec_context.time_base = TIME_BASE
        self._stream = stream

    def add(self, frame: Frame) -> None:
        """Encode one frame (frames of another size are scaled to the segment's size)."""
        pts = max(round((frame.ts - self.start_ts) * 1000), self._last_pts + 1)
        picture = av.VideoFrame.from_ndarray(frame.image, format="bgr24")
        picture = picture.reformat(width=self.width, height=self.height, format="yuv420p")
        picture.pts, picture.time_base = pts, TIME_BASE
        self._out.mux(self._stream.encode(picture))
        self._last_pts = pts
        self.frame_count += 1

    @property
    def elapsed_s(self) -> float:
        return max(self._last_pts, 0) / 1000

    def finish(self) -> EncodedClip:
        """Flush the encoder, close the file and return its bytes; the temporary file is removed."""
        try:
            if self.frame_count == 0:
                raise ValueError("cannot finish a segment without frames")
            self._out.mux(self._stream.encode(None))
            self._out.close()
            data = self._path.read_bytes()
        finally:
            self.abort()
        duration = self._last_pts / 1000 + 1.0 / self._fps
        sha = hashlib.sha256(data).hexdigest()
        return EncodedClip(data, duration, self.width, self.height, self.frame_count, sha)

    def abort(self) -> None:
        with contextlib.suppress(av.FFmpegError, ValueError):  # closed already, or never started
            self._out.close()
        self._dir.cleanup()


SegmentHandler = Callable[[EncodedSegment], None]


class SpanRecording:
    """One review item's recording: from `start_ts` until `close(end)` (+ post-roll) or `cap_ts`.

    `offer()` runs on the decode thread: when the encoder lags more than the queue holds, it waits up to
    `MAX_WAIT_S` (a file decoded faster than real time is paced to the encoder), then drops the frame and
    counts it (`dropped`): a live camera's decoding is never held up for long. Segments are passed to
    `on_segment` on this recording's own thread, in order; the last one has `final=True`. `done` is set
    once the thread has ended.
    """

    def __init__(
        self,
        item_id: str,
        start_ts: float,
        *,
        cap_ts: float,
        post_roll_s: float,
        segment_s: float,
        on_segment: SegmentHandler,
        writer: ClipWriter,
        fps: float,
        queue_frames: int = DEFAULT_QUEUE_FRAMES,
    ) -> None:
        self.item_id = item_id
        self.start_ts = start_ts
        self.end_ts: float | None = None
        self.cap_ts = cap_ts
        self._post_roll_s = post_roll_s
        self._segment_s = segment_s
        self._on_segment = on_segment
        self._writer = writer
        self._fps = fps
        self._queue: queue.Queue[StoredFrame | None] = queue.Queue(maxsize=queue_frames)
        self._last_ts = float("-inf")
        self._stopped = False
        self.dropped = 0
        self.segments = 0
        self.error: BaseException | None = None
        self.done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"span-{item_id[:8]}", daemon=True)
        self._thread.start()

    def close(self, end_ts: float) -> None:
        """The item ended at `end_ts`: keep recording the post-roll after it."""
        self.end_ts = min(end_ts + self._post_roll_s, self.cap_ts)

    def complete_at(self, ts: float) -> bool:
        return ts > (self.cap_ts if self.end_ts is None else self.end_ts)

    def offer(self, stored: StoredFrame) -> None:
        if self._stopped or stored.ts < self.start_ts or stored.ts <= self._last_ts:
            return
        if self.complete_at(stored.ts):
            self.stop()
            return
        try:
            self._queue.put(stored, timeout=MAX_WAIT_S)
            self._last_ts = stored.ts
        except queue.Full:
            self.dropped += 1

    @property
    def backlog(self) -> int:
        """Frames waiting for the encoder."""
        return self._queue.qsize()

    @property
    def stopped(self) -> bool:
        return self._stopped

    def stop(self) -> None:
        """No more frames: finish the last segment (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        self._queue.put(None)  # blocks at most until the encoder takes one frame

    def join(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return self.done.is_set()

    def _run(self) -> None:
        encoder: SegmentEncoder | None = None
        try:
            while (stored := self._queue.get()) is not None:
                frame = stored.decode()
                if encoder is not None and frame.ts - encoder.start_ts >= self._segment_s:
                    self._emit(encoder, final=False)
                    encoder = None
                if encoder is None:
                    encoder = SegmentEncoder(frame, self._writer, self._fps)
                encoder.add(frame)
            if encoder is not None:
                self._emit(encoder, final=True)
                encoder = None
        except Exception as exc:
            log.exception("recording of review item %s failed", self.item_id)
            self.error = exc
            if encoder is not None:
                encoder.abort()
            while not self._stopped or self._queue.qsize():  # drain so the decode thread never blocks
                if self._queue.get() is None:
                    break
        finally:
            self.done.set()

    def _emit(self, encoder: SegmentEncoder, *, final: bool) -> None:
        segment = EncodedSegment(self.item_id, self.segments, encoder.start_ts, encoder.finish(), final)
        self.segments += 1
        self._on_segment(segment)


class SpanRecorder:
    """The spans being recorded for one camera (usually one; two while one's post-roll overlaps the next
    item's pre-roll). Fed with the pre-roll buffer's stored frames by the decode thread."""

    def __init__(
        self,
        buffer: PreRollBuffer,
        *,
        pre_roll_s: float,
        post_roll_s: float,
        segment_s: float = DEFAULT_SEGMENT_S,
        max_span_s: float = 3600.0,
        fps: float = 10.0,
        writer: ClipWriter | None = None,
        queue_frames: int = DEFAULT_QUEUE_FRAMES,
    ) -> None:
        if not segment_s > 0:
            raise ValueError(f"segment_s must be > 0, got {segment_s}")
        self.buffer = buffer
        self.pre_roll_s = pre_roll_s
        self.post_roll_s = post_roll_s
        self.segment_s = segment_s
        self.max_span_s = max_span_s
        self.fps = fps
        self.writer = writer or ClipWriter()
        self.queue_frames = queue_frames
        self._lock = threading.Lock()
        self._active: dict[str, SpanRecording] = {}
        self._finishing: list[SpanRecording] = []  # stopped, still encoding their last segment

    def open(self, item_id: str, started_at: float, on_segment: SegmentHandler) -> SpanRecording:
        """Start recording at `started_at` - pre-roll (what the buffer still holds of it)."""
        start = started_at - self.pre_roll_s
        span = SpanRecording(
            item_id,
            start,
            cap_ts=start + self.max_span_s,
            post_roll_s=self.post_roll_s,
            segment_s=self.segment_s,
            on_segment=on_segment,
            writer=self.writer,
            fps=self.fps,
            queue_frames=self.queue_frames,
        )
        with self._lock:
            for stored in self.buffer.stored_window(start, float("inf")):
                span.offer(stored)
            self._active[item_id] = span
        return span

    def close(self, item_id: str, ended_at: float) -> None:
        with self._lock:
            span = self._active.get(item_id)
        if span is not None:
            span.close(ended_at)

    def push(self, stored: StoredFrame) -> None:
        with self._lock:
            for span in self._active.values():
                span.offer(stored)
            self._forget_stopped_locked()

    def flush_overdue(self, now: float, grace_s: float = 2.0) -> None:
        """Stop spans whose end passed `grace_s` ago without a frame to end them (camera down)."""
        with self._lock:
            for span in self._active.values():
                if span.complete_at(now - grace_s):
                    span.stop()
            self._forget_stopped_locked()

    def finish_all(self, timeout: float = 120.0) -> None:
        """Stop every span and wait for its last segment (camera stopping, end of a file)."""
        with self._lock:
            spans, self._active = list(self._active.values()), {}
            spans += self._finishing
            self._finishing = []
        for span in spans:
            span.stop()
        for span in spans:
            if not span.join(timeout):
                log.error("recording of review item %s did not finish within %.0f s", span.item_id, timeout)

    @property
    def active_count(self) -> int:
        with self._lock:
            return len(self._active)

    def _forget_stopped_locked(self) -> None:
        for item_id in [i for i, s in self._active.items() if s.stopped]:
            self._finishing.append(self._active.pop(item_id))
        self._finishing = [s for s in self._finishing if not s.done.is_set()]
