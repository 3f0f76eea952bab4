"""Distant workers: person and PPE recall/precision on wide shots, plain pass vs tiled, side by side.

    python -m bench.tiling [--per-frame 3] [--valid 60] [--video-frames 8] [--weights model.onnx]

The set is made at run time from what is shared: valid images of the Construction Site Safety set (labels
as ground truth) and frames of ppe-{1,2,3}.mp4 (ground truth: the detector's own confident boxes, ≥ 0.5, on
the full 720p frame, where its people are 520-630 px tall) are each scaled so their median person is 30-80
px tall and placed, `--per-frame` at a time, at random spots of grey 1920×1080 and 1280×720 frames (the
wide shots of bench/events.py, as stills). Detections count above the rules' per-class floors, matched
one-to-one at IoU ≥ 0.5. Every frame runs every variant back to back, so load changes hit all alike.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import supervision as sv

from bench._footage import GREY_BGR, place
from bench.events import SHARED
from detect._classes import PPEClass
from detect._dataset import Dataset, Labels
from detect._sv import boxes, class_ids, confidences, subset
from detect.evaluate import match
from detect.model import Detector
from detect.rules_config import ClassThresholds
from detect.tiling import TilePlanner, TilingConfig, TilingMode, detect_frames

CLASSES = (
    PPEClass.PERSON,
    PPEClass.HARDHAT,
    PPEClass.NO_HARDHAT,
    PPEClass.SAFETY_VEST,
    PPEClass.NO_SAFETY_VEST,
)
SIZES = ((1920, 1080), (1280, 720))
PERSON_PX = (30, 80)  # median person height of a placed piece
MIN_BOX_PX = 4  # ground truth shorter than this after scaling is dropped (a 30 px worker's hardhat is ~5)
GT_CONF = 0.5  # video frames: the detector's boxes at full size this confident are the ground truth
VARIANTS: dict[str, TilingConfig] = {
    "plain": TilingConfig(mode=TilingMode.OFF),
    "native": TilingConfig(mode=TilingMode.ON, person_crops=False),
    "native + crops": TilingConfig(mode=TilingMode.ON),
    "tiles 640": TilingConfig(mode=TilingMode.ON, tile_px=640, person_crops=False),
    "tiles 640 + crops": TilingConfig(mode=TilingMode.ON, tile_px=640),
    "tiles 960": TilingConfig(mode=TilingMode.ON, tile_px=960, person_crops=False),
}


@dataclass
class Piece:
    image: npt.NDArray[np.uint8]
    labels: Labels
    source: str


@dataclass
class Tally:
    tp: dict[int, int] = field(default_factory=dict)
    fp: dict[int, int] = field(default_factory=dict)
    gt: dict[int, int] = field(default_factory=dict)
    seconds: list[float] = field(default_factory=list)  # wall
    cpu: list[float] = field(default_factory=list)  # this process's CPU time (all ORT threads)

    def add(self, found: sv.Detections, truth: Labels) -> None:
        floors = ClassThresholds()
        keep = np.array([c in CLASSES and s >= floors.for_class(c) for c, s in
                         zip(class_ids(found), confidences(found), strict=True)], dtype=bool)  # fmt: skip
        found = subset(found, keep)
        correct = match(boxes(found).astype(np.float32), class_ids(found), truth)[:, 0]
        for c in CLASSES:
            mine = class_ids(found) == c
            self.tp[c] = self.tp.get(c, 0) + int(correct[mine].sum())
            self.fp[c] = self.fp.get(c, 0) + int((~correct[mine]).sum())
            self.gt[c] = self.gt.get(c, 0) + int((truth.class_id == c).sum())

    def recall(self, c: int) -> float:
        return self.tp.get(c, 0) / self.gt[c] if self.gt.get(c) else float("nan")

    def precision(self, c: int) -> float:
        found = self.tp.get(c, 0) + self.fp.get(c, 0)
        return self.tp.get(c, 0) / found if found else float("nan")


def valid_pieces(limit: int, rng: random.Random) -> list[Piece]:
    dataset = Dataset.load(SHARED / "datasets" / "construction-site-safety" / "data.yaml")
    pieces = []
    for sample in dataset.samples("val"):
        persons = sample.labels.xyxy[sample.labels.class_id == PPEClass.PERSON]
        if len(persons) and np.median(persons[:, 3] - persons[:, 1]) >= PERSON_PX[1]:
            pieces.append(Piece(sample.image, sample.labels, sample.path.name))
    rng.shuffle(pieces)
    return pieces[:limit]


def video_pieces(detector: Detector, per_video: int) -> list[Piece]:
    pieces = []
    for name in ("ppe-1", "ppe-2", "ppe-3"):
        capture = cv2.VideoCapture(str(SHARED / "videos" / f"{name}.mp4"))
        total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        for index in np.linspace(0, total - 1, per_video, dtype=int):
            capture.set(cv2.CAP_PROP_POS_FRAMES, int(index))
            ok, frame = capture.read()
            if not ok:
                continue
            image = np.asarray(frame, np.uint8)
            (found,) = detector.detect([image])
            keep = np.isin(class_ids(found), CLASSES) & (confidences(found) >= GT_CONF)
            truth = Labels(boxes(found)[keep].astype(np.float32), class_ids(found)[keep])
            if (truth.class_id == PPEClass.PERSON).any():
                pieces.append(Piece(image, truth, f"{name}@{index}"))
        capture.release()
    return pieces


def frames(pieces: list[Piece], per_frame: int, rng: random.Random) -> Iterator[tuple[np.ndarray, Labels]]:
    """Wide-shot stills: `per_frame` pieces scaled and placed apart in a grey frame, labels moved along."""
    for start in range(0, len(pieces), per_frame):
        width, height = SIZES[(start // per_frame) % len(SIZES)]
        canvas = np.full((height, width, 3), GREY_BGR, np.uint8)
        taken: list[tuple[int, int, int, int]] = []
        xyxy, classes = [], []
        for piece in pieces[start : start + per_frame]:
            persons = piece.labels.xyxy[piece.labels.class_id == PPEClass.PERSON]
            scale = rng.uniform(*PERSON_PX) / float(np.median(persons[:, 3] - persons[:, 1]))
            w, h = round(piece.image.shape[1] * scale), round(piece.image.shape[0] * scale)
            for _ in range(200):  # a free spot (pieces never overlap)
                x, y = rng.randrange(0, width - w), rng.randrange(0, height - h)
                if all(x + w <= a or b <= x or y + h <= c or d <= y for a, c, b, d in taken):
                    break
            taken.append((x, y, x + w, y + h))
            place(canvas, piece.image, scale, x, y)
            moved = piece.labels.xyxy * scale + np.array([x, y, x, y], np.float32)
            tall = moved[:, 3] - moved[:, 1] >= MIN_BOX_PX
            xyxy.append(moved[tall])
            classes.append(piece.labels.class_id[tall])
        yield canvas, Labels(np.concatenate(xyxy).astype(np.float32), np.concatenate(classes))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--per-frame", type=int, default=3, help="pieces placed in each wide frame")
    parser.add_argument("--valid", type=int, default=60, help="valid images used")
    parser.add_argument("--video-frames", type=int, default=8, help="frames taken from each video")
    parser.add_argument("--weights", type=Path, default=None, help="ONNX model (default: the shipped one)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    detector = Detector.load(args.weights)
    rng = random.Random(args.seed)
    pieces = valid_pieces(args.valid, rng) + video_pieces(detector, args.video_frames)
    rng.shuffle(pieces)
    videos = sum(p.source.startswith("ppe-") for p in pieces)
    print(f"detector {detector.model_version} at {detector.input_size}; {len(pieces)} pieces "
          f"({videos} video frames); load average {os.getloadavg()}")  # fmt: skip
    tallies = {name: Tally() for name in VARIANTS}
    count = 0
    for canvas, truth in frames(pieces, args.per_frame, rng):
        count += 1
        height, width = canvas.shape[:2]
        names = list(VARIANTS)
        names = names[count % len(names) :] + names[: count % len(names)]  # rotate who runs first
        for name in names:
            plan = TilePlanner(VARIANTS[name]).plan(width, height, detector.input_size, 0.0)
            started, cpu = time.perf_counter(), time.process_time()
            (found,) = detect_frames(detector, [canvas], [plan])
            tallies[name].seconds.append(time.perf_counter() - started)
            tallies[name].cpu.append(time.process_time() - cpu)
            tallies[name].add(found, truth)
    print(f"{count} frames ({', '.join(f'{w}×{h}' for w, h in SIZES)} alternating); load average "
          f"{os.getloadavg()}")  # fmt: skip
    header = "| class | GT | " + " | ".join(f"{n} R / P" for n in VARIANTS) + " |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for c in CLASSES:
        cells = [f"{t.recall(c):.2f} / {t.precision(c):.2f}" for t in tallies.values()]
        print(f"| {PPEClass(c).label} | {tallies['plain'].gt.get(c, 0)} | " + " | ".join(cells) + " |")
    for what in ("cpu", "seconds"):
        plain_ms = 1000 * float(np.mean(getattr(tallies["plain"], what)))
        cells = []
        for t in tallies.values():
            ms = 1000 * float(np.mean(getattr(t, what)))
            cells.append(f"{ms:.0f} ms ({ms / plain_ms:.1f}×)")
        label = "CPU time per frame" if what == "cpu" else "wall time per frame"
        print(f"| {label} | | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
