"""Turn one raw YOLOv8 head output (4 + nc, N) into final boxes: thresholds, then class-aware NMS."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

MAX_NMS = 30_000  # like Ultralytics: cap the candidates handed to NMS
MAX_DET = 300


@dataclass(frozen=True, slots=True)
class RawBoxes:
    """Boxes in model-input pixels, before mapping back to the original image."""

    xyxy: npt.NDArray[np.float32]
    confidence: npt.NDArray[np.float32]
    class_id: npt.NDArray[np.int64]

    @classmethod
    def empty(cls) -> RawBoxes:
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64))


def decode(
    output: npt.NDArray[np.float32],
    thresholds: npt.NDArray[np.float32],
    iou: float,
    *,
    multi_label: bool = False,
    max_det: int = MAX_DET,
) -> RawBoxes:
    """Decode one image's head output.

    `thresholds` holds one confidence floor per class (a score must exceed it, as in Ultralytics).
    Without `multi_label` each anchor keeps only its best class (Ultralytics predict); with it every
    class above its floor becomes a candidate (Ultralytics val, which scores a little higher on mAP).
    """
    preds = output.T  # (N, 4 + nc)
    scores = preds[:, 4:]
    anchors = np.flatnonzero((scores > thresholds).any(axis=1))
    if anchors.size == 0:
        return RawBoxes.empty()
    if multi_label:
        rows, class_id = np.nonzero(scores[anchors] > thresholds)
        anchor_idx = anchors[rows]
    else:
        best = scores[anchors].argmax(axis=1)
        keep = scores[anchors, best] > thresholds[best]
        anchor_idx, class_id = anchors[keep], best[keep]
    confidence = scores[anchor_idx, class_id]
    if confidence.size > MAX_NMS:
        top = np.argsort(-confidence, kind="stable")[:MAX_NMS]
        anchor_idx, class_id, confidence = anchor_idx[top], class_id[top], confidence[top]

    cxcywh = preds[anchor_idx, :4]
    xywh = np.concatenate([cxcywh[:, :2] - cxcywh[:, 2:] / 2, cxcywh[:, 2:]], axis=1)
    # OpenCV's batched NMS offsets boxes per class, i.e. class-aware NMS as Ultralytics does by default.
    picked = cv2.dnn.NMSBoxesBatched(xywh.tolist(), confidence.tolist(), class_id.tolist(), 0.0, iou)
    kept = np.asarray(picked, dtype=np.int64).reshape(-1)[:max_det]
    xyxy = np.concatenate([xywh[kept, :2], xywh[kept, :2] + xywh[kept, 2:]], axis=1)
    return RawBoxes(
        xyxy.astype(np.float32), confidence[kept].astype(np.float32), class_id[kept].astype(np.int64)
    )
