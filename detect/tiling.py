"""Detail passes for wide shots: the frame at native size (or overlapping tiles) besides the plain pass.

At a 640 input a 1920×1080 frame is shrunk 3×: a worker 60 px tall reaches the model at 20 px and his
hardhat at 4 px, below what YOLOv8n finds. A detail pass shows the model the frame at native resolution:

- `native_pass` (the default): the whole frame once more at its own size (long side ≤ MAX_NATIVE_PX), which
  the dynamic-shape ONNX model takes as it is. No seams, no overlap paid twice: on bench/tiling.py it finds
  as many people as 640 tiles for half their CPU.
- `tile_grid` (`tile_px` set; SAHI, supervision's InferenceSlicer): square tiles of `tile_px` frame pixels
  laid evenly, neighbours overlapping by at least `overlap` of a tile, each run at the model input size.
- `detect_frames` runs every frame's plain pass and detail passes with one detector call per input size
  (the worker batches cameras), maps tile boxes back to frame pixels, drops tile boxes cut by an inner
  tile edge (a neighbour or the plain pass sees that object whole) and merges the rest with class-aware
  NMS: a person standing on a seam is one detection.
- `person_crop_tiles` (`person_crops`, on frames with a detail pass): person first, then PPE (Frigate's
  regions): each small person found is re-run in a square of 2× his height upscaled to CROP_SIZE, and the
  crops' PPE boxes are merged in; at native size a distant worker's hardhat is ~10 px, in his crop ~30.
- `TilePlanner` is one camera's decision, per analysed frame, from its `TilingConfig` (set per camera:
  `SamplingConfig.tiling`). "auto" adds the detail pass only on frames much larger than the model input,
  and only while people small at the model input were seen lately; a probe frame every `probe_s` looks.

Measured in bench/tiling.py (figures in models/MODEL_CARD.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

import numpy as np
import numpy.typing as npt
import supervision as sv
from pydantic import BaseModel, ConfigDict, Field

from detect._classes import PPEClass
from detect._sv import boxes, class_ids, confidences, subset

# Bounds of the per-camera setting, declared once (the API validates with this model, the worker runs it).
MIN_TILE_PX, MAX_TILE_PX = 256, 1920
MAX_OVERLAP = 0.5
# "auto" never tiles a frame whose long side is under this many model inputs: the plain pass already sees
# it at 2/3 of native size or more, and tiles would cost more than they find.
AUTO_MIN_FRAME_RATIO = 1.5
MAX_NATIVE_PX = 1920  # the native pass scales larger frames down to this long side (4K: 4× less)
# Person crops (on frames with a detail pass): people shorter than CROP_BELOW_PX frame pixels and at least
# CROP_PERSON_CONF (the rules' person floor) get a square of CROP_SIDE × their height re-run at CROP_SIZE.
CROP_BELOW_PX = 120
CROP_PERSON_CONF = 0.35
CROP_SIDE = 2.0
CROP_SIZE = 320
MAX_CROPS = 16  # per frame, the tallest first: bounds a crowd's cost (16 crops ≈ 4 passes at 640²)
MERGE_IOU = 0.5  # class-aware NMS over the full pass and the tiles
_EDGE_PX = 2.0  # a tile box within this of an inner tile edge was cut by it


class TilingMode(StrEnum):
    AUTO = "auto"
    OFF = "off"
    ON = "on"


class TilingConfig(BaseModel):
    """Whether and how one camera's frames get a detail pass (stored in the camera's sampling config)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: TilingMode = Field(
        TilingMode.AUTO,
        description="off: the plain pass only; on: a detail pass on every analysed frame; auto: on frames "
        f"over {AUTO_MIN_FRAME_RATIO}× the model input, while small people were seen lately (probing)",
    )
    tile_px: int | None = Field(
        None,
        ge=MIN_TILE_PX,
        le=MAX_TILE_PX,
        description="null: one extra pass over the whole frame at native size (no seams; measured best); "
        "a number: overlapping square tiles of that many frame pixels, each run at the model input size",
    )
    overlap: float = Field(
        0.2, ge=0.05, le=MAX_OVERLAP, description="Least overlap of neighbouring tiles, fraction of a tile"
    )
    person_crops: bool = Field(
        True,
        description=f"On detail-pass frames, re-run each person under {CROP_BELOW_PX} px with his "
        f"surroundings upscaled to {CROP_SIZE} px for his PPE (person first, then PPE)",
    )
    small_person_px: int = Field(
        48,
        ge=8,
        le=640,
        description="auto: people shorter than this at the model input (full-frame scale) are small",
    )
    hold_s: float = Field(
        10.0, ge=0.0, le=3600.0, description="auto: keep tiling this long after the last small person"
    )
    probe_s: float = Field(
        5.0, ge=0.2, le=3600.0, description="auto: with no small person lately, tile one frame this often"
    )


