"""Detail passes for distant workers: the real model on wide shots built from labelled valid images."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import supervision as sv

from bench._footage import GREY_BGR, place
from detect._classes import PPEClass
from detect._dataset import Dataset
from detect._sv import boxes, class_ids, confidences
from detect.model import Detector
from detect.tiling import (
    TilePlanner,
    TilingConfig,
    TilingMode,
    detect_frames,
    native_pass,
    tile_grid,
)

# Valid images of one whole site worker each (hardhat and vest on), cut out around the labelled person.
WORKERS = ("youtube-118", "youtube-287", "youtube-391", "youtube-392", "youtube-504", "youtube-584",
           "youtube-697", "youtube-836")  # fmt: skip
WIDE = (1920, 1080)


@dataclass(frozen=True)
class Worker:
    image: npt.NDArray[np.uint8]  # the person with a margin of 15 % of his height
    box: npt.NDArray[np.float32]  # his labelled box in `image`


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector.load()


@pytest.fixture(scope="module")
def workers(dataset_dir: Path) -> dict[str, Worker]:
    dataset = Dataset.load(dataset_dir / "data.yaml")
    found = {}
    for sample in dataset.samples("val"):
        name = next((n for n in WORKERS if sample.path.name.startswith(n)), None)
        if name is None:
            continue
        (x1, y1, x2, y2) = sample.labels.xyxy[sample.labels.class_id == PPEClass.PERSON][0]
        margin = 0.15 * (y2 - y1)
        cx1, cy1 = int(max(0, x1 - margin)), int(max(0, y1 - margin))
        cx2, cy2 = int(min(640, x2 + margin)), int(min(640, y2 + margin))
        box = np.array([x1 - cx1, y1 - cy1, x2 - cx1, y2 - cy1], np.float32)
        found[name] = Worker(np.ascontiguousarray(sample.image[cy1:cy2, cx1:cx2]), box)
    assert sorted(found) == sorted(WORKERS)
    return found


def wide_frame(
    placed: list[tuple[Worker, float, float]], height_px: float
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float64]]:
    """A grey 1920×1080 frame with each worker `height_px` tall, his box's top-left at (x, y)."""
    canvas = np.full((WIDE[1], WIDE[0], 3), GREY_BGR, np.uint8)
    truth = []
    for worker, x, y in placed:
        scale = height_px / float(worker.box[3] - worker.box[1])
        left, top = round(x - worker.box[0] * scale), round(y - worker.box[1] * scale)
        place(canvas, worker.image, scale, left, top)
        truth.append(worker.box * scale + np.array([left, top, left, top]))
    return canvas, np.array(truth, np.float64)


def persons(found: sv.Detections) -> npt.NDArray[np.float64]:
    return boxes(found)[class_ids(found) == PPEClass.PERSON]


def recovered(found: sv.Detections, truth: npt.NDArray[np.float64], iou: float = 0.3) -> int:
    mine = persons(found)
    if not len(mine):
        return 0
    return int((sv.box_iou_batch(truth, mine).max(axis=1) >= iou).sum())


def run(detector: Detector, image: npt.NDArray[np.uint8], config: TilingConfig) -> sv.Detections:
    plan = TilePlanner(config).plan(image.shape[1], image.shape[0], detector.input_size, 0.0)
    (found,) = detect_frames(detector, [image], [plan])
    return found


@pytest.mark.parametrize(
    "config",
    [TilingConfig(mode=TilingMode.ON), TilingConfig(mode=TilingMode.ON, tile_px=640)],
    ids=["native", "tiles-640"],
)
def test_detail_pass_recovers_distant_workers(
    detector: Detector, workers: dict[str, Worker], config: TilingConfig
) -> None:
    """8 workers 80 px tall in 1920×1080: the plain pass sees them at 27 px and misses them."""
    spots = [(120 + k * 220, 250 + (k % 3) * 230) for k in range(len(WORKERS))]
    image, truth = wide_frame([(workers[n], x, y) for n, (x, y) in zip(WORKERS, spots, strict=True)], 80)
    plain = recovered(run(detector, image, TilingConfig(mode=TilingMode.OFF)), truth)
    detailed = recovered(run(detector, image, config), truth)
    assert plain <= 2 and detailed >= 6, (plain, detailed)  # measured: 0 and 7 (native), 8 (tiles)


# 640 tiles of 1920×1080 start at x 0, 427, 853, 1280 and y 0, 440: seams where a tile's edge cuts a person.
@pytest.mark.parametrize(
    ("axis", "seam"), [("x", 427), ("x", 853), ("x", 1067), ("y", 640)], ids=lambda v: str(v)
)
def test_a_worker_on_a_tile_seam_is_one_detection_in_frame_pixels(
    detector: Detector, workers: dict[str, Worker], axis: str, seam: int
) -> None:
    worker = workers["youtube-584"]
    height = 100.0
    width = height * float((worker.box[2] - worker.box[0]) / (worker.box[3] - worker.box[1]))
    x, y = (seam - width / 2, 300.0) if axis == "x" else (900.0, seam - height / 2)
    image, truth = wide_frame([(worker, x, y)], height)
    found = persons(run(detector, image, TilingConfig(mode=TilingMode.ON, tile_px=640)))
    overlaps = sv.box_iou_batch(truth, found)[0] if len(found) else np.zeros(0)
    # Without dropping boxes cut by an inner tile edge, the cut half survives NMS (IoU ≈ 0.4): two persons.
    assert int((overlaps > 0.05).sum()) == 1, overlaps
    assert overlaps.max() >= 0.7, overlaps  # and the whole one is where he stands in the frame


