"""Live view in an embedded `siteaudit serve` with a looped RTSP camera on loopback (GStreamer): Chromium
watches it (the picture changes at >= 2 fps, boxes when toggled), captures a still that opens a manual
event an inspector signs off; other sites' supervisors get 404, one viewer too many 429, and a stalled
viewer neither grows the server's memory nor slows the camera's analysis. Every session is audited."""

from __future__ import annotations

import hashlib
import socket
import statistics
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import launch_chromium
from tests.fixtures.processes import PASSWORD, Server, siteaudit, wait_until
from tests.fixtures.rtsp import RtspServer

pytestmark = [pytest.mark.slow, pytest.mark.rtsp]
MAX_VIEWERS = 3
STALL_S = 4.0
USERS = {
    "inspector": ("inspector@site.test", "inspector"),
    "supervisor": ("boss@site.test", "supervisor"),
    "other_supervisor": ("other-boss@site.test", "supervisor"),
}


class Live:
    def __init__(self, server: Server, proc: subprocess.Popen[str], camera: int, site: int, data: Path):
        self.server, self.proc, self.camera, self.site, self.data = server, proc, camera, site, data
        self.tokens: dict[str, str] = {}

    def headers(self, role: str) -> dict[str, str]:
        if role == "admin":
            return self.server.headers
        if role not in self.tokens:
            form = {"username": USERS[role][0], "password": PASSWORD}
            login = httpx.post(self.server.base + "/api/auth/token", data=form, timeout=60)  # argon2, nice'd
            self.tokens[role] = login.json()["access_token"]
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def call(self, role: str, method: str, path: str, **kw: Any) -> httpx.Response:
        return httpx.request(method, self.server.base + path, headers=self.headers(role), timeout=30, **kw)

    def stream_url(self, role: str, camera: int | None = None) -> str:
        response = self.call(role, "POST", f"/api/cameras/{camera or self.camera}/live-token")
        assert response.status_code == 201, response.text
        return self.server.base + str(response.json()["url"])

    def health(self) -> dict[str, Any]:
        body: dict[str, Any] = self.call("admin", "GET", f"/api/cameras/{self.camera}/health").json()
        return body

    def audit(self, action: str) -> list[dict[str, Any]]:
        entries = self.call(
            "admin", "GET", "/api/audit", params={"entity": f"camera:{self.camera}", "limit": 500}
        )
        return [e for e in entries.json() if e["action"] == action]

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, rtsp_server: RtspServer) -> Iterator[Live]:
    root = tmp_path_factory.mktemp("serve-live")
    env = {"SITEAUDIT_LIVE_MAX_VIEWERS": str(MAX_VIEWERS), "SITEAUDIT_LIVE_STALL_TIMEOUT_S": str(STALL_S)}
    with siteaudit(root, env) as processes:
        server = processes.serve()
        site = int(server.post("/api/sites", {"name": "North yard"}).json()["id"])
        other = int(server.post("/api/sites", {"name": "South yard"}).json()["id"])
        for role, (email, kind) in USERS.items():
            sites = {"supervisor": [site], "other_supervisor": [other]}.get(role, [])
            body = {"email": email, "password": PASSWORD, "role": kind, "site_ids": sites}
            assert server.post("/api/users", body).status_code == 201
        created = server.post(
            "/api/cameras",
            {"site_id": site, "name": "crane", "kind": "rtsp", "url": rtsp_server.url("ppe-2")},
        )
        assert created.status_code == 201, created.text
        data = Path(processes.env["SITEAUDIT_DATA_DIR"])
        result = Live(server, processes.process("serve").proc, int(created.json()["id"]), site, data)
        wait_until(lambda: result.health()["state"] == "streaming", 90, "the RTSP camera to stream")
        wait_until(lambda: (result.health().get("analysed_fps") or 0) > 0, 60, "analysis to run")
        yield result


def read_parts(url: str, seconds: float) -> list[tuple[float, float, bytes]]:
    """(frame ts, received at, jpeg) of each part of a multipart stream read for `seconds`."""
    parts: list[tuple[float, float, bytes]] = []
    buffer = b""
    deadline = time.monotonic() + seconds
    with httpx.stream("GET", url, timeout=30) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("multipart/x-mixed-replace")
        for chunk in response.iter_raw():
            buffer += chunk
            while b"\r\n\r\n" in buffer:
                head, rest = buffer.split(b"\r\n\r\n", 1)
                fields = dict(line.split(": ", 1) for line in head.decode().split("\r\n") if ": " in line)
                size = int(fields["Content-Length"])
                if len(rest) < size + 2:
                    break
                parts.append((float(fields["X-Frame-Ts"]), time.time(), rest[:size]))
                buffer = rest[size + 2 :]
            if time.monotonic() > deadline:
                break
    return parts


