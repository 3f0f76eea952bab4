"""Admin configuration pages in real headless Chromium against the real app on loopback: camera health,
rule thresholds (global and per camera) and zone working hours, checked back through the API."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, ViewportSize, expect

from audit_api.models import UnmonitoredInterval
from ingest.health import CameraHealth
from tests.browser.conftest import click_canvas, watch_errors
from tests.browser.live_app import PASSWORD, USERS, AuditServer, Evidence, encode_evidence

pytestmark = pytest.mark.browser

DESKTOP = ViewportSize(width=1366, height=900)
SHOTS = Path("/tmp")
REFRESH_WAIT_MS = 15_000  # the health panel polls every 5 s


class HealthBoard:
    """Stands in for the Worker on app.state: health() returns real CameraHealth snapshots, which is all
    the health route reads. A feeder thread delivers frames so the fps meters have something to measure."""

    def __init__(self) -> None:
        self.cameras: dict[str, CameraHealth] = {}
        self._stop = threading.Event()
        self._feeding: list[CameraHealth] = []
        self._thread = threading.Thread(target=self._feed, name="health-feeder", daemon=True)

    def camera(self, camera_id: int) -> CameraHealth:
        return self.cameras.setdefault(str(camera_id), CameraHealth(str(camera_id)))

    def health(self) -> dict[str, dict[str, Any]]:
        return {cid: h.snapshot() for cid, h in self.cameras.items()}

    def stream(self, camera_id: int) -> None:
        self._feeding.append(self.camera(camera_id))
        if not self._thread.is_alive():
            self._thread.start()

    def _feed(self) -> None:
        while not self._stop.wait(0.1):
            for camera in self._feeding:
                camera.record_frame(time.time())
                camera.mark_analysed()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)


@pytest.fixture(scope="module")
def evidence(videos: Path) -> Evidence:
    return encode_evidence(videos / "ppe-2.mp4", seconds=0.5)


@pytest.fixture
def admin(browser: Browser, server: AuditServer) -> Iterator[Page]:
    """The admin page, signed in, on a desktop viewport; fails the test if any page script threw."""
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    errors = watch_errors(page)
    page.goto(f"{server.base_url}/")
    page.get_by_label("Email").fill(USERS["admin"])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/admin\.html"))
    expect(page.locator("main")).not_to_have_attribute("aria-busy", "true")  # data loaded, handlers wired
    yield page
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def api(server: AuditServer, method: str, path: str, **kwargs: Any) -> Any:
    response = server.request("admin", method, path, **kwargs)
    assert response.is_success, response.text
    return response.json() if response.content else None


def fact(card: Locator, term: str) -> Locator:
    return card.locator(f"dt:text-is('{term}') + dd")


@pytest.fixture
def board(server: AuditServer) -> Iterator[HealthBoard]:
    """The server's stand-in worker (the test server runs none)."""
    board = HealthBoard()
    server.app.state.worker = board
    yield board
    board.stop()


