"""PyAV decoding shared by the file and RTSP sources: open, demux, decode, stop safely from another thread."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import cast

import av
import av.container
import numpy as np
import numpy.typing as npt

from ingest._frame import Frame
from ingest.source import NoVideoTrack, SourceError, SourceUnavailable


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
    """

    def __init__(self, camera_id: str) -> None:
        self.camera_id = camera_id
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._container: av.container.InputContainer | None = None
        self._in_ffmpeg = False

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
        while True:
            if not self._enter_ffmpeg():
                return
            try:
                packet = next(packets, None)
                decoded = []
                if packet is not None:
                    decoded = [(f.time, _bgr(f)) for f in packet.decode()]
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
