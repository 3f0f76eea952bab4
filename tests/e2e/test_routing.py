"""Deployed mode routing with real processes: PostgreSQL, the API (`siteaudit serve --no-worker`) and two
`siteaudit worker`s holding one camera lease each. A phone (Chromium, fake camera playing ppe-2) opens
its enrolment link on the API; the API's 307 sends the offer to the worker that owns the camera, whose
media path raises the no-vest event. A camera no worker holds gets 503 with Retry-After. Live view asked
of the API is forwarded to the owning worker (frames, boxes, MJPEG), with the site scoping and the audit
entry of the embedded mode."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import psycopg
import pytest
from aiortc import VideoStreamTrack
from playwright.sync_api import expect
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from audit_api.db import make_engine, make_sessionmaker
from audit_api.models import CameraLease
from tests.browser.conftest import launch_chromium
from tests.fixtures.processes import PASSWORD, Process, Processes, Server, siteaudit, wait_until
from tests.fixtures.rtsp import RtspServer
from tests.fixtures.turn import TurnServer
from tests.fixtures.whip_client import Loop, Publisher
from tests.fixtures.y4m import make_y4m

pytestmark = [pytest.mark.slow, pytest.mark.rtsp, pytest.mark.postgres, pytest.mark.browser]
TTL_S = 3.0


@dataclass
class Deployment:
    processes: Processes
    api: Server
    workers: list[Process]
    database_url: str
    site: int
    other_site: int

    def holder(self, camera: int) -> Process | None:
        """The worker process whose URL the camera's live lease names."""
        engine = make_engine(self.database_url)
        try:
            with make_sessionmaker(engine)() as session:
                lease = session.scalar(select(CameraLease).where(CameraLease.camera_id == camera))
                if lease is None or lease.expires_at is None or lease.expires_at < datetime.now(UTC):
                    return None
                return next((w for w in self.workers if w.url == lease.worker_url), None)
        finally:
            engine.dispose()

    def streaming_on(self, worker: Process) -> set[str]:
        text = httpx.get(worker.url + "/metrics", timeout=10).text
        return {
            s.labels["camera"]
            for f in text_string_to_metric_families(text)
            if f.name == "siteaudit_camera_streaming"
            for s in f.samples
            if s.value == 1
        }

    def analysed(self, worker: Process, camera: int) -> float:
        """Frames of the camera the worker has analysed (its own /metrics)."""
        text = httpx.get(worker.url + "/metrics", timeout=10).text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "siteaudit_camera_frames_analysed_total" and sample.labels == {
                    "camera": str(camera)
                }:
                    return float(sample.value)
        return 0.0

    def login(self, email: str) -> dict[str, str]:
        form = {"username": email, "password": PASSWORD}
        token = httpx.post(self.api.base + "/api/auth/token", data=form, timeout=30).json()["access_token"]
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def deployment(
    tmp_path_factory: pytest.TempPathFactory, postgres_server: str, turn_server: TurnServer
) -> Iterator[Deployment]:
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = postgres_server.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{postgres_server}/{name}"
    env = {
        "SITEAUDIT_DATABASE_URL": url,
        "SITEAUDIT_LEASE_TTL_S": str(TTL_S),
        "SITEAUDIT_MAX_CAMERAS": "1",  # two workers, one camera each: a third camera has no worker
        "SITEAUDIT_WORKER_ORIGINS": json.dumps(["http://127.0.0.1:*"]),  # the phone page's CSP
        "SITEAUDIT_ICE_SERVERS": json.dumps([{"urls": [turn_server.url]}]),
        "SITEAUDIT_TURN_SECRET": turn_server.secret,
    }
    try:
        with siteaudit(tmp_path_factory.mktemp("routing"), env) as processes:
            api = processes.serve("--no-worker", name="api")  # migrates the database first
            workers = [processes.worker("w1"), processes.worker("w2")]
            site = int(api.post("/api/sites", {"name": "Harbour"}).json()["id"])
            other = int(api.post("/api/sites", {"name": "Airport"}).json()["id"])
            for email, sites in (("boss@site.test", [site]), ("other-boss@site.test", [other])):
                body = {"email": email, "password": PASSWORD, "role": "supervisor", "site_ids": sites}
                assert api.post("/api/users", body).status_code == 201
            yield Deployment(processes, api, workers, url, site, other)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def rtsp_camera(deployment: Deployment, rtsp_server: RtspServer) -> int:
    """ppe-2 looping over RTSP, run by one of the workers (live view reads its frames)."""
    body = {"site_id": deployment.site, "name": "quay", "kind": "rtsp", "url": rtsp_server.url("ppe-2")}
    created = deployment.api.post("/api/cameras", body)
    assert created.status_code == 201, created.text
    camera = int(created.json()["id"])
    owner = wait_until(lambda: deployment.holder(camera), 60, "a worker to lease the RTSP camera")
    wait_until(lambda: str(camera) in deployment.streaming_on(owner), 90, "the RTSP camera to stream")
    return camera


