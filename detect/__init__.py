"""Detection and rules: the ONNX detector, tracking, PPE association, zones, crowding and review items."""

from detect._classes import CLASS_NAMES, PPEClass
from detect.analyzer import FrameAnalysis, SceneAnalyzer, Violation
from detect.annotate import draw_snapshot, encode_jpeg
from detect.events import EventBuilder, EventUpdate, ReviewItem, Snapshot
from detect.model import Detector, ModelError, Thresholds
from detect.ppe import PersonState, PPEStatus
from detect.rules_config import (
    Calibration,
    CameraRules,
    ClassThresholds,
    PPEKind,
    RuleConfig,
    Schedule,
    WorkingHours,
    ZoneConfig,
)

__all__ = [
    "CLASS_NAMES",
    "Calibration",
    "CameraRules",
    "ClassThresholds",
    "Detector",
    "EventBuilder",
    "EventUpdate",
    "FrameAnalysis",
    "ModelError",
    "PPEClass",
    "PPEKind",
    "PPEStatus",
    "PersonState",
    "ReviewItem",
    "RuleConfig",
    "SceneAnalyzer",
    "Schedule",
    "Snapshot",
    "Thresholds",
    "Violation",
    "WorkingHours",
    "ZoneConfig",
    "draw_snapshot",
    "encode_jpeg",
]
