from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pydantic
import pytest

from ingest._frame import Frame
from ingest.files import VideoFileSource
from ingest.health import CameraWatchdog, UnmonitoredInterval, WatchdogConfig
from ingest.rtsp import RtspSource
from ingest.source import FrameSource
from ingest.urls import CameraNetworkPolicy
from tests.fixtures.frames import FrameLog
from tests.fixtures.net import free_port
from tests.fixtures.rtsp import RtspServer

WAIT_S = 20.0  # how long a test waits for frames to flow (again)
FAST = WatchdogConfig(retry_interval=0.2, max_backoff_s=0.5, stall_timeout_s=3.0, join_timeout_s=5.0)


def rtsp_watchdog(
    url: str, frames: FrameLog, closed: list[UnmonitoredInterval], config: WatchdogConfig = FAST
) -> CameraWatchdog:
    return CameraWatchdog(
        "cam-1",
        lambda: RtspSource("cam-1", url, connect_timeout_s=1.0, read_timeout_s=1.0),
        frames,
        config=config,
        on_interval_closed=closed.append,
    )


@pytest.mark.rtsp
def test_recovers_after_the_camera_restarts(private_rtsp_server: Callable[[], RtspServer]) -> None:
    frames, closed = FrameLog(), list[UnmonitoredInterval]()
    with private_rtsp_server() as server:
        watchdog = rtsp_watchdog(server.url("ppe-1"), frames, closed)
        watchdog.start()
        try:
            frames.wait_for(5, timeout=WAIT_S)
            server.kill()
            killed_at = time.time()
            time.sleep(1.0)  # a few refused reconnects
            server.start()
            restarted_at = time.time()
            after = frames.wait_for(5, after=restarted_at, timeout=WAIT_S)
            health = watchdog.health.snapshot()
        finally:
            watchdog.stop()

    first_after = next(i for i, f in enumerate(frames.frames) if f is after[0])
    assert health["state"] == "streaming"
    assert health["reconnect_count"] >= 1
    [interval] = watchdog.health.intervals
    assert interval.start == frames.frames[first_after - 1].ts  # the last frame before the outage
    assert interval.end == after[0].ts  # the first frame after recovery
    last_before_kill = [f for f in frames.frames if f.ts <= killed_at][-1]
    assert last_before_kill.ts <= interval.start < restarted_at  # frames in flight still count
    assert interval.end >= restarted_at
    assert interval.reason
    assert closed == [interval]
    assert watchdog.health.state == "stopped"


@pytest.mark.rtsp
def test_hung_camera_is_restarted(private_rtsp_server: Callable[[], RtspServer]) -> None:
    frames, closed = FrameLog(), list[UnmonitoredInterval]()
    with private_rtsp_server() as server:
        watchdog = rtsp_watchdog(server.url("ppe-2"), frames, closed)
        watchdog.start()
        try:
            frames.wait_for(5, timeout=WAIT_S)
            server.pause()  # TCP stays up, nothing arrives: the read timeout must fire
            time.sleep(3.5)  # > read timeout, with room for frames already decoded
            server.resume()
            resumed_at = time.time()
            frames.wait_for(5, after=resumed_at, timeout=WAIT_S)
        finally:
            watchdog.stop()
    [interval] = closed
    assert interval.reason == "no data for 1 s"
    assert watchdog.health.reconnect_count >= 1


def test_camera_down_at_start_opens_an_interval_from_start() -> None:
    frames, closed = FrameLog(), list[UnmonitoredInterval]()
    watchdog = rtsp_watchdog(f"rtsp://127.0.0.1:{free_port()}/live", frames, closed)
    started_at = time.time()
    watchdog.start()
    deadline = time.monotonic() + 10
    while watchdog.health.reconnect_count < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    snapshot = watchdog.health.snapshot()
    watchdog.stop()
    assert snapshot["state"] == "reconnecting"
    assert snapshot["last_error"].endswith("connection refused")
    [open_interval] = snapshot["unmonitored"]
    assert open_interval["end"] is None
    assert started_at <= open_interval["start"] <= time.time()
    [interval] = closed  # stop() closes it so the worker can persist it
    assert interval.end is not None and interval.end >= interval.start
    assert frames.frames == []


class BrokenSource:
    """A source with a bug: frames() raises something that is not a SourceError, and so does close()."""

    camera_id = "cam-1"

    def frames(self) -> Iterator[Frame]:
        raise KeyError("decoder state")
        yield  # a generator, like every source

    def close(self) -> None:
        raise OSError("close failed")


def _raise(exc: Exception) -> Callable[[], FrameSource]:
    def factory() -> FrameSource:
        raise exc

    return factory


NO_LOOPBACK = CameraNetworkPolicy(deny=("127.0.0.0/8", "::1/128"))  # type: ignore[arg-type]
SURVIVES: dict[str, tuple[Callable[[], FrameSource], str]] = {
    # A real RtspSource refusing its URL at construction (stored before the API checked it).
    "url the source refuses": (
        lambda: RtspSource("cam-1", "rtsp://127.0.0.1:15432/a|b"),
        "cannot create the source: camera URL contains characters that must be percent-encoded",
    ),
    # A real RtspSource whose host name resolves to a denied address: refused before connecting.
    "host resolving to a denied address": (
        lambda: RtspSource("cam-1", f"rtsp://localhost:{free_port()}/x", policy=NO_LOOPBACK),
        "refused to connect: camera host 'localhost' resolves to a refused address",
    ),
    "factory bug": (_raise(RuntimeError("cannot reach rtsp://op:hunter2@10.0.0.1/x")), "RuntimeError"),
    "source bug in frames() and close()": (BrokenSource, "source error: KeyError: 'decoder state'"),
}


