"""Per-person PPE status (WORN / MISSING / UNKNOWN) from positive and NO-* boxes and where they sit.

How a frame is judged, per person and PPE kind:
1. Each PPE box of that kind (positive or NO-*) goes to at most one person: the one whose body region
   (head for hardhat, torso for vest, face for mask) covers the largest share of the *PPE box's* area,
   if that share reaches `MIN_COVERAGE`. So a lamp above a worker's head (ppe-1: NO-Hardhat 0.27-0.40)
   or a neighbour's vest does not land on him.
2. Evidence = best positive confidence − best NO-* confidence (0 when neither is there). Conflicting
   boxes on one head (Hardhat 0.9 and NO-Hardhat 0.4) thus net out to "worn". For vests, a NO-Safety
   Vest box lying on a Safety Vest box (IoU ≥ `CONFLICT_IOU`, the vest at any confidence the detector
   kept) is not evidence: both only say the model hesitates over one vest-like object (ppe-3: the woman
   reaching to the wall gets NO-Safety Vest 0.60-0.76 and Safety Vest 0.31-0.77 on the same box for
   1.2 s). Heads keep the margin rule (a bare head and a hardhat are told apart by shape, not colour).
3. Persistence: evidence is averaged over the track's last `ppe_window` judgeable frames, and only a mean
   beyond ±`ppe_margin` decides. A lone NO-* flicker among frames without it stays UNKNOWN.
The absence of any box never means MISSING (the model misses too much): only NO-* boxes do.
UNKNOWN (never a violation): person too small, head cut by the frame's top edge, or no decisive evidence.

A NO-Hardhat / NO-Safety Vest box with no person box around it (Person AP is only 0.62) implies a person
when it is confident enough (`implied_person_conf`, default 0.6, above every NO-* flicker seen on the
shared footage): `imply_persons` builds the person box that region geometry would put around it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt
import supervision as sv

from detect._classes import PPEClass
from detect._sv import boxes, class_ids, confidences, tracker_ids
from detect.rules_config import PPEKind, RuleConfig

FrameSize = tuple[int, int]
Box = tuple[float, float, float, float]

# Body regions as (top, bottom) fractions of the person box height, full box width. The head band starts
# above the box because hardhats often poke out of the person box; the torso band reaches 0.7 because
# waist-up shots (all three shared videos) cut the person box at the frame's bottom edge.
# The torso band starts at 0.30 and a vest box needs half its area in it: a hi-vis neck shade hanging
# from a hardhat (ppe-3's worker seen from behind: Safety Vest 0.5-0.7, box from the head to mid-back)
# is not a vest. Real vests on the shared footage lie 83-90 % inside the band.
REGIONS: dict[PPEKind, tuple[float, float]] = {
    PPEKind.HARDHAT: (-0.10, 0.25),
    PPEKind.VEST: (0.30, 0.80),
    PPEKind.MASK: (0.10, 0.40),
}
CLASSES: dict[PPEKind, tuple[PPEClass, PPEClass]] = {
    PPEKind.HARDHAT: (PPEClass.HARDHAT, PPEClass.NO_HARDHAT),
    PPEKind.VEST: (PPEClass.SAFETY_VEST, PPEClass.NO_SAFETY_VEST),
    PPEKind.MASK: (PPEClass.MASK, PPEClass.NO_MASK),
}
# Share of a PPE box inside a person's region needed to assign it to that person.
MIN_COVERAGE: dict[PPEKind, float] = {PPEKind.HARDHAT: 0.35, PPEKind.VEST: 0.5, PPEKind.MASK: 0.35}
CONFLICT_IOU = 0.5  # a NO-Safety Vest box on a Safety Vest box (same object, both classes) is no evidence
HESITATION_KINDS = frozenset({PPEKind.VEST})
TOP_EDGE_PX = 2.0  # a person box touching the top edge may have its head cut off
_HISTORY_TTL = 50  # frames a vanished track's evidence is kept (tracks come back after occlusions)


class PPEStatus(StrEnum):
    WORN = "worn"
    MISSING = "missing"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class PersonState:
    """One tracked person's PPE decision in one frame; `evidence` is the smoothed worn−missing score."""

    track_id: int
    box: Box
    confidence: float
    statuses: dict[PPEKind, PPEStatus]
    evidence: dict[PPEKind, float] = field(default_factory=dict)
    implied: bool = False

    @property
    def hardhat(self) -> PPEStatus:
        return self.statuses[PPEKind.HARDHAT]

    @property
    def vest(self) -> PPEStatus:
        return self.statuses[PPEKind.VEST]

    @property
    def mask(self) -> PPEStatus:
        return self.statuses[PPEKind.MASK]


