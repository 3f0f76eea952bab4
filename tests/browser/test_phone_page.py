"""The phone camera page in real (headless) Chromium, publishing a fake camera fed with site footage."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import launch_chromium, watch_errors
from tests.fixtures.whip_server import WhipServer, serve_whip
from tests.fixtures.y4m import make_y4m

pytestmark = pytest.mark.browser

WEB = Path(__file__).resolve().parents[2] / "web"
TOKENS = {"1": "phone-token-1", "2": "phone-token-2"}


@pytest.fixture(scope="module")
def fake_camera(videos: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_y4m(videos / "ppe-2.mp4", tmp_path_factory.mktemp("camera") / "ppe-2.y4m", seconds=3.0)


@pytest.fixture(scope="module")
def browser(fake_camera: Path) -> Iterator[Browser]:
    fake = ["--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={fake_camera}"]
    with launch_chromium([*fake, "--use-fake-ui-for-media-stream", "--headless=new"]) as browser:
        yield browser


@pytest.fixture(scope="module")
def server() -> Iterator[WhipServer]:
    with serve_whip(TOKENS, web_dir=WEB, max_fps=5) as srv:
        yield srv


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    # A typical phone viewport, so the screenshot shows the layout people will see.
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    errors = watch_errors(page)
    yield page
    context.close()
    assert not errors, f"errors in the phone page: {errors}"


def test_phone_page_goes_live_and_stops(server: WhipServer, page: Page) -> None:
    page.goto(f"{server.base_url}/camera.html#cam=1&token={TOKENS['1']}")

    expect(page.locator("#status")).to_have_attribute("data-state", "live", timeout=30_000)
    expect(page.locator("#status")).to_have_text("Live")
    frames = server.frames.wait_for(5, camera_id="1")
    assert {(f.camera_id, f.width, f.height) for f in frames} == {("1", 640, 360)}
    assert frames[-1].image.std() > 10, "the server received blank frames, not the footage"
    expect(page.locator("#frames-sent")).not_to_have_text("0", timeout=10_000)
    expect(page.locator("#camera-label")).to_have_text("Camera 1")
    assert TOKENS["1"] not in page.locator("body").inner_text()
    page.screenshot(path="/tmp/siteaudit-phone-camera.png")

    page.locator("#stop").click()
    expect(page.locator("#status")).to_have_text("Stopped")
    server.wait_until(lambda: server.sessions("1") == [], "the Stop button ends the WHIP session")


def test_wrong_token_shows_unauthorized(server: WhipServer, page: Page) -> None:
    page.goto(f"{server.base_url}/camera.html#cam=2&token=not-the-token")

    expect(page.locator("#status")).to_have_attribute("data-state", "unauthorized", timeout=30_000)
    expect(page.locator("#status")).to_contain_text("Unauthorized")
    assert server.sessions("2") == []
    assert server.frames.of("2") == []


def test_page_without_credentials_asks_for_them(server: WhipServer, page: Page) -> None:
    page.goto(f"{server.base_url}/camera.html")
    expect(page.locator("#enrol")).to_be_visible()

    page.locator("input[name=cam]").fill("2")
    page.locator("input[name=token]").fill(TOKENS["2"])
    page.locator("#enrol button[type=submit]").click()

    expect(page.locator("#status")).to_have_attribute("data-state", "live", timeout=30_000)
    assert server.frames.wait_for(2, camera_id="2")[0].camera_id == "2"


def test_page_reconnects_when_the_server_drops_the_session(server: WhipServer, page: Page) -> None:
    page.goto(f"{server.base_url}/camera.html#cam=1&token={TOKENS['1']}")
    status = page.locator("#status")
    expect(status).to_have_attribute("data-state", "live", timeout=30_000)
    [first] = server.sessions("1")

    async def drop() -> bool:
        return await server.hub.end(first.id)

    assert asyncio.run_coroutine_threadsafe(drop(), server.loop).result(timeout=10)

    expect(status).to_have_attribute("data-state", "reconnecting", timeout=30_000)
    expect(status).to_have_attribute("data-state", "live", timeout=30_000)
    [second] = server.sessions("1")
    assert second.id != first.id
    seen = len(server.frames.of("1"))
    server.frames.wait_for(seen + 3, camera_id="1")