@dataclass(frozen=True, slots=True)
class Tile:
    """A frame window in pixels (x1, y1 inclusive, x2, y2 exclusive), run with its long side at `size`."""

    x1: int
    y1: int
    x2: int
    y2: int
    size: int


def _starts(length: int, tile: int, overlap: float) -> list[int]:
    if length <= tile:
        return [0]
    least = math.ceil(tile * overlap)
    count = math.ceil((length - least) / (tile - least))
    return [round(i * (length - tile) / (count - 1)) for i in range(count)]


def tile_grid(width: int, height: int, tile_px: int, overlap: float, size: int) -> tuple[Tile, ...]:
    """Tiles of `tile_px` covering the frame evenly; none when one tile would be the whole frame."""
    if width <= tile_px and height <= tile_px:
        return ()
    tile_w, tile_h = min(tile_px, width), min(tile_px, height)
    return tuple(
        Tile(x, y, x + tile_w, y + tile_h, size)
        for y in _starts(height, tile_h, overlap)
        for x in _starts(width, tile_w, overlap)
    )


def native_pass(width: int, height: int, input_size: int) -> tuple[Tile, ...]:
    """The whole frame at native size (long side capped at MAX_NATIVE_PX); none if that is no larger."""
    size = min(max(width, height), MAX_NATIVE_PX)
    return (Tile(0, 0, width, height, size),) if size > input_size else ()


@dataclass(frozen=True, slots=True)
class Plan:
    """One frame's extra passes: detail tiles, then (if `person_crops`) the small people found, upscaled."""

    tiles: tuple[Tile, ...] = ()
    person_crops: bool = False

    def __bool__(self) -> bool:
        return bool(self.tiles)


PLAIN = Plan()


def person_crop_tiles(found: sv.Detections, width: int, height: int) -> tuple[Tile, ...]:
    """Person first, then PPE (Frigate's regions): a square of CROP_SIDE × each small person's height
    around him, run at CROP_SIZE (a 60 px worker's 120 px crop at 2.7×); the largest MAX_CROPS only."""
    keep = (class_ids(found) == PPEClass.PERSON) & (confidences(found) >= CROP_PERSON_CONF)
    small = [b for b in boxes(found)[keep] if b[3] - b[1] < CROP_BELOW_PX]
    small.sort(key=lambda b: b[1] - b[3])
    tiles = []
    for x1, y1, x2, y2 in small[:MAX_CROPS]:
        half, cx, cy = max(8.0, CROP_SIDE * (y2 - y1) / 2), (x1 + x2) / 2, (y1 + y2) / 2
        left, top = max(0, round(cx - half)), max(0, round(cy - half))
        tiles.append(Tile(left, top, min(width, round(cx + half)), min(height, round(cy + half)), CROP_SIZE))
    return tuple(tiles)


class BatchDetector(Protocol):
    """What tiling needs of `detect.model.Detector`."""

    @property
    def input_size(self) -> int: ...

    def detect(
        self, images: Sequence[npt.NDArray[np.uint8]], *, size: int | None = None
    ) -> list[sv.Detections]: ...


def detect_frames(
    detector: BatchDetector, images: Sequence[npt.NDArray[np.uint8]], plans: Sequence[Plan]
) -> list[sv.Detections]:
    """Each image's detections: its plain pass, plus its plan's tiles and person crops, merged.

    One detector call per input size: the plain passes and tiles at the model's input size go together;
    the person crops of every image, found in the merged boxes, make one more call.
    """
    if len(images) != len(plans):
        raise ValueError(f"{len(images)} images but {len(plans)} tile plans")
    jobs = [(i, tile) for i, plan in enumerate(plans) for tile in plan.tiles]
    found = _run(detector, images, jobs)
    merged = []
    for i, (image, plan) in enumerate(zip(images, plans, strict=True)):
        height, width = image.shape[:2]
        parts = [found[i, None], *(to_frame(found[i, tile], tile, width, height) for tile in plan.tiles)]
        merged.append(merge(parts) if plan.tiles else parts[0])
    crops = [
        (i, tile)
        for i, (image, plan) in enumerate(zip(images, plans, strict=True))
        if plan.person_crops and plan.tiles
        for tile in person_crop_tiles(merged[i], image.shape[1], image.shape[0])
    ]
    if crops:
        ppe = _run(detector, images, crops, plain=False)
        for i in sorted({i for i, _ in crops}):
            height, width = images[i].shape[:2]
            mine = [to_frame(_not_persons(ppe[j, t]), t, width, height) for j, t in crops if j == i]
            merged[i] = merge([merged[i], *mine])
    return merged


