"""A phone behind NAT: the phone page in Chromium forced to relay (`#...&ice=relay`) publishes through
Debian's coturn (TURN REST credentials from the shared secret) to `siteaudit serve`, and the no-vest
event is recorded; the same process's Prometheus /metrics shows the camera, the detector and the alert."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from aiortc import VideoStreamTrack
from playwright.sync_api import expect
from prometheus_client.parser import text_string_to_metric_families

from tests.browser.conftest import launch_chromium
from tests.fixtures.processes import Server, siteaudit, wait_until
from tests.fixtures.turn import TurnServer
from tests.fixtures.whip_client import Loop, Publisher
from tests.fixtures.y4m import make_y4m

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, turn_server: TurnServer) -> Iterator[Server]:
    env = {
        "SITEAUDIT_ICE_SERVERS": json.dumps([{"urls": [turn_server.url]}]),
        "SITEAUDIT_TURN_SECRET": turn_server.secret,
    }
    with siteaudit(tmp_path_factory.mktemp("turn-serve"), env) as processes:
        yield processes.serve()


def _metrics(server: Server) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """name → {sorted labels → value} from the server's Prometheus text."""
    response = httpx.get(server.base + "/metrics", timeout=30)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            out.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return out


def test_phone_forced_to_relay_reaches_the_worker_through_turn(
    server: Server, turn_server: TurnServer, videos: Path, tmp_path: Path
) -> None:
    site = server.post("/api/sites", {"name": "Behind carrier NAT"}).json()["id"]
    created = server.post("/api/cameras", {"site_id": site, "name": "4G phone", "kind": "whip"})
    assert created.status_code == 201, created.text
    camera, token = int(created.json()["id"]), created.json()["whip_token"]

    # An authenticated OPTIONS hands out the TURN server with credentials minted for this camera.
    options = httpx.options(f"{server.base}/whip/{camera}", headers={"Authorization": f"Bearer {token}"})
    assert options.status_code == 204
    (link,) = options.headers.get_list("link")
    assert (
        link.startswith(f'<{turn_server.url}>; rel="ice-server"; username="') and f":camera-{camera}" in link
    )
    preflight = httpx.options(f"{server.base}/whip/{camera}", headers={"Origin": "https://phone.example"})
    assert preflight.status_code == 204 and "link" not in preflight.headers  # no token, no credentials

    wait_until(
        lambda: server.get(f"/api/cameras/{camera}/health").json()["state"] != "not_running", 30,
        "the worker to run the phone camera",
    )  # fmt: skip
    y4m = make_y4m(videos / "ppe-2.mp4", tmp_path / "ppe-2.y4m", size=(1280, 720), seconds=4.0)
    fake = ["--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={y4m}"]
    with launch_chromium([*fake, "--use-fake-ui-for-media-stream", "--headless=new"]) as browser:
        page = browser.new_page()
        page.goto(created.json()["enrol_url"] + "&ice=relay")
        expect(page.locator("#status")).to_have_attribute("data-state", "live", timeout=60_000)
        # The selected candidate pair (RTCPeerConnection.getStats) uses the phone's relay candidate.
        expect(page.locator("#route")).to_have_attribute("data-candidate", "relay", timeout=15_000)
        (event,) = wait_until(lambda: server.events_of(camera), 180, "an event from the relayed phone")
        assert event["kinds"] == ["no_vest"]

        metrics = _metrics(server)
        label = (("camera", str(camera)),)
        assert metrics["siteaudit_camera_input_fps"][label] > 0
        assert metrics["siteaudit_camera_analysed_fps"][label] > 0
        assert metrics["siteaudit_camera_streaming"][label] == 1
        assert metrics["siteaudit_camera_frames_analysed_total"][label] > 0
        assert metrics["siteaudit_leases_held"][()] >= 1
        assert metrics["siteaudit_alerts_sent_total"][()] >= 1
        assert metrics["siteaudit_detector_latency_seconds_count"][()] > 0
        assert metrics["siteaudit_spool_objects"][()] == 0
        page.get_by_role("button", name="Stop").click()

    # coturn granted allocations with the derived credentials: the phone's, and aiortc's own (the worker
    # side gets the same servers).
    log = turn_server.log_text()
    for label in (f"camera-{camera}", "worker"):
        allocated = rf"user <\d+:{label}>: incoming packet ALLOCATE processed, success"
        assert re.search(allocated, log), log[-3000:]


def test_whip_answer_carries_the_ice_servers(server: Server, turn_server: TurnServer) -> None:
    """RFC 9725 §4.6: the 201 answer lists the ICE servers too (for publishers that skip the OPTIONS)."""
    site = server.post("/api/sites", {"name": "Answer links"}).json()["id"]
    created = server.post("/api/cameras", {"site_id": site, "name": "encoder", "kind": "whip"}).json()
    # Before the worker has taken the new camera, an offer gets 503 + Retry-After; then it is answered.
    wait_until(
        lambda: server.health_of(created["id"])["state"] != "not_running", 30, "the worker to run the encoder"
    )
    loop = Loop()
    try:
        peer = Publisher(VideoStreamTrack())
        loop.peers.append(peer)
        offer = loop.run(peer.offer())  # answered, never connected: only the headers matter here
        response = httpx.post(
            f"{server.base}/whip/{created['id']}",
            content=offer,
            headers={"Content-Type": "application/sdp", "Authorization": f"Bearer {created['whip_token']}"},
            timeout=60,
        )
        assert response.status_code == 201, response.text
        (link,) = response.headers.get_list("link")
        assert link.startswith(f'<{turn_server.url}>; rel="ice-server"; username="')
        assert f':camera-{created["id"]}"' in link and "access-control-expose-headers" in response.headers
    finally:
        loop.close()