def test_admin_sees_camera_health_outages_and_the_calibration_note(
    server: AuditServer, board: HealthBoard, admin: Page
) -> None:
    board.stream(server.camera_id)
    crane = board.camera(server.other_camera_id)
    crane.record_failure("RTSP connect refused: 192.0.2.7:554", since=time.time() - 40)
    crane.record_reconnect()
    crane.record_reconnect()
    phone = {"site_id": server.site_id, "name": "Hoist", "kind": "whip"}
    hoist = api(server, "POST", "/api/cameras", json=phone)
    ended = datetime.now(UTC) - timedelta(minutes=20)
    with server.sessions() as session:
        session.add(
            UnmonitoredInterval(
                camera_id=server.camera_id,
                started_at=ended - timedelta(minutes=2, seconds=30),
                ended_at=ended,
                reason="RTSP read timeout",
            )
        )
        session.commit()

    admin.get_by_role("tab", name="Cameras").click()
    admin.locator("#camera-rows tr", has_text="Crane").get_by_role("button", name="Health").click()
    expect(admin.get_by_role("tab", name="Camera health")).to_have_attribute("aria-selected", "true")
    cards = admin.locator("#health-cards")
    gate = cards.locator(f"[data-camera-id='{server.camera_id}']")
    crane_card = cards.locator(f"[data-camera-id='{server.other_camera_id}']")
    hoist_card = cards.locator(f"[data-camera-id='{hoist['id']}']")
    expect(crane_card).to_have_class(re.compile(r"\bselected\b"))

    expect(gate.locator(".health-badge")).to_have_text("Streaming")
    expect(gate.locator(".health-badge")).to_have_class(re.compile(r"\bhealth-ok\b"))
    expect(fact(gate, "Input")).to_have_text(re.compile(r"^[1-9]\d*\.\d fps$"))
    expect(fact(gate, "Last frame")).to_have_text(re.compile(r"^\d+ s ago$"))
    outage = gate.locator(".outages tbody tr")
    expect(outage).to_have_count(1)
    expect(outage).to_contain_text("2 min 30 s")
    expect(outage).to_contain_text("RTSP read timeout")
    expect(gate.locator(".outages caption")).to_have_text("Recorded outages: 1, 2 min 30 s unmonitored")

    expect(crane_card.locator(".health-badge")).to_have_text("Reconnecting")
    expect(crane_card.locator(".health-badge")).to_have_class(re.compile(r"\bhealth-warn\b"))
    expect(fact(crane_card, "Reconnects")).to_have_text("2")
    expect(fact(crane_card, "Last error")).to_have_text("RTSP connect refused: 192.0.2.7:554")
    expect(fact(crane_card, "Last frame")).to_have_text("never")
    expect(hoist_card.locator(".health-badge")).to_have_text("Not running")
    expect(hoist_card.locator(".health-badge")).to_have_class(re.compile(r"\bhealth-idle\b"))
    for card in (gate, crane_card, hoist_card):
        expect(card.locator(".calib-note")).to_contain_text("Distance rule off: calibrate this camera")

    # Without a reload: the worker gives up on the crane and the page follows on its next poll.
    crane.set_state("failed")
    expect(crane_card.locator(".health-badge")).to_have_text("Failed", timeout=REFRESH_WAIT_MS)
    expect(crane_card.locator(".health-badge")).to_have_class(re.compile(r"\bhealth-bad\b"))
    admin.screenshot(path=str(SHOTS / "siteaudit-admin-health.png"), full_page=True)

    # Calibrate the gate from its card; back on the health tab its note is gone, the others keep theirs.
    gate.get_by_role("button", name="Calibrate").click()
    expect(admin.get_by_role("tab", name="Zones & calibration")).to_have_attribute("aria-selected", "true")
    expect(admin.get_by_label("Calibrate distance")).to_be_checked()
    click_canvas(admin, [(0.2, 0.9), (0.8, 0.9), (0.7, 0.5), (0.3, 0.5)])
    for i, (x, y) in enumerate([(0, 0), (6, 0), (6, 10), (0, 10)], start=1):
        admin.get_by_label(f"Point {i} ground X in metres").fill(str(x))
        admin.get_by_label(f"Point {i} ground Y in metres").fill(str(y))
    admin.get_by_role("button", name="Save calibration").click()
    expect(admin.locator("#calib-status")).to_have_text("Saved calibration v1.")
    admin.get_by_role("tab", name="Camera health").click()
    expect(gate.locator(".health-badge")).to_have_text("Streaming")
    expect(gate.locator(".calib-note")).to_have_count(0)
    expect(crane_card.locator(".calib-note")).to_be_visible()

    # The Hoist calibrated through the API: the open panel drops its note on the next poll.
    calibration = {
        "image_points": [[0, 0], [1, 0], [1, 1], [0, 1]],
        "world_points_m": [[0, 0], [4, 0], [4, 4], [0, 4]],
    }
    api(server, "PUT", f"/api/cameras/{hoist['id']}/calibration", json=calibration)
    expect(hoist_card.locator(".calib-note")).to_have_count(0, timeout=REFRESH_WAIT_MS)


def rule_input(page: Page, label: str) -> Locator:
    return page.locator("#rules-fields").get_by_label(label, exact=True)


