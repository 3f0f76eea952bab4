"""`no_mask` as a first-class rule: zone presets, and valid photos with NO-Mask labels through the rules."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
import pytest
import supervision as sv

from detect._classes import PPEClass
from detect.analyzer import SceneAnalyzer
from detect.events import EventBuilder
from detect.model import Detector
from detect.rules_config import ZONE_PRESETS, CameraRules, PPEKind, ZonePreset, preset_zone

REPO = Path(__file__).resolve().parents[2]
WHOLE_FRAME = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]


def test_admin_zone_editor_offers_exactly_the_presets() -> None:
    html = (REPO / "web" / "admin.html").read_text()
    offered = dict(re.findall(r'<option value="(\w+)" data-ppe="([a-z ]+)"[^>]*>', html))
    assert {
        ZonePreset(k): frozenset(PPEKind(p) for p in v.split()) for k, v in offered.items()
    } == ZONE_PRESETS


@pytest.mark.parametrize(
    ("preset", "fields", "message"),
    [
        (ZonePreset.MASK_REQUIRED, {"occupancy_cap": 0}, "greater than or equal to 1"),
        (ZonePreset.MASK_ONLY, {"colour": "red"}, "Extra inputs are not permitted"),
    ],
)
def test_preset_zone_validates_like_any_zone(
    preset: ZonePreset, fields: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        preset_zone(preset, id="z", name="Z", polygon=WHOLE_FRAME, **fields)


def violations_per_photo(found: sv.Detections, size: tuple[int, int], preset: ZonePreset) -> set[str]:
    """The photo's detections held still for 5 analysed frames (1 s at 5 fps) through rules and events."""
    rules = CameraRules(zones=[preset_zone(preset, id="z", name="Zone", polygon=WHOLE_FRAME)])
    analyzer = SceneAnalyzer("c", rules, size)
    events = EventBuilder("c", rules)
    kinds: set[str] = set()
    for i in range(5):
        for update in events.update(analyzer.analyze(found, i / 5)):
            kinds |= {v.kind for v in update.event.violations}
    return kinds


def photos(dataset_dir: Path, has: PPEClass, lacks: PPEClass | None = None) -> list[np.ndarray]:
    found = []
    for label in sorted((dataset_dir / "valid" / "labels").glob("*.txt")):
        classes = {int(row.split()[0]) for row in label.read_text().splitlines() if row.strip()}
        if has in classes and (lacks is None or lacks not in classes):
            image = cv2.imread(str(dataset_dir / "valid" / "images" / f"{label.stem}.jpg"))
            found.append(np.asarray(image, np.uint8))
    return found


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector.load()


def test_no_mask_events_follow_the_zone_preset(detector: Detector, dataset_dir: Path) -> None:
    """44 valid photos carry NO-Mask labels, 17 only Mask labels (masks worn)."""
    bare, masked = photos(dataset_dir, PPEClass.NO_MASK), photos(dataset_dir, PPEClass.MASK, PPEClass.NO_MASK)
    assert len(bare) == 44 and len(masked) == 17
    images = bare + masked
    found = [f for i in range(0, len(images), 8) for f in detector.detect(images[i : i + 8])]
    size = (640, 640)
    fired = ["no_mask" in violations_per_photo(f, size, ZonePreset.MASK_REQUIRED) for f in found[: len(bare)]]
    false = ["no_mask" in violations_per_photo(f, size, ZonePreset.MASK_REQUIRED) for f in found[len(bare) :]]
    # 21 of 44 measured with the shipped int8 model: small faces (people under min_person_height_px) and
    # NO-Mask boxes under the 0.45 floor stay UNKNOWN; a masked face is never called bare.
    assert sum(fired) >= 15 and sum(false) <= 1, (sum(fired), sum(false))
    # The site preset does not require masks: the same bare faces raise no no_mask at all.
    assert not any("no_mask" in violations_per_photo(f, size, ZonePreset.SITE) for f in found)
    only = [violations_per_photo(f, size, ZonePreset.MASK_ONLY) for f in found[: len(bare)]]
    assert sum("no_mask" in kinds for kinds in only) == sum(fired)
    assert all(kinds <= {"no_mask"} for kinds in only)  # a mask-only zone judges nothing else


def test_mask_only_zone_ignores_hardhats(detector: Detector) -> None:
    """A NO-Hardhat head in a mask-only zone is no violation; a NO-Mask face is."""
    person = sv.Detections(
        xyxy=np.array([[100, 100, 300, 500], [150, 90, 250, 170], [175, 170, 225, 230]], np.float32),
        confidence=np.array([0.9, 0.9, 0.9], np.float32),
        class_id=np.array([PPEClass.PERSON, PPEClass.NO_HARDHAT, PPEClass.NO_MASK]),
    )
    rules = CameraRules(
        zones=[preset_zone(ZonePreset.MASK_ONLY, id="z", name="Canteen", polygon=WHOLE_FRAME)]
    )
    analyzer = SceneAnalyzer("c", rules, (640, 640))
    kinds = {v.kind for i in range(5) for v in analyzer.analyze(person, i / 5).violations}
    assert kinds == {"no_mask"}
