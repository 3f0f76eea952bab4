"""Alert delivery end to end: real receivers on loopback (HTTP webhook, SMTP), the in-process sender and a
subprocess sender killed with SIGKILL. Both databases (the `world` fixture)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import cv2
import numpy as np
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from audit_api.models import (
    AlertDelivery,
    AuditLog,
    DeliveryStatus,
    Event,
    EvidenceKind,
    EvidenceObject,
    PrivacyBlur,
    Site,
)
from audit_api.settings import Settings
from tests.api.conftest import SECRET, SNAPSHOT_BYTES, World
from tests.fixtures.receivers import HANG, smtp_server, wait_until, webhook_receiver

PUBLIC_URL = "https://audit.example.cn"
MAX_ATTEMPTS = 3


@pytest.fixture
def settings(database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Fast retries for the tests; `@pytest.mark.no_app_sender` leaves sending to a subprocess."""
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key=SecretStr(SECRET),
        max_upload_bytes=64 * 1024,
        web_dir=tmp_path / "no-web",
        public_url=PUBLIC_URL,
        alert_sender=request.node.get_closest_marker("no_app_sender") is None,
        alert_max_attempts=MAX_ATTEMPTS,
        alert_backoff_s=0.3,
        alert_backoff_max_s=1.0,
        alert_timeout_s=1.0,
        alert_poll_s=0.05,
    )


def add_channel(world: World, admin: dict[str, str], body: dict[str, object]) -> dict[str, object]:
    response = world.post(f"/api/sites/{world.site_id}/alert-channels", admin, {"name": "ops"} | body)
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    return created


def deliveries(world: World) -> list[AlertDelivery]:
    with world.sessions() as session:
        return list(session.scalars(select(AlertDelivery).order_by(AlertDelivery.id)))


def delivery_in(world: World, status: DeliveryStatus) -> AlertDelivery | None:
    return next((d for d in deliveries(world) if d.status == status), None)


def test_webhook_is_signed_carries_the_alert_and_hides_its_url(
    world: World, admin: dict[str, str], make_event: Callable[..., Event]
) -> None:
    with world.sessions() as session:
        site = session.get(Site, world.site_id)
        assert site is not None
        site.timezone = "Asia/Shanghai"
        session.commit()
    with webhook_receiver([200]) as receiver:
        created = add_channel(world, admin, {"type": "webhook", "url": receiver.url})
        secret = created["signing_secret"]
        assert isinstance(secret, str) and len(secret) >= 32
        event = make_event(kinds=("no_hardhat",))
        wait_until(lambda: receiver.requests, "the webhook")
        wait_until(
            lambda: delivery_in(world, DeliveryStatus.DELIVERED), "the delivery to be marked delivered"
        )
    (got,) = receiver.requests
    timestamp, signature = got.headers["X-Siteaudit-Timestamp"], got.headers["X-Siteaudit-Signature"]
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + got.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(signature, f"sha256={expected}")
    assert abs(time.time() - int(timestamp)) < 300  # what a receiver checks to refuse replays
    tampered = hmac.new(secret.encode(), timestamp.encode() + b"." + got.body + b" ", hashlib.sha256)
    assert signature != f"sha256={tampered.hexdigest()}"
    body = json.loads(got.body)
    assert body["kinds"] == ["no_hardhat"] and body["event_id"] == event.id
    assert (body["site"], body["camera"], body["timezone"]) == ("North yard", "gate", "Asia/Shanghai")
    local = event.started_at.astimezone(ZoneInfo("Asia/Shanghai"))
    assert body["started_at_local"] == f"{local:%Y-%m-%d %H:%M:%S} CST"
    assert body["event_url"] == f"{PUBLIC_URL}/inspector.html#event={event.id}"
    # The site blurs heads for alert channels (the default): the link names the recipient's signed snapshot.
    assert body["snapshot_url"].startswith(f"{PUBLIC_URL}/api/alerts/ack-link/snapshot?token=")
    assert got.headers["X-Siteaudit-Delivery"] == str(body["delivery_id"])
    # The URL (its path is the secret here) is never returned nor audited as is; the secret is shown once.
    listed = world.client.get(f"/api/sites/{world.site_id}/alert-channels", headers=admin)
    assert listed.status_code == 200
    assert "s3cr3t" not in listed.text and secret not in listed.text and "T0123" not in listed.text
    assert listed.json()[0]["url_redacted"] == receiver.url.split("/hooks")[0] + "/***"
    with world.sessions() as session:
        rows = list(session.scalars(select(AuditLog)))
        audit = " ".join(json.dumps(row.payload) for row in rows)
        created_row = next(row for row in rows if row.action == "alert_channel.created")
    assert created_row.payload["url"] == listed.json()[0]["url_redacted"]
    assert "s3cr3t" not in audit and secret not in audit