def test_admin_edits_global_and_camera_rules(server: AuditServer, admin: Page) -> None:
    admin.get_by_role("tab", name="Rule thresholds").click()
    status = admin.locator("#rules-status")
    expect(status).to_contain_text("No global rules saved yet")
    expect(rule_input(admin, "Violating frames (k)")).to_have_value("3")  # built-in defaults
    expect(rule_input(admin, "No vest")).to_have_value("0.45")
    expect(admin.locator("#rules-fields")).to_contain_text("Debounce window length in analysed frames")

    rule_input(admin, "Violating frames (k)").fill("2")
    rule_input(admin, "Window (n frames)").fill("4")
    rule_input(admin, "No vest").fill("0.6")
    with admin.expect_request(lambda r: r.url.endswith("/api/rules") and r.method == "PUT") as sent:
        admin.get_by_role("button", name="Save rules").click()
    body = sent.value.post_data_json or {}
    assert body["k"] == 2 and "version" not in body  # the server owns the version
    expect(status).to_contain_text("Global rules (v1")
    stored = api(server, "GET", "/api/rules")["config"]
    assert (stored["k"], stored["n"], stored["thresholds"]["no_vest"]) == (2, 4, 0.6)

    # A camera without rules of its own shows (and explains) the global rules it inherits.
    admin.get_by_label("Applies to").select_option(label="Camera #1 Gate (North yard)")
    expect(status).to_contain_text("has no rules of its own: it runs with the global rules (v1")
    expect(rule_input(admin, "Violating frames (k)")).to_have_value("2")
    assert server.request("admin", "GET", f"/api/cameras/{server.camera_id}/rules").status_code == 404

    rule_input(admin, "Violating frames (k)").fill("6")
    rule_input(admin, "Window (n frames)").fill("5")
    admin.get_by_role("button", name="Save rules").click()
    error = admin.locator("#rules-error")
    expect(error).to_contain_text("k (6) must not exceed n (5)")
    expect(rule_input(admin, "Violating frames (k)")).to_have_attribute("aria-invalid", "true")
    expect(rule_input(admin, "Window (n frames)")).to_have_attribute("aria-invalid", "true")
    admin.screenshot(path=str(SHOTS / "siteaudit-admin-rules.png"), full_page=True)
    assert server.request("admin", "GET", f"/api/cameras/{server.camera_id}/rules").status_code == 404

    rule_input(admin, "Window (n frames)").fill("8")
    rule_input(admin, "Person").fill("1.5")
    admin.get_by_role("button", name="Save rules").click()
    expect(error).to_contain_text("thresholds.person: Input should be less than or equal to 1")
    expect(rule_input(admin, "Person")).to_have_attribute("aria-invalid", "true")
    expect(rule_input(admin, "Violating frames (k)")).not_to_have_attribute("aria-invalid", "true")

    rule_input(admin, "Person").fill("0.4")
    admin.get_by_role("button", name="Save rules").click()
    expect(status).to_contain_text("has rules of its own (v1")
    expect(error).to_be_hidden()
    camera_rules = api(server, "GET", f"/api/cameras/{server.camera_id}/rules")["config"]
    assert (camera_rules["k"], camera_rules["n"], camera_rules["thresholds"]["person"]) == (6, 8, 0.4)
    assert api(server, "GET", "/api/rules")["config"]["k"] == 2  # the global rules are untouched

    # Dropping the camera's own rules puts it back on the global ones.
    expect(admin.get_by_role("button", name="Use the global rules again")).to_be_visible()
    admin.get_by_role("button", name="Use the global rules again").click()
    expect(status).to_contain_text("has no rules of its own: it runs with the global rules (v1")
    expect(rule_input(admin, "Violating frames (k)")).to_have_value("2")
    expect(admin.get_by_role("button", name="Use the global rules again")).to_be_hidden()
    assert server.request("admin", "GET", f"/api/cameras/{server.camera_id}/rules").status_code == 404


def test_admin_draws_a_zone_with_working_hours(server: AuditServer, admin: Page) -> None:
    admin.get_by_role("tab", name="Zones & calibration").click()
    blank_frame = "() => document.getElementById('zone-canvas').width === 1280"  # no snapshot yet
    admin.wait_for_function(blank_frame)
    zone = admin.locator("#zone-form")
    click_canvas(admin, [(0.1, 0.2), (0.6, 0.2), (0.6, 0.9), (0.1, 0.9)])
    zone.get_by_label("Zone name").fill("Scaffold")
    zone.get_by_role("button", name="Add working hours").click()
    hours = zone.locator(".schedule-window")
    expect(hours).to_have_count(1)
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"):
        expect(hours.get_by_label(day)).to_be_checked()  # a new window starts as a working week
    expect(hours.get_by_label("Saturday")).not_to_be_checked()
    hours.get_by_label("Start").fill("07:00")
    hours.get_by_label("End").fill("18:00")
    expect(admin.locator("#schedule-help")).to_contain_text("(UTC)")  # the site's time zone
    zone.get_by_role("button", name="Save zone").click()
    listed = admin.locator("#zone-list li", has_text="Scaffold")
    expect(listed).to_contain_text("hours: Mon–Fri 07:00–18:00")
    [saved] = api(server, "GET", f"/api/cameras/{server.camera_id}/zones")
    assert saved["schedule"] == [{"days": [0, 1, 2, 3, 4], "start": "07:00:00", "end": "18:00:00"}]

    # Editing shows the stored hours; an empty window (end = start) is refused and explained, nothing changes.
    listed.get_by_role("button", name="Edit").click()
    expect(hours.get_by_label("Start")).to_have_value("07:00")
    hours.get_by_label("End").fill("07:00")
    zone.get_by_role("button", name="Save zone").click()
    refused = "Working hours 1: working hours start and end are equal (empty window)"
    expect(admin.locator("#zone-error")).to_contain_text(refused)
    admin.screenshot(path=str(SHOTS / "siteaudit-admin-zone-hours.png"), full_page=True)
    assert api(server, "GET", f"/api/zones/{saved['id']}")["version"] == 1

    # A window with no day ticked is caught before sending; a Saturday night shift is added next to the week.
    hours.get_by_label("End").fill("18:00")
    zone.get_by_role("button", name="Add working hours").click()
    saturday = hours.nth(1)
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"):
        saturday.get_by_label(day).uncheck()
    zone.get_by_role("button", name="Save zone").click()
    expect(admin.locator("#zone-error")).to_have_text("Working hours 2: tick at least one day.")
    saturday.get_by_label("Saturday").check()
    saturday.get_by_label("Start").fill("22:00")
    saturday.get_by_label("End").fill("06:00")  # overnight: runs into Sunday morning
    zone.get_by_role("button", name="Save zone").click()
    expect(listed).to_contain_text("hours: Mon–Fri 07:00–18:00; Sat 22:00–06:00 (next day)")
    assert api(server, "GET", f"/api/zones/{saved['id']}")["schedule"][1] == {
        "days": [5],
        "start": "22:00:00",
        "end": "06:00:00",
    }

    # Removing every window makes the zone apply around the clock again.
    listed.get_by_role("button", name="Edit").click()
    zone.get_by_role("button", name="Remove working hours 2").click()
    zone.get_by_role("button", name="Remove working hours 1").click()
    zone.get_by_role("button", name="Save zone").click()
    expect(listed).to_contain_text("hours: always")
    assert api(server, "GET", f"/api/zones/{saved['id']}")["schedule"] is None


