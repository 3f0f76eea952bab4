"""A site's alert channels: validated when created; their URLs (secrets) kept out of answers and logs."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence

import apprise
import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit_api import audit_log
from audit_api.models import AlertChannel, ChannelType, User
from audit_api.schemas.alerting import ChannelIn
from audit_api.services.errors import Invalid, NotFound
from audit_api.services.sites import get_site
from audit_api.services.users import actor_of
from ingest.urls import redact

SIGNING_SECRET_BYTES = 32


def _apprise_problem(url: str) -> str:
    """Why Apprise refused `url`, from its own log (redacted), for the 422 detail."""
    with apprise.LogCapture(level=logging.DEBUG) as output:  # type: ignore[no-untyped-call]
        plugin = apprise.Apprise.instantiate(url)
    if plugin is not None:
        return ""
    lines = [line.split(" - ", 2)[-1] for line in output.getvalue().splitlines() if line.strip()]
    return redact("; ".join(lines[-2:])) or "no Apprise service handles this URL"


def apprise_plugin(url: str) -> apprise.NotifyBase:
    """The Apprise service object for a stored URL (validated when the channel was created)."""
    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        raise Invalid(f"Apprise cannot use this URL: {_apprise_problem(url)}")
    return plugin


def _webhook_redacted(url: str) -> str:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise Invalid(f"webhook URL is not a valid URL: {exc}") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise Invalid("webhook URL must be http:// or https:// with a host")
    port = f":{parsed.port}" if parsed.port else ""
    host = f"[{parsed.host}]" if ":" in parsed.host else parsed.host
    hidden = "/***" if parsed.raw_path not in (b"", b"/") else ""
    return f"{parsed.scheme}://{host}{port}{hidden}"


def redacted_form(channel_type: ChannelType, url: str) -> str:
    """What the API, the audit log and error messages may show of a channel URL. Invalid if unusable."""
    if channel_type == ChannelType.WEBHOOK:
        return _webhook_redacted(url)
    problem = _apprise_problem(url)
    if problem:
        raise Invalid(f"Apprise cannot use this URL: {problem}")
    # Apprise's privacy form hides tokens and passwords; custom headers (+Authorization=...) are redacted too.
    return redact(str(apprise_plugin(url).url(privacy=True)))  # type: ignore[no-untyped-call]


def create_channel(session: Session, site_id: int, body: ChannelIn, admin: User) -> AlertChannel:
    site = get_site(session, site_id, admin)
    kinds = sorted(set(body.kinds))
    if any(not 1 <= len(kind) <= 64 for kind in kinds):
        raise Invalid("each violation kind must be 1 to 64 characters")
    channel = AlertChannel(
        site_id=site.id,
        name=body.name,
        type=body.type,
        url=body.url,
        url_redacted=redacted_form(body.type, body.url),
        signing_secret=secrets.token_urlsafe(SIGNING_SECRET_BYTES)
        if body.type == ChannelType.WEBHOOK
        else None,
        kinds=kinds,
        locale=body.locale,
        level=int(body.level),
    )
    session.add(channel)
    session.flush()
    payload = {
        "site_id": site.id,
        "name": body.name,
        "type": body.type,
        "url": channel.url_redacted,
        "kinds": kinds,
        "locale": body.locale,
        "level": int(body.level),
    }
    audit_log.append(
        session, actor_of(admin), "alert_channel.created", f"alert_channel:{channel.id}", payload
    )
    session.commit()
    return channel


def list_channels(session: Session, site_id: int, viewer: User) -> Sequence[AlertChannel]:
    get_site(session, site_id, viewer)
    query = select(AlertChannel).where(AlertChannel.site_id == site_id, AlertChannel.active.is_(True))
    return session.scalars(query.order_by(AlertChannel.id)).all()


def deactivate_channel(session: Session, channel_id: int, admin: User) -> None:
    """Stop sending to the channel; its pending deliveries are dropped by the sender, history stays."""
    channel = session.get(AlertChannel, channel_id)
    if channel is None or not channel.active:
        raise NotFound(f"alert channel {channel_id} not found")
    channel.active = False
    audit_log.append(session, actor_of(admin), "alert_channel.deleted", f"alert_channel:{channel_id}", {})
    session.commit()


def channels_for(
    session: Session, site_id: int, kinds: Sequence[str], level: int = 0
) -> Sequence[AlertChannel]:
    """The site's active channels of escalation `level` that want any of `kinds`."""
    query = select(AlertChannel).where(
        AlertChannel.site_id == site_id, AlertChannel.active.is_(True), AlertChannel.level == level
    )
    wanted = set(kinds)
    return [
        c for c in session.scalars(query.order_by(AlertChannel.id)) if not c.kinds or wanted & set(c.kinds)
    ]