HEADS = [[8, 8, 40, 40], [70, 20, 110, 52]]  # head regions the worker recorded with the snapshot


@pytest.mark.parametrize(
    ("blur", "content_type"),
    [(PrivacyBlur.EXTERNAL, "image/png"), (PrivacyBlur.OFF, "image/jpeg")],
    ids=["blurred-by-default", "site-blur-off-sends-the-original"],
)
def test_email_carries_the_snapshot_as_attachment(
    world: World,
    admin: dict[str, str],
    make_event: Callable[..., Event],
    blur: PrivacyBlur,
    content_type: str,
) -> None:
    with world.sessions() as session:
        site = session.get(Site, world.site_id)
        assert site is not None and site.privacy_blur == PrivacyBlur.EXTERNAL  # the default
        site.privacy_blur = blur
        session.commit()
    with smtp_server() as mailbox:
        url = f"mailto://127.0.0.1:{mailbox.port}?from=alerts@siteaudit.example&to=boss@site.example&mode=insecure"
        created = add_channel(world, admin, {"url": url})
        assert created["signing_secret"] is None
        event = make_event(kinds=("no_vest",), snapshot_heads=HEADS)
        wait_until(lambda: mailbox.messages, "the email")
    (message,) = mailbox.messages
    assert "No vest" in str(message["Subject"]) and "North yard" in str(message["Subject"])
    text = message.get_body(("plain", "html"))
    assert text is not None and f"inspector.html#event={event.id}" in text.get_content()
    attachments = list(message.iter_attachments())
    assert [a.get_content_type() for a in attachments] == [content_type]
    sent = attachments[0].get_content()
    with world.sessions() as session:
        copy = session.scalars(
            select(EvidenceObject).where(EvidenceObject.kind == EvidenceKind.BLURRED)
        ).first()
    if blur == PrivacyBlur.OFF:
        assert sent == SNAPSHOT_BYTES and copy is None
        return
    # The attachment is the stored blurred copy (its SHA-256 is the registry's and the store's) ...
    assert copy is not None and copy.event_id == event.id and copy.original_key == event.clips[1].object_key
    assert hashlib.sha256(sent).hexdigest() == copy.sha256
    assert world.store.get(copy.object_key, sha256=copy.sha256) == sent
    # ... which differs from the original inside the head regions only.
    original = cv2.imdecode(np.frombuffer(SNAPSHOT_BYTES, np.uint8), cv2.IMREAD_COLOR)
    blurred = cv2.imdecode(np.frombuffer(sent, np.uint8), cv2.IMREAD_COLOR)
    inside = np.zeros(original.shape[:2], dtype=bool)
    for x1, y1, x2, y2 in HEADS:
        inside[y1:y2, x1:x2] = True
    changed = (original != blurred).any(axis=2)
    assert changed.any() and not (changed & ~inside).any()


