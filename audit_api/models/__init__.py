"""SQLAlchemy models; importing this package registers every table on Base.metadata."""

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
from audit_api.models.events import (
    Alert,
    Clip,
    ClipSegment,
    CorrectiveAction,
    Event,
    EventViolation,
    Review,
    SignOff,
    ViolationSnapshot,
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
    "ClipSegment",
    "CorrectiveAction",
    "DeliveryStatus",
    "EscalationLevel",
    "Event",
    "EventStatus",
    "EventViolation",
    "RefreshToken",
    "Review",
    "Role",
    "RuleConfig",
    "SignOff",
    "Site",
    "UnmonitoredInterval",
    "User",
    "Verdict",
    "ViolationSnapshot",
    "Zone",
    "supervised_sites",
    "utcnow",
]
