"""Camera-offline alerts from what workers report (camera_status, written by the worker's own
`publish_status`): threshold, working hours, storms folded into one message per cooldown, resolution.
The real RTSP camera stopped and restarted is tests/e2e/test_alert_timing.py. Both databases."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from audit_api.models import Alert, AlertDelivery, AlertKind, Camera, CameraKind, CameraStatus, Site
from audit_api.services.alerting import offline
from audit_api.settings import Settings
from audit_api.worker.sync import publish_status
from tests.api.conftest import SECRET, World
from tests.fixtures.receivers import WebhookReceiver, wait_until, webhook_receiver

COOLDOWN_S = 4.0


@pytest.fixture
def settings(database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key=SecretStr(SECRET),
        max_upload_bytes=64 * 1024,
        web_dir=tmp_path / "no-web",
        alert_sender=request.node.get_closest_marker("no_app_sender") is None,
        alert_poll_s=0.05,
        alert_timeout_s=2.0,
        alert_storm_cooldown_s=COOLDOWN_S,
    )


def add_cameras(world: World, count: int) -> list[int]:
    with world.sessions() as session:
        cameras = [
            Camera(site_id=world.site_id, name=f"cam-{n}", kind=CameraKind.RTSP, url=f"rtsp://cam{n}.local/s")
            for n in range(1, count + 1)
        ]
        session.add_all(cameras)
        session.commit()
        return [c.id for c in cameras]


def set_site(world: World, admin: dict[str, str], **fields: Any) -> None:
    body = {"name": "North yard", "timezone": "Asia/Shanghai", "offline_alert_s": 1} | fields
    response = world.client.put(f"/api/sites/{world.site_id}", json=body, headers=admin)
    assert response.status_code == 200, response.text


def report(world: World, camera_ids: list[int], state: str, down_for_s: float = 30.0) -> None:
    """What the worker writes every few seconds (ingest.health snapshots)."""
    start = time.time() - down_for_s
    down = state in offline.DOWN_STATES
    health = {
        str(cid): {"state": state, "unmonitored": [{"start": start, "end": None if down else time.time()}]}
        for cid in camera_ids
    }
    with world.sessions() as session:
        publish_status(session, health)


def messages(receiver: WebhookReceiver) -> list[dict[str, Any]]:
    with receiver.lock:
        return [json.loads(r.body) for r in receiver.requests]


@pytest.fixture
def hook(world: World, admin: dict[str, str]) -> Iterator[WebhookReceiver]:
    with webhook_receiver([200]) as receiver:
        body = {"name": "ops", "type": "webhook", "url": receiver.url}
        assert world.post(f"/api/sites/{world.site_id}/alert-channels", admin, body).status_code == 201
        yield receiver


def test_storm_of_five_cameras_is_one_message_with_count_then_one_resolution(
    world: World, admin: dict[str, str], hook: WebhookReceiver
) -> None:
    set_site(world, admin)
    cameras = add_cameras(world, 5)
    report(world, cameras, "reconnecting")
    (first,) = wait_until(lambda: messages(hook), "the offline message")
    assert (first["alert_kind"], first["purpose"], first["count"]) == ("camera_offline", "alert", 5)
    assert first["cameras"] == [f"cam-{n}" for n in range(1, 6)] and first["kinds"] == ["camera_offline"]
    assert first["ack_url"] and first["event_id"] is None
    with world.sessions() as session:
        alerts = session.scalars(select(Alert).where(Alert.kind == AlertKind.CAMERA_OFFLINE)).all()
        lead = min(a.id for a in alerts)
        assert len(alerts) == 5 and {a.folded_into_id for a in alerts if a.id != lead} == {lead}
        assert len(session.scalars(select(AlertDelivery)).all()) == 1  # one message, not five
    listed = world.client.get("/api/alerts", headers=admin).json()
    assert {a["kind"] for a in listed} == {"camera_offline"} and {a["camera_id"] for a in listed} == set(
        cameras
    )
    report(world, cameras[:4], "streaming")
    time.sleep(1.5)  # swept at least once: four of five back is not "resolved" yet
    assert len(messages(hook)) == 1
    report(world, cameras[4:], "streaming")
    resolved = wait_until(lambda: messages(hook)[1:], "the resolution message")[0]
    assert (resolved["purpose"], resolved["count"], resolved["alert_id"]) == (
        "resolved",
        5,
        first["alert_id"],
    )
    assert resolved["ack_url"] is None
    with world.sessions() as session:
        assert all(a.resolved_at is not None for a in session.scalars(select(Alert)))


def test_a_camera_down_within_the_cooldown_waits_and_is_counted_in_the_next_message(
    world: World, admin: dict[str, str], hook: WebhookReceiver
) -> None:
    set_site(world, admin)
    first_cam, second_cam, third_cam = add_cameras(world, 3)
    report(world, [first_cam], "failed")
    wait_until(lambda: messages(hook), "the first offline message")
    first_at = hook.requests[0].at
    report(world, [second_cam], "reconnecting")
    report(world, [third_cam], "invalid_config")
    second = wait_until(lambda: messages(hook)[1:], "the folded message", timeout=60 + COOLDOWN_S)[0]
    assert hook.requests[1].at - first_at >= COOLDOWN_S - 0.5  # at most one message per cooldown window
    assert (second["count"], second["cameras"]) == (2, ["cam-2", "cam-3"])


@pytest.mark.no_app_sender
@pytest.mark.parametrize(
    ("site", "status", "raised"),
    [
        ({}, ("reconnecting", 30), True),
        ({}, ("reconnecting", 0.2), False),  # not past the threshold yet
        ({"offline_alert_s": None}, ("failed", 30), False),  # offline alerts off for the site
        ({}, ("streaming", 30), False),
        ({}, ("silent", 30), True),  # the worker stopped reporting: unmonitored too
        ({}, None, False),  # never run by any worker: not offline
        ({"working_hours": "now"}, ("reconnecting", 30), True),
        ({"working_hours": "not-now"}, ("reconnecting", 30), False),
    ],
    ids=["down", "too-short", "site-off", "streaming", "worker-silent", "never-run", "in-hours", "off-hours"],
)
def test_which_cameras_raise(
    world: World, admin: dict[str, str], site: dict[str, Any], status: tuple[str, float] | None, raised: bool
) -> None:
    fields = {"offline_alert_s": 5} | site
    if "working_hours" in site:
        local = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai"))
        day = local.weekday() if site["working_hours"] == "now" else (local.weekday() + 3) % 7
        fields["working_hours"] = [{"days": [day], "start": "00:00", "end": "23:59"}]
    set_site(world, admin, **fields)
    (camera,) = add_cameras(world, 1)
    if status is not None:
        state, down_for = status
        report(world, [camera], "reconnecting" if state == "silent" else state, down_for_s=down_for)
        if state == "silent":
            with world.sessions() as session:
                row = session.get(CameraStatus, camera)
                assert row is not None
                row.updated_at = datetime.now(UTC) - timedelta(minutes=2)
                row.snapshot = {"state": "streaming", "unmonitored": []}
                session.commit()
    with world.sessions() as session:
        offline.sweep(session, COOLDOWN_S)
        alerts = session.scalars(select(Alert).where(Alert.camera_id == camera)).all()
    assert len(alerts) == (1 if raised else 0)


def test_site_offline_settings_are_bounded(world: World, admin: dict[str, str]) -> None:
    for bad in ({"offline_alert_s": 0}, {"offline_alert_s": 86401}, {"working_hours": [{"days": [9]}]}):
        body = {"name": "North yard"} | bad
        response = world.client.put(f"/api/sites/{world.site_id}", json=body, headers=admin)
        assert response.status_code == 422, response.text
    with world.sessions() as session:
        site = session.get(Site, world.site_id)
        assert site is not None and site.offline_alert_s == 600 and site.working_hours is None
