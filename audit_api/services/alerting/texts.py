"""The words of an alert message (title and text, every channel and Web Push) in the site's language
(audit_api.i18n): violation kinds by name, times in the site's zone, labelled with it."""

from __future__ import annotations

from audit_api.i18n import Texts
from audit_api.models import AlertKind, DeliveryPurpose
from audit_api.schemas.alerting import AlertMessage, PatrolNotice


def what(message: AlertMessage, t: Texts) -> str:
    if message.alert_kind == AlertKind.CAMERA_OFFLINE:
        return t.ngettext("camera offline", "%(n)d cameras offline", message.count)
    return t.kinds(message.kinds)


def title(message: AlertMessage, t: Texts) -> str:
    if message.headline is not None:
        return message.headline
    params = {"what": what(message, t), "site": message.site, "camera": message.camera}
    if message.purpose == DeliveryPurpose.CLIP:
        return t.gettext("[siteaudit] clip · %(what)s · %(site)s / %(camera)s", **params)
    if message.purpose == DeliveryPurpose.RESOLVED:
        return t.gettext("[siteaudit] resolved · %(what)s · %(site)s / %(camera)s", **params)
    return t.gettext("[siteaudit] %(what)s · %(site)s / %(camera)s", **params)


def text(message: AlertMessage, t: Texts) -> str:
    """The message body, one fact a line; links last."""
    time = t.when(message.started_at)
    site = t.gettext("Site: %(site)s", site=message.site)
    if message.alert_kind == AlertKind.PATROL_MISSED:
        return "\n".join([*message.lines, site, t.gettext("Link: %(url)s", url=message.event_url)])
    if message.alert_kind == AlertKind.CAMERA_OFFLINE:
        cameras = t.gettext(", ").join(message.cameras)
        state = (
            t.gettext("Camera offline: %(cameras)s (%(count)s)", cameras=cameras, count=message.count)
            if message.purpose != DeliveryPurpose.RESOLVED
            else t.gettext("Back online: %(cameras)s (%(count)s)", cameras=cameras, count=message.count)
        )
        head = [state, site, t.gettext("Since: %(time)s", time=time)]
    else:
        head = [
            t.gettext("Violation: %(kinds)s", kinds=t.kinds(message.kinds)),
            site,
            t.gettext("Camera: %(camera)s", camera=message.camera),
            t.gettext("Time: %(time)s", time=time),
            t.gettext("Event: %(url)s", url=message.event_url),
        ]
    links = [
        *([t.gettext("Snapshot: %(url)s", url=message.snapshot_url)] if message.snapshot_url else []),
        *([t.gettext("Clip: %(url)s", url=message.clip_url)] if message.clip_url else []),
        *([t.gettext("Acknowledge: %(url)s", url=message.ack_url)] if message.ack_url else []),
    ]
    return "\n".join(head + links)


def patrol_notice(notice: PatrolNotice, t: Texts) -> tuple[str, list[str]]:
    """A missed patrol slot's headline and lines."""
    params = {"plan": notice.plan, "date": notice.date, "time": notice.time}
    if notice.state == "missed":
        headline = t.gettext("[siteaudit] patrol %(plan)s %(date)s %(time)s missed", **params)
        state = t.gettext("missed")
    else:
        headline = t.gettext("[siteaudit] patrol %(plan)s %(date)s %(time)s not completed in its window",
                             **params)  # fmt: skip
        state = t.gettext("not completed")
    lines = [
        t.gettext("Patrol: %(plan)s (%(date)s %(time)s)", **params),
        t.gettext("State: %(state)s", state=state),
        t.gettext("Window: until %(time)s", time=t.when(notice.window_ends_at)),
    ]
    return headline, lines