@pytest.mark.parametrize(
    ("size", "tile_px", "count"),
    [((1920, 1080), 640, 8), ((1280, 720), 640, 6), ((1920, 1080), 960, 6), ((640, 480), 640, 0),
     ((2560, 1440), 640, 15)],
)  # fmt: skip
def test_tiles_cover_the_frame_with_the_overlap(size: tuple[int, int], tile_px: int, count: int) -> None:
    width, height = size
    tiles = tile_grid(width, height, tile_px, 0.2, 640)
    assert len(tiles) == count
    covered = np.zeros((height, width), bool)
    for tile in tiles:
        assert 0 <= tile.x1 < tile.x2 <= width and 0 <= tile.y1 < tile.y2 <= height
        covered[tile.y1 : tile.y2, tile.x1 : tile.x2] = True
    assert covered.all() or not tiles
    xs = sorted({t.x1 for t in tiles})
    assert all(b - a <= tile_px - 0.2 * tile_px for a, b in itertools.pairwise(xs))


@pytest.mark.parametrize(
    ("size", "expected"),
    [((1920, 1080), 1920), ((3840, 2160), 1920), ((1280, 720), 1280), ((640, 360), None)],
)
def test_native_pass_size(size: tuple[int, int], expected: int | None) -> None:
    plan = native_pass(*size, 640)
    assert [t.size for t in plan] == ([] if expected is None else [expected])


def person_at(height: float) -> sv.Detections:
    return sv.Detections(
        xyxy=np.array([[100, 100, 130, 100 + height]], np.float32),
        confidence=np.array([0.9], np.float32),
        class_id=np.array([PPEClass.PERSON]),
    )


# (ts, frame size, person height seen on that frame or None) → did "auto" run a detail pass?
AUTO_STEPS = {
    "small frames never": [(0.0, (800, 450), 20.0, False), (1.0, (800, 450), None, False)],
    "probe, then wait": [(0.0, WIDE, None, True), (0.2, WIDE, None, False), (4.9, WIDE, None, False),
                         (5.0, WIDE, None, True)],
    "small person holds it": [(0.0, WIDE, 90.0, True), (0.2, WIDE, 90.0, True), (9.0, WIDE, None, True),
                              (10.3, WIDE, None, False)],
    "a big person does not": [(0.0, WIDE, 400.0, True), (0.2, WIDE, 400.0, False)],
    "clock going back probes": [(100.0, WIDE, None, True), (50.0, WIDE, None, True)],
}  # fmt: skip


@pytest.mark.parametrize("steps", AUTO_STEPS.values(), ids=AUTO_STEPS.keys())
def test_auto_tiles_while_small_people_are_seen(
    steps: list[tuple[float, tuple[int, int], float | None, bool]],
) -> None:
    """Defaults: small = under 48 px at the model input (144 px in 1920×1080), hold 10 s, probe 5 s."""
    planner = TilePlanner(TilingConfig())
    for ts, (width, height), person, tiled in steps:
        assert bool(planner.plan(width, height, 640, ts)) is tiled, (ts, person)
        seen = person_at(person) if person is not None else sv.Detections.empty()
        planner.observe(seen, width, height, 640, ts)


@pytest.mark.parametrize("mode", [TilingMode.OFF, TilingMode.ON])
def test_off_and_on_ignore_what_is_seen(mode: TilingMode) -> None:
    planner = TilePlanner(TilingConfig(mode=mode))
    for ts in (0.0, 0.2, 0.4):
        assert bool(planner.plan(*WIDE, 640, ts)) is (mode is TilingMode.ON)
        planner.observe(person_at(60.0), *WIDE, 640, ts)


def hardhats_on(found: sv.Detections, truth: npt.NDArray[np.float64]) -> int:
    """Placed workers with a Hardhat box (≥ the rules' floor) whose centre lies in his top third."""
    hats = boxes(found)[(class_ids(found) == PPEClass.HARDHAT) & (confidences(found) >= 0.35)]
    cx, cy = (hats[:, 0] + hats[:, 2]) / 2, (hats[:, 1] + hats[:, 3]) / 2
    head = [
        bool(((x1 <= cx) & (cx <= x2) & (y1 <= cy) & (cy <= y1 + (y2 - y1) / 3)).any())
        for x1, y1, x2, y2 in truth
    ]
    return sum(head)


def test_person_crops_find_the_hardhats_of_distant_workers(
    detector: Detector, workers: dict[str, Worker]
) -> None:
    """Every placed worker wears a hardhat; at native size it is ~10 px, in his upscaled crop ~30 px."""
    spots = [(120 + k * 220, 250 + (k % 3) * 230) for k in range(len(WORKERS))]
    image, truth = wide_frame([(workers[n], x, y) for n, (x, y) in zip(WORKERS, spots, strict=True)], 60)
    counts = {
        crops: hardhats_on(run(detector, image, TilingConfig(mode=TilingMode.ON, person_crops=crops)), truth)
        for crops in (False, True)
    }
    assert counts[True] >= max(3, counts[False] + 2), counts  # measured: 4 of 8 with crops, 0 without
