"""A YOLO-format dataset described by a data.yaml: split images, their box labels, class names."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import yaml  # type: ignore[import-untyped]  # no types-PyYAML in the environment

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
SPLITS = ("train", "val", "test")


class DatasetError(Exception):
    """A data.yaml, split folder, label file or image that cannot be used."""


@dataclass(frozen=True, slots=True)
class Labels:
    """Ground truth of one image in pixels of that image."""

    xyxy: npt.NDArray[np.float32]
    class_id: npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Sample:
    path: Path
    image: npt.NDArray[np.uint8]
    labels: Labels


@dataclass(frozen=True)
class Dataset:
    """data.yaml with its root resolved as Ultralytics would if `path:` were absolute.

    Relative `path:` values are taken relative to the yaml's own folder (Ultralytics would look in its
    global datasets dir instead), so a dataset folder can be moved around with its yaml.
    """

    yaml_path: Path
    root: Path
    names: tuple[str, ...]
    splits: dict[str, list[str]]

    @classmethod
    def load(cls, yaml_path: str | Path) -> Dataset:
        path = Path(yaml_path)
        if not path.is_file():
            raise DatasetError(f"data.yaml not found: {path}")
        try:
            spec: Any = yaml.safe_load(path.read_text())
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise DatasetError(f"{path}: not valid YAML ({type(exc).__name__})") from None
        if not isinstance(spec, dict) or "names" not in spec:
            raise DatasetError(f"{path}: expected a mapping with 'names' and split folders")
        root = Path(str(spec.get("path") or "."))
        root = root if root.is_absolute() else (path.parent / root).resolve()
        names = spec["names"]
        ordered = [names[i] for i in sorted(names)] if isinstance(names, dict) else list(names)
        splits = {
            split: [str(v) for v in (value if isinstance(value, list) else [value])]
            for split in SPLITS
            if (value := spec.get(split)) is not None
        }
        return cls(path, root, tuple(str(n) for n in ordered), splits)

    def image_paths(self, split: str) -> list[Path]:
        if split not in self.splits:
            raise DatasetError(f"{self.yaml_path}: no '{split}' split")
        found: list[Path] = []
        for entry in self.splits[split]:
            folder = Path(entry) if Path(entry).is_absolute() else self.root / entry
            if not folder.is_dir():
                raise DatasetError(f"{self.yaml_path}: {split} images folder not found: {folder}")
            found += sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        if not found:
            raise DatasetError(f"{self.yaml_path}: no images in the '{split}' split")
        return found

    def samples(self, split: str) -> Iterator[Sample]:
        """Yield decoded images with labels; an undecodable image is an error, not a silent skip."""
        for image_path in self.image_paths(split):
            image = cv2.imread(str(image_path), cv2.IMREAD_COLOR)
            if image is None:
                raise DatasetError(f"cannot decode image {image_path}")
            labels = read_labels(label_path(image_path), image.shape[1], image.shape[0])
            yield Sample(image_path, np.asarray(image, np.uint8), labels)

    def resolved_yaml(self, out: Path) -> Path:
        """Write a copy with an absolute `path:` so Ultralytics' trainer finds the same folders."""
        spec = {"path": str(self.root), "names": dict(enumerate(self.names))}
        spec |= {split: entries if len(entries) > 1 else entries[0] for split, entries in self.splits.items()}
        out.write_text(yaml.safe_dump(spec, sort_keys=False))
        return out


def label_path(image_path: Path) -> Path:
    """Ultralytics' convention: replace the last `images` folder with `labels`, extension with .txt."""
    parts = list(image_path.parts)
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            break
    return Path(*parts).with_suffix(".txt")


def read_labels(path: Path, width: int, height: int) -> Labels:
    """Parse `cls cx cy w h` rows (normalised); polygon rows become their bounding box."""
    boxes: list[list[float]] = []
    classes: list[int] = []
    text = path.read_text() if path.is_file() else ""  # no file = an image with no objects
    for number, line in enumerate(text.splitlines(), 1):
        values = line.split()
        if not values:
            continue
        try:
            cls, coords = int(values[0]), [float(v) for v in values[1:]]
        except ValueError:
            raise DatasetError(f"{path}:{number}: not a YOLO label row: {line.strip()!r}") from None
        if len(coords) == 4:
            cx, cy, w, h = coords
            boxes.append([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
        elif len(coords) >= 6 and len(coords) % 2 == 0:
            xs, ys = coords[0::2], coords[1::2]
            boxes.append([min(xs), min(ys), max(xs), max(ys)])
        else:
            raise DatasetError(f"{path}:{number}: expected 4 box or an even number of polygon values")
        classes.append(cls)
    xyxy = np.array(boxes, np.float32).reshape(-1, 4) * np.array([width, height, width, height], np.float32)
    return Labels(xyxy, np.array(classes, np.int64))
