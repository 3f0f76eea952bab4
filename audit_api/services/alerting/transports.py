"""Sending one message over one channel: Apprise for every service, our own signed POST for webhooks.

Each call either returns (delivered) or raises DeliveryError with a redacted, readable reason.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from dataclasses import dataclass

import apprise
import httpx
import requests
from apprise.attachment.memory import AttachMemory
from pywebpush import WebPushException

from audit_api.models import AlertChannel, ChannelType, DeliveryPurpose, PushSubscription, WebPushKeys
from audit_api.schemas.alerting import AlertMessage, PushPayload, WebhookBody
from audit_api.services.alerting import webpush
from audit_api.services.alerting.channels import apprise_plugin
from ingest.urls import redact

SIGNATURE_HEADER = "X-Siteaudit-Signature"
TIMESTAMP_HEADER = "X-Siteaudit-Timestamp"
DELIVERY_HEADER = "X-Siteaudit-Delivery"
MAX_ERROR_CHARS = 1000


_client = httpx.Client()  # one connection pool and TLS context for every webhook attempt (thread-safe)


class DeliveryError(Exception):
    """The attempt failed; the message is redacted and safe to store and show to admins."""


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256(secret, timestamp + "." + body)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def send_webhook(
    channel: AlertChannel, message: AlertMessage, delivery_id: int, attempt: int, timeout_s: float
) -> None:
    assert channel.signing_secret is not None  # every webhook channel gets one at creation
    body = WebhookBody(**message.model_dump(), delivery_id=delivery_id, attempt=attempt)
    data = body.model_dump_json().encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(channel.signing_secret, timestamp, data),
        DELIVERY_HEADER: str(delivery_id),
    }
    try:
        response = _client.post(channel.url, content=data, headers=headers, timeout=timeout_s)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{exc.__class__.__name__}: {redact(str(exc))}"[:MAX_ERROR_CHARS]) from None
    if not response.is_success:
        raise DeliveryError(f"HTTP {response.status_code}: {redact(response.text[:200])}")


@dataclass(frozen=True)
class Snapshot:
    """The image a message carries: the original or its blurred copy (services.privacy)."""

    data: bytes
    content_type: str

    @property
    def extension(self) -> str:
        return "png" if self.content_type == "image/png" else "jpg"


def send_apprise(
    channel: AlertChannel, message: AlertMessage, snapshot: Snapshot | None, timeout_s: float
) -> None:
    plugin = apprise_plugin(channel.url)
    plugin.socket_connect_timeout = plugin.socket_read_timeout = timeout_s
    attach = None
    if snapshot is not None and plugin.attachment_support:
        attach = apprise.AppriseAttachment(
            AttachMemory(  # type: ignore[no-untyped-call]
                content=snapshot.data,
                name=f"alert-{message.alert_id}.{snapshot.extension}",
                mimetype=snapshot.content_type,
            )
        )
    with apprise.LogCapture(level=logging.WARNING) as output:  # type: ignore[no-untyped-call]
        ok = plugin.notify(body=message.text, title=message.title, attach=attach)
    if not ok:
        lines = [line.split(" - ", 2)[-1] for line in output.getvalue().splitlines() if line.strip()]
        reason = "; ".join(lines[-3:]) or "Apprise reported failure"
        raise DeliveryError(redact(reason)[:MAX_ERROR_CHARS])


def push(
    subscription: PushSubscription, message: AlertMessage, keys: WebPushKeys, subject: str, timeout_s: float
) -> None:
    """One Web Push to one browser: the title, the text, and links the service worker acts on."""
    body = (
        message.text if message.purpose != DeliveryPurpose.ALERT else "\n".join(message.text.splitlines()[:4])
    )
    payload = PushPayload(
        title=message.title,
        body=body,
        alert_id=message.alert_id,
        url=message.alert_url,
        ack_url=message.ack_url,
        image=message.snapshot_url if message.purpose == DeliveryPurpose.ALERT else None,
    )
    try:
        webpush.send_push(subscription, payload, keys, subject, timeout_s)
    except (WebPushException, requests.RequestException) as exc:
        raise DeliveryError(redact(f"{exc.__class__.__name__}: {exc}")[:MAX_ERROR_CHARS]) from None


def send(
    channel: AlertChannel,
    message: AlertMessage,
    snapshot: Snapshot | None,
    *,
    delivery_id: int,
    attempt: int,
    timeout_s: float,
) -> None:
    if channel.type == ChannelType.WEBHOOK:
        send_webhook(channel, message, delivery_id, attempt, timeout_s)
    else:
        send_apprise(channel, message, snapshot, timeout_s)