@pytest.mark.parametrize(("factory", "reason"), SURVIVES.values(), ids=SURVIVES.keys())
def test_the_watchdog_survives_any_exception_from_a_source(
    factory: Callable[[], FrameSource], reason: str
) -> None:
    closed: list[UnmonitoredInterval] = []
    watchdog = CameraWatchdog("cam-1", factory, FrameLog(), config=FAST, on_interval_closed=closed.append)
    started_at = time.time()
    watchdog.start()
    try:
        deadline = time.monotonic() + 20
        while watchdog.health.reconnect_count < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        snapshot = watchdog.health.snapshot()
        assert watchdog.running  # still retrying with backoff, not dead
    finally:
        watchdog.stop()
    assert snapshot["reconnect_count"] >= 3, snapshot
    assert snapshot["state"] == "reconnecting"
    assert reason in snapshot["last_error"]
    assert "hunter2" not in snapshot["last_error"]  # redacted before it reaches health
    [outage] = snapshot["unmonitored"]
    assert outage["end"] is None and outage["start"] >= started_at
    [interval] = closed  # recorded for the audit when the camera stops
    assert interval.end is not None and reason in interval.reason
    assert watchdog.health.state == "stopped"


def test_gives_up_after_max_failures() -> None:
    config = FAST.model_copy(update={"max_consecutive_failures": 2})
    watchdog = rtsp_watchdog(f"rtsp://127.0.0.1:{free_port()}/live", FrameLog(), [], config)
    watchdog.start()
    deadline = time.monotonic() + 10
    while watchdog.running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert watchdog.health.state == "failed"
    assert watchdog.health.reconnect_count == 1
    watchdog.stop()
    assert watchdog.health.state == "failed"


class FreezingSource:
    """A real file source that stops delivering after `n` frames but keeps the 'connection' open."""

    def __init__(self, path: Path, n: int) -> None:
        self.camera_id = "cam-f"
        self._inner = VideoFileSource("cam-f", path)
        self._n = n
        self._closed = threading.Event()

    def frames(self) -> Iterator[Frame]:
        for i, frame in enumerate(self._inner.frames()):
            if i == self._n:
                self._closed.wait()  # frozen until the watchdog gives up on us
                return
            yield Frame(frame.camera_id, time.time(), frame.pts, frame.image)

    def close(self) -> None:
        self._closed.set()
        self._inner.close()


def test_stall_timeout_restarts_a_frozen_source(videos: Path) -> None:
    frames, closed = FrameLog(), list[UnmonitoredInterval]()
    attempts: list[FreezingSource] = []

    def factory() -> FreezingSource:
        attempts.append(FreezingSource(videos / "ppe-3.mp4", n=3))
        return attempts[-1]

    config = FAST.model_copy(update={"stall_timeout_s": 1.0})
    watchdog = CameraWatchdog("cam-f", factory, frames, config=config, on_interval_closed=closed.append)
    watchdog.start()
    frames.wait_for(6, timeout=WAIT_S)  # 3 from the first attempt, 3 after the restart
    watchdog.stop()
    assert len(attempts) >= 2
    assert closed[0].reason == "stalled 1 s"
    assert closed[0].start == frames.frames[2].ts
    assert closed[0].end == frames.frames[3].ts


def test_on_frame_errors_do_not_stop_the_camera(videos: Path) -> None:
    seen: list[float] = []

    def flaky(frame: Frame) -> None:
        seen.append(frame.pts)
        if len(seen) % 2:
            raise RuntimeError("worker bug")

    watchdog = CameraWatchdog(
        "cam-1", lambda: VideoFileSource("cam-1", videos / "ppe-2.mp4"), flaky, config=FAST
    )
    watchdog.start()
    deadline = time.monotonic() + 20
    while len(seen) < 206 and time.monotonic() < deadline:
        time.sleep(0.05)
    watchdog.stop()
    assert seen[:206] == sorted(seen[:206]) and len(seen) >= 206


@pytest.mark.parametrize(
    "fields",
    [
        {"retry_interval": 0},
        {"retry_interval": -1},
        {"stall_timeout_s": 0},
        {"retry_interval": 5, "max_backoff_s": 1},
        {"max_consecutive_failures": 0},
        {"retry_intervall": 1},
    ],
)
def test_config_rejects(fields: dict[str, float]) -> None:
    with pytest.raises(pydantic.ValidationError):
        WatchdogConfig.model_validate(fields)


@pytest.mark.parametrize(("failures", "wait"), [(1, 2.0), (2, 4.0), (3, 8.0), (6, 60.0), (50, 60.0)])
def test_backoff_doubles_up_to_the_cap(failures: int, wait: float) -> None:
    assert WatchdogConfig(retry_interval=2.0, max_backoff_s=60.0).backoff(failures) == wait
