"""Signed one-time acknowledge links in messages, and Web Push as a delivery kind: a push endpoint of our
own on loopback decrypts the payload (http_ece, aes128gcm) and checks the VAPID JWT. Both databases."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from audit_api.models import (
    AckLink,
    Alert,
    AlertDelivery,
    AuditLog,
    DeliveryStatus,
    Event,
    PushSubscription,
    User,
    utcnow,
)
from audit_api.settings import Settings
from tests.api.conftest import SECRET, World
from tests.fixtures.push import PushEndpoint, check_vapid, unb64
from tests.fixtures.receivers import wait_until, webhook_receiver

PUBLIC_URL = "http://testserver"  # links in messages point at the TestClient's app
SUBJECT = "mailto:ops@siteaudit.example"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key=SecretStr(SECRET),
        max_upload_bytes=64 * 1024,
        web_dir=tmp_path / "no-web",
        public_url=PUBLIC_URL,
        alert_max_attempts=2,
        alert_backoff_s=0.2,
        alert_timeout_s=2.0,
        alert_poll_s=0.05,
        webpush_subject=SUBJECT,
    )


def token_of(url: str) -> str:
    parts = urlsplit(url)
    assert parts.path == "/api/alerts/ack-link"
    (token,) = parse_qs(parts.query)["token"]
    return token


def webhook_ack_url(
    world: World, admin: dict[str, str], make_event: Callable[..., Event]
) -> tuple[str, Event]:
    with webhook_receiver([200]) as receiver:
        body = {"name": "site phone group", "type": "webhook", "url": receiver.url}
        assert world.post(f"/api/sites/{world.site_id}/alert-channels", admin, body).status_code == 201
        event = make_event()
        (got,) = wait_until(lambda: receiver.requests, "the webhook")
    message = json.loads(got.body)
    assert message["ack_url"].startswith(f"{PUBLIC_URL}/api/alerts/ack-link?token=")
    return message["ack_url"], event


def alert_of(world: World, event: Event) -> Alert:
    with world.sessions() as session:
        return session.scalars(select(Alert).where(Alert.event_id == event.id)).one()


def test_ack_link_confirms_on_get_acknowledges_once_on_post(
    world: World, admin: dict[str, str], make_event: Callable[..., Event]
) -> None:
    url, event = webhook_ack_url(world, admin, make_event)
    token = token_of(url)
    page = world.client.get(url)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<form method="post" action="/api/alerts/ack-link">' in page.text and "no_hardhat" in page.text
    assert page.headers["Cache-Control"] == "no-store"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert alert_of(world, event).acknowledged_at is None  # opening the link (a mail scanner) changes nothing
    done = world.client.post("/api/alerts/ack-link", data={"token": token})
    assert done.status_code == 200 and "Acknowledged" in done.text, done.text
    alert = alert_of(world, event)
    assert alert.acknowledged_at is not None and alert.acknowledged_by_id is None
    assert alert.acknowledged_via is not None and "site phone group" in alert.acknowledged_via
    assert "supervisors" in alert.acknowledged_via
    with world.sessions() as session:
        entry = session.scalars(select(AuditLog).where(AuditLog.action == "alert.acknowledged")).one()
    assert entry.actor == "ack-link" and entry.entity == f"alert:{alert.id}"
    assert entry.payload["recipient"] == alert.acknowledged_via and entry.payload["via"] == "link"
    listed = world.client.get("/api/alerts", headers=admin).json()
    assert listed[0]["acknowledged_via"] == alert.acknowledged_via
    # Single use: the same link again (POST or GET) is refused and changes nothing.
    again = world.client.post("/api/alerts/ack-link", data={"token": token})
    assert again.status_code == 410 and "already used" in again.text
    assert world.client.get(url).status_code == 410


def _forged(token: str, change: dict[str, object], key: str = SECRET) -> str:
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    return jwt.encode(claims | change, key, algorithm="HS256")


@pytest.mark.parametrize(
    ("forge", "status", "says"),
    [
        (lambda t: t[:-3] + ("AAA" if t[-3:] != "AAA" else "BBB"), 400, "not a valid"),  # tampered signature
        (lambda t: _forged(t, {}, key="another-secret-0123456789-abcdefghij"), 400, "not a valid"),
        (lambda t: _forged(t, {"alert": 999_999}), 400, "not a valid"),  # bound to its alert
        (lambda t: _forged(t, {"exp": int(time.time()) - 5}), 410, "expired"),
        (lambda t: "x" * 40, 400, "not a valid"),
    ],
    ids=["tampered", "other-key", "other-alert", "expired", "garbage"],
)
def test_refused_links_change_nothing(
    world: World,
    admin: dict[str, str],
    make_event: Callable[..., Event],
    forge: Callable[[str], str],
    status: int,
    says: str,
) -> None:
    url, event = webhook_ack_url(world, admin, make_event)
    bad = forge(token_of(url))
    for response in (
        world.client.get("/api/alerts/ack-link", params={"token": bad}),
        world.client.post("/api/alerts/ack-link", data={"token": bad}),
    ):
        assert response.status_code == status and says in response.text, response.text
    assert alert_of(world, event).acknowledged_at is None
    with world.sessions() as session:
        assert session.scalars(select(AckLink)).one().used_at is None


def boss_id(world: World) -> int:
    with world.sessions() as session:
        return session.scalars(select(User.id).where(User.email == "boss@example.com")).one()


def test_web_push_is_encrypted_vapid_signed_and_acknowledges_as_its_user(
    world: World,
    supervisor: dict[str, str],
    other_supervisor: dict[str, str],
    make_event: Callable[..., Event],
) -> None:
    browser, other_browser = PushEndpoint(), PushEndpoint()
    key = world.client.get("/api/push/vapid-key", headers=supervisor)
    assert key.status_code == 200 and len(unb64(key.json()["public_key"])) == 65
    with webhook_receiver([201]) as push_service:
        endpoint = push_service.url.replace("/hooks/", "/push/")
        subscribed = world.post("/api/push/subscriptions", supervisor, browser.subscription(endpoint))
        assert subscribed.status_code == 201, subscribed.text
        # Another site's supervisor subscribed too: this site's alert is not pushed to them.
        other = other_browser.subscription(endpoint + "-other")
        assert world.post("/api/push/subscriptions", other_supervisor, other).status_code == 201
        event = make_event(kinds=("no_vest",))
        (got,) = wait_until(lambda: push_service.requests, "the push")
        wait_until(lambda: _statuses(world) == [DeliveryStatus.DELIVERED], "the push to be marked delivered")
    assert got.path.endswith("/push/T0123/s3cr3t-path")
    check_vapid(got, key.json()["public_key"], audience=endpoint.split("/push/")[0], subject=SUBJECT)
    payload = browser.decrypt(got)
    assert "No vest" in str(payload["title"]) and "North yard" in str(payload["title"])
    assert payload["url"] == f"{PUBLIC_URL}/supervisor.html#alert={alert_of(world, event).id}"
    with pytest.raises(Exception):  # noqa: B017 - the other browser's keys cannot read it
        other_browser.decrypt(got)
    # The push's ack link acknowledges as the subscription's user.
    done = world.client.post("/api/alerts/ack-link", data={"token": token_of(str(payload["ack_url"]))})
    assert done.status_code == 200, done.text
    alert = alert_of(world, event)
    assert alert.acknowledged_by_id == boss_id(world) and "web push" in (alert.acknowledged_via or "")
    # The VAPID key pair is created once and kept: the same after a restart of the app.
    with world.sessions() as session:
        from audit_api.services.alerting.webpush import ensure_keys

        assert ensure_keys(session).public_key == key.json()["public_key"]


def _statuses(world: World) -> list[DeliveryStatus]:
    with world.sessions() as session:
        return list(session.scalars(select(AlertDelivery.status).order_by(AlertDelivery.id)))


def test_gone_subscription_is_dropped_and_unsubscribe_stops_pushes(
    world: World, supervisor: dict[str, str], make_event: Callable[..., Event]
) -> None:
    browser = PushEndpoint()
    with webhook_receiver([410]) as push_service:
        sub = browser.subscription(push_service.url)
        assert world.post("/api/push/subscriptions", supervisor, sub).status_code == 201
        make_event()
        wait_until(lambda: _statuses(world) == [DeliveryStatus.FAILED], "the gone push to fail")
        assert len(push_service.requests) == 1  # not retried: the push service said it is gone
    with world.sessions() as session:
        (row,) = session.scalars(select(PushSubscription))
        assert row.active is False
        assert (
            session.scalars(select(AlertDelivery.last_error)).one()
            == "push service answered 410: subscription gone"
        )
    # Subscribing again revives it; unsubscribing ends it (the row stays for the history): no push queued.
    assert world.post("/api/push/subscriptions", supervisor, sub).status_code == 201
    assert world.post("/api/push/unsubscribe", supervisor, {"endpoint": sub["endpoint"]}).status_code == 204
    make_event()
    with world.sessions() as session:
        assert [s.active for s in session.scalars(select(PushSubscription))] == [False]
        assert len(session.scalars(select(AlertDelivery)).all()) == 1


@pytest.mark.parametrize(
    "subscription",
    [
        {"endpoint": "ftp://push.example/x", "keys": {"p256dh": "B" + "A" * 85 + "Q", "auth": "A" * 22}},
        {"endpoint": "https://push.example/x", "keys": {"p256dh": "BAAA" * 4, "auth": "A" * 22}},  # short key
        {"endpoint": "https://push.example/x", "keys": {"p256dh": "B" + "A" * 85 + "Q", "auth": "A" * 12}},
        {"endpoint": "https://push.example/x"},
    ],
    ids=["not-http", "short-p256dh", "short-auth", "no-keys"],
)
def test_bad_subscriptions_are_422(
    world: World, supervisor: dict[str, str], subscription: dict[str, object]
) -> None:
    response = world.post("/api/push/subscriptions", supervisor, subscription)
    assert response.status_code == 422 and response.json()["detail"], response.text
    with world.sessions() as session:
        assert session.scalars(select(PushSubscription)).all() == []


def test_ack_link_rows_expire_with_the_setting(
    world: World, admin: dict[str, str], make_event: Callable[..., Event]
) -> None:
    url, _ = webhook_ack_url(world, admin, make_event)
    claims = jwt.decode(token_of(url), SECRET, algorithms=["HS256"])
    with world.sessions() as session:
        link = session.scalars(select(AckLink)).one()
    expected = utcnow() + timedelta(seconds=world.settings.alert_ack_link_s)
    assert abs(link.expires_at - expected) < timedelta(minutes=5)
    assert claims["exp"] == int(link.expires_at.timestamp()) and claims["lvl"] == 0
