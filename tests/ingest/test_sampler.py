from __future__ import annotations

import itertools
import random
from dataclasses import replace

import numpy as np
import pytest

from ingest._frame import Frame
from ingest.sampler import FrameSampler, MotionGate


def picks(sampler: FrameSampler, stamps: list[float]) -> list[int]:
    return [i for i, ts in enumerate(stamps) if sampler.due_at(ts)]


@pytest.mark.parametrize(
    ("input_fps", "target_fps", "step"),
    [(25.0, 5.0, 5), (30.0, 5.0, 6), (60.0, 5.0, 12), (15.0, 5.0, 3), (30.0, 10.0, 3), (5.0, 5.0, 1)],
)
def test_regular_input_gives_an_even_cadence(input_fps: float, target_fps: float, step: int) -> None:
    stamps = [1_700_000_000 + i / input_fps for i in range(int(input_fps * 20))]
    chosen = picks(FrameSampler(target_fps), stamps)
    assert {b - a for a, b in itertools.pairwise(chosen)} == {step}


def test_ntsc_rate_keeps_the_mean_rate() -> None:
    stamps = [1_700_000_000 + i * 1001 / 30000 for i in range(600)]  # 29.97 fps, 20 s
    chosen = picks(FrameSampler(5.0), stamps)
    assert len(chosen) == pytest.approx(20 * 5, abs=1)
    assert {b - a for a, b in itertools.pairwise(chosen)} <= {5, 6}


def test_slower_input_passes_every_frame() -> None:
    stamps = [1_700_000_000 + i / 3 for i in range(30)]
    assert picks(FrameSampler(5.0), stamps) == list(range(30))


@pytest.mark.parametrize("jitter_s", [0.005, 0.012])
def test_jittery_webrtc_timestamps(jitter_s: float) -> None:
    rng = random.Random(7)
    stamps = [1_700_000_000 + i / 30 + rng.uniform(-jitter_s, jitter_s) for i in range(900)]  # 30 s
    chosen = picks(FrameSampler(5.0), stamps)
    gaps = [stamps[b] - stamps[a] for a, b in itertools.pairwise(chosen)]
    assert len(chosen) == pytest.approx(30 * 5, abs=2)
    assert min(gaps) > 0.1 and max(gaps) < 0.3


def test_dropped_frames_and_reconnects_restart_the_cadence() -> None:
    sampler = FrameSampler(5.0)
    assert sampler.due_at(100.0)
    assert not sampler.due_at(100.1)
    assert sampler.due_at(103.0)  # after a 3 s gap: due at once, no burst to "catch up"
    assert not sampler.due_at(103.04)
    assert sampler.due_at(50.0)  # timestamps went back (new connection)
    assert not sampler.due_at(50.04)


def test_rejects_bad_rate() -> None:
    with pytest.raises(ValueError, match="target_fps"):
        FrameSampler(0)


def restamped(frame: Frame, ts: float) -> Frame:
    return replace(frame, ts=ts)


def test_motion_gate_skips_a_static_scene_except_keepalive(ppe2_frames: list[Frame]) -> None:
    gate = MotionGate(keepalive_s=2.0)
    still = ppe2_frames[100]
    rng = np.random.default_rng(3)
    passed = []
    for i in range(50):  # 10 s at 5 fps of the same picture with sensor noise
        noise = rng.integers(-3, 4, still.image.shape, dtype=np.int16)
        noisy = np.clip(still.image.astype(np.int16) + noise, 0, 255).astype(np.uint8)
        if gate.should_detect(Frame("cam-2", 1000 + i * 0.2, i * 0.2, noisy)):
            passed.append(i)
    assert passed == [0, 10, 20, 30, 40]  # first frame, then one per keepalive


def test_motion_gate_follows_activity_in_real_footage(ppe2_frames: list[Frame]) -> None:
    gate = MotionGate(keepalive_s=60.0)  # no keepalive: only motion may pass frames
    verdicts = [gate.should_detect(f) for f in ppe2_frames[::5]]  # 5 fps
    assert all(verdicts[:25])  # first 5 s: a moving scene
    assert not any(verdicts[-5:])  # the last second: the shot has settled on a still scene


def test_motion_gate_wakes_up_when_the_scene_changes(ppe2_frames: list[Frame]) -> None:
    gate = MotionGate(keepalive_s=60.0)
    still = ppe2_frames[0]
    assert gate.should_detect(restamped(still, 1.0))
    assert not gate.should_detect(restamped(still, 1.2))
    assert not gate.should_detect(restamped(still, 1.4))
    assert gate.should_detect(restamped(ppe2_frames[50], 1.6))
