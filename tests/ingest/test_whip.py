"""WHIP ingest: a real aiortc publisher pushes site footage over real HTTP to a real uvicorn server."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import av
import httpx
import numpy as np
import pytest
from aiortc import (
    AudioStreamTrack,
    RTCPeerConnection,
    RTCSessionDescription,
    VideoStreamTrack,
)

from ingest._frame import Frame
from ingest.whip import BadOffer, WhipError, WhipHub
from tests.fixtures.whip_client import ClipTrack, Loop, Publisher
from tests.fixtures.whip_server import WhipServer, serve_whip

SIZE = (640, 360)
MAX_FPS = 10.0
T = TypeVar("T")
TOKENS = {"cam-1": "tok-one", "cam-2": "tok-two", "cam-3": "tok-three", "7": "tok-seven"}


@pytest.fixture(scope="module")
def footage(videos: Path) -> list[av.VideoFrame]:
    with av.open(str(videos / "ppe-2.mp4")) as container:
        frames = []
        for frame in container.decode(video=0):
            frames.append(frame.reformat(width=SIZE[0], height=SIZE[1], format="yuv420p"))
            if len(frames) == 30:
                return frames
    raise AssertionError("ppe-2.mp4 has fewer than 30 frames")


@pytest.fixture(scope="module")
def server() -> Iterator[WhipServer]:
    with serve_whip(TOKENS, max_fps=MAX_FPS) as srv:
        yield srv


@pytest.fixture
def client_loop() -> Iterator[Loop]:
    loop = Loop()
    yield loop
    loop.close()


def start(
    client_loop: Loop, server: WhipServer, camera: str, footage: list[av.VideoFrame], **kw: str
) -> tuple[Publisher, httpx.Response]:
    async def go() -> tuple[Publisher, httpx.Response]:
        peer = Publisher(ClipTrack(footage), kw.get("codec"))
        client_loop.peers.append(peer)
        return peer, await peer.publish(server.base_url, camera, kw.get("token", TOKENS.get(camera, "")))

    return client_loop.run(go())


@pytest.mark.parametrize("codec", ["video/VP8", "video/H264"])
def test_published_video_reaches_on_frame(
    server: WhipServer, client_loop: Loop, footage: list[av.VideoFrame], codec: str
) -> None:
    _, response = start(client_loop, server, "cam-1", footage, codec=codec)

    assert response.status_code == 201, response.text
    assert response.headers["content-type"].startswith("application/sdp")
    assert response.text.startswith("v=0")
    assert f" {codec.split('/')[1]}/90000" in response.text
    [session] = server.sessions("cam-1")
    assert response.headers["location"] == f"/whip/cam-1/{session.id}"

    frames = server.frames.wait_for(8, camera_id="cam-1")
    assert {f.camera_id for f in frames} == {"cam-1"}
    assert {f.image.shape for f in frames} == {(SIZE[1], SIZE[0], 3)}
    assert all(f.image.dtype == np.uint8 for f in frames)
    assert frames[-1].image.std() > 10, "decoded frames are blank, not footage"
    pts = [f.pts for f in frames]
    assert pts[0] < 1.0, "pts must count from the connection's first frame"
    # The client sends 30 fps; max_fps=10 must have dropped frames by stream time.
    assert min(np.diff(pts)) >= 0.95 / MAX_FPS

    deleted = httpx.delete(server.base_url + response.headers["location"], headers=_auth("cam-1"))
    assert deleted.status_code == 200
    assert server.sessions("cam-1") == []
    again = httpx.delete(server.base_url + response.headers["location"], headers=_auth("cam-1"))
    assert again.status_code == 404


def test_republishing_replaces_the_session(
    server: WhipServer, client_loop: Loop, footage: list[av.VideoFrame]
) -> None:
    _, first = start(client_loop, server, "cam-2", footage)
    server.frames.wait_for(2, camera_id="cam-2")
    _, second = start(client_loop, server, "cam-2", footage)
    assert first.status_code == second.status_code == 201

    [session] = server.sessions("cam-2")
    assert second.headers["location"].endswith(session.id)
    assert first.headers["location"] != second.headers["location"]
    seen = len(server.frames.of("cam-2"))
    server.frames.wait_for(seen + 3, camera_id="cam-2")  # frames keep coming, from the new peer
    stale = httpx.delete(server.base_url + first.headers["location"], headers=_auth("cam-2"))
    assert stale.status_code == 404


def test_session_ends_when_the_publisher_hangs_up(
    server: WhipServer, client_loop: Loop, footage: list[av.VideoFrame]
) -> None:
    peer, response = start(client_loop, server, "cam-3", footage)
    assert response.status_code == 201
    server.frames.wait_for(2, camera_id="cam-3")
    assert [s.state for s in server.sessions("cam-3")] == ["connected"]

    client_loop.run(peer.pc.close())
    server.wait_until(lambda: server.sessions("cam-3") == [], "the hub drops the closed session")


def test_numeric_camera_id_and_other_sessions_untouched(
    server: WhipServer, client_loop: Loop, footage: list[av.VideoFrame]
) -> None:
    _, response = start(client_loop, server, "7", footage)
    assert response.status_code == 201
    assert server.frames.wait_for(1, camera_id="7")[0].camera_id == "7"
    assert (
        httpx.delete(server.base_url + response.headers["location"], headers=_auth("cam-1")).status_code
        == 401
    )


@pytest.fixture(scope="module")
def audio_only_offer() -> str:
    async def make() -> str:
        peer = Publisher(AudioStreamTrack())
        try:
            return await peer.offer()
        finally:
            await peer.pc.close()

    return asyncio.run(make())


OK_AUTH = "Bearer tok-one"
SDP = "application/sdp"


@pytest.mark.parametrize(
    ("camera", "auth", "content_type", "body", "status", "message"),
    [
        ("cam-1", None, SDP, "v=0", 401, "missing bearer token"),
        ("cam-1", "Basic dTpw", SDP, "v=0", 401, "missing bearer token"),
        ("cam-1", "Bearer tok-two", SDP, "v=0", 401, "invalid token"),
        ("nope", OK_AUTH, SDP, "v=0", 404, "unknown camera"),
        ("cam-1", OK_AUTH, "application/json", "{}", 415, "application/sdp"),
        ("cam-1", OK_AUTH, None, "v=0", 415, "no content type"),
        ("cam-1", OK_AUTH, SDP, "hello, camera", 400, "not an SDP offer"),
        ("cam-1", OK_AUTH, SDP, "AUDIO", 400, "no video m-line"),
        ("cam-1", OK_AUTH, SDP, b"v=0\xff\xfe", 400, "not UTF-8"),
        ("cam-1", OK_AUTH, SDP, "v=0\r\n" + "a=x\r\n" * 20_000, 413, "larger than"),
    ],
)
def test_rejections_are_clear(
    server: WhipServer,
    audio_only_offer: str,
    camera: str,
    auth: str | None,
    content_type: str | None,
    body: str | bytes,
    status: int,
    message: str,
) -> None:
    headers = {k: v for k, v in [("Authorization", auth), ("Content-Type", content_type)] if v is not None}
    content = audio_only_offer if body == "AUDIO" else body
    response = httpx.post(f"{server.base_url}/whip/{camera}", content=content, headers=headers)
    assert response.status_code == status
    assert message in response.json()["detail"]
    assert response.headers["access-control-allow-origin"] == "*"
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_cors_preflight(server: WhipServer) -> None:
    response = httpx.options(f"{server.base_url}/whip/cam-1", headers={"Origin": "https://elsewhere.example"})
    assert response.status_code == 204
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "Authorization" in response.headers["access-control-allow-headers"]
    assert response.headers["access-control-expose-headers"] == "Location, Link"


def test_hub_rejects_offer_without_common_codec() -> None:
    async def attempt() -> None:
        peer = Publisher(VideoStreamTrack())
        offer = await peer.offer()
        await peer.pc.close()
        # Rename every codec to one aiortc cannot decode.
        mangled = re.sub(r"a=rtpmap:(\d+) (VP8|H264|rtx)/", r"a=rtpmap:\1 AV2/", offer)
        hub = WhipHub(lambda frame: None)
        try:
            with pytest.raises(BadOffer, match="cannot answer the offer"):
                await hub.publish("cam-1", mangled)
            assert hub.sessions() == []
        finally:
            await hub.close()

    asyncio.run(attempt())


async def publish_to(hub: WhipHub, camera: str, footage: list[av.VideoFrame]) -> RTCPeerConnection:
    """Publish straight to a hub on the current loop, without HTTP."""
    peer = Publisher(ClipTrack(footage))
    session = await hub.publish(camera, await peer.offer())
    await peer.pc.setRemoteDescription(RTCSessionDescription(session.answer_sdp, "answer"))
    return peer.pc


async def until(predicate: Callable[[], bool], what: str) -> None:
    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.05)

    try:
        await asyncio.wait_for(poll(), 30)
    except TimeoutError:
        raise AssertionError(f"timed out waiting until {what}") from None


def test_hub_keeps_the_session_when_on_frame_raises(
    footage: list[av.VideoFrame], caplog: pytest.LogCaptureFixture
) -> None:
    delivered: list[Frame] = []

    def flaky_sink(frame: Frame) -> None:
        delivered.append(frame)
        if len(delivered) == 1:
            raise RuntimeError("sink is full")

    async def scenario() -> None:
        hub = WhipHub(flaky_sink, max_fps=10)
        pc = await publish_to(hub, "cam-x", footage)
        try:
            await until(lambda: len(delivered) >= 3, "frames flow past the failing one")
            [session] = hub.sessions()
            assert session.frames >= 3
        finally:
            await pc.close()
            await hub.close()
        assert hub.sessions() == []
        with pytest.raises(WhipError, match="closed"):
            await hub.publish("cam-x", "v=0")

    asyncio.run(scenario())
    assert "on_frame failed for camera cam-x" in caplog.text


def test_hub_ends_a_session_that_never_connects(footage: list[av.VideoFrame]) -> None:
    async def scenario() -> None:
        hub = WhipHub(lambda frame: None, connect_timeout=0.5)
        peer = Publisher(ClipTrack(footage))
        await hub.publish("cam-y", await peer.offer())
        await peer.pc.close()  # the publisher vanishes before applying the answer
        try:
            assert [s.camera_id for s in hub.sessions()] == ["cam-y"]
            await until(lambda: hub.sessions() == [], "the hub expires the unconnected session")
        finally:
            await hub.close()

    asyncio.run(scenario())


def _auth(camera: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[camera]}"}