def region_boxes(persons_xyxy: npt.NDArray[np.floating], kind: PPEKind) -> npt.NDArray[np.float64]:
    """The (N, 4) body-region boxes of `kind` for (N, 4) person boxes."""
    xyxy = np.asarray(persons_xyxy, dtype=np.float64).reshape(-1, 4)
    top, bottom = REGIONS[kind]
    height = xyxy[:, 3] - xyxy[:, 1]
    return np.stack([xyxy[:, 0], xyxy[:, 1] + top * height, xyxy[:, 2], xyxy[:, 1] + bottom * height], axis=1)


def coverage(
    ppe_xyxy: npt.NDArray[np.floating], regions: npt.NDArray[np.floating]
) -> npt.NDArray[np.float64]:
    """(M, N): share of each of M boxes' area that lies inside each of N regions."""
    a = np.asarray(ppe_xyxy, dtype=np.float64).reshape(-1, 1, 4)
    b = np.asarray(regions, dtype=np.float64).reshape(1, -1, 4)
    w = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    h = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    area = np.maximum((a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1]), 1e-9)
    return np.asarray(w * h / area, dtype=np.float64)


def assign(
    ppe_xyxy: npt.NDArray[np.floating], regions: npt.NDArray[np.floating], min_coverage: float
) -> npt.NDArray[np.int64]:
    """For each PPE box, the index of the region that covers most of it, or -1 when none covers enough."""
    if len(regions) == 0 or len(ppe_xyxy) == 0:
        return np.full(len(ppe_xyxy), -1, dtype=np.int64)
    cover = coverage(ppe_xyxy, regions)
    best = cover.argmax(axis=1)
    return np.where(cover[np.arange(len(best)), best] >= min_coverage, best, -1).astype(np.int64)


def hesitant(
    negatives: npt.NDArray[np.floating], positives: npt.NDArray[np.floating]
) -> npt.NDArray[np.bool_]:
    """For each NO-* box, whether a positive box of its kind lies on the same object (IoU ≥ CONFLICT_IOU)."""
    if len(negatives) == 0 or len(positives) == 0:
        return np.zeros(len(negatives), dtype=bool)
    iou = sv.box_iou_batch(np.asarray(negatives, np.float64), np.asarray(positives, np.float64))
    return np.asarray(iou.max(axis=1) >= CONFLICT_IOU, dtype=bool)


def imply_persons(
    persons: sv.Detections, ppe: sv.Detections, min_conf: float, frame_size: FrameSize
) -> sv.Detections:
    """Person boxes implied by confident NO-Hardhat / NO-Safety Vest boxes that no person box contains.

    Returned with class PERSON, the NO-* box's confidence and `data["implied"] = True`.
    """
    kinds = {PPEClass.NO_HARDHAT: PPEKind.HARDHAT, PPEClass.NO_SAFETY_VEST: PPEKind.VEST}
    keep = np.isin(class_ids(ppe), list(kinds)) & (confidences(ppe) >= min_conf)
    if keep.any() and len(persons):
        keep[keep] = coverage(boxes(ppe)[keep], boxes(persons)).max(axis=1) < 0.5
    width, height = frame_size
    sources = zip(boxes(ppe)[keep], class_ids(ppe)[keep], strict=True)
    xyxy = np.array([_person_around(box, kinds[PPEClass(c)]) for box, c in sources], np.float64).reshape(
        -1, 4
    )
    implied = sv.Detections(
        xyxy=np.clip(xyxy, 0, [width, height, width, height]).astype(np.float32),
        confidence=confidences(ppe)[keep].astype(np.float32),
        class_id=np.full(len(xyxy), PPEClass.PERSON, dtype=np.int64),
        data={"implied": np.ones(len(xyxy), dtype=bool)},
    )
    # A head and a torso NO-* box of one person imply one person, not two.
    return implied.with_nms(threshold=0.3) if len(implied) > 1 else implied


