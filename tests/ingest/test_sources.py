from __future__ import annotations

import itertools
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ingest._frame import Frame
from ingest.files import VideoFileSource
from ingest.rtsp import RtspSource
from ingest.source import NoVideoTrack, SourceUnavailable, StreamStalled
from tests.fixtures.rtsp import RtspServer


def take(frames: Iterator[Frame], n: int) -> list[Frame]:
    return list(itertools.islice(frames, n))


def test_file_source_yields_bgr_frames_in_order(videos: Path) -> None:
    source = VideoFileSource("cam-1", videos / "ppe-1.mp4")
    frames = list(source.frames())
    assert len(frames) == 343  # every frame of the 29.97 fps, 11.4 s clip
    assert {(f.width, f.height) for f in frames} == {(1280, 720)}
    assert all(f.image.dtype.name == "uint8" and f.image.shape[2] == 3 for f in frames[:3])
    pts = [f.pts for f in frames]
    assert pts[0] == 0.0
    assert all(b > a for a, b in itertools.pairwise(pts))
    assert frames[-1].ts - frames[0].ts == pytest.approx(pts[-1])
    assert {f.camera_id for f in frames} == {"cam-1"}


def test_file_source_loops_with_increasing_pts(videos: Path) -> None:
    source = VideoFileSource("cam-2", videos / "ppe-2.mp4", loop=True)
    frames = take(source.frames(), 206 + 10)  # ppe-2 has 206 frames at 25 fps
    source.close()
    pts = [f.pts for f in frames]
    assert all(b > a for a, b in itertools.pairwise(pts))
    assert pts[206] == pytest.approx(206 / 25)


def test_file_source_close_stops_iteration(videos: Path) -> None:
    source = VideoFileSource("cam-1", videos / "ppe-1.mp4", realtime=True)
    frames = source.frames()
    first = take(frames, 2)
    source.close()
    assert len(first) == 2
    assert list(frames) == []


@pytest.mark.parametrize(
    ("name", "reason"),
    [("missing.mp4", "no such file"), ("garbage.mp4", "invalid data")],
)
def test_file_source_unreadable(tmp_path: Path, name: str, reason: str) -> None:
    (tmp_path / "garbage.mp4").write_bytes(b"\x00not a video" * 100)
    source = VideoFileSource("cam-1", tmp_path / name)
    with pytest.raises(SourceUnavailable, match=f"cannot open video .*{name}: {reason}"):
        next(source.frames())


@pytest.mark.rtsp
def test_rtsp_source_reads_the_loopback_camera(rtsp_server: RtspServer) -> None:
    source = RtspSource("cam-1", rtsp_server.url("ppe-1"))
    frames = take(source.frames(), 15)
    source.close()
    assert len(frames) == 15
    assert {(f.width, f.height) for f in frames} == {(1280, 720)}
    assert all(b.pts > a.pts and b.ts >= a.ts for a, b in itertools.pairwise(frames))


@pytest.mark.rtsp
def test_rtsp_close_from_another_thread_ends_frames(rtsp_server: RtspServer) -> None:
    source = RtspSource("cam-2", rtsp_server.url("ppe-2"))
    seen: list[Frame] = []
    frames = source.frames()
    seen.extend(take(frames, 3))
    closer = threading.Thread(target=source.close)
    closer.start()
    seen.extend(frames)  # ends once close() is noticed, at the next packet
    closer.join()
    assert len(seen) >= 3
    assert source.closed


@pytest.mark.rtsp
def test_rtsp_audio_only_stream_has_no_video(rtsp_server: RtspServer) -> None:
    source = RtspSource("cam-a", rtsp_server.url("audio-only"))
    with pytest.raises(NoVideoTrack, match="no video track"):
        next(source.frames())


@pytest.mark.rtsp
def test_rtsp_unknown_mount(rtsp_server: RtspServer) -> None:
    source = RtspSource("cam-x", rtsp_server.url("nope"))
    with pytest.raises(SourceUnavailable, match="404"):
        next(source.frames())


def test_rtsp_closed_port_is_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    source = RtspSource("cam-x", f"rtsp://admin:secret@127.0.0.1:{port}/live")
    with pytest.raises(SourceUnavailable, match="connection refused") as info:
        next(source.frames())
    assert "secret" not in str(info.value)


def test_rtsp_silent_server_times_out() -> None:
    with socket.socket() as sock:  # accepts TCP connections but never answers RTSP
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        url = f"rtsp://127.0.0.1:{sock.getsockname()[1]}/live"
        source = RtspSource("cam-x", url, connect_timeout_s=0.5, read_timeout_s=0.5)
        with pytest.raises(SourceUnavailable, match=r"no answer within 0.5 s"):
            next(source.frames())


@pytest.mark.rtsp
def test_rtsp_stall_raises_stream_stalled(private_rtsp_server: Callable[[], RtspServer]) -> None:
    # Pausing the server process (SIGSTOP) freezes the stream without closing the TCP connection.
    with private_rtsp_server() as server:
        source = RtspSource("cam-1", server.url("ppe-1"), read_timeout_s=1.0)
        frames = source.frames()
        take(frames, 2)
        server.pause()
        try:
            with pytest.raises(StreamStalled, match="no data for 1 s"):
                list(frames)
        finally:
            server.resume()
