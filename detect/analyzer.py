"""One camera's per-frame rules: track persons, judge their PPE, place them in zones, check crowding."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import supervision as sv

from detect._classes import PPEClass
from detect._sv import boxes, class_ids, confidences, subset, tracker_ids
from detect.crowding import GroundPlane, OccupancyMonitor, ProximityMonitor
from detect.ppe import Box, PersonState, PPEAssociator, PPEStatus, imply_persons
from detect.rules_config import CameraRules, PPEKind
from detect.tracker import PersonTracker
from detect.zones import FrameSize, Zone, foot_points

Mask = npt.NDArray[np.bool_]
ViolationKind = Literal["no_hardhat", "no_vest", "no_mask", "crowding_occupancy", "crowding_distance"]
PPE_VIOLATIONS: dict[PPEKind, ViolationKind] = {
    PPEKind.HARDHAT: "no_hardhat",
    PPEKind.VEST: "no_vest",
    PPEKind.MASK: "no_mask",
}


@dataclass(frozen=True, slots=True)
class Violation:
    """A rule broken in one frame (raw, before debouncing).

    PPE kinds name the person's `track_id`; `crowding_occupancy` has no track (details: count, cap,
    tracks); `crowding_distance` names the lower track id and `details["other_track_id"]`.
    `zone_id` is None for the implicit whole-frame zone.
    """

    kind: ViolationKind
    track_id: int | None
    zone_id: str | None
    ts: float
    box: Box
    confidence: float
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def subject(self) -> tuple[str, int | None, str | None, int | None]:
        """What debouncing counts: (kind, track) for PPE, the zone for occupancy, the pair for distance."""
        if self.kind == "crowding_occupancy":
            return (self.kind, None, self.zone_id, None)
        return (self.kind, self.track_id, None, self.details.get("other_track_id"))

    @property
    def track_ids(self) -> tuple[int, ...]:
        if self.kind == "crowding_occupancy":
            return tuple(self.details.get("tracks", ()))
        other = self.details.get("other_track_id")
        return tuple(t for t in (self.track_id, other) if t is not None)


@dataclass(frozen=True)
class FrameAnalysis:
    """Everything the rules saw and decided in one frame."""

    camera_id: str
    ts: float
    detections: sv.Detections  # what the detector returned, untouched (snapshots draw it)
    persons: sv.Detections  # tracked persons (tracker_id set), implied persons included
    states: list[PersonState]
    zones: dict[int, tuple[str | None, ...]]  # track id → ids of the active zones its feet are in
    violations: list[Violation]


class SceneAnalyzer:
    """Stateful per-camera analysis at a fixed analysis rate (`fps`, default 5)."""

    def __init__(self, camera_id: str, rules: CameraRules, frame_size: FrameSize, *, fps: float = 5.0):
        self.camera_id = camera_id
        self.rules = rules
        self.frame_size = frame_size
        self.zones = Zone.from_rules(rules, frame_size)
        self.tracker = PersonTracker(fps, lost_s=rules.rules.track_lost_s)
        self.associator = PPEAssociator(rules.rules)
        self.occupancy = OccupancyMonitor()
        self.ground = (
            GroundPlane.from_calibration(rules.calibration, frame_size) if rules.calibration else None
        )
        self.proximity = (
            ProximityMonitor(self.ground, rules.rules.min_distance_m, rules.rules.distance_dwell_s)
            if self.ground is not None
            else None
        )

    @property
    def distance_rule_enabled(self) -> bool:
        """The min-distance rule needs a ground-plane calibration; without one it is off."""
        return self.proximity is not None

    def analyze(self, detections: sv.Detections, ts: float) -> FrameAnalysis:
        """Run every rule on one frame's detections (original-pixel boxes, class ids of detect._classes)."""
        is_person = class_ids(detections) == PPEClass.PERSON
        persons = _person_detections(subset(detections, is_person), self.rules.rules.thresholds.person)
        ppe = subset(detections, ~is_person)
        implied = imply_persons(persons, ppe, self.rules.rules.implied_person_conf, self.frame_size)
        tracked = self.tracker.update(_concat(persons, implied))
        states = self.associator.associate(tracked, ppe)

        active = [zone for zone in self.zones if zone.is_active(ts)]
        inside = [zone.trigger(tracked) for zone in active]
        membership = {
            int(track): tuple(zone.id for zone, mask in zip(active, inside, strict=True) if mask[i])
            for i, track in enumerate(tracker_ids(tracked))
        }
        violations = self._ppe_violations(states, active, inside, ts)
        violations += self._occupancy_violations(tracked, active, inside, ts)
        violations += self._distance_violations(tracked, active, inside, ts)
        return FrameAnalysis(self.camera_id, ts, detections, tracked, states, membership, violations)

    def _ppe_violations(
        self, states: list[PersonState], active: list[Zone], inside: list[Mask], ts: float
    ) -> list[Violation]:
        found = []
        for i, state in enumerate(states):
            zones = [zone for zone, mask in zip(active, inside, strict=True) if mask[i]]
            for kind, status in state.statuses.items():
                # A person is held to the PPE of the first zone (in config order) that requires it.
                requiring = next((zone for zone in zones if kind in zone.required_ppe), None)
                if status is not PPEStatus.MISSING or requiring is None:
                    continue
                found.append(
                    Violation(
                        kind=PPE_VIOLATIONS[kind],
                        track_id=state.track_id,
                        zone_id=requiring.id,
                        ts=ts,
                        box=state.box,
                        confidence=round(-state.evidence[kind], 4),
                        details={"evidence": round(state.evidence[kind], 4), "implied_person": state.implied},
                    )
                )
        return found

    def _occupancy_violations(
        self, tracked: sv.Detections, active: list[Zone], inside: list[Mask], ts: float
    ) -> list[Violation]:
        found = []
        for zone, mask in zip(active, inside, strict=True):
            config = zone.config
            since = self.occupancy.update(
                config.id, int(mask.sum()), config.occupancy_cap, config.dwell_s, ts
            )
            if since is None:
                continue
            found.append(
                Violation(
                    kind="crowding_occupancy",
                    track_id=None,
                    zone_id=zone.id,
                    ts=ts,
                    box=_union(boxes(tracked)[mask]),
                    confidence=float(confidences(tracked)[mask].min()),
                    details={
                        "count": int(mask.sum()),
                        "cap": config.occupancy_cap,
                        "since": since,
                        "tracks": sorted(int(t) for t in tracker_ids(tracked)[mask]),
                    },
                )
            )
        return found

    def _distance_violations(
        self, tracked: sv.Detections, active: list[Zone], inside: list[Mask], ts: float
    ) -> list[Violation]:
        if self.proximity is None:
            return []
        # Distances count between people standing in an active zone (every person for the implicit one).
        in_any = np.logical_or.reduce([np.zeros(len(tracked), dtype=bool), *inside])
        ids, xyxy, conf = tracker_ids(tracked)[in_any], boxes(tracked)[in_any], confidences(tracked)[in_any]
        found = []
        for pair in self.proximity.update(ids, foot_points(subset(tracked, in_any)), ts):
            both = np.isin(ids, [pair.track_a, pair.track_b])
            shared = [z for z, mask in zip(active, inside, strict=True) if mask[in_any][both].all()]
            found.append(
                Violation(
                    kind="crowding_distance",
                    track_id=pair.track_a,
                    zone_id=shared[0].id if shared else None,
                    ts=ts,
                    box=_union(xyxy[both]),
                    confidence=float(conf[both].min()),
                    details={
                        "other_track_id": pair.track_b,
                        "distance_m": round(pair.distance_m, 3),
                        "since": pair.since,
                    },
                )
            )
        return found


def _person_detections(persons: sv.Detections, floor: float) -> sv.Detections:
    """Person boxes above the floor, rebuilt with only the fields tracking needs."""
    keep = confidences(persons) >= floor
    return sv.Detections(
        xyxy=boxes(persons)[keep].astype(np.float32),
        confidence=confidences(persons)[keep].astype(np.float32),
        class_id=np.full(int(keep.sum()), PPEClass.PERSON, dtype=np.int64),
        data={"implied": np.zeros(int(keep.sum()), dtype=bool)},
    )


def _concat(a: sv.Detections, b: sv.Detections) -> sv.Detections:
    return sv.Detections(
        xyxy=np.concatenate([boxes(a), boxes(b)]).astype(np.float32),
        confidence=np.concatenate([confidences(a), confidences(b)]).astype(np.float32),
        class_id=np.concatenate([class_ids(a), class_ids(b)]),
        data={"implied": np.concatenate([a.data["implied"], b.data["implied"]]).astype(bool)},
    )


def _union(xyxy: npt.NDArray[np.float64]) -> Box:
    return (
        float(xyxy[:, 0].min()),
        float(xyxy[:, 1].min()),
        float(xyxy[:, 2].max()),
        float(xyxy[:, 3].max()),
    )
