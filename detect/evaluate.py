"""mAP of a detector on a YOLO-format split, computed the way Ultralytics' validator does.

Predictions come from our ONNX `Detector` (a `.pt` is first exported to a temporary ONNX file), at
conf 0.001, IoU 0.7 and multi-label NMS like `YOLO.val()`; matching at IoU 0.50:0.95 and the AP
integration reuse Ultralytics' `ap_per_class`, so the two agree to the third decimal.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import asdict, dataclass, replace
from itertools import islice
from pathlib import Path

import numpy as np
import numpy.typing as npt
import supervision as sv
from tqdm import tqdm

from detect._dataset import Dataset, DatasetError, Labels, Sample
from detect.model import DEFAULT_IMGSZ, Detector, ModelError, Thresholds

IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)
EVAL_CONF = 0.001  # Ultralytics' val default: the whole precision-recall curve counts
EVAL_NMS_IOU = 0.7
BATCH = 8


@dataclass(frozen=True)
class EvalResult:
    weights: str
    model_version: str
    data: str
    split: str
    imgsz: int
    images: int
    instances: int
    map50: float
    map50_95: float
    ap50: dict[str, float]  # classes that have at least one label in the split

    def to_json(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")

    def summary(self) -> str:
        lines = [
            f"{self.weights} ({self.model_version}) on {self.data} [{self.split}], imgsz {self.imgsz}",
            f"images {self.images}  instances {self.instances}",
            f"mAP50 {self.map50:.3f}  mAP50-95 {self.map50_95:.3f}",
            *(f"  {name:<16} AP50 {ap:.3f}" for name, ap in self.ap50.items()),
        ]
        return "\n".join(lines)


@dataclass
class _Stats:
    """Per-prediction TP flags and per-label classes accumulated over a split."""

    tp: list[npt.NDArray[np.bool_]]
    conf: list[npt.NDArray[np.float32]]
    pred_cls: list[npt.NDArray[np.int64]]
    target_cls: list[npt.NDArray[np.int64]]

    def add(self, detections: sv.Detections, labels: Labels, class_map: npt.NDArray[np.int64]) -> None:
        pred_cls = class_map[np.asarray(detections.class_id, np.int64)]
        known = pred_cls >= 0  # model classes the dataset does not label are ignored
        xyxy = np.asarray(detections.xyxy, np.float32)[known]
        self.tp.append(match(xyxy, pred_cls[known], labels))
        self.conf.append(np.asarray(detections.confidence, np.float32)[known])
        self.pred_cls.append(pred_cls[known])
        self.target_cls.append(labels.class_id)


def match(
    xyxy: npt.NDArray[np.float32], pred_cls: npt.NDArray[np.int64], labels: Labels
) -> npt.NDArray[np.bool_]:
    """Greedy one-to-one matching per IoU threshold, highest IoU first (Ultralytics' match_predictions)."""
    correct = np.zeros((len(xyxy), len(IOU_THRESHOLDS)), dtype=bool)
    if len(xyxy) == 0 or len(labels.xyxy) == 0:
        return correct
    iou = sv.box_iou_batch(labels.xyxy, xyxy) * (labels.class_id[:, None] == pred_cls[None, :])
    for t, threshold in enumerate(IOU_THRESHOLDS):
        pairs = np.argwhere(iou >= threshold)
        if len(pairs) == 0:
            continue
        pairs = pairs[iou[pairs[:, 0], pairs[:, 1]].argsort()[::-1]]
        pairs = pairs[np.unique(pairs[:, 1], return_index=True)[1]]
        pairs = pairs[np.unique(pairs[:, 0], return_index=True)[1]]
        correct[pairs[:, 1], t] = True
    return correct


def evaluate(weights: Path, data: Path, *, split: str = "val", imgsz: int | None = None) -> EvalResult:
    """Evaluate a `.onnx` (as shipped) or `.pt` (exported on the fly at `imgsz`, default DEFAULT_IMGSZ)."""
    dataset = Dataset.load(data)
    if weights.suffix == ".pt":
        from detect.export import export_onnx

        with tempfile.TemporaryDirectory(prefix="siteaudit-eval-") as tmp:
            onnx_path = export_onnx(weights, Path(tmp) / f"{weights.stem}.onnx", imgsz=imgsz or DEFAULT_IMGSZ)
            result = _run(_eval_detector(onnx_path), dataset, split, str(weights))
        # The temporary export's hash changes with its timestamp; the checkpoint's does not.
        digest = hashlib.sha256(weights.read_bytes()).hexdigest()[:8]
        return replace(result, model_version=f"{weights.stem}+sha256:{digest}")
    if imgsz is not None:
        raise ModelError("--imgsz applies to .pt weights; an ONNX model has its size baked in")
    return _run(_eval_detector(weights), dataset, split, str(weights))


def _eval_detector(path: Path) -> Detector:
    return Detector.load(
        path, thresholds=Thresholds(default=EVAL_CONF), iou=EVAL_NMS_IOU, expected_classes=None
    )


def _run(detector: Detector, dataset: Dataset, split: str, weights: str) -> EvalResult:
    class_map = _class_map(detector.class_names, dataset.names)
    total = len(dataset.image_paths(split))
    stats = _Stats([], [], [], [])
    samples = dataset.samples(split)
    with tqdm(total=total, desc=f"eval {split}", unit="img", leave=False) as bar:
        while batch := list(islice(samples, BATCH)):
            found_all = detector.detect([s.image for s in batch], multi_label=True)
            for sample, found in zip(batch, found_all, strict=True):
                _check_labels(sample, len(dataset.names))
                stats.add(found, sample.labels, class_map)
            bar.update(len(batch))
    return _summarise(stats, dataset, split, detector, weights, total)


def _class_map(model_names: tuple[str, ...], data_names: tuple[str, ...]) -> npt.NDArray[np.int64]:
    """Model class index → dataset class index by name (-1 when the dataset lacks that class)."""
    index = {name: i for i, name in enumerate(data_names)}
    mapping = np.array([index.get(name, -1) for name in model_names], np.int64)
    if (mapping < 0).all():
        raise DatasetError(f"no class in common: model {list(model_names)} vs data {list(data_names)}")
    return mapping


def _check_labels(sample: Sample, nc: int) -> None:
    bad = sample.labels.class_id[(sample.labels.class_id < 0) | (sample.labels.class_id >= nc)]
    if bad.size:
        raise DatasetError(f"labels of {sample.path}: class {int(bad[0])} outside 0..{nc - 1}")


def _summarise(
    stats: _Stats, dataset: Dataset, split: str, detector: Detector, weights: str, images: int
) -> EvalResult:
    from ultralytics.utils.metrics import ap_per_class

    target_cls = np.concatenate(stats.target_cls) if stats.target_cls else np.zeros(0, np.int64)
    tp = np.concatenate(stats.tp) if stats.tp else np.zeros((0, len(IOU_THRESHOLDS)), bool)
    if len(target_cls) == 0:
        raise DatasetError(f"{dataset.yaml_path}: the '{split}' split has no labels to score against")
    ap, classes = np.zeros((0, len(IOU_THRESHOLDS))), np.zeros(0, np.int64)
    if len(tp):
        result = ap_per_class(tp, np.concatenate(stats.conf), np.concatenate(stats.pred_cls), target_cls)
        ap, classes = result[5], result[6]
    per_class = {dataset.names[int(c)]: float(ap[i, 0]) for i, c in enumerate(classes)}
    present = np.unique(target_cls)
    ap50 = {dataset.names[int(c)]: round(per_class.get(dataset.names[int(c)], 0.0), 4) for c in present}
    # Ultralytics averages over classes present in the labels; a class never predicted scores 0.
    map50 = float(np.mean([per_class.get(dataset.names[int(c)], 0.0) for c in present]))
    full = {dataset.names[int(c)]: float(ap[i].mean()) for i, c in enumerate(classes)}
    map50_95 = float(np.mean([full.get(dataset.names[int(c)], 0.0) for c in present]))
    return EvalResult(
        weights=weights,
        model_version=detector.model_version,
        data=str(dataset.yaml_path),
        split=split,
        imgsz=detector.input_size,
        images=images,
        instances=len(target_cls),
        map50=round(map50, 4),
        map50_95=round(map50_95, 4),
        ap50=ap50,
    )
