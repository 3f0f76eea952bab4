"""SQLAlchemy models; importing this package registers every table on Base.metadata."""

from audit_api.models.actions import ActionDecision, ActionPhoto, ActionResponse
from audit_api.models.alerting import (
    AlertChannel,
    AlertDelivery,
    ChannelType,
    DeliveryStatus,
    EscalationLevel,
)
from audit_api.models.audit import AuditLog
from audit_api.models.base import (
    ActionStatus,
    Base,
    CameraKind,
    ClipKind,
    EventStatus,
    Role,
    Verdict,
    utcnow,
)
from audit_api.models.events import Alert, Clip, CorrectiveAction, Event, EventViolation, Review, SignOff
from audit_api.models.patrols import (
    PatrolMiss,
    PatrolPlan,
    PatrolPlanCamera,
    PatrolRound,
    PatrolStep,
    RoundStatus,
    StepVerdict,
    patrol_plan_inspectors,
)
from audit_api.models.people import User, supervised_sites
from audit_api.models.sessions import AuthSession, RefreshToken
from audit_api.models.sites import (
    Calibration,
    Camera,
    CameraHealthInterval,
    CameraLease,
    CameraStatus,
    RuleConfig,
    Site,
    UnmonitoredInterval,
    Zone,
)

__all__ = [
    "ActionDecision",
    "ActionPhoto",
    "ActionResponse",
    "ActionStatus",
    "Alert",
    "AlertChannel",
    "AlertDelivery",
    "AuditLog",
    "AuthSession",
    "Base",
    "Calibration",
    "Camera",
    "CameraHealthInterval",
    "CameraKind",
    "CameraLease",
    "CameraStatus",
    "ChannelType",
    "Clip",
    "ClipKind",
    "CorrectiveAction",
    "DeliveryStatus",
    "EscalationLevel",
    "Event",
    "EventStatus",
    "EventViolation",
    "PatrolMiss",
    "PatrolPlan",
    "PatrolPlanCamera",
    "PatrolRound",
    "PatrolStep",
    "RefreshToken",
    "Review",
    "Role",
    "RoundStatus",
    "RuleConfig",
    "SignOff",
    "Site",
    "StepVerdict",
    "UnmonitoredInterval",
    "User",
    "Verdict",
    "Zone",
    "patrol_plan_inspectors",
    "supervised_sites",
    "utcnow",
]
