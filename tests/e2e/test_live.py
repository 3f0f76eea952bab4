"""`siteaudit serve` as deployed in embedded mode: cameras are added through the API while it runs; an
RTSP camera (GStreamer on loopback) and a WHIP publisher (aiortc) each raise the no-vest event."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from aiortc.contrib.media import MediaPlayer
from playwright.sync_api import expect

from tests.browser.conftest import launch_chromium
from tests.fixtures.processes import Server, siteaudit, wait_until
from tests.fixtures.rtsp import RtspServer
from tests.fixtures.whip_client import Loop, Publisher
from tests.fixtures.y4m import make_y4m

pytestmark = [pytest.mark.slow, pytest.mark.rtsp]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with siteaudit(tmp_path_factory.mktemp("serve")) as processes:
        yield processes.serve()


@pytest.fixture(scope="module")
def site(server: Server) -> int:
    response = server.post("/api/sites", {"name": "Tower crane yard"})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_rtsp_camera_added_through_the_api_raises_the_no_vest_event(
    server: Server, site: int, rtsp_server: RtspServer
) -> None:
    bad = server.post(
        "/api/cameras", {"site_id": site, "name": "gate", "kind": "rtsp", "url": "file:///etc/passwd"}
    )
    assert bad.status_code == 422 and "rtsp" in bad.text

    created = server.post(
        "/api/cameras", {"site_id": site, "name": "crane", "kind": "rtsp", "url": rtsp_server.url("ppe-2")}
    )
    assert created.status_code == 201, created.text
    camera = int(created.json()["id"])
    (event,) = wait_until(lambda: server.events_of(camera), 120, "an event from the RTSP camera")
    assert event["kinds"] == ["no_vest"]
    detail = server.get(f"/api/events/{event['id']}").json()
    clip = next(c for c in detail["clips"] if c["kind"] == "clip")
    served = server.get(f"/api/events/{event['id']}/clip")
    assert served.status_code == 200 and hashlib.sha256(served.content).hexdigest() == clip["sha256"]
    assert served.content[4:8] == b"ftyp"


def test_phone_publishing_over_whip_raises_the_no_vest_event(server: Server, site: int, videos: Path) -> None:
    created = server.post("/api/cameras", {"site_id": site, "name": "phone on a pole", "kind": "whip"})
    assert created.status_code == 201, created.text
    body = created.json()
    camera, token = int(body["id"]), body["whip_token"]
    assert body["enrol_url"].endswith(f"/camera.html#cam={camera}&token={token}")
    assert body["enrol_qr"].startswith("data:image/png;base64,")

    assert _refuses_wrong_token(server, camera)
    wait_until(  # the worker picks new cameras up on its next sync with the database
        lambda: server.get(f"/api/cameras/{camera}/health").json()["state"] != "not_running", 30,
        "the worker to run the WHIP camera",
    )  # fmt: skip
    loop = Loop()
    try:
        player = MediaPlayer(str(videos / "ppe-2.mp4"), loop=True)
        peer = loop.run(_publish(loop, player, server.base, camera, token))
        (event,) = wait_until(lambda: server.events_of(camera), 120, "an event from the WHIP camera")
        assert event["kinds"] == ["no_vest"]
        # analysed_fps is a moving rate: wait for the condition rather than sample it once.
        wait_until(lambda: _analysing(server, camera), 60, "the WHIP camera to be streaming and analysed")
        loop.run(peer.pc.close())
    finally:
        loop.close()


def _analysing(server: Server, camera: int) -> bool:
    health = server.health_of(camera)
    return health["state"] == "streaming" and (health.get("analysed_fps") or 0) > 0


def _refuses_wrong_token(server: Server, camera: int) -> bool:
    wrong = httpx.post(
        f"{server.base}/whip/{camera}",
        content="v=0",
        headers={"Content-Type": "application/sdp", "Authorization": "Bearer not-the-token"},
    )
    return wrong.status_code == 401


async def _publish(loop: Loop, player: MediaPlayer, base: str, camera: int, token: str) -> Publisher:
    peer = Publisher(player.video)
    loop.peers.append(peer)
    response = await peer.publish(base, str(camera), token)
    assert response.status_code == 201, response.text
    assert response.headers["location"].startswith(f"/whip/{camera}/")
    return peer


@pytest.mark.browser
def test_phone_page_in_chromium_feeds_the_pipeline(
    server: Server, site: int, videos: Path, tmp_path: Path
) -> None:
    """The enrolment link opened by a phone (Chromium, fake camera playing ppe-2) → the no-vest event."""
    created = server.post("/api/cameras", {"site_id": site, "name": "phone at the gate", "kind": "whip"})
    assert created.status_code == 201, created.text
    camera, link = int(created.json()["id"]), created.json()["enrol_url"]
    wait_until(
        lambda: server.get(f"/api/cameras/{camera}/health").json()["state"] != "not_running", 30,
        "the worker to run the phone camera",
    )  # fmt: skip
    y4m = make_y4m(videos / "ppe-2.mp4", tmp_path / "ppe-2.y4m", size=(1280, 720), seconds=4.0)
    fake = ["--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={y4m}"]
    with launch_chromium([*fake, "--use-fake-ui-for-media-stream", "--headless=new"]) as browser:
        page = browser.new_page()
        page.goto(link)  # http://127.0.0.1 counts as a secure context, like https on a real phone
        expect(page.locator("#status")).to_have_attribute("data-state", "live", timeout=30_000)
        (event,) = wait_until(lambda: server.events_of(camera), 120, "an event from the phone camera")
        assert event["kinds"] == ["no_vest"]
        wait_until(lambda: _analysing(server, camera), 60, "the phone camera to be streaming and analysed")
        page.get_by_role("button", name="Stop").click()
