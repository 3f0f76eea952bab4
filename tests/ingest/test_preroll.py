from __future__ import annotations

import itertools

import numpy as np
import pytest

from ingest._frame import Frame
from ingest.preroll import PreRollBuffer

RAW_720P = 1280 * 720 * 3


def test_keeps_the_last_seconds_at_the_fps_cap(ppe2_frames: list[Frame]) -> None:
    buffer = PreRollBuffer(3.0, fps_cap=10)
    for frame in ppe2_frames:  # 25 fps, 8.2 s
        buffer.push(frame)
    span = buffer.span
    assert span is not None
    assert span[1] == ppe2_frames[-1].ts
    assert span[1] - span[0] <= 3.0
    assert len(buffer) == 31  # 3 s at 10 fps, both ends included
    # Compact: a tenth of the raw frames' size at least.
    assert buffer.bytes_used < len(buffer) * RAW_720P / 10


def test_memory_cap_evicts_oldest(ppe2_frames: list[Frame]) -> None:
    buffer = PreRollBuffer(60.0, fps_cap=25, max_bytes=1_000_000)
    for frame in ppe2_frames:
        buffer.push(frame)
        assert buffer.bytes_used <= 1_000_000
    span = buffer.span
    assert span is not None and span[1] == ppe2_frames[-1].ts
    assert 3 <= len(buffer) < 50


def test_window_returns_decoded_frames_in_range(ppe2_frames: list[Frame]) -> None:
    buffer = PreRollBuffer(10.0, fps_cap=25)
    for frame in ppe2_frames[:100]:
        buffer.push(frame)
    start, end = ppe2_frames[40].ts, ppe2_frames[60].ts
    window = buffer.window(start, end)
    assert [f.ts for f in window] == [f.ts for f in ppe2_frames[40:61]]
    assert [f.pts for f in window] == [f.pts for f in ppe2_frames[40:61]]
    for original, restored in zip(ppe2_frames[40:61], window, strict=True):
        assert restored.image.shape == original.image.shape
        error = np.abs(restored.image.astype(np.int16) - original.image.astype(np.int16)).mean()
        assert error < 4.0  # JPEG q80: close to the original, not bit-exact
    assert all(b.ts > a.ts for a, b in itertools.pairwise(window))
    assert buffer.window(end + 100, end + 200) == []


def test_timestamps_going_back_start_over(ppe2_frames: list[Frame]) -> None:
    buffer = PreRollBuffer(10.0, fps_cap=25)
    for frame in ppe2_frames[:10]:
        buffer.push(frame)
    earlier = Frame("cam-2", ppe2_frames[0].ts - 60, 0.0, ppe2_frames[0].image)
    assert buffer.push(earlier) is not None
    assert len(buffer) == 1


@pytest.mark.parametrize(
    ("seconds", "fps_cap", "quality", "reason"),
    [
        (0.0, 10.0, 80, "seconds"),
        (5.0, 0.0, 80, "fps_cap"),
        (5.0, 10.0, 0, "jpeg_quality"),
        (5.0, 10.0, 101, "jpeg_quality"),
    ],
)
def test_rejects_bad_settings(seconds: float, fps_cap: float, quality: int, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        PreRollBuffer(seconds, fps_cap=fps_cap, jpeg_quality=quality)