def _person_around(box: npt.NDArray[np.float64], kind: PPEKind) -> Box:
    """The person box whose `kind` region would hold `box` (the inverse of `REGIONS`)."""
    x1, y1, x2, y2 = (float(v) for v in box)
    w, h = x2 - x1, y2 - y1
    top, bottom = REGIONS[kind]
    cx = (x1 + x2) / 2
    if kind is PPEKind.HARDHAT:  # the head is ~1/4 of a standing person: the box spans 4 head heights
        return (cx - 1.5 * w, y1, cx + 1.5 * w, y1 + 4 * h)
    height = h / (bottom - top)
    person_top = y1 - top * height
    return (cx - 0.6 * w, person_top, cx + 0.6 * w, person_top + height)


class PPEAssociator:
    """Assigns PPE boxes to tracked persons and keeps each track's smoothed evidence."""

    def __init__(self, rules: RuleConfig):
        self.rules = rules
        self._history: dict[tuple[int, PPEKind], deque[float | None]] = {}
        self._last_seen: dict[int, int] = {}
        self._frame = 0

    def associate(self, persons: sv.Detections, ppe: sv.Detections) -> list[PersonState]:
        """`persons` must carry tracker_id; `ppe` holds the frame's PPE boxes (other classes are ignored)."""
        self._frame += 1
        tracks = tracker_ids(persons)
        xyxy, conf = boxes(persons), confidences(persons)
        implied = np.asarray(persons.data.get("implied", np.zeros(len(persons), dtype=bool)), dtype=bool)
        raw = {kind: self._frame_evidence(xyxy, ppe, kind) for kind in PPEKind}
        states = []
        for i, track in enumerate(int(t) for t in tracks):
            self._last_seen[track] = self._frame
            statuses, evidence = {}, {}
            for kind in PPEKind:
                history = self._history.setdefault((track, kind), deque(maxlen=self.rules.ppe_window))
                history.append(raw[kind][i])
                statuses[kind], evidence[kind] = self._decide(history)
            x1, y1, x2, y2 = (float(v) for v in xyxy[i])
            states.append(
                PersonState(track, (x1, y1, x2, y2), float(conf[i]), statuses, evidence, bool(implied[i]))
            )
        self._forget_stale()
        return states

    def _frame_evidence(
        self, persons_xyxy: npt.NDArray[np.float64], ppe: sv.Detections, kind: PPEKind
    ) -> list[float | None]:
        """Per person: positive − NO-* confidence of the boxes assigned to them, None if not judgeable."""
        best = np.zeros((2, len(persons_xyxy)))  # row 0: positive, row 1: NO-*
        regions = region_boxes(persons_xyxy, kind)
        ppe_class, ppe_conf, ppe_xyxy = class_ids(ppe), confidences(ppe), boxes(ppe)
        positive, negative = CLASSES[kind]
        for row, cls in enumerate((positive, negative)):
            mine = (ppe_class == cls) & (ppe_conf >= self.rules.thresholds.for_class(cls))
            if cls is negative and kind in HESITATION_KINDS:
                mine[mine] = ~hesitant(ppe_xyxy[mine], ppe_xyxy[ppe_class == positive])
            owners = assign(ppe_xyxy[mine], regions, MIN_COVERAGE[kind])
            for owner, conf in zip(owners, ppe_conf[mine], strict=True):
                if owner >= 0:
                    best[row, owner] = max(best[row, owner], float(conf))
        heights = persons_xyxy[:, 3] - persons_xyxy[:, 1]
        judgeable = heights >= self.rules.min_person_height_px
        if kind is not PPEKind.VEST:
            judgeable &= persons_xyxy[:, 1] > TOP_EDGE_PX
        return [float(p - q) if ok else None for p, q, ok in zip(best[0], best[1], judgeable, strict=True)]

    def _decide(self, history: deque[float | None]) -> tuple[PPEStatus, float]:
        values = [v for v in history if v is not None]
        if not values:
            return PPEStatus.UNKNOWN, 0.0
        mean = float(np.mean(values))
        if mean >= self.rules.ppe_margin:
            return PPEStatus.WORN, mean
        if mean <= -self.rules.ppe_margin:
            return PPEStatus.MISSING, mean
        return PPEStatus.UNKNOWN, mean

    def _forget_stale(self) -> None:
        stale = {t for t, seen in self._last_seen.items() if self._frame - seen > _HISTORY_TTL}
        for track in stale:
            del self._last_seen[track]
            for kind in PPEKind:
                self._history.pop((track, kind), None)
