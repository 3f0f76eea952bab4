"""Blurred heads in what leaves the inspector's view (issue 13).

A site's `privacy_blur` (models.base.PrivacyBlur) says who gets the blurred copy of its snapshots: alert
channels and exported reports (EXTERNAL, the default), also the supervisor page (ALSO_SUPERVISORS), or
nobody (OFF). Inspectors and admins always get the original.

The blurred copy is derived on first need, not at recording time: from the original (re-read, SHA-256
checked) and the head regions the worker recorded with it (`Clip.heads`, `ViolationSnapshot.heads`,
`Alert.snapshot_heads`: detect.privacy.HeadBlur regions of the detector's head and person boxes). It is
stored write-once beside the original (`<key>.blurred.png`: PNG, lossless, so every pixel outside the head
regions is the original's), registered in the evidence registry (kind `blurred`, `original_key`, same
event and retention as the original; `siteaudit audit verify` re-hashes it) and named with both hashes in
an `evidence.blurred` audit entry. The same original always gives the same bytes, so two replicas deriving
it at once store one object. Evidence recorded before the regions were kept (heads unknown) is pixelated as
a whole: nothing identifiable leaves by default.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit_api import audit_log
from audit_api.models import (
    Alert,
    Clip,
    ClipKind,
    Event,
    EvidenceKind,
    EvidenceObject,
    PrivacyBlur,
    Role,
    Site,
    User,
    ViolationSnapshot,
)
from audit_api.services import retention
from audit_api.storage import ObjectStore, StoredObject
from detect.privacy import HeadBlur, HeadRegion

log = logging.getLogger(__name__)

PRIVACY_ACTOR = "privacy"
BLURRED_TYPE = "image/png"
_BLUR = HeadBlur()


class Audience(enum.StrEnum):
    INSPECTOR = "inspector"  # inspectors and admins: the original, always
    SUPERVISOR = "supervisor"  # the supervisor page
    EXTERNAL = "external"  # alert channels, exported reports


def blurs(site: Site, audience: Audience) -> bool:
    """Does this site show `audience` blurred heads?"""
    if audience == Audience.INSPECTOR or site.privacy_blur == PrivacyBlur.OFF:
        return False
    return audience == Audience.EXTERNAL or site.privacy_blur == PrivacyBlur.ALSO_SUPERVISORS


def audience_of(user: User) -> Audience:
    return Audience.SUPERVISOR if user.role == Role.SUPERVISOR else Audience.INSPECTOR


@dataclass(frozen=True)
class Original:
    """A stored image that may need a blurred copy: its object, head regions and owner."""

    key: str
    sha256: str
    content_type: str
    heads: list[list[int]] | None
    site_id: int
    event_id: int | None

    @property
    def what(self) -> str:
        return f"event:{self.event_id}" if self.event_id is not None else "evidence"


def of_snapshot(clip: Clip, event: Event) -> Original:
    return Original(clip.object_key, clip.sha256, clip.content_type, clip.heads, event.site_id, event.id)


def of_still(still: ViolationSnapshot) -> Original:
    event = still.violation.event
    return Original(still.object_key, still.sha256, still.content_type, still.heads, event.site_id, event.id)


def of_alert(alert: Alert) -> Original | None:
    """The alert's snapshot: its event's, or the one it was opened with."""
    clip = alert.event.clip_of(ClipKind.SNAPSHOT) if alert.event is not None else None
    if clip is not None and alert.event is not None:
        return of_snapshot(clip, alert.event)
    if alert.snapshot_key is None or alert.snapshot_sha256 is None:
        return None
    return Original(alert.snapshot_key, alert.snapshot_sha256, "image/jpeg", alert.snapshot_heads,
                    alert.site_id, alert.event_id)  # fmt: skip


def blurred_key(key: str) -> str:
    stem = key.rsplit(".", 1)[0] if "." in key.rsplit("/", 1)[-1] else key
    return f"{stem}.blurred.png"


def blur_image(data: bytes, heads: list[list[int]] | None) -> bytes:
    """The image with every head region pixelated (the whole image when the regions are not known), as PNG."""
    decoded = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if decoded is None:
        raise ValueError("the snapshot is not a decodable image")
    image: npt.NDArray[np.uint8] = np.asarray(decoded, dtype=np.uint8)
    height, width = image.shape[:2]
    regions: list[HeadRegion] = (
        [(0, 0, width, height)] if heads is None else [(r[0], r[1], r[2], r[3]) for r in heads if len(r) == 4]
    )
    ok, buffer = cv2.imencode(".png", _BLUR.pixelate(image, regions))
    if not ok:
        raise ValueError("the blurred snapshot could not be encoded")
    return bytes(buffer.tobytes())


def blurred_copy(session: Session, store: ObjectStore, original: Original) -> EvidenceObject:
    """The original's blurred copy: the registered one, or derived, stored and registered now (commits).
    Raises StorageError (original unreadable, store down) or ValueError (not an image)."""
    key = blurred_key(original.key)
    known = _registered(session, key)
    if known is not None:
        return known
    data = blur_image(store.get(original.key, sha256=original.sha256), original.heads)
    stored: StoredObject = store.put(key, data, BLURRED_TYPE)
    try:
        row = _register(session, original, stored)
    except IntegrityError:  # another sender thread or replica registered the same copy first: same bytes
        session.rollback()
        known = _registered(session, key)
        if known is None:
            raise
        return known
    return row


def _register(session: Session, original: Original, stored: StoredObject) -> EvidenceObject:
    """Register the stored copy and audit it, in one transaction; commits."""
    known = session.get(EvidenceObject, stored.key)
    if known is not None:  # registered (and audited) meanwhile by another thread or replica
        return known
    event = session.get(Event, original.event_id) if original.event_id is not None else None
    source = session.get(EvidenceObject, original.key)
    row = retention.register(
        session, stored, site_id=original.site_id, event=event, kind=EvidenceKind.BLURRED,
        original_key=original.key, confirmed=source is not None and source.confirmed_at is not None,
    )  # fmt: skip
    session.flush()  # a concurrent registration fails here, before anything is audited
    payload = {
        "original_key": original.key,
        "original_sha256": original.sha256,
        "key": stored.key,
        "sha256": stored.sha256,
        "heads": original.heads,
    }
    audit_log.append(session, PRIVACY_ACTOR, "evidence.blurred", original.what, payload)
    session.commit()
    return row


def _registered(session: Session, key: str) -> EvidenceObject | None:
    return session.scalars(
        select(EvidenceObject).where(EvidenceObject.object_key == key, EvidenceObject.deleted_at.is_(None))
    ).first()


def image_for(
    session: Session, store: ObjectStore, original: Original, site: Site, audience: Audience
) -> tuple[str, str, str]:
    """(key, sha256, content type) of what `audience` may see of `original` on `site`."""
    if not blurs(site, audience):
        return original.key, original.sha256, original.content_type
    copy = blurred_copy(session, store, original)
    return copy.object_key, copy.sha256, copy.content_type
