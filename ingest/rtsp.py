"""RTSP (and RTSPS) cameras, pulled over TCP with PyAV."""

from __future__ import annotations

import time

import av
import av.container
import numpy as np
import numpy.typing as npt

from ingest._av import AvVideoSource, describe_av_error
from ingest._frame import Frame
from ingest.source import SourceError, SourceUnavailable, StreamStalled
from ingest.urls import CameraAddressDenied, CameraNetworkPolicy, camera_host, redact, validate_camera_url


class RtspSource(AvVideoSource):
    """One connection to an RTSP camera; `ts` is the wall-clock time a frame was decoded.

    TCP interleaving avoids the UDP losses (smeared frames) common on site networks and NAT.
    Both timeouts bound how long `frames()` and `close()` can block: connect_timeout_s for the
    RTSP handshake, read_timeout_s for silence once streaming (then StreamStalled).

    `policy` says which addresses a camera may be at: an IP literal it denies is refused here
    (InvalidCameraURL), a host name is resolved and checked before every connection.
    """

    def __init__(
        self,
        camera_id: str,
        url: str,
        *,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 5.0,
        policy: CameraNetworkPolicy | None = None,
    ) -> None:
        super().__init__(camera_id)
        self.policy = policy or CameraNetworkPolicy()
        self.url = validate_camera_url(url, self.policy)
        self.connect_timeout_s = connect_timeout_s
        self.read_timeout_s = read_timeout_s
        self._t_open = 0.0

    def _open(self) -> av.container.InputContainer:
        # FFmpeg's own socket timeout (µs) covers blocking I/O; PyAV's interrupt callback covers the rest.
        options = {
            "rtsp_transport": "tcp",
            "timeout": str(int(max(self.connect_timeout_s, self.read_timeout_s) * 1_000_000)),
        }
        try:
            self.policy.check_resolved(camera_host(self.url))
        except CameraAddressDenied as exc:
            raise SourceUnavailable(f"refused to connect: {exc}") from None
        started = time.monotonic()
        try:
            container = av.open(
                self.url, options=options, timeout=(self.connect_timeout_s, self.read_timeout_s)
            )
        except av.FFmpegError as exc:
            reason = describe_av_error(exc)
            if time.monotonic() - started >= self.connect_timeout_s * 0.9:
                reason = f"no answer within {self.connect_timeout_s:g} s ({reason})"
            raise SourceUnavailable(f"cannot open {redact(self.url)}: {reason}") from None
        self._t_open = time.time()
        return container

    def _read_error(self, exc: av.FFmpegError) -> SourceError:
        if isinstance(exc, av.ExitError | av.error.TimeoutError):
            return StreamStalled(f"no data for {self.read_timeout_s:g} s")
        return SourceUnavailable(f"stream lost: {describe_av_error(exc)}")

    def _play_again(self) -> bool:
        raise SourceUnavailable("the camera ended the stream")

    def _make_frame(self, pts: float, image: npt.NDArray[np.uint8]) -> Frame:
        return Frame(self.camera_id, time.time(), pts, image)
