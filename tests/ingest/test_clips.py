from __future__ import annotations

import io
import struct
from dataclasses import replace

import av
import pytest

from ingest._frame import Frame
from ingest.clips import ClipRecorder, ClipWriter, EncodedClip, encode_mp4, millisecond_pts, output_size
from ingest.preroll import PreRollBuffer


def top_level_boxes(data: bytes) -> list[str]:
    """The MP4's top-level box types in file order (ISO BMFF: 32-bit size, 4-char type)."""
    boxes, offset = [], 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        boxes.append(kind.decode("ascii"))
        if size < 8:
            break
        offset += size
    return boxes


def probe(clip: EncodedClip) -> dict[str, object]:
    with av.open(io.BytesIO(clip.data), mode="r") as container:
        stream = container.streams.video[0]
        times = [float(f.time) for f in container.decode(stream) if f.time is not None]
        return {
            "codec": stream.codec_context.name,
            "pix_fmt": stream.codec_context.pix_fmt,
            "profile": stream.profile,
            "size": (stream.codec_context.width, stream.codec_context.height),
            "duration": container.duration / 1_000_000 if container.duration else 0.0,
            "times": times,
        }


def test_mp4_is_browser_playable_and_faststart(ppe2_frames: list[Frame]) -> None:
    frames = ppe2_frames[::3][:20]  # 8.3 fps, 2.4 s
    clip = encode_mp4(frames)
    info = probe(clip)
    assert info["codec"] == "h264"
    assert info["pix_fmt"] == "yuv420p"
    assert info["profile"] == "Main"
    assert info["size"] == (1280, 720) == (clip.width, clip.height)
    assert clip.frame_count == len(info["times"]) == 20  # type: ignore[arg-type]
    expected = frames[-1].ts - frames[0].ts + 0.12
    assert clip.duration_s == pytest.approx(expected, abs=0.01)
    assert info["duration"] == pytest.approx(expected, abs=0.05)
    boxes = top_level_boxes(clip.data)
    assert boxes.index("moov") < boxes.index("mdat")
    assert clip.sha256 == __import__("hashlib").sha256(clip.data).hexdigest()


def test_timestamps_follow_the_frames_wall_clock(ppe2_frames: list[Frame]) -> None:
    base = ppe2_frames[0].ts
    gaps = [0.0, 0.1, 0.2, 0.5, 0.55, 1.3, 1.4]  # irregular, like sampled WebRTC
    frames = [replace(f, ts=base + g) for f, g in zip(ppe2_frames, gaps, strict=False)]
    info = probe(encode_mp4(frames, fps=10))
    assert info["times"] == pytest.approx(gaps, abs=0.002)


def test_scaled_down_to_even_dimensions(ppe2_frames: list[Frame]) -> None:
    clip = ClipWriter(max_width=641).encode_mp4(ppe2_frames[:5])
    assert (clip.width, clip.height) == (640, 360)
    assert probe(clip)["size"] == (640, 360)


@pytest.mark.parametrize(
    ("size", "max_width", "expected"),
    [
        ((1280, 720), 1280, (1280, 720)),
        ((1920, 1080), 1280, (1280, 720)),
        ((641, 361), 1280, (640, 360)),
        ((1280, 720), 853, (852, 480)),
        ((3, 3), 1280, (2, 2)),
    ],
)
def test_output_size(size: tuple[int, int], max_width: int, expected: tuple[int, int]) -> None:
    assert output_size(*size, max_width) == expected


def test_duplicate_timestamps_still_increase(ppe2_frames: list[Frame]) -> None:
    frames = [replace(f, ts=100.0 + t) for f, t in zip(ppe2_frames, [0.0, 0.1, 0.1, 0.05, 0.3], strict=False)]
    assert millisecond_pts(frames) == [0, 100, 101, 102, 300]


def test_empty_clip_is_refused() -> None:
    with pytest.raises(ValueError, match="without frames"):
        encode_mp4([])


def test_recorder_builds_pre_and_post_roll(ppe2_frames: list[Frame]) -> None:
    recorder = ClipRecorder(PreRollBuffer(3.0, fps_cap=10), pre_roll_s=2.0, post_roll_s=2.0)
    event_ts = ppe2_frames[100].ts  # 4 s in
    clip = None
    for i, frame in enumerate(ppe2_frames):
        recorder.push(frame)
        if i == 103:  # the event is noticed a little after its frame, like the inference loop
            clip = recorder.open(event_ts)
    assert clip is not None
    encoded = clip.future.result(timeout=60)
    recorder.shutdown()
    assert clip.frames[0].ts >= event_ts - 2.0 and clip.frames[0].ts < event_ts - 1.8
    assert clip.frames[-1].ts >= event_ts + 2.0
    assert encoded.duration_s == pytest.approx(4.0 + 0.1, abs=0.15)
    assert probe(encoded)["duration"] == pytest.approx(encoded.duration_s, abs=0.05)
    assert encoded.frame_count == len(clip.frames) - (clip.frames[-1].ts > clip.end_ts)  # type: ignore[operator]


def test_recorder_until_closed(ppe2_frames: list[Frame]) -> None:
    recorder = ClipRecorder(PreRollBuffer(2.0, fps_cap=5), pre_roll_s=1.0, post_roll_s=1.0)
    t0 = ppe2_frames[50].ts
    for frame in ppe2_frames[:51]:
        recorder.push(frame)
    clip = recorder.open(t0, until_closed=True)
    for frame in ppe2_frames[51:150]:  # the event lasts 4 s: longer than the post-roll
        recorder.push(frame)
    assert not clip.future.done()
    clip.close(ppe2_frames[150].ts)
    for frame in ppe2_frames[150:]:
        recorder.push(frame)
    encoded = clip.future.result(timeout=60)
    recorder.shutdown()
    assert encoded.duration_s == pytest.approx(1.0 + 4.0 + 1.0 + 0.2, abs=0.25)


def test_recorder_flushes_when_the_camera_goes_quiet(ppe2_frames: list[Frame]) -> None:
    recorder = ClipRecorder(PreRollBuffer(5.0, fps_cap=5), pre_roll_s=1.0, post_roll_s=5.0)
    for frame in ppe2_frames[:60]:
        recorder.push(frame)
    clip = recorder.open(ppe2_frames[59].ts)  # then the camera dies: no frame reaches ts + 5 s
    assert recorder.flush_overdue(ppe2_frames[59].ts + 3.0) == 0
    assert recorder.flush_overdue(ppe2_frames[59].ts + 8.0) == 1
    encoded = clip.future.result(timeout=60)
    recorder.shutdown()
    # Stored at 5 fps: frames 35, 40 .. 55 of the 1 s pre-roll, each shown 0.2 s.
    assert encoded.frame_count == 5
    assert encoded.duration_s == pytest.approx(1.0, abs=0.01)
