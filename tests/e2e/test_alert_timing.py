"""`siteaudit serve` with a real RTSP camera (GStreamer on loopback) and a signed webhook receiver:
the violation's alert leaves when it opens (before the clip's post-roll; the clip link follows), and the
camera stopped past its site's offline threshold raises a camera-offline message, resolved once it is back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.net import free_port
from tests.fixtures.processes import PASSWORD, Server, answers, wait_until
from tests.fixtures.receivers import WebhookReceiver, webhook_receiver
from tests.fixtures.rtsp import RtspServer

pytestmark = [pytest.mark.slow, pytest.mark.rtsp]
CLI = [sys.executable, "-m", "audit_api.cli"]
OFFLINE_AFTER_S = 3


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Server]:
    port = free_port()
    env = os.environ | {
        "SITEAUDIT_DATA_DIR": str(tmp_path / "data"),
        "SITEAUDIT_SECRET_KEY": "alerts-e2e-" + "k" * 40,
        "SITEAUDIT_PORT": str(port),
        "SITEAUDIT_ALERT_POLL_S": "0.1",
        "SITEAUDIT_ALERT_STORM_COOLDOWN_S": "1",
    }
    subprocess.run(
        [*CLI, "user", "create", "ops@site.test", "--role", "admin"],
        input=PASSWORD + "\n", env=env, text=True, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    proc = subprocess.Popen(
        [*CLI, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: answers(base + "/api/health"), 60, "siteaudit serve to answer")
        form = {"username": "ops@site.test", "password": PASSWORD}
        token = httpx.post(base + "/api/auth/token", data=form).json()["access_token"]
        yield Server(base, {"Authorization": f"Bearer {token}"}, env)
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=60)
        assert "Traceback" not in out, out


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
