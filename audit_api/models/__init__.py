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
    CorrectiveAction,
    Event,
    EventSource,
    EventViolation,
    Review,
    SignOff,
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
    "CorrectiveAction",
    "DeliveryStatus",
    "EscalationLevel",
    "Event",
    "EventSource",
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
    "Zone",
    "supervised_sites",
    "utcnow",
]