def test_stream_sends_fresh_ring_frames_with_low_latency(live: Live) -> None:
    parts = read_parts(live.stream_url("supervisor"), 8.0)
    distinct = {hashlib.sha256(jpeg).hexdigest() for _, _, jpeg in parts}
    assert len(distinct) >= 2 * 8 * 0.6, f"only {len(distinct)} distinct frames in 8 s"
    assert all(jpeg[:2] == b"\xff\xd8" for _, _, jpeg in parts)
    latencies = sorted(received - ts for ts, received, _ in parts)
    assert statistics.median(latencies) < 1.0, latencies
    wait_until(lambda: any(e["actor"].startswith("user:") for e in live.audit("live.watched")), 30,
               "the session's audit entry")  # fmt: skip
    entry = live.audit("live.watched")[-1]
    assert entry["payload"]["frames"] >= len(parts) - 1 and entry["payload"]["seconds"] > 5


@pytest.mark.parametrize(
    ("role", "path", "want"),
    [
        ("other_supervisor", "/api/cameras/{cam}/live-token", 404),
        ("other_supervisor", "/api/cameras/{cam}/detections", 404),
        ("other_supervisor", "/api/cameras/{cam}/live/frame", 404),
        ("supervisor", "/api/cameras/{cam}/detections", 200),
        ("supervisor", "/api/cameras/{cam}/live/frame", 200),
        ("supervisor", "/api/cameras/{cam}/captures", 403),
        ("inspector", "/api/cameras/0/live-token", 422),
    ],
)
def test_who_may_watch(live: Live, role: str, path: str, want: int) -> None:
    method = "POST" if path.endswith(("token", "captures")) else "GET"
    response = live.call(role, method, path.format(cam=live.camera), json={} if method == "POST" else None)
    assert response.status_code == want, response.text


def test_viewer_tokens_are_scoped(live: Live) -> None:
    url = live.stream_url("inspector")
    token = url.split("token=", 1)[1]
    base = live.server.base
    assert httpx.get(f"{base}/api/cameras/{live.camera + 1000}/live?token={token}").status_code == 401
    assert httpx.get(f"{base}/api/cameras/{live.camera}/live").status_code == 401
    assert httpx.get(f"{base}/api/cameras/0/live?token={token}").status_code == 422
    as_bearer = httpx.get(f"{base}/api/me", headers={"Authorization": f"Bearer {token}"})
    assert as_bearer.status_code == 401, "a viewer token must not work as an access token"


def test_one_viewer_too_many_gets_429(live: Live) -> None:
    with httpx.Client(timeout=30) as client:
        streams = [client.stream("GET", live.stream_url("inspector")) for _ in range(MAX_VIEWERS)]
        opened = [s.__enter__() for s in streams]
        try:
            assert [r.status_code for r in opened] == [200] * MAX_VIEWERS
            refused = httpx.get(live.stream_url("inspector"), timeout=30)
            assert refused.status_code == 429
            assert f"limit is {MAX_VIEWERS}" in refused.json()["detail"]
        finally:
            for s in streams:
                s.__exit__(None, None, None)
    # the slots come back once the streams end
    wait_until(lambda: _status(live.stream_url("inspector")) == 200, 30, "a free viewer slot")


def _status(url: str) -> int:
    with httpx.stream("GET", url, timeout=30) as response:
        return response.status_code


def test_stalled_viewer_is_dropped_without_growing_memory_or_slowing_analysis(live: Live) -> None:
    def analysed_fps(seconds: float) -> float:
        samples = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            samples.append(live.health().get("analysed_fps") or 0.0)
            time.sleep(1.0)
        return statistics.median(samples)

    before = analysed_fps(6)
    rss_before = live.rss_kb()
    url = httpx.URL(live.stream_url("inspector"))
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # never read: the server's sends block
    sock.connect((url.host, url.port or 80))
    target = url.raw_path.decode()
    sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {url.host}\r\n\r\n".encode())
    try:
        during = analysed_fps(12)
        rss_during = live.rss_kb()
        wait_until(
            lambda: any("took no data" in e["payload"]["ended_because"] for e in live.audit("live.watched")),
            60, "the stalled viewer to be dropped and audited",
        )  # fmt: skip
    finally:
        sock.close()
    assert during >= 0.6 * before, (before, during)
    assert rss_during - rss_before < 60_000, f"server RSS grew by {rss_during - rss_before} kB"