@pytest.fixture(scope="module")
def phone(deployment: Deployment, rtsp_camera: int) -> dict[str, str]:
    """A WHIP camera, leased by the other worker."""
    created = deployment.api.post(
        "/api/cameras", {"site_id": deployment.site, "name": "crane", "kind": "whip"}
    )
    assert created.status_code == 201, created.text
    body: dict[str, str] = created.json()
    camera = int(body["id"])
    owner = wait_until(lambda: deployment.holder(camera), 60, "the other worker to lease the WHIP camera")
    assert owner is not deployment.holder(rtsp_camera)
    return body


def test_camera_without_a_live_worker_gets_503_with_retry_after(
    deployment: Deployment, phone: dict[str, str]
) -> None:
    body = {"site_id": deployment.site, "name": "spare phone", "kind": "whip"}
    created = deployment.api.post("/api/cameras", body).json()
    camera, token = int(created["id"]), created["whip_token"]
    time.sleep(TTL_S)  # a renewal round of both workers: both are full (one lease each)
    assert deployment.holder(camera) is None
    headers = {"Content-Type": "application/sdp", "Authorization": f"Bearer {token}"}
    answer = httpx.post(f"{deployment.api.base}/whip/{camera}", content="v=0\r\n", headers=headers)
    assert answer.status_code == 503, answer.text
    assert int(answer.headers["retry-after"]) >= 1
    assert f"no worker runs camera {camera}" in answer.json()["detail"]
    assert answer.headers["access-control-allow-origin"] == "*"  # a cross-origin phone page reads it
    wrong = httpx.post(
        f"{deployment.api.base}/whip/{camera}",
        content="v=0\r\n",
        headers=headers | {"Authorization": "Bearer x"},
    )
    assert wrong.status_code == 401  # the token is checked before any routing
    live = deployment.api.get(f"/api/cameras/{camera}/live/frame")
    assert live.status_code == 503 and "retry-after" in live.headers


def test_offer_is_redirected_to_the_owning_worker_with_a_grant(
    deployment: Deployment, phone: dict[str, str]
) -> None:
    camera, token = int(phone["id"]), phone["whip_token"]
    owner = deployment.holder(camera)
    assert owner is not None
    other = next(w for w in deployment.workers if w is not owner)
    loop = Loop()
    try:
        peer = Publisher(VideoStreamTrack())
        loop.peers.append(peer)
        offer = loop.run(peer.offer())  # answered, never connected: the routing is what is checked here
        headers = {"Content-Type": "application/sdp", "Authorization": f"Bearer {token}"}
        moved = httpx.post(f"{deployment.api.base}/whip/{camera}", content=offer, headers=headers)
        assert moved.status_code == 307, moved.text
        location = moved.headers["location"]
        assert location.startswith(f"{owner.url}/whip/{camera}?grant=")
        # What a browser sends after a cross-origin redirect: no Authorization, the grant in the URL.
        plain = {"Content-Type": "application/sdp"}
        answered = httpx.post(location, content=offer, headers=plain, timeout=60)
        assert answered.status_code == 201, answered.text
        session_url = answered.headers["location"]
        assert session_url.startswith(f"{owner.url}/whip/{camera}/")  # absolute: DELETE goes to the worker
        assert httpx.delete(session_url, headers={"Authorization": f"Bearer {token}"}).status_code == 200
        # A forged or foreign grant is refused by the worker; the other worker does not run the camera.
        (grant,) = parse_qs(urlsplit(location).query)["grant"]
        forged = httpx.post(f"{owner.url}/whip/{camera}?grant={grant[:-2]}xx", content=offer, headers=plain)
        assert forged.status_code == 401
        elsewhere = httpx.post(f"{other.url}/whip/{camera}", content=offer, headers=headers)
        assert elsewhere.status_code == 503 and "retry-after" in elsewhere.headers
    finally:
        loop.close()


def _phone_browser(videos: Path, tmp_path: Path) -> list[str]:
    y4m = make_y4m(videos / "ppe-2.mp4", tmp_path / "ppe-2.y4m", size=(1280, 720), seconds=4.0)
    fake = ["--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={y4m}"]
    return [*fake, "--use-fake-ui-for-media-stream", "--headless=new"]


