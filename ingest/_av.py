"""PyAV decoding shared by the file and RTSP sources: open, demux, decode, stop safely from another thread."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import TYPE_CHECKING, cast

import av
import av.container
import av.video.codeccontext
import av.video.stream
import numpy as np
import numpy.typing as npt

from ingest._frame import Frame
from ingest.source import NoVideoTrack, SourceError, SourceUnavailable

if TYPE_CHECKING:
    VideoPacket = av.Packet[av.video.stream.VideoStream]

MAX_GOP_PACKETS = 1000  # packets kept for a replay (40 s at 25 fps); a longer GOP waits for the next keyframe
# Idle keyframe-only decoding delivers one frame per GOP: only for GOPs well under the watchdog's stall
# timeout (10 s by default), or the camera would look stalled. Longer GOPs are always decoded in full.
MAX_IDLE_GOP_S = 4.0


def describe_av_error(exc: BaseException) -> str:
    """A short human reason for an FFmpeg error, without the URL (which may carry credentials)."""
    if isinstance(exc, av.FFmpegError):
        return str(exc.strerror or type(exc).__name__).lower()
    return str(exc) or type(exc).__name__


def _bgr(frame: av.VideoFrame) -> npt.NDArray[np.uint8]:
    return cast("npt.NDArray[np.uint8]", frame.to_ndarray(format="bgr24"))


class AvVideoSource(ABC):
    """Decodes the first video stream of whatever `_open()` returns into BGR `Frame`s.

    FFmpeg state is only ever touched by the thread running `frames()`, except that `close()` may
    release a container while that thread is parked at a `yield` (not inside FFmpeg).

    `keyframes_only` (set by the consumer between frames, on the decoding thread): while True the decoder
    skips every non-key frame (`skip_frame = "NONKEY"`: an idle camera costs one decoded frame per GOP)
    and keeps the packets since the last keyframe. Set back to False, the decoder is flushed and that GOP
    is decoded again from its keyframe, so full decode resumes at once and the frames after the keyframe
    that showed motion are not lost; frames already delivered are not repeated.
    """

    def __init__(self, camera_id: str) -> None:
        self.camera_id = camera_id
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._container: av.container.InputContainer | None = None
        self._in_ffmpeg = False
        self.keyframes_only = False

    @abstractmethod
    def _open(self) -> av.container.InputContainer:
        """Open the input or raise SourceError."""

    @abstractmethod
    def _make_frame(self, pts: float, image: npt.NDArray[np.uint8]) -> Frame:
        """Wrap a decoded image with its timestamps (may sleep to pace playback)."""

    def _play_again(self) -> bool:
        """Called at the end of the stream: True to open it again (looping files), False to end, or raise."""
        return False

    def _read_error(self, exc: av.FFmpegError) -> SourceError:
        return SourceUnavailable(f"read failed: {describe_av_error(exc)}")

    def frames(self) -> Iterator[Frame]:
        while True:
            container = self._open()
            with self._lock:
                if self._stopping.is_set():
                    container.close()
                    return
                self._container = container
            try:
                yield from self._decode(container)
            finally:
                self._release()
            if self._stopping.is_set() or not self._play_again():
                return

    def close(self) -> None:
        with self._lock:
            self._stopping.set()
            if not self._in_ffmpeg:
                self._release_locked()

    @property
    def closed(self) -> bool:
        return self._stopping.is_set()

    def _decode(self, container: av.container.InputContainer) -> Iterator[Frame]:
        if not container.streams.video:
            raise NoVideoTrack("the stream has no video track")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"  # frame + slice threads; decoding releases the GIL
        step = 1.0 / float(stream.average_rate or stream.guessed_rate or 25)
        last_pts = -step
        packets = container.demux(stream)
        skipper = _KeyframeSkipper(stream.codec_context)
        while True:
            if not self._enter_ffmpeg():
                return
            try:
                packet = next(packets, None)
                decoded = []
                if packet is not None:
                    frames = skipper.decode(packet, keyframes_only=self.keyframes_only)
                    decoded = [(f.time, _bgr(f)) for f in frames if skipper.is_new(f.time)]
            except av.FFmpegError as exc:
                raise self._read_error(exc) from None
            finally:
                self._leave_ffmpeg()
            if packet is None:
                return
            for time_s, image in decoded:
                if self._stopping.is_set():
                    return
                # Some RTP streams carry frames without pts: continue the cadence instead.
                last_pts = float(time_s) if time_s is not None else last_pts + step
                yield self._make_frame(last_pts, image)

    def _enter_ffmpeg(self) -> bool:
        with self._lock:
            if self._stopping.is_set() or self._container is None:
                return False
            self._in_ffmpeg = True
            return True

    def _leave_ffmpeg(self) -> None:
        with self._lock:
            self._in_ffmpeg = False
            if self._stopping.is_set():
                self._release_locked()

    def _release(self) -> None:
        with self._lock:
            self._release_locked()

    def _release_locked(self) -> None:
        if self._container is not None:
            container, self._container = self._container, None
            container.close()


class _KeyframeSkipper:
    """Decode every frame, or only keyframes while idle; resume full decode at once from the GOP's start.

    Idle, only keyframe packets reach the decoder, each drained at once. (`skip_frame = "NONKEY"` with
    every packet sent was measured first: on the shared footage, which has B-frames, the decoder's reorder
    delay then holds a keyframe back until two more keyframes arrive, ~6 s late.)
    """

    def __init__(self, codec: av.video.codeccontext.VideoCodecContext) -> None:
        self._codec = codec
        self.skipping = False
        self._gop: list[VideoPacket] = []  # while skipping: the packets since the last keyframe
        self._newest: float | None = None  # time of the newest frame delivered
        self._last_key: float | None = None
        self.gop_s: float | None = None  # seconds between the last two keyframes

    def decode(self, packet: VideoPacket, *, keyframes_only: bool) -> list[av.VideoFrame]:
        if packet.is_keyframe and packet.pts is not None and packet.time_base is not None:
            key = float(packet.pts * packet.time_base)
            if self._last_key is not None and key > self._last_key:
                self.gop_s = key - self._last_key
            self._last_key = key
        keyframes_only = keyframes_only and self.gop_s is not None and self.gop_s <= MAX_IDLE_GOP_S
        if not keyframes_only and not self.skipping:
            return packet.decode()
        self.skipping = True
        if packet.is_keyframe:
            self._gop = []
        self._gop.append(packet)
        if len(self._gop) > MAX_GOP_PACKETS:  # no keyframe for too long: resume at the next one
            self._gop = self._gop[-1:]
        if keyframes_only:
            return self._keyframe(packet) if packet.is_keyframe else []
        if not self._gop[0].is_keyframe:
            return []  # skipping began mid-GOP (or the GOP was too long): the next keyframe resumes
        # Motion: decode this GOP again in full, from its keyframe; is_new() drops the repeated keyframe.
        self._codec.flush_buffers()
        replay, self._gop, self.skipping = self._gop, [], False
        return [frame for p in replay for frame in p.decode()]

    def _keyframe(self, packet: VideoPacket) -> list[av.VideoFrame]:
        self._codec.flush_buffers()
        frames = [*self._codec.decode(packet), *self._codec.decode(None)]
        self._codec.flush_buffers()  # leave draining mode: the decoder takes packets again
        for frame in frames:  # a drained frame comes back without its time base (and maybe pts)
            if frame.pts is None:
                frame.pts = packet.pts
            if frame.time_base is None:
                frame.time_base = packet.time_base
        return frames

    def is_new(self, time_s: float | None) -> bool:
        """False for a frame re-decoded by a replay (it was delivered before)."""
        if time_s is None:
            return True
        if self._newest is not None and time_s <= self._newest:
            return False
        self._newest = time_s
        return True
