"""`siteaudit serve` with a real RTSP camera (GStreamer on loopback) and a signed webhook receiver:
the violation's alert leaves when it opens (before the clip's post-roll; the clip link follows), and the
camera stopped past its site's offline threshold raises a camera-offline message, resolved once it is back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.processes import Server, siteaudit, wait_until
from tests.fixtures.receivers import WebhookReceiver, webhook_receiver
from tests.fixtures.rtsp import RtspServer

pytestmark = [pytest.mark.slow, pytest.mark.rtsp]
OFFLINE_AFTER_S = 3


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Server]:
    env = {
        "SITEAUDIT_ALERT_SENDER": "true",  # siteaudit() turns the delivery loop off; this test is about it
        "SITEAUDIT_ALERT_POLL_S": "0.1",
        "SITEAUDIT_ALERT_STORM_COOLDOWN_S": "1",
    }
    with siteaudit(tmp_path, env) as processes:
        yield processes.serve()


def bodies(receiver: WebhookReceiver, purpose: str, kind: str) -> list[dict[str, Any]]:
    with receiver.lock:
        found = [json.loads(r.body) for r in receiver.requests]
    return [b for b in found if b["purpose"] == purpose and b["alert_kind"] == kind]


def test_alert_at_open_clip_follows_then_camera_offline_and_back(
    served: Server, private_rtsp_server: Callable[[], RtspServer]
) -> None:
    site = served.post("/api/sites", {"name": "Depot", "offline_alert_s": OFFLINE_AFTER_S})
    assert site.status_code == 201, site.text
    site_id = site.json()["id"]
    with webhook_receiver([200]) as hook, private_rtsp_server() as camera_server:
        channel = {"name": "site group", "type": "webhook", "url": hook.url}
        assert served.post(f"/api/sites/{site_id}/alert-channels", channel).status_code == 201
        camera = {"site_id": site_id, "name": "yard", "kind": "rtsp", "url": camera_server.url("ppe-2")}
        created = served.post("/api/cameras", camera)
        assert created.status_code == 201, created.text
        camera_id = created.json()["id"]

        (opened,) = wait_until(lambda: bodies(hook, "alert", "violation")[:1], 180, "the violation alert")
        assert opened["kinds"] == ["no_vest"] and opened["camera_id"] == camera_id
        snapshot = served.get(f"/api/alerts/{opened['alert_id']}/snapshot")
        assert snapshot.status_code == 200 and snapshot.content[:3] == b"\xff\xd8\xff"  # boxes drawn, JPEG
        (clip,) = wait_until(lambda: bodies(hook, "clip", "violation")[:1], 120, "the clip follow-up")
        assert clip["alert_id"] == opened["alert_id"] and clip["event_id"]
        assert clip["clip_url"].endswith(f"/api/events/{clip['event_id']}/clip")
        # The alert (and its message) was committed before the event: the audit chain's order says so.
        entries = served.get("/api/audit", params={"limit": 500}).json()  # chain order
        order = [e["action"] for e in entries if e["action"] in ("alert.opened", "event.recorded")]
        assert order[:2] == ["alert.opened", "event.recorded"], order

        wait_until(lambda: _state(served, camera_id) == "streaming", 120, "the camera to stream")
        camera_server.kill()
        (down,) = wait_until(lambda: bodies(hook, "alert", "camera_offline")[:1], 180, "the offline message")
        assert down["cameras"] == ["yard"] and down["count"] == 1 and down["ack_url"]
        camera_server.start()
        (back,) = wait_until(lambda: bodies(hook, "resolved", "camera_offline")[:1], 240, "the resolution")
        assert back["alert_id"] == down["alert_id"]


def _state(server: Server, camera_id: int) -> str:
    return str(server.get(f"/api/cameras/{camera_id}/health").json()["state"])
