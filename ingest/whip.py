"""WHIP (RFC 9725) publishing, server side: phones and other WebRTC senders push video to us.

`WhipHub` answers SDP offers with aiortc (non-trickle: the answer carries all ICE candidates),
keeps at most one session per camera (a phone that reconnects replaces its old session), and
feeds decoded video into the same `on_frame(Frame)` entry point the RTSP source uses.

Threading: everything here runs on one asyncio loop (the API server's in the embedded
process). `on_frame` is called on that loop, so it must be cheap and non-blocking — typically
it puts the frame into a bounded queue that the worker thread drains, dropping when full.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
import uuid
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.exceptions import InternalError, InvalidAccessError, InvalidStateError, OperationError
from aiortc.mediastreams import MediaStreamError
from av import VideoFrame

from ingest._frame import Frame
from ingest._webrtc import FrameGate, OfferProblem, RtpClock, check_offer

log = logging.getLogger(__name__)

SessionState = Literal["new", "connecting", "connected", "failed", "closed"]
_STATES: dict[str, SessionState] = {s: s for s in ("new", "connecting", "connected", "failed", "closed")}
FrameSink = Callable[[Frame], None]
IceServerSource = Sequence[RTCIceServer | str] | Callable[[], Sequence[RTCIceServer]]
_NEGOTIATION_ERRORS = (
    ValueError,
    KeyError,
    IndexError,
    OperationError,
    InvalidAccessError,
    InvalidStateError,
)


class WhipError(Exception):
    """Base of the errors a WHIP publication can end with."""


class BadOffer(WhipError):
    """The publisher's SDP offer cannot be answered (not SDP, no video, no common codec, ...)."""


@dataclass
class WhipSession:
    """One publication of one camera; what the hub reports is a snapshot, not a live view."""

    id: str
    camera_id: str
    answer_sdp: str
    state: SessionState
    started_at: float
    frames: int = 0


@dataclass
class _Publication:
    """Hub-private state behind a `WhipSession`: the peer connection and its reader tasks."""

    session: WhipSession
    pc: RTCPeerConnection
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


