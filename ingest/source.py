"""The shape every camera source has (RTSP, video file, WHIP), and the errors it may raise.

A source is used from ONE thread: `frames()` is a blocking generator that decodes until the stream
ends or fails. `close()` may be called from any thread: it asks the generator to stop (it returns at
the next packet, or when the read timeout expires) and releases the decoder. The watchdog relies on
that to abandon a stalled stream without touching FFmpeg state from two threads.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

from ingest._frame import Frame


class SourceError(Exception):
    """The source cannot deliver frames.

    The message is short, readable and free of credentials; it does not name the camera (the caller
    knows which one it is).
    """


class SourceUnavailable(SourceError):
    """Cannot connect or open (refused, unreachable, timed out, missing file, bad stream)."""


class NoVideoTrack(SourceError):
    """Connected, but the stream carries no video."""


class StreamStalled(SourceError):
    """Connected, but frames stopped arriving."""


class FrameSource(Protocol):
    camera_id: str

    def frames(self) -> Iterator[Frame]:
        """Yield decoded frames until the stream ends or close() is called; raise SourceError on failure."""
        ...

    def close(self) -> None:
        """Stop frames() and release resources; idempotent and callable from any thread."""
        ...


@runtime_checkable
class KeyframeSkipping(Protocol):
    """A source that can decode keyframes only while its camera is idle (set between frames, same thread)."""

    keyframes_only: bool