def test_admin_routes_alerts_to_a_channel_and_never_sees_its_url_again(
    server: AuditServer, admin: Page
) -> None:
    admin.get_by_role("tab", name="Alert channels").click()
    expect(admin.locator("#channel-rows")).to_contain_text("No channels")
    form = admin.locator("#channel-form")
    form.get_by_label("Name").fill("Robot")
    form.get_by_label("URL").fill("nosuch://abc")
    form.get_by_role("button", name="Add channel").click()
    expect(admin.locator("#channel-error")).to_contain_text("Unparseable URL")
    form.get_by_label("Type").select_option("webhook")
    form.get_by_label("URL").fill("https://hooks.example.cn/T0123/s3cr3t")
    form.get_by_label("Violation kinds").fill("no_hardhat, no_vest")
    form.get_by_label("Reaches").select_option("1")
    form.get_by_role("button", name="Add channel").click()
    row = admin.locator("#channel-rows tr", has_text="Robot")
    expect(row).to_contain_text("https://hooks.example.cn/***")
    expect(row).to_contain_text("no_hardhat, no_vest")
    expect(row).to_contain_text("Inspectors")
    expect(admin.locator("#channel-secret")).to_be_visible()
    (channel,) = api(server, "GET", f"/api/sites/{server.site_id}/alert-channels")
    assert channel["level"] == 1 and channel["kinds"] == ["no_hardhat", "no_vest"]
    assert "s3cr3t" not in admin.content()
    admin.screenshot(path=str(SHOTS / "admin-alert-channels.png"), full_page=True)
    admin.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Delete").click()
    expect(admin.locator("#channel-rows")).to_contain_text("No channels")


def test_admin_plans_a_patrol_and_sees_the_servers_refusals(server: AuditServer, admin: Page) -> None:
    admin.get_by_role("tab", name="Patrol plans").click()
    admin.locator("#plan-site").select_option(str(server.site_id))
    expect(admin.locator("#plan-rows")).to_contain_text("No patrol plans")
    form = admin.locator("#plan-form")
    form.get_by_label("Name").fill("twice a day")
    form.get_by_label("Times of day").fill("09:00, 25:00")
    form.get_by_role("button", name="Add plan").click()
    expect(admin.locator("#plan-error")).to_contain_text("out of range")
    form.get_by_label("Times of day").fill("15:00, 09:00")
    form.get_by_label("Grace (minutes)").fill("45")
    form.get_by_label("Ivo Inspector").check()
    form.get_by_role("button", name="Add plan").click()
    row = admin.locator("#plan-rows tr", has_text="twice a day")
    expect(row).to_contain_text("09:00, 15:00")
    expect(row).to_contain_text("45 min")
    expect(row).to_contain_text("Ivo Inspector")
    (plan,) = api(server, "GET", "/api/patrol-plans", params={"site_id": server.site_id})
    assert plan["camera_ids"] == [server.camera_id] and plan["grace_minutes"] == 45
    admin.screenshot(path=str(SHOTS / "admin-patrol-plans.png"), full_page=True)
    row.get_by_role("button", name="Edit").click()
    form.get_by_label("Times of day").fill("08:30")
    form.get_by_role("button", name="Save plan").click()
    expect(row).to_contain_text("08:30")
    assert api(server, "GET", f"/api/patrol-plans/{plan['id']}")["version"] == 2