def _login(page: Page, live: Live, role: str) -> None:
    token = live.headers(role)["Authorization"].split(" ", 1)[1]
    page.add_init_script(f"sessionStorage.setItem('siteaudit.token', {token!r})")


DISTINCT_FRAMES_JS = """async ([ms, step]) => {
  const img = document.getElementById('stream');
  const canvas = document.createElement('canvas');
  canvas.width = 64; canvas.height = 36;
  const ctx = canvas.getContext('2d');
  const seen = new Set();
  for (let t = 0; t < ms; t += step) {
    ctx.drawImage(img, 0, 0, 64, 36);
    seen.add(canvas.toDataURL());
    await new Promise((r) => setTimeout(r, step));
  }
  return seen.size;
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_chromium(["--headless=new"]) as browser:
        yield browser


def test_inspector_watches_captures_and_signs_off_a_manual_event(live: Live, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    _login(page, live, "inspector")
    page.goto(f"{live.server.base}/live.html#camera={live.camera}")
    page.wait_for_function("() => document.getElementById('stream').naturalWidth > 0", timeout=30_000)
    distinct = page.evaluate(DISTINCT_FRAMES_JS, [6000, 100])
    assert distinct >= 12, f"only {distinct} distinct pictures in 6 s"
    expect(page.locator("#state")).to_have_text("Live", timeout=15_000)
    expect(page.locator("#fps")).to_contain_text("analysed")

    expect(page.locator("#overlay")).not_to_have_attribute("data-boxes", "1", timeout=1000)
    page.locator("#show-boxes").check()
    page.wait_for_function(
        "() => Number(document.getElementById('overlay').dataset.boxes) > 0", timeout=30_000
    )
    page.screenshot(path="/tmp/siteaudit-live-view.png")

    page.locator("#capture-kind").select_option("other")
    page.locator("#capture-note").fill("worker on the scaffold without a harness")
    page.locator("#capture").click()
    done = page.locator("#capture-done")
    expect(done).to_be_visible(timeout=30_000)
    event_id = int(done.get_attribute("data-event-id") or 0)
    sha = done.get_attribute("data-sha256")
    context.close()

    event = live.call("inspector", "GET", f"/api/events/{event_id}").json()
    assert event["kinds"] == ["other"] and event["rule_snapshot"]["manual"] is True
    (snapshot,) = event["clips"]
    assert snapshot["kind"] == "snapshot" and snapshot["sha256"] == sha
    served = live.call("inspector", "GET", f"/api/events/{event_id}/snapshot")
    assert hashlib.sha256(served.content).hexdigest() == sha
    annotated = event["rule_snapshot"]["annotated_still"]
    stored = (live.data / "evidence" / annotated["key"]).read_bytes()  # the local object store's file
    assert hashlib.sha256(stored).hexdigest() == annotated["sha256"] != sha

    review = live.call("inspector", "POST", f"/api/events/{event_id}/review", json={"verdict": "confirmed"})
    assert review.status_code == 201, review.text
    signoff = live.call("inspector", "POST", f"/api/events/{event_id}/signoff", json={})
    assert signoff.status_code == 201, signoff.text
    assert signoff.json()["clip_sha256"] == sha
    actions = live.call("supervisor", "GET", "/api/actions").json()
    assert any(
        a["event_id"] == event_id for a in (actions["items"] if isinstance(actions, dict) else actions)
    )
    assert live.audit("live.captured")[-1]["payload"]["still"]["sha256"] == sha


def test_supervisor_grid_on_a_phone(live: Live, browser: Browser) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    _login(page, live, "supervisor")
    page.goto(f"{live.server.base}/live.html#site={live.site}")
    thumb = page.locator(f"#thumb-{live.camera}")
    expect(thumb).to_have_attribute("data-state", "live", timeout=30_000)
    first = thumb.get_attribute("src")
    page.wait_for_function(
        f"() => document.getElementById('thumb-{live.camera}').getAttribute('src') !== {first!r}",
        timeout=15_000,
    )
    expect(page.locator("#capture-form")).to_be_hidden()
    page.screenshot(path="/tmp/siteaudit-live-grid-phone.png")
    context.close()