@pytest.mark.parametrize(
    ("script", "final", "attempts"),
    [
        ([500, 500, 200], DeliveryStatus.DELIVERED, 3),  # fails twice then succeeds: delivered once
        ([500], DeliveryStatus.FAILED, MAX_ATTEMPTS),  # 500 forever: failed after the last retry
    ],
    ids=["fails-twice-then-succeeds", "500-forever"],
)
def test_retries_with_backoff(
    world: World,
    admin: dict[str, str],
    make_event: Callable[..., Event],
    script: list[int],
    final: DeliveryStatus,
    attempts: int,
) -> None:
    with webhook_receiver(script) as receiver:
        add_channel(world, admin, {"type": "webhook", "url": receiver.url})
        make_event()
        (row,) = wait_until(
            lambda: [d for d in deliveries(world) if d.status == final], f"the delivery to be {final}"
        )
        time.sleep(1.5)  # longer than the largest backoff: nothing more may arrive
        assert receiver.statuses() == script[:attempts] + [script[-1]] * (attempts - len(script))
    assert row.attempts == attempts
    gaps = [b.at - a.at for a, b in zip(receiver.requests, receiver.requests[1:], strict=False)]
    assert all(gap >= 0.25 for gap in gaps), gaps  # backoff held (0.3 s, then 0.6 s)
    failed = world.client.get("/api/alert-deliveries?status=failed", headers=admin)
    assert failed.status_code == 200
    if final == DeliveryStatus.FAILED:
        (listed,) = failed.json()
        assert listed["id"] == row.id and listed["last_error"].startswith("HTTP 500")
        assert listed["attempts"] == MAX_ATTEMPTS
    else:
        assert failed.json() == [] and row.delivered_at is not None and row.last_error is None


def test_a_hanging_receiver_times_out_and_holds_nobody_up(
    world: World, admin: dict[str, str], make_event: Callable[..., Event]
) -> None:
    with webhook_receiver([HANG, 200], hang_s=8.0) as slow, webhook_receiver([200]) as fast:
        add_channel(world, admin, {"type": "webhook", "url": slow.url})
        add_channel(world, admin, {"name": "fast", "type": "webhook", "url": fast.url})
        make_event()
        wait_until(lambda: fast.requests and slow.requests, "both receivers")
        # The fast one was served while the slow one's request was still held (it is held 8 s).
        assert fast.requests[0].at - slow.requests[0].at < 5
        wait_until(lambda: len(slow.requests) >= 2, "the retry after the timeout")
        both = wait_until(
            lambda: (
                (rows := deliveries(world))
                and all(d.status == DeliveryStatus.DELIVERED for d in rows)
                and rows
            ),
            "both deliveries delivered",
        )
    slow_row = next(d for d in both if d.attempts == 2)
    assert slow_row.last_error is None and slow.statuses() == [HANG, 200]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"url": "nosuch://abc"}, "Unparseable URL"),
        ({"url": "slack://"}, "Slack"),
        ({"url": "mailto://127.0.0.1:25?from=bad&to=b@y.example"}, "From"),
        ({"type": "webhook", "url": "ftp://example.com/x"}, "http:// or https://"),
        ({"type": "webhook", "url": "http://"}, "webhook URL"),
    ],
)
def test_an_unusable_channel_url_is_refused_naming_the_problem(
    world: World, admin: dict[str, str], body: dict[str, object], problem: str
) -> None:
    response = world.post(f"/api/sites/{world.site_id}/alert-channels", admin, {"name": "x"} | body)
    assert response.status_code == 422, response.text
    assert problem in response.json()["detail"]
    assert world.client.get(f"/api/sites/{world.site_id}/alert-channels", headers=admin).json() == []


def test_channels_get_only_their_kinds_and_deleted_ones_nothing(
    world: World, admin: dict[str, str], make_event: Callable[..., Event]
) -> None:
    vests = add_channel(world, admin, {"url": "json://127.0.0.1:9/vests", "kinds": ["no_vest"]})
    gone = add_channel(world, admin, {"url": "json://127.0.0.1:9/gone"})
    assert world.client.delete(f"/api/alert-channels/{gone['id']}", headers=admin).status_code == 204
    with world.sessions() as session:
        hardhat_alert = make_event(kinds=("no_hardhat",)).id
        vest_alert = make_event(kinds=("no_vest", "no_hardhat")).id
        rows = session.execute(select(AlertDelivery.channel_id, AlertDelivery.alert_id)).all()
    assert hardhat_alert != vest_alert
    assert [channel for channel, _ in rows] == [vests["id"]]


