"""The rectification report of a closed corrective action, as a PDF: the violation (stills, times in the
site's time zone, site, camera, rule and model versions), the notice, every answer with its photos, every
rejection and the verification, who did each step and when, the SHA-256 of every evidence object (each
re-read from the store and checked) and the audit-log entries (sequence number + hash) it rests on."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit_api import audit_log
from audit_api.models import (
    ActionDecision,
    ActionResponse,
    ActionStatus,
    AuditLog,
    ClipKind,
    CorrectiveAction,
    User,
    utcnow,
)
from audit_api.services import privacy
from audit_api.services.errors import Conflict, Unavailable
from audit_api.services.pdf import render_pdf
from audit_api.services.reports.wording import EN
from audit_api.storage import ObjectCorrupted, ObjectNotFound, ObjectStore, StorageError, sha256_hex

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)
_REPORT_CSS = (
    "figure { margin: 2mm 0; } figure img { max-height: 90mm; } .small { font-size: 8pt; color: #555; }"
)


@dataclass(frozen=True)
class Report:
    pdf: bytes
    sha256: str


MAX_REPORT_STILLS = 12
"""Stills printed in a report (event snapshot + violations' stills); every object's hash is listed."""


@dataclass(frozen=True)
class _Object:
    label: str
    key: str
    sha256: str
    size: int
    data_url: str | None = None


@dataclass(frozen=True)
class _Step:
    """One entry of the answer/decision history, in the order they happened."""

    n: int
    response: ActionResponse | None = None
    decision: ActionDecision | None = None
    photos: tuple[_Object, ...] = ()


def _read(store: ObjectStore, label: str, key: str, sha256: str, content_type: str | None) -> bytes:
    try:
        return store.get(key, sha256=sha256)
    except (ObjectCorrupted, ObjectNotFound) as exc:
        raise Conflict(f"{label} failed its integrity check: {exc}") from exc
    except StorageError as exc:
        raise Unavailable(f"evidence store unavailable: {exc}") from exc


def _data_url(content_type: str, data: bytes) -> str:
    return f"data:{content_type};base64,{base64.b64encode(data).decode()}"


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def render(
    session: Session, store: ObjectStore, action: CorrectiveAction, viewer: User | None = None
) -> Report:
    """The report of a verified action; Conflict (409) with the reason when it is not closed yet."""
    if action.status != ActionStatus.VERIFIED:
        raise Conflict(
            f"corrective action {action.id} is {action.status.value}: a rectification report exists only "
            "for a closed (verified) action"
        )
    event = action.event
    site = event.camera.site
    zone = _zone(site.timezone)
    objects: list[_Object] = []
    stills: list[_Object] = []
    blur = privacy.blurs(site, privacy.Audience.EXTERNAL)  # an exported report leaves the inspector's view

    def shown(label: str, original: privacy.Original, data: bytes, size: int) -> _Object:
        """The still as printed: the original, or (site blurs exports) its blurred copy, hashes listed."""
        if not blur:
            return _Object(label, original.key, original.sha256, size, _data_url(original.content_type, data))
        try:
            copy = privacy.blurred_copy(session, store, original)
        except StorageError as exc:
            raise Unavailable(f"evidence store unavailable: {exc}") from exc
        except ValueError as exc:
            raise Conflict(f"{label}: no blurred copy ({exc})") from exc
        copy_data = _read(store, f"blurred {label}", copy.object_key, copy.sha256, copy.content_type)
        printed = _Object(f"{label}, heads blurred", copy.object_key, copy.sha256, copy.size,
                          _data_url(copy.content_type, copy_data))  # fmt: skip
        objects.append(_Object(printed.label, copy.object_key, copy.sha256, copy.size))
        return printed

    for clip in event.clips:
        label = f"{clip.kind.value} of event {event.id}"
        data = _read(store, label, clip.object_key, clip.sha256, clip.content_type)
        objects.append(_Object(label, clip.object_key, clip.sha256, clip.size))
        if clip.kind == ClipKind.SNAPSHOT:
            stills.append(shown(label, privacy.of_snapshot(clip, event), data, clip.size))
    for segment in event.segments:  # the item's whole recorded span (issue 12): hashes, re-checked
        label = f"segment {segment.index} of event {event.id}"
        _read(store, label, segment.object_key, segment.sha256, segment.content_type)
        objects.append(_Object(label, segment.object_key, segment.sha256, segment.size))
    for violation in event.violations:  # each violation's own still, with its box
        still = violation.snapshot
        if still is None:
            continue
        label = f"still of violation {violation.id} ({violation.kind})"
        data = _read(store, label, still.object_key, still.sha256, still.content_type)
        objects.append(_Object(label, still.object_key, still.sha256, still.size))
        if len(stills) < MAX_REPORT_STILLS:
            stills.append(shown(label, privacy.of_still(still), data, still.size))
    steps = _history(store, action, objects)
    entities = (f"event:{event.id}", f"action:{action.id}")
    entries = list(
        session.scalars(select(AuditLog).where(AuditLog.entity.in_(entities)).order_by(AuditLog.seq))
    )
    users = {u.id: u for u in session.scalars(select(User))}

    def name(user_id: int | None) -> str:
        user = users.get(user_id) if user_id is not None else None
        return EN["system"] if user is None else f"{user.name} <{user.email}>" if user.name else user.email

    def actor(text: str) -> str:
        kind, _, ident = text.partition(":")
        return name(int(ident)) if kind == "user" and ident.isdigit() else text

    def local(value: datetime | None) -> str:
        return "–" if value is None else value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")

    chain = audit_log.verify(session)
    html = _TEMPLATES.get_template("rectification.html.j2").render(
        lang="en",
        t=_Wording(EN),
        action=action,
        event=event,
        site=site,
        camera=event.camera,
        stills=stills,
        steps=steps,
        objects=objects,
        entries=entries,
        chain={"valid": bool(chain), "checked": chain.checked, "first_bad_seq": chain.first_bad_seq,
               "reason": chain.reason},
        tz=site.timezone,
        generated_at=local(utcnow()),
        generated_by=name(viewer.id if viewer else None),
        name=name,
        actor=actor,
        local=local,
    )  # fmt: skip
    pdf = render_pdf(html, extra_css=_REPORT_CSS)
    return Report(pdf, sha256_hex(pdf))


def _history(store: ObjectStore, action: CorrectiveAction, objects: list[_Object]) -> list[_Step]:
    """Responses and decisions interleaved by time, each response's photos read back and checked."""
    timeline: list[tuple[datetime, int, ActionResponse | ActionDecision]] = [
        (r.at, r.id, r) for r in action.responses
    ] + [(d.at, d.id, d) for d in action.decisions]
    steps = []
    n = 0
    for _, _, item in sorted(timeline, key=lambda entry: (entry[0], isinstance(entry[2], ActionDecision))):
        if isinstance(item, ActionDecision):
            steps.append(_Step(n, decision=item))
            continue
        n += 1
        photos = []
        for photo in item.photos:
            label = f"photo {photo.position + 1} of response {n}"
            data = _read(store, label, photo.object_key, photo.sha256, photo.content_type)
            caption = EN["photo"].format(n=photo.position + 1, width=photo.width, height=photo.height,
                                         size=photo.size)  # fmt: skip
            found = _Object(
                caption, photo.object_key, photo.sha256, photo.size, _data_url(photo.content_type, data)
            )
            photos.append(found)
            objects.append(_Object(label, photo.object_key, photo.sha256, photo.size))
        steps.append(_Step(n, response=item, photos=tuple(photos)))
    return steps


class _Wording:
    """`t.key` in templates; a missing key fails loudly (StrictUndefined would not see a dict.get)."""

    def __init__(self, catalogue: dict[str, str]) -> None:
        self._catalogue = catalogue

    def __getattr__(self, key: str) -> str:
        try:
            return self._catalogue[key]
        except KeyError:
            raise AttributeError(f"no wording for {key!r}") from None