def test_phone_page_publishes_through_the_api_to_the_owning_worker(
    deployment: Deployment, phone: dict[str, str], videos: Path, tmp_path: Path
) -> None:
    camera = int(phone["id"])
    owner = deployment.holder(camera)
    assert owner is not None
    with launch_chromium(_phone_browser(videos, tmp_path)) as browser:
        page = browser.new_page()
        page.goto(phone["enrol_url"])  # the API's own page, publishing to the API's /whip/{camera}
        expect(page.locator("#status")).to_have_attribute("data-state", "live", timeout=60_000)
        wait_until(lambda: str(camera) in deployment.streaming_on(owner), 60, "the owner to get the media")
        (event,) = wait_until(lambda: deployment.api.events_of(camera), 180, "the phone's no-vest event")
        assert event["kinds"] == ["no_vest"]
        assert all(
            str(camera) not in deployment.streaming_on(w) for w in deployment.workers if w is not owner
        )
        page.get_by_role("button", name="Stop").click()
        expect(page.locator("#status")).not_to_have_attribute("data-state", "live", timeout=15_000)


def test_phone_forced_to_relay_reaches_the_owning_worker_through_turn(
    deployment: Deployment, phone: dict[str, str], turn_server: TurnServer, videos: Path, tmp_path: Path
) -> None:
    camera = int(phone["id"])
    owner = deployment.holder(camera)
    assert owner is not None
    with launch_chromium(_phone_browser(videos, tmp_path)) as browser:
        page = browser.new_page()
        page.goto(phone["enrol_url"] + "&ice=relay")
        expect(page.locator("#status")).to_have_attribute("data-state", "live", timeout=60_000)
        expect(page.locator("#route")).to_have_attribute("data-candidate", "relay", timeout=15_000)
        start = deployment.analysed(owner, camera)
        wait_until(
            lambda: deployment.analysed(owner, camera) >= start + 5, 90, "the owner to analyse relayed frames"
        )
        page.get_by_role("button", name="Stop").click()
    allocated = rf"user <\d+:camera-{camera}>: incoming packet ALLOCATE processed, success"
    assert re.search(allocated, turn_server.log_text()), turn_server.log_text()[-3000:]


def test_live_view_through_the_api_reaches_the_owning_worker(
    deployment: Deployment, rtsp_camera: int
) -> None:
    api, camera = deployment.api, rtsp_camera
    frame = wait_until(
        lambda: (r := api.get(f"/api/cameras/{camera}/live/frame")).status_code == 200 and r,
        60,
        "a live frame",
    )
    assert frame.headers["content-type"] == "image/jpeg" and frame.content[:2] == b"\xff\xd8"
    assert float(frame.headers["x-frame-ts"]) > 0
    boxes = api.get(f"/api/cameras/{camera}/detections")
    assert boxes.status_code == 200 and boxes.json()["camera_id"] == camera and boxes.json()["width"]

    # Site scoping on the API: another site's supervisor cannot tell the camera exists.
    other = deployment.login("other-boss@site.test")
    for path in ("/live/frame", "/detections"):
        assert httpx.get(f"{api.base}/api/cameras/{camera}{path}", headers=other).status_code == 404
    assert httpx.post(f"{api.base}/api/cameras/{camera}/live-token", headers=other).status_code == 404

    own = deployment.login("boss@site.test")
    issued = httpx.post(f"{api.base}/api/cameras/{camera}/live-token", headers=own)
    assert issued.status_code == 201
    stamps: list[float] = []
    with httpx.stream("GET", api.base + issued.json()["url"], timeout=30) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("multipart/x-mixed-replace")
        buffer = b""
        for chunk in stream.iter_raw():
            buffer += chunk
            stamps = [
                float(line.split(b":")[1]) for line in buffer.split(b"\r\n") if line.startswith(b"X-Frame-Ts")
            ]
            if len(set(stamps)) >= 3:
                break
    assert len(set(stamps)) >= 3  # the picture moves: frames of the worker's ring, relayed as they come

    def watched() -> list[dict[str, object]]:
        entries = api.get("/api/audit", params={"entity": f"camera:{camera}", "limit": 100}).json()
        return [e for e in entries if e["action"] == "live.watched"]

    (entry,) = wait_until(watched, 30, "the worker to audit the viewer's session")
    assert str(entry["actor"]).startswith("user:") and entry["payload"]["frames"] >= 3  # type: ignore[index]
