"""The rectification report of a closed corrective action, as a PDF: the violation (stills, times in the
site's time zone, site, camera, rule and model versions), the notice, every answer with its photos, every
rejection and the verification, who did each step and when, the SHA-256 of every evidence object (each
re-read from the store and checked) and the audit-log entries (sequence number + hash) it rests on.

Worded in the site's language (or the one asked for, `lang`) through the gettext catalogues (audit_api.i18n,
jinja2.ext.i18n in the template); times in the site's time zone, labelled with it."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import jinja2
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit_api import audit_log
from audit_api.i18n import Texts
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
from audit_api.storage import ObjectCorrupted, ObjectNotFound, ObjectStore, StorageError, sha256_hex

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    extensions=["jinja2.ext.i18n"],
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


def render(
    session: Session,
    store: ObjectStore,
    action: CorrectiveAction,
    viewer: User | None = None,
    lang: str | None = None,
) -> Report:
    """The report of a verified action, in `lang` if given (else the site's locale; a language we do not
    have: English); Conflict (409) with the reason when it is not closed yet."""
    if action.status != ActionStatus.VERIFIED:
        raise Conflict(
            f"corrective action {action.id} is {action.status.value}: a rectification report exists only "
            "for a closed (verified) action"
        )
    event = action.event
    site = event.camera.site
    t = Texts.of(lang, site.locale, site.timezone)
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
            raise Conflict(f"{original.key}: no blurred copy ({exc})") from exc
        copy_data = _read(store, f"blurred {label}", copy.object_key, copy.sha256, copy.content_type)
        printed = _Object(t.gettext("%(label)s, heads blurred", label=label), copy.object_key, copy.sha256,
                          copy.size, _data_url(copy.content_type, copy_data))  # fmt: skip
        objects.append(_Object(printed.label, copy.object_key, copy.sha256, copy.size))
        return printed

    for clip in event.clips:
        data = _read(store, f"{clip.kind.value} of event {event.id}", clip.object_key, clip.sha256,
                     clip.content_type)  # fmt: skip
        label = (
            t.gettext("Snapshot of event %(id)s", id=event.id)
            if clip.kind == ClipKind.SNAPSHOT
            else t.gettext("Clip of event %(id)s", id=event.id)
        )
        objects.append(_Object(label, clip.object_key, clip.sha256, clip.size))
        if clip.kind == ClipKind.SNAPSHOT:
            stills.append(shown(label, privacy.of_snapshot(clip, event), data, clip.size))
    for segment in event.segments:  # the item's whole recorded span (issue 12): hashes, re-checked
        _read(store, f"segment {segment.index} of event {event.id}", segment.object_key, segment.sha256,
              segment.content_type)  # fmt: skip
        label = t.gettext("Recording segment %(index)s of event %(id)s", index=segment.index, id=event.id)
        objects.append(_Object(label, segment.object_key, segment.sha256, segment.size))
    for violation in event.violations:  # each violation's own still, with its box
        still = violation.snapshot
        if still is None:
            continue
        data = _read(store, f"still of violation {violation.id} ({violation.kind})", still.object_key,
                     still.sha256, still.content_type)  # fmt: skip
        label = t.gettext(
            "Still of violation %(id)s (%(kind)s)", id=violation.id, kind=t.kind(violation.kind)
        )
        objects.append(_Object(label, still.object_key, still.sha256, still.size))
        if len(stills) < MAX_REPORT_STILLS:
            stills.append(shown(label, privacy.of_still(still), data, still.size))
    steps = _history(store, action, objects, t)
    entities = (f"event:{event.id}", f"action:{action.id}")
    entries = list(
        session.scalars(select(AuditLog).where(AuditLog.entity.in_(entities)).order_by(AuditLog.seq))
    )
    users = {u.id: u for u in session.scalars(select(User))}

    def name(user_id: int | None) -> str:
        user = users.get(user_id) if user_id is not None else None
        return (
            t.gettext("the system")
            if user is None
            else f"{user.name} <{user.email}>"
            if user.name
            else user.email
        )

    def actor(text: str) -> str:
        kind, _, ident = text.partition(":")
        return name(int(ident)) if kind == "user" and ident.isdigit() else text

    chain = audit_log.verify(session)
    html = _template(t).render(
        t=t,
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
        generated_at=t.when(utcnow()),
        generated_by=name(viewer.id if viewer else None),
        name=name,
        actor=actor,
    )  # fmt: skip
    pdf = render_pdf(html, extra_css=_REPORT_CSS)
    return Report(pdf, sha256_hex(pdf))


def _template(t: Texts) -> jinja2.Template:
    """The report template with `_()` bound to the language (a fresh environment overlay per render:
    two renders in two languages at once never share a translation)."""
    env = _TEMPLATES.overlay()
    env.install_gettext_translations(t.translations, newstyle=True)  # type: ignore[attr-defined]
    return env.get_template("rectification.html.j2")


def _history(store: ObjectStore, action: CorrectiveAction, objects: list[_Object], t: Texts) -> list[_Step]:
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
            data = _read(store, f"photo {photo.position + 1} of response {n}", photo.object_key,
                         photo.sha256, photo.content_type)  # fmt: skip
            label = t.gettext("Photo %(n)s of response %(response)s", n=photo.position + 1, response=n)
            caption = t.gettext("Photo %(n)s: %(width)s×%(height)s, %(size)s bytes, SHA-256",
                                n=photo.position + 1, width=photo.width, height=photo.height,
                                size=t.number(photo.size))  # fmt: skip
            found = _Object(
                caption, photo.object_key, photo.sha256, photo.size, _data_url(photo.content_type, data)
            )
            photos.append(found)
            objects.append(_Object(label, photo.object_key, photo.sha256, photo.size))
        steps.append(_Step(n, response=item, photos=tuple(photos)))
    return steps
