"""A remote patrol round in an embedded `siteaudit serve` with three looped RTSP cameras on loopback
(GStreamer): in Chromium an inspector starts the due slot from the inspector page's patrols panel, watches
each camera live, marks two "checked — OK" and one a finding, and ends the round. The audit log then holds
one entry per camera and the round's summary (the finding's still hash matches the stored still), the
slot is done, and the finding's manual event is reviewed and signed off. A thumbnail grid is audited once
per viewing."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import launch_chromium, watch_errors
from tests.fixtures.processes import PASSWORD, Server, siteaudit, wait_until
from tests.fixtures.rtsp import RtspServer

pytestmark = [pytest.mark.slow, pytest.mark.rtsp]
INSPECTOR = "inspector@site.test"
TZ = "Asia/Shanghai"
FOOTAGE = ("ppe-1", "ppe-2", "ppe-3")


class Patrol:
    def __init__(self, server: Server, data: Path, site: int, cameras: list[int], plan: dict[str, Any]):
        self.server, self.data, self.site, self.cameras, self.plan = server, data, site, cameras, plan
        form = {"username": INSPECTOR, "password": PASSWORD}
        token = httpx.post(server.base + "/api/auth/token", data=form, timeout=120).json()["access_token"]
        self.inspector = {"Authorization": f"Bearer {token}"}

    def call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return httpx.request(method, self.server.base + path, headers=self.inspector, timeout=30, **kw)

    def audit(self, entity: str) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self.server.get(
            "/api/audit", params={"entity": entity, "limit": 500}
        ).json()
        return entries


@pytest.fixture(scope="module")
def patrol(tmp_path_factory: pytest.TempPathFactory, rtsp_server: RtspServer) -> Iterator[Patrol]:
    env = {"SITEAUDIT_LIVE_GRID_IDLE_S": "3"}
    with siteaudit(tmp_path_factory.mktemp("serve-patrol"), env) as processes:
        server = processes.serve()
        site = int(server.post("/api/sites", {"name": "North yard", "timezone": TZ}).json()["id"])
        created = server.post("/api/users", {"email": INSPECTOR, "password": PASSWORD, "role": "inspector"})
        assert created.status_code == 201, created.text
        cameras = []
        for name in FOOTAGE:
            camera = server.post(
                "/api/cameras", {"site_id": site, "name": name, "kind": "rtsp", "url": rtsp_server.url(name)}
            )
            assert camera.status_code == 201, camera.text
            cameras.append(int(camera.json()["id"]))

        def streaming() -> bool:
            states = [server.get(f"/api/cameras/{c}/health").json()["state"] for c in cameras]
            return all(s == "streaming" for s in states)

        wait_until(streaming, 120, "the three RTSP cameras to stream")
        local = datetime.now(ZoneInfo(TZ))
        body = {
            "site_id": site, "name": "morning check", "camera_ids": cameras, "times": [f"{local:%H:%M}"],
            "grace_minutes": 120, "inspector_ids": [int(created.json()["id"])],
        }  # fmt: skip
        plan = server.post("/api/patrol-plans", body)
        assert plan.status_code == 201, plan.text
        yield Patrol(server, processes.root / "data", site, cameras, plan.json())


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_chromium(["--headless=new"]) as browser:
        yield browser


def _login(page: Page, patrol: Patrol) -> None:
    token = patrol.inspector["Authorization"].split(" ", 1)[1]
    page.add_init_script(f"sessionStorage.setItem('siteaudit.token', {token!r})")


def _wait_for_picture(page: Page, camera: int) -> None:
    expect(page.locator("#step-panel")).to_have_attribute("data-camera", str(camera), timeout=30_000)
    page.wait_for_function("() => document.getElementById('stream').naturalWidth > 0", timeout=30_000)
    page.wait_for_timeout(1500)  # the inspector looks at it


def test_inspector_walks_a_round_over_three_cameras_with_one_finding(
    patrol: Patrol, browser: Browser
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = watch_errors(page)
    _login(page, patrol)
    page.goto(f"{patrol.server.base}/inspector.html")
    due = page.locator(f'#patrol-slots tr[data-state="due"][data-plan="{patrol.plan["id"]}"]')
    expect(due).to_have_count(1, timeout=30_000)
    due.get_by_role("link", name="Start round").click()
    page.wait_for_url("**/patrol.html#round=*", timeout=30_000)
    round_id = int(page.url.rsplit("=", 1)[1])

    first, second, third = patrol.cameras
    _wait_for_picture(page, first)
    page.locator("#verdict-ok").click()
    _wait_for_picture(page, second)
    page.locator("#show-boxes").check()
    page.locator("#finding-kind").select_option("no_vest")
    page.locator("#finding-note").fill("man by the mixer without a vest")
    page.locator("#finding").click()
    done = page.locator("#step-done")
    expect(done).to_have_attribute("data-camera", str(second), timeout=30_000)
    event_id = int(done.get_attribute("data-event-id") or 0)
    sha = done.get_attribute("data-sha256")
    _wait_for_picture(page, third)
    page.locator("#verdict-ok").click()
    expect(page.locator("#step-panel")).to_be_hidden(timeout=30_000)  # the third verdict is in
    expect(page.locator("#round-done")).to_be_visible()
    expect(page.locator("#round-done")).to_have_text("Every camera has a verdict: end the round.")
    page.screenshot(path="/tmp/siteaudit-patrol-round.png")
    page.locator("#end-round").click()
    expect(page.locator("#round-done")).to_have_attribute("data-status", "complete", timeout=30_000)
    page.goto(f"{patrol.server.base}/inspector.html")
    expect(page.locator(f'#patrol-slots tr[data-plan="{patrol.plan["id"]}"]').first).to_have_attribute(
        "data-state", "done", timeout=30_000
    )
    context.close()
    assert errors == [], errors

    entries = patrol.audit(f"patrol_round:{round_id}")
    assert [e["action"] for e in entries] == ["patrol.step"] * 3 + ["patrol.round"]
    steps, summary = [e["payload"] for e in entries[:3]], entries[3]["payload"]
    assert [s["camera_id"] for s in steps] == patrol.cameras
    assert [s["verdict"] for s in steps] == ["ok", "finding", "ok"]
    assert all(s["seconds"] >= 1.0 for s in steps), steps  # each camera was watched for 1.5 s or more
    assert steps[1]["still_sha256"] == sha and steps[1]["event_id"] == event_id
    assert (summary["status"], summary["checked"], summary["findings"]) == ("complete", 3, 1)
    assert [s["still_sha256"] for s in summary["steps"]] == [None, sha, None]
    assert {e["actor"] for e in entries} == {entries[0]["actor"]} and entries[0]["actor"].startswith("user:")

    event = patrol.call("GET", f"/api/events/{event_id}").json()
    (snapshot,) = event["clips"]
    assert event["kinds"] == ["no_vest"] and snapshot["sha256"] == sha
    served = patrol.call("GET", f"/api/events/{event_id}/snapshot").content
    assert hashlib.sha256(served).hexdigest() == sha
    stored = patrol.data / "evidence" / event["rule_snapshot"]["annotated_still"]["key"]
    assert (
        hashlib.sha256(stored.read_bytes()).hexdigest() == event["rule_snapshot"]["annotated_still"]["sha256"]
    )
    captured = [e for e in patrol.audit(f"camera:{second}") if e["action"] == "live.captured"]
    assert captured[-1]["payload"]["still"]["sha256"] == sha

    review = patrol.call("POST", f"/api/events/{event_id}/review", json={"verdict": "confirmed"})
    assert review.status_code == 201, review.text
    signoff = patrol.call("POST", f"/api/events/{event_id}/signoff", json={})
    assert signoff.status_code == 201 and signoff.json()["clip_sha256"] == sha, signoff.text

    slots = patrol.call(
        "GET", "/api/patrols/schedule", params={"plan_id": patrol.plan["id"], "days": 2}
    ).json()
    assert [s["state"] for s in slots if s["round_id"] == round_id] == ["done"]

    def watched_all() -> bool:
        return all(
            any(e["action"] == "live.watched" for e in patrol.audit(f"camera:{c}")) for c in patrol.cameras
        )

    wait_until(watched_all, 60, "each camera's live session in the audit log")


def test_a_thumbnail_grid_is_audited_once_per_viewing(patrol: Patrol, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    _login(page, patrol)
    page.goto(f"{patrol.server.base}/live.html#site={patrol.site}")
    for camera in patrol.cameras:
        expect(page.locator(f"#thumb-{camera}")).to_have_attribute("data-state", "live", timeout=30_000)
    page.wait_for_timeout(3000)  # several refreshes of each thumbnail
    context.close()

    def grid_entries() -> list[dict[str, Any]]:
        return [e for e in patrol.audit(f"site:{patrol.site}") if e["action"] == "live.grid_watched"]

    (entry,) = wait_until(grid_entries, 60, "the grid session's audit entry")
    assert entry["payload"]["camera_ids"] == sorted(patrol.cameras)
    assert entry["payload"]["frames"] >= 2 * len(patrol.cameras)
    assert entry["payload"]["seconds"] >= 2
