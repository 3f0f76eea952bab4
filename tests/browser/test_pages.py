"""The inspector, supervisor and admin pages in real headless Chromium against the real app on loopback."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.browser.conftest import click_canvas, watch_errors
from tests.browser.live_app import PASSWORD, USERS, AuditServer, Evidence, encode_evidence
from tests.fixtures.photos import small_png

pytestmark = pytest.mark.browser

DESKTOP = ViewportSize(width=1366, height=900)
PHONE = ViewportSize(width=390, height=844)
SHOTS = Path("/tmp")


@pytest.fixture(scope="module")
def evidence(videos: Path) -> Evidence:
    return encode_evidence(videos / "ppe-2.mp4", seconds=2.0)


@contextmanager
def open_page(browser: Browser, *, phone: bool = False) -> Iterator[Page]:
    """A fresh browser context; fails the test if any page script threw."""
    if phone:
        context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    else:
        context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    errors = watch_errors(page)
    yield page
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Page]:
    with open_page(browser) as page:
        yield page


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    with open_page(browser, phone=True) as page:
        yield page


def sign_in(page: Page, server: AuditServer, role: str, password: str = PASSWORD) -> None:
    page.goto(f"{server.base_url}/")
    page.get_by_label("Email").fill(USERS[role])
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    if password == PASSWORD:
        # The role's page wires its forms after loading its data (admin marks <main aria-busy> until then):
        # acting earlier would click tabs with no handler yet, or submit a form natively.
        page.wait_for_url(re.compile(r"/(admin|inspector|supervisor)\.html(#.*)?$"))
        page.locator("main:not([aria-busy])").wait_for()


def bearer(server: AuditServer, role: str) -> dict[str, str]:
    form = {"username": USERS[role], "password": PASSWORD}
    token = httpx.post(f"{server.base_url}/api/auth/token", data=form, timeout=120).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def call(server: AuditServer, role: str, method: str, path: str, **kwargs: Any) -> Any:
    url = f"{server.base_url}{path}"  # argon2 sign-ins on a busy machine: generous timeouts
    response = httpx.request(method, url, headers=bearer(server, role), timeout=120, **kwargs)
    assert response.is_success, response.text
    return response.json() if response.content else None


def open_corrective_action(server: AuditServer) -> tuple[int, int]:
    """(event id, action id): an event confirmed and signed off through the API."""
    event = server.record()
    call(server, "inspector", "POST", f"/api/events/{event.id}/review", json={"verdict": "confirmed"})
    call(server, "inspector", "POST", f"/api/events/{event.id}/signoff", json={"action_description": "Vests"})
    [action] = call(server, "inspector", "GET", "/api/actions")
    return event.id, action["id"]


@pytest.mark.parametrize(
    ("role", "landing"),
    [("admin", "admin.html"), ("inspector", "inspector.html"), ("supervisor", "supervisor.html")],
)
def test_login_lands_on_the_role_page_and_logout_returns(
    server: AuditServer, desktop: Page, role: str, landing: str
) -> None:
    sign_in(desktop, server, role, password="wrong password")
    expect(desktop.get_by_role("alert")).to_contain_text("Wrong email or password")
    assert desktop.url.endswith("/")
    desktop.screenshot(path=str(SHOTS / "siteaudit-login.png"))

    sign_in(desktop, server, role)
    expect(desktop).to_have_url(re.compile(rf"/{landing}(#.*)?$"))
    expect(desktop.locator("#who")).to_contain_text(role, ignore_case=True)  # "Inspector" (term.inspector)

    desktop.get_by_role("button", name="Sign out").click()
    expect(desktop).to_have_url(re.compile(r"/index\.html$"))
    desktop.goto(f"{server.base_url}/{landing}")  # no session any more: back to sign-in
    expect(desktop).to_have_url(re.compile(r"/index\.html$"))


def test_wrong_role_page_redirects_home(server: AuditServer, desktop: Page) -> None:
    sign_in(desktop, server, "supervisor")
    expect(desktop).to_have_url(re.compile(r"/supervisor\.html$"))
    desktop.goto(f"{server.base_url}/admin.html")
    expect(desktop).to_have_url(re.compile(r"/supervisor\.html$"))


def test_inspector_plays_the_clip_confirms_and_signs_off(server: AuditServer, desktop: Page) -> None:
    event = server.record(kinds=("no_vest",))
    sign_in(desktop, server, "inspector")
    row = desktop.locator(f"#queue tr[data-event-id='{event.id}']")
    expect(row).to_contain_text("No vest")
    row.click()

    expect(desktop.locator("#detail-title")).to_contain_text(f"Event #{event.id}")
    video = desktop.locator("#clip")
    # A function, not an expression string: Playwright evals expression strings, which the CSP refuses.
    desktop.wait_for_function("() => document.getElementById('clip').readyState >= 2", timeout=30_000)
    duration = video.evaluate("v => v.duration")
    assert duration == pytest.approx(server.evidence.duration_s, abs=0.2)
    # Seeking works (the whole clip is a local blob): jump near the end and read back the position.
    position = video.evaluate(
        """v => new Promise(resolve => {
             v.addEventListener('seeked', () => resolve(v.currentTime), {once: true});
             v.currentTime = v.duration * 0.75;
           })"""
    )
    assert position == pytest.approx(duration * 0.75, abs=0.1)
    expect(desktop.locator("#snapshot")).to_have_js_property("complete", True)
    assert desktop.locator("#snapshot").evaluate("img => img.naturalWidth") == 640
    expect(desktop.locator("#violations")).to_contain_text("77%")
    expect(desktop.locator("#why-facts")).to_contain_text("test-rules-1")
    expect(desktop.locator("#why-facts")).to_contain_text("css10-yolov8n-416")
    desktop.screenshot(path=str(SHOTS / "siteaudit-inspector.png"))

    desktop.get_by_label("Comment").fill("Man at the gate without a vest")
    desktop.get_by_role("button", name="Confirm violation").click()
    expect(desktop.locator("#reviews")).to_contain_text("Man at the gate without a vest")
    expect(desktop.locator("#detail-title")).to_contain_text("Confirmed")

    desktop.get_by_role("button", name="Sign off").click()
    done = desktop.locator("#signoff-done")
    expect(done).to_contain_text("Signed off by you")
    expect(desktop.locator("#signoff-sha")).to_have_text(hashlib.sha256(server.evidence.clip).hexdigest())
    expect(desktop.locator("#review-form")).to_be_hidden()
    expect(desktop.locator("#actions .action-card")).to_contain_text("Waiting for the site supervisor")
    desktop.screenshot(path=str(SHOTS / "siteaudit-inspector-signed.png"), full_page=True)


def test_inspector_verifies_or_reopens_a_response(server: AuditServer, desktop: Page) -> None:
    event_id, action_id = open_corrective_action(server)
    photo = [("photos", ("vests.png", small_png(), "image/png"))]
    call(
        server,
        "supervisor",
        "POST",
        f"/api/actions/{action_id}/respond",
        data={"note": "Vests issued"},
        files=photo,
    )
    sign_in(desktop, server, "inspector")
    expect(desktop.locator("#queue")).to_be_visible()
    desktop.goto(f"{server.base_url}/inspector.html#event={event_id}")
    card = desktop.locator(f"#actions [data-action-id='{action_id}']")
    expect(card).to_contain_text("Vests issued")
    card.get_by_label("Note (optional when verifying; the reason when rejecting)").fill(
        "Not everyone wears one"
    )
    card.get_by_role("button", name="Reject (reopen)").click()
    expect(card).to_contain_text("Reopened")
    expect(card).to_contain_text("Not everyone wears one")
    assert call(server, "inspector", "GET", "/api/actions")[0]["status"] == "reopened"


def test_inspector_queue_filters_and_pages(server: AuditServer, desktop: Page) -> None:
    for _ in range(21):
        server.record(kinds=("no_vest",))
    hardhat = server.record(kinds=("no_hardhat",))
    other_site = server.record(server.other_camera_id, kinds=("no_hardhat",))
    sign_in(desktop, server, "inspector")
    expect(desktop.locator("#queue-total")).to_have_text("23")
    expect(desktop.locator("#queue tr")).to_have_count(20)
    expect(desktop.locator("#queue tr").first).to_have_attribute("data-event-id", str(other_site.id))
    desktop.get_by_role("button", name="Older →").click()
    expect(desktop.locator("#queue tr")).to_have_count(3)
    expect(desktop.locator("#page-info")).to_have_text("21–23 of 23")

    desktop.get_by_label("Kind").select_option("no_hardhat")
    expect(desktop.locator("#queue tr")).to_have_count(2)
    desktop.get_by_label("Site").select_option(label="North yard")
    expect(desktop.locator("#queue tr")).to_have_count(1)
    expect(desktop.locator("#queue tr")).to_have_attribute("data-event-id", str(hardhat.id))
    desktop.get_by_label("Status").select_option("signed_off")
    expect(desktop.locator("#queue")).to_contain_text("No events match.")


def test_supervisor_sees_alerts_live_acknowledges_and_responds(server: AuditServer, phone: Page) -> None:
    first = server.record()
    _, action_id = open_corrective_action(server)
    server.record(server.other_camera_id)  # another supervisor's site: never shown here
    sign_in(phone, server, "supervisor")
    expect(phone.locator("#live")).to_have_attribute("data-state", "live", timeout=20_000)
    cards = phone.locator("#alerts .alert-card")
    expect(cards).to_have_count(2)
    expect(cards.first).to_contain_text("North yard")
    expect(phone.locator("#new-alerts")).to_be_hidden()

    arrived = server.record(kinds=("no_hardhat",))  # while the page is open: pushed, no reload
    card = phone.locator(f"#alerts [data-alert-id] >> text=event #{arrived.id}").locator("xpath=ancestor::li")
    expect(card).to_contain_text("No hardhat", timeout=20_000)
    expect(cards).to_have_count(3)
    expect(phone.locator("#new-alerts")).to_contain_text("1 new alert")
    assert phone.title().startswith("(1) ")
    phone.screenshot(path=str(SHOTS / "siteaudit-supervisor-phone.png"), full_page=True)

    card.get_by_role("button", name="Show evidence").click()
    expect(card.locator("img")).to_have_js_property("complete", True)
    expect(card.locator("video")).to_have_attribute("aria-label", f"Clip of event {arrived.id}")
    card.locator("video").evaluate("v => v.readyState >= 1 || new Promise(r => v.onloadedmetadata = r)")
    card.get_by_role("button", name="Acknowledge").click()
    expect(card).to_be_hidden()  # "unacknowledged only" is on by default
    expect(cards).to_have_count(2)
    phone.get_by_label("Unacknowledged only").uncheck()
    expect(cards).to_have_count(3)
    expect(phone.locator(".alert-card.acked")).to_contain_text(f"event #{arrived.id}")
    phone.get_by_role("button", name="Seen").click()
    expect(phone.locator("#new-alerts")).to_be_hidden()

    action = phone.locator(f"#actions [data-action-id='{action_id}']")
    expect(action).to_contain_text("Vests")
    action.get_by_label("What was done").fill("Vests handed out at the gate")
    action.get_by_label("Photos (JPEG or PNG, at least one)").set_input_files(
        files=[{"name": "vests.png", "mimeType": "image/png", "buffer": small_png()}]
    )
    action.get_by_role("button", name="Send answer").click()
    expect(action).to_contain_text("Vests handed out at the gate")
    expect(action).to_contain_text("Answered")
    [stored] = call(server, "supervisor", "GET", "/api/actions")
    assert stored["supervisor_response"] == "Vests handed out at the gate"
    acked = [a for a in call(server, "supervisor", "GET", "/api/alerts") if a["acknowledged_at"]]
    assert [a["event_id"] for a in acked] == [arrived.id]
    assert first.id != arrived.id


def test_supervisor_falls_back_to_polling_without_the_stream(server: AuditServer, desktop: Page) -> None:
    desktop.route("**/api/alerts/stream**", lambda route: route.abort())
    sign_in(desktop, server, "supervisor")
    expect(desktop.locator("#live")).to_have_attribute("data-state", "polling", timeout=20_000)
    arrived = server.record()
    expect(desktop.locator("#alerts")).to_contain_text(f"event #{arrived.id}", timeout=30_000)
    expect(desktop.locator("#new-alerts")).to_contain_text("1 new alert")
    desktop.screenshot(path=str(SHOTS / "siteaudit-supervisor-desktop.png"))


def test_admin_sites_cameras_zones_calibration(server: AuditServer, desktop: Page) -> None:
    server.record()  # gives camera "Gate" a snapshot to draw on
    sign_in(desktop, server, "admin")
    expect(desktop).to_have_url(re.compile(r"/admin\.html"))

    form = desktop.locator("#site-form")
    form.get_by_label("Name").fill("East depot")
    form.get_by_label("Address").fill("1 Quay Road")
    form.get_by_label("Blurred heads").select_option("also_supervisors")
    form.get_by_role("button", name="Save site").click()
    expect(desktop.locator("#site-rows")).to_contain_text("East depot")
    # Evidence storage per site: the recorded event's clip and snapshot, and the retention in force.
    storage = desktop.locator("#storage-table")
    expect(storage).to_contain_text("Unconfirmed evidence is deleted after 30 days")
    expect(storage.locator('tr[data-kind="clip"]')).to_contain_text("Clips")

    desktop.get_by_role("tab", name="Cameras").click()
    cam = desktop.locator("#camera-form")
    cam.get_by_label("Site").select_option(label="East depot")
    cam.get_by_label("Name").fill("Hoist")
    cam.get_by_label("RTSP URL").fill("file:///etc/passwd")
    cam.get_by_role("button", name="Add camera").click()
    expect(desktop.locator("#camera-error")).to_contain_text("camera URL must start with rtsp:// or rtsps://")
    cam.get_by_label("RTSP URL").fill("rtsp://viewer:s3cret@192.0.2.10:554/stream1")
    cam.get_by_role("button", name="Add camera").click()
    expect(desktop.locator("#camera-error")).to_be_hidden()
    row = desktop.locator("#camera-rows tr", has_text="Hoist")
    expect(row).to_contain_text("rtsp://viewer:***@192.0.2.10:554/stream1")

    cam.get_by_label("Site").select_option(label="East depot")
    cam.get_by_label("Name").fill("Phone 1")
    cam.get_by_label("Source").select_option("whip")
    expect(cam.get_by_label("RTSP URL")).to_be_hidden()
    cam.get_by_role("button", name="Add camera").click()
    link = desktop.locator("#enrol-link")
    expect(link).to_have_attribute("href", re.compile(r"/camera\.html#cam=\d+&token=[\w-]{20,}$"))
    token = desktop.locator("#enrol-token").inner_text()
    assert link.get_attribute("href", timeout=1000).endswith(f"token={token}")  # type: ignore[union-attr]
    expect(desktop.locator("#enrol-qr")).to_have_js_property("complete", True)
    assert desktop.locator("#enrol-qr").evaluate("img => img.naturalWidth") > 100  # a decoded PNG
    desktop.screenshot(path=str(SHOTS / "siteaudit-admin-cameras.png"), full_page=True)

    # Zones on camera "Gate", which has a recorded snapshot to draw on.
    desktop.locator("#camera-rows tr", has_text="Gate").get_by_role("button", name="Zones").click()
    expect(desktop.get_by_role("tab", name="Zones & calibration")).to_have_attribute("aria-selected", "true")
    desktop.wait_for_function("() => document.getElementById('zone-canvas').width === 640")
    corners = [(0.1, 0.2), (0.6, 0.2), (0.6, 0.9), (0.1, 0.9)]
    click_canvas(desktop, corners)
    expect(desktop.locator("#point-count")).to_have_text("4 points")
    zone = desktop.locator("#zone-form")
    zone.get_by_label("Zone name").fill("Loading bay")
    zone.get_by_label("Mask").check()
    expect(zone.get_by_label("Preset")).to_have_value("mask_required")  # hardhat + vest + mask ticked
    zone.get_by_label("Preset").select_option("mask_only")
    expect(zone.get_by_label("Hardhat")).not_to_be_checked()
    zone.get_by_label("Preset").select_option("mask_required")
    expect(zone.get_by_label("Hardhat")).to_be_checked()
    zone.get_by_label("Occupancy cap").fill("3")
    zone.get_by_role("button", name="Save zone").click()
    expect(desktop.locator("#zone-list")).to_contain_text("Loading bay")
    [saved] = call(server, "admin", "GET", f"/api/cameras/{server.camera_id}/zones")
    assert saved["polygon"] == [pytest.approx(list(p), abs=0.01) for p in corners]
    assert set(saved["required_ppe"]) == {"hardhat", "vest", "mask"}
    assert saved["occupancy_cap"] == 3

    # A self-intersecting outline is refused by the API and explained next to the form.
    click_canvas(desktop, [(0.1, 0.1), (0.5, 0.6), (0.5, 0.1), (0.1, 0.4)])
    zone.get_by_label("Zone name").fill("Bow tie")
    zone.get_by_role("button", name="Save zone").click()
    expect(desktop.locator("#zone-error")).to_contain_text("self-intersecting")

    desktop.get_by_label("Calibrate distance").check()
    click_canvas(desktop, [(0.2, 0.9), (0.8, 0.9), (0.7, 0.5), (0.3, 0.5)])
    for i, (x, y) in enumerate([(0, 0), (6, 0), (6, 10), (0, 10)], start=1):
        desktop.get_by_label(f"Point {i} ground X in metres").fill(str(x))
        desktop.get_by_label(f"Point {i} ground Y in metres").fill(str(y))
    desktop.get_by_role("button", name="Save calibration").click()
    expect(desktop.locator("#calib-status")).to_have_text("Saved calibration v1.")
    calibration = call(server, "admin", "GET", f"/api/cameras/{server.camera_id}/calibration")
    assert calibration["world_points_m"] == [[0, 0], [6, 0], [6, 10], [0, 10]]
    assert calibration["image_points"][1] == pytest.approx([0.8, 0.9], abs=0.01)
    desktop.screenshot(path=str(SHOTS / "siteaudit-admin-zones.png"), full_page=True)


def test_admin_manages_users(server: AuditServer, desktop: Page) -> None:
    sign_in(desktop, server, "admin")
    desktop.get_by_role("tab", name="Users").click()
    form = desktop.locator("#user-form")
    form.get_by_label("Email").fill("new.boss@example.com")
    form.get_by_label("Initial password").fill("short")
    form.get_by_role("button", name="Create user").click()
    expect(desktop.locator("#user-error")).to_contain_text("password")

    form.get_by_label("Initial password").fill("a long enough password")
    form.get_by_label("Role").select_option("supervisor")
    form.get_by_label("South yard").check()
    form.get_by_role("button", name="Create user").click()
    row = desktop.locator("#user-rows tr", has_text="new.boss@example.com")
    expect(row).to_contain_text("South yard")
    row.locator("summary").click()
    row.get_by_role("group", name="Sites of new.boss@example.com").get_by_label("North yard").check()
    row.get_by_role("button", name="Save sites").click()
    expect(row.locator("summary")).to_have_text("North yard, South yard")

    row.get_by_label("Role of new.boss@example.com").select_option("inspector")
    expect(row).to_contain_text("all")
    row.get_by_role("button", name="Deactivate").click()
    expect(row).to_contain_text("Deactivated")
    users = {u["email"]: u for u in call(server, "admin", "GET", "/api/users")}
    created = users["new.boss@example.com"]
    assert (created["role"], created["active"], len(created["site_ids"])) == ("inspector", False, 2)
    login = {"username": "new.boss@example.com", "password": "a long enough password"}
    assert httpx.post(f"{server.base_url}/api/auth/token", data=login, timeout=120).status_code == 401
    desktop.screenshot(path=str(SHOTS / "siteaudit-admin-users.png"), full_page=True)