class WhipHub:
    """Accepts WHIP publications and turns their video into `Frame`s.

    `max_fps` drops frames (by stream time) before the costly YUV→BGR conversion; aiortc
    still decodes every frame because inter-frame codecs need them all. `connect_timeout`
    ends a session whose publisher answered nothing (never completed ICE/DTLS). `ice_servers` is a
    list, or a callable asked once per publication (time-limited TURN credentials stay fresh).
    """

    def __init__(
        self,
        on_frame: FrameSink,
        *,
        max_fps: float | None = None,
        ice_servers: IceServerSource = (),
        connect_timeout: float = 30.0,
    ) -> None:
        FrameGate(max_fps)  # validates max_fps now rather than on the first frame
        self._on_frame = on_frame
        self._max_fps = max_fps
        self._ice_servers: Callable[[], Sequence[RTCIceServer]]
        if callable(ice_servers):
            self._ice_servers = ice_servers
        else:
            fixed = [s if isinstance(s, RTCIceServer) else RTCIceServer(urls=s) for s in ice_servers]
            self._ice_servers = lambda: fixed
        self._connect_timeout = connect_timeout
        self._live: dict[str, _Publication] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._closed = False

    async def publish(self, camera_id: str, offer_sdp: str) -> WhipSession:
        """Answer `offer_sdp` for `camera_id`; returns once ICE gathering is complete.

        Raises `BadOffer` with a readable reason; an earlier session of the same camera is
        ended only after the new one has been answered, so a bad retry loses nothing.
        """
        if self._closed:
            raise WhipError("WHIP hub is closed")
        try:
            check_offer(offer_sdp)
        except OfferProblem as exc:
            raise BadOffer(str(exc)) from exc
        pc = RTCPeerConnection(RTCConfiguration(iceServers=list(self._ice_servers())))
        pub = _Publication(
            WhipSession(uuid.uuid4().hex, camera_id, "", "new", time.time()),
            pc,
        )
        pc.on("track", lambda track: self._start_reader(pub, track))
        pc.on("connectionstatechange", lambda: self._on_state(pub))
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
            # aiortc gathers every candidate inside setLocalDescription: a complete, non-trickle answer.
            await pc.setLocalDescription(await pc.createAnswer())
        except _NEGOTIATION_ERRORS as exc:
            await self._finish(pub)
            raise BadOffer(f"cannot answer the offer: {exc}") from exc
        if self._closed:  # shut down while we were gathering candidates
            await self._finish(pub)
            raise WhipError("WHIP hub is closed")
        pub.session.answer_sdp = pc.localDescription.sdp
        previous = self._live.get(camera_id)
        self._live[camera_id] = pub
        self._spawn(pub, self._expire_unconnected(pub))
        if previous is not None:
            log.info("camera %s republished; replacing WHIP session %s", camera_id, previous.session.id)
            await self._finish(previous)
        log.info("camera %s published over WHIP, session %s", camera_id, pub.session.id)
        return dataclasses.replace(pub.session)

    async def end(self, session_id: str) -> bool:
        """End the session with this id; False when there is no such session."""
        pub = next((p for p in self._live.values() if p.session.id == session_id), None)
        if pub is None:
            return False
        await self._finish(pub)
        return True

    def sessions(self, camera_id: str | None = None) -> list[WhipSession]:
        """Snapshots of the live sessions, optionally of one camera only."""
        return [
            dataclasses.replace(p.session)
            for cam, p in self._live.items()
            if camera_id is None or cam == camera_id
        ]

    async def close(self) -> None:
        """End every session and refuse new ones (call at application shutdown)."""
        self._closed = True
        await asyncio.gather(*(self._finish(p) for p in list(self._live.values())))
        await asyncio.gather(*self._background, return_exceptions=True)

    # -- internals ---------------------------------------------------------------------------

    def _start_reader(self, pub: _Publication, track: MediaStreamTrack) -> None:
        if track.kind == "video":
            self._spawn(pub, self._read_video(pub, track))
        else:
            # Unread audio would pile up in aiortc's unbounded track queue.
            self._spawn(pub, _drain(track))

    async def _read_video(self, pub: _Publication, track: MediaStreamTrack) -> None:
        clock, gate = RtpClock(), FrameGate(self._max_fps)
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                break
            if not isinstance(frame, VideoFrame) or frame.pts is None:
                continue
            pts = clock.seconds(frame.pts)
            if not gate.admit(pts):
                continue
            # The YUV→BGR conversion goes to a thread so a 720p frame never stalls the API's loop.
            image = await asyncio.to_thread(_to_bgr, frame)
            pub.session.frames += 1
            try:
                self._on_frame(Frame(pub.session.camera_id, time.time(), pts, image))
            except Exception:
                log.exception("on_frame failed for camera %s; frame dropped", pub.session.camera_id)
        # The publisher stopped sending (hang-up or ICE consent lost): the session is over.
        self._spawn_detached(self._finish(pub))

    def _on_state(self, pub: _Publication) -> None:
        state = _STATES.get(pub.pc.connectionState, pub.session.state)
        pub.session.state = state
        if state in ("failed", "closed"):
            self._spawn_detached(self._finish(pub))

    async def _expire_unconnected(self, pub: _Publication) -> None:
        await asyncio.sleep(self._connect_timeout)
        if pub.session.state != "connected":
            log.warning("WHIP session %s never connected; ending it", pub.session.id)
            self._spawn_detached(self._finish(pub))

    async def _finish(self, pub: _Publication) -> None:
        """Idempotent: remove, stop readers, close the peer connection."""
        if self._live.get(pub.session.camera_id) is pub:
            del self._live[pub.session.camera_id]
        current = asyncio.current_task()
        for task in list(pub.tasks):
            if task is not current:
                task.cancel()
        with contextlib.suppress(InternalError, InvalidStateError, OSError):
            await pub.pc.close()
        pub.session.state = "closed"

    def _spawn(self, pub: _Publication, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        pub.tasks.add(task)
        task.add_done_callback(pub.tasks.discard)

    def _spawn_detached(self, coro: Coroutine[Any, Any, None]) -> None:
        # Keeps a reference so the task is not garbage-collected mid-flight.
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


def _to_bgr(frame: VideoFrame) -> npt.NDArray[np.uint8]:
    # bgr24 always yields uint8; PyAV's stub types the union of every pixel format.
    return np.asarray(frame.to_ndarray(format="bgr24"), dtype=np.uint8)


async def _drain(track: MediaStreamTrack) -> None:
    with contextlib.suppress(MediaStreamError):
        while True:
            await track.recv()