def _run(
    detector: BatchDetector,
    images: Sequence[npt.NDArray[np.uint8]],
    jobs: list[tuple[int, Tile]],
    *,
    plain: bool = True,
) -> dict[tuple[int, Tile | None], sv.Detections]:
    """Detections per (image, tile), (image, None) for the plain passes; one detector call per size."""
    found: dict[tuple[int, Tile | None], sv.Detections] = {}
    sizes = {tile.size for _, tile in jobs} | ({detector.input_size} if plain else set())
    for size in sorted(sizes):
        mine = [(i, tile) for i, tile in jobs if tile.size == size]
        own = list(range(len(images))) if plain and size == detector.input_size else []
        batch = [images[i] for i in own] + [_crop(images[i], tile) for i, tile in mine]
        results = detector.detect(batch, size=size)
        keys: list[tuple[int, Tile | None]] = [(i, None) for i in own]
        found |= dict(zip([*keys, *mine], results, strict=True))
    return found


def _not_persons(found: sv.Detections) -> sv.Detections:
    """A crop's PPE only: its person box is the one the crop was cut around (or a cut-off neighbour)."""
    return subset(found, class_ids(found) != PPEClass.PERSON)


def _crop(image: npt.NDArray[np.uint8], tile: Tile) -> npt.NDArray[np.uint8]:
    if (tile.x1, tile.y1, tile.x2, tile.y2) == (0, 0, image.shape[1], image.shape[0]):
        return image
    return np.ascontiguousarray(image[tile.y1 : tile.y2, tile.x1 : tile.x2])


def merge(parts: Sequence[sv.Detections]) -> sv.Detections:
    """One box per object over the full pass and the tiles (class-aware NMS)."""
    joined = sv.Detections.merge(list(parts))
    if len(joined) == 0:
        return joined
    return joined.with_nms(threshold=MERGE_IOU, class_agnostic=False)


def to_frame(found: sv.Detections, tile: Tile, width: int, height: int) -> sv.Detections:
    """Tile boxes in frame pixels, without those an inner tile edge cut (a frame edge cuts nothing)."""
    xyxy = boxes(found) + np.array([tile.x1, tile.y1, tile.x1, tile.y1], dtype=np.float64)
    cut = np.zeros(len(found), dtype=bool)
    if tile.x1 > 0:
        cut |= xyxy[:, 0] <= tile.x1 + _EDGE_PX
    if tile.y1 > 0:
        cut |= xyxy[:, 1] <= tile.y1 + _EDGE_PX
    if tile.x2 < width:
        cut |= xyxy[:, 2] >= tile.x2 - _EDGE_PX
    if tile.y2 < height:
        cut |= xyxy[:, 3] >= tile.y2 - _EDGE_PX
    kept = subset(found, ~cut)
    kept.xyxy = xyxy[~cut].astype(np.float32)
    return kept


class TilePlanner:
    """One camera's tiling decision per analysed frame (`plan`), fed back what was found (`observe`)."""

    def __init__(self, config: TilingConfig) -> None:
        self.config = config
        self.tiled = 0  # frames planned with tiles, since start
        self._last_tiled: float | None = None
        self._small_seen: float | None = None

    def grid(self, width: int, height: int, input_size: int) -> tuple[Tile, ...]:
        """What "on" runs besides the full pass on a frame of this size."""
        tile_px = self.config.tile_px
        if tile_px is None:
            return native_pass(width, height, input_size)
        return tile_grid(width, height, tile_px, self.config.overlap, input_size)

    def plan(self, width: int, height: int, input_size: int, ts: float) -> Plan:
        """What to run on this frame besides the plain pass; PLAIN (false) = the plain pass only."""
        mode = self.config.mode
        if mode is TilingMode.OFF:
            return PLAIN
        if mode is TilingMode.AUTO and not self._auto_wants(width, height, input_size, ts):
            return PLAIN
        tiles = self.grid(width, height, input_size)
        if tiles:
            self._last_tiled = ts
            self.tiled += 1
        return Plan(tiles, self.config.person_crops)

    def observe(self, detections: sv.Detections, width: int, height: int, input_size: int, ts: float) -> None:
        """Note small people among a frame's detections (what "auto" keeps tiling for)."""
        persons = boxes(subset(detections, class_ids(detections) == PPEClass.PERSON))
        scale = min(1.0, input_size / max(width, height))
        if (
            len(persons)
            and float((persons[:, 3] - persons[:, 1]).min()) * scale < self.config.small_person_px
        ):
            self._small_seen = ts

    def _auto_wants(self, width: int, height: int, input_size: int, ts: float) -> bool:
        if max(width, height) < AUTO_MIN_FRAME_RATIO * input_size:
            return False
        config, last, small = self.config, self._last_tiled, self._small_seen
        if small is not None and 0.0 <= ts - small <= config.hold_s:
            return True
        return last is None or not 0.0 <= ts - last < config.probe_s  # a probe (or the clock went back)