@pytest.fixture
def sender_process(world: World, tmp_path: Path) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    env = os.environ | {
        "SITEAUDIT_DATABASE_URL": world.settings.effective_database_url,
        "SITEAUDIT_SECRET_KEY": SECRET,
        "SITEAUDIT_DATA_DIR": str(tmp_path / "sender-data"),
        "SITEAUDIT_ALERT_BACKOFF_S": "2",
        "SITEAUDIT_ALERT_POLL_S": "0.05",
        "SITEAUDIT_ALERT_TIMEOUT_S": "2",
    }

    def start() -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, "-m", "audit_api.services.alerting.sender"], env=env, cwd=tmp_path
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


@pytest.mark.no_app_sender
def test_a_sender_killed_between_attempts_delivers_after_restart_once(
    world: World,
    admin: dict[str, str],
    make_event: Callable[..., Event],
    sender_process: Callable[[], subprocess.Popen[bytes]],
) -> None:
    with webhook_receiver([500, 200]) as receiver:
        add_channel(world, admin, {"type": "webhook", "url": receiver.url})
        make_event()
        first = sender_process()
        wait_until(lambda: receiver.requests, "the first attempt")
        wait_until(lambda: deliveries(world)[0].last_error, "the failed first attempt to be recorded")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        assert receiver.statuses() == [500] and deliveries(world)[0].status == DeliveryStatus.PENDING
        sender_process()
        wait_until(lambda: delivery_in(world, DeliveryStatus.DELIVERED), "delivery after the restart")
        time.sleep(2.5)  # past another backoff: no second delivery
        assert receiver.statuses() == [500, 200]
    assert deliveries(world)[0].attempts == 2


def test_an_unacknowledged_alert_escalates_to_inspectors_an_acknowledged_one_does_not(
    world: World, admin: dict[str, str], supervisor: dict[str, str], make_event: Callable[..., Event]
) -> None:
    with world.sessions() as session:
        site = session.get(Site, world.site_id)
        assert site is not None
        site.ack_deadline_s = 4  # the API accepts 30 s at least; the column is set directly to keep it short
        session.commit()
    with webhook_receiver([200]) as supervisors, webhook_receiver([200]) as inspectors:
        add_channel(world, admin, {"type": "webhook", "url": supervisors.url})
        add_channel(world, admin, {"name": "office", "type": "webhook", "url": inspectors.url, "level": 1})
        acked, ignored = make_event(), make_event()
        alerts = {a["event_id"]: a for a in world.client.get("/api/alerts", headers=admin).json()}
        ack = world.post(f"/api/alerts/{alerts[acked.id]['id']}/ack", supervisor)
        assert ack.status_code == 200, ack.text
        wait_until(lambda: len(supervisors.requests) == 2, "both alerts at the supervisors' channel")
        wait_until(lambda: inspectors.requests, "the escalation to the inspectors' channel")
        time.sleep(5)  # past another deadline: the acknowledged alert still does not escalate
        assert [json.loads(r.body)["event_id"] for r in inspectors.requests] == [ignored.id]
    shown = {a["event_id"]: a for a in world.client.get("/api/alerts", headers=admin).json()}
    assert shown[acked.id]["escalation_level"] == 0 and shown[acked.id]["escalated_at"] is None
    assert shown[ignored.id]["escalation_level"] == 2  # inspectors after 4 s, admins after 8 s
    with world.sessions() as session:
        steps = [
            (row.entity, row.payload["level"])
            for row in session.scalars(select(AuditLog).where(AuditLog.action == "alert.escalated"))
        ]
    ignored_alert = f"alert:{shown[ignored.id]['id']}"
    assert steps == [(ignored_alert, "inspectors"), (ignored_alert, "admins")]


@pytest.mark.parametrize(("deadline", "status"), [(None, 201), (30, 201), (29, 422), (86401, 422)])
def test_the_ack_deadline_is_bounded(
    world: World, admin: dict[str, str], deadline: int | None, status: int
) -> None:
    body: dict[str, object] = {"name": f"yard {deadline}"}
    if deadline is not None:
        body["ack_deadline_s"] = deadline
    response = world.post("/api/sites", admin, body)
    assert response.status_code == status, response.text
    if status == 201:
        assert response.json()["ack_deadline_s"] == (deadline or 600)
