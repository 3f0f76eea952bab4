"""Web Push on the supervisor page in real Chromium: the page registers its service worker; an alert is
pushed by the app's sender to a push endpoint of our own on loopback (the browser's push service is not
reachable here), decrypted there, and handed to the service worker with CDP
`ServiceWorker.deliverPushMessage`; the worker shows the notification with its Acknowledge action."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import watch_errors
from tests.browser.live_app import AuditServer, Evidence, encode_evidence
from tests.browser.test_pages import PHONE, SHOTS, sign_in
from tests.fixtures.push import PushEndpoint
from tests.fixtures.receivers import wait_until, webhook_receiver

pytestmark = pytest.mark.browser

NOTIFICATIONS = """async () => {
  const registration = await navigator.serviceWorker.ready;
  return (await registration.getNotifications()).map((n) => ({
    title: n.title, body: n.body, tag: n.tag, actions: n.actions.map((a) => a.action), data: n.data,
  }));
}"""


@pytest.fixture(scope="module")
def evidence(videos: Path) -> Evidence:
    return encode_evidence(videos / "ppe-2.mp4", seconds=1.0)


@pytest.fixture
def phone_with_worker(
    browser: Browser, server: AuditServer
) -> Iterator[tuple[Page, Any, list[dict[str, Any]]]]:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    context.grant_permissions(["notifications"], origin=server.base_url)
    page = context.new_page()
    errors = watch_errors(page)
    cdp = context.new_cdp_session(page)
    registrations: list[dict[str, Any]] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated", lambda event: registrations.extend(event["registrations"])
    )
    cdp.send("ServiceWorker.enable")  # before the page loads, so its registration is reported
    yield page, cdp, registrations
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def test_pushed_alert_is_shown_by_the_service_worker_with_its_ack_action(
    server: AuditServer, phone_with_worker: tuple[Page, Any, list[dict[str, Any]]]
) -> None:
    page, cdp, registrations = phone_with_worker
    sign_in(page, server, "supervisor")
    page.locator("#push").wait_for()  # the worker registered: the page offers notifications
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    scope = f"{server.base_url}/"
    registration = wait_until(
        lambda: next((r for r in registrations if r["scopeURL"] == scope and not r["isDeleted"]), None),
        "the service worker registration",
    )
    browser_keys = PushEndpoint()
    with webhook_receiver([201]) as push_service:
        subscribed = server.request(
            "supervisor", "POST", "/api/push/subscriptions", json=browser_keys.subscription(push_service.url)
        )
        assert subscribed.status_code == 201, subscribed.text
        server.record(kinds=("no_vest",))
        (pushed,) = wait_until(lambda: push_service.requests, "the app's sender to push the alert")
    payload = browser_keys.decrypt(pushed)
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": server.base_url,
            "registrationId": registration["registrationId"],
            "data": json.dumps(payload),
        },
    )
    shown = wait_until(lambda: page.evaluate(NOTIFICATIONS), "the notification")
    (notification,) = shown
    assert notification["title"] == payload["title"] == "[siteaudit] No vest · North yard / Gate"
    assert notification["actions"] == ["ack"] and notification["tag"] == f"alert-{payload['alert_id']}"
    assert notification["data"]["ack_url"] == payload["ack_url"]
    page.screenshot(path=str(SHOTS / "siteaudit-supervisor-push.png"), full_page=True)


def test_supervisor_page_shows_escalation_steps_and_offline_cameras(
    server: AuditServer, phone_with_worker: tuple[Page, Any, list[dict[str, Any]]]
) -> None:
    from datetime import timedelta

    from sqlalchemy import select

    from audit_api.models import Alert, AlertKind, utcnow
    from audit_api.services.alerting import escalation

    page = phone_with_worker[0]
    event = server.record(kinds=("no_hardhat",))
    with server.sessions() as session:
        alert = session.scalars(select(Alert).where(Alert.event_id == event.id)).one()
        alert.created_at = utcnow() - timedelta(hours=1)  # past the site's ack deadline (10 min)
        session.add(
            Alert(site_id=server.site_id, kind=AlertKind.CAMERA_OFFLINE, kinds=["camera_offline"],
                  camera_id=server.camera_id, started_at=utcnow() - timedelta(minutes=12))
        )  # fmt: skip
        session.commit()
        assert escalation.escalate_due(session) == 1  # the real escalation step: to the inspectors
    sign_in(page, server, "supervisor")
    escalated = page.locator(f"#alerts [data-alert-id='{alert.id}']")
    expect(escalated.locator("ol.steps li")).to_have_count(1)
    expect(escalated.locator("ol.steps")).to_contain_text("Escalated to inspectors")
    offline = page.locator("#alerts [data-kind='camera_offline']")
    expect(offline).to_contain_text("Camera offline")
    expect(offline).to_contain_text("North yard · Gate")
    expect(offline.get_by_role("button", name="Show evidence")).to_have_count(0)
    offline.get_by_role("button", name="Acknowledge").click()  # one tap on the phone
    expect(offline).to_be_hidden()
    page.screenshot(path=str(SHOTS / "siteaudit-supervisor-steps.png"), full_page=True)
