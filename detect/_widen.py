"""Aspect-ratio augmentation: a train copy in which a share of the images are widened to camera geometry.

The Construction Site Safety stills are stretched to 640×640; site cameras send 4:3 and 16:9. Widening an
image by 1.33× or 1.78× (labels unchanged: they are normalised) shows the model people as cameras show
them. The copy links every other image and label file, so it costs only the widened JPEGs.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path

import cv2

from detect._dataset import Dataset, DatasetError, label_path

WIDEN_FACTORS = (1.33, 1.78)  # 4:3 and 16:9 from a square still
MAX_SHARE = 1.0


@dataclass(frozen=True)
class WidenPlan:
    share: float  # fraction of the train images widened, 0 < share ≤ 1
    seed: int = 0
    factors: tuple[float, ...] = WIDEN_FACTORS


def widen_image(image: cv2.typing.MatLike, factor: float) -> cv2.typing.MatLike:
    """The image `factor` times wider at the same height (normalised YOLO labels stay valid)."""
    height, width = image.shape[:2]
    return cv2.resize(image, (round(width * factor), height), interpolation=cv2.INTER_LINEAR)


def widened_train_copy(dataset: Dataset, plan: WidenPlan, out: Path) -> Path:
    """Write out/{images,labels}/train (idempotent: a finished copy is reused) and a data.yaml using it.

    The yaml keeps every other split of `dataset` as is, so validation stays on the untouched valid images.
    """
    if not 0 < plan.share <= MAX_SHARE:
        raise DatasetError(f"widen share must be in (0, {MAX_SHARE}], got {plan.share}")
    images_dir, labels_dir = out / "images" / "train", out / "labels" / "train"
    done = out / ".complete"
    if not done.is_file():
        images_dir.mkdir(parents=True, exist_ok=True)
        labels_dir.mkdir(parents=True, exist_ok=True)
        rng = random.Random(plan.seed)
        for index, source in enumerate(dataset.image_paths("train")):
            stem = f"{index:05d}_{source.stem}"
            labels = label_path(source)
            if labels.is_file():
                _link(labels.resolve(), labels_dir / f"{stem}.txt")
            if rng.random() < plan.share:
                image = cv2.imread(str(source), cv2.IMREAD_COLOR)
                if image is None:
                    raise DatasetError(f"cannot decode image {source}")
                factor = rng.choice(plan.factors)
                target = images_dir / f"{stem}.jpg"
                if not cv2.imwrite(str(target), widen_image(image, factor), [cv2.IMWRITE_JPEG_QUALITY, 95]):
                    raise DatasetError(f"cannot write {target}")
            else:
                _link(source.resolve(), images_dir / f"{stem}{source.suffix}")
        done.write_text(f"share={plan.share} seed={plan.seed} factors={plan.factors}\n")
    spec_splits = {split: entries for split, entries in dataset.splits.items() if split != "train"}
    widened = Dataset(dataset.yaml_path, dataset.root, dataset.names, spec_splits)
    yaml_path = widened.resolved_yaml(out / "data.yaml")
    # resolved_yaml wrote the non-train splits relative to the original root; add the absolute train folder.
    yaml_path.write_text(yaml_path.read_text() + f"train: {images_dir.resolve()}\n")
    return yaml_path


def _link(source: Path, target: Path) -> None:
    if target.is_symlink() or target.exists():
        target.unlink()
    os.symlink(source, target)
