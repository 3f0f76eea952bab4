"""The dashboard page in Chromium over the seeded history: ECharts draws on canvas under the strict CSP
(no violation, no page error), the figures shown are the API's, supervisors see their own sites only, and
screenshots at desktop and phone widths are kept as test artifacts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import watch_errors
from tests.fixtures.history import Seeded
from tests.fixtures.net import serve_app

pytestmark = pytest.mark.browser
VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
PERIOD = "start=2025-03-01&end=2025-04-29"


def _open(browser: Browser, base: str, token: str, viewport: dict[str, int]) -> tuple[Page, list[str]]:
    context = browser.new_context(viewport=viewport, device_scale_factor=1)
    # The pages keep the bearer token in sessionStorage; set it before any page script runs.
    context.add_init_script(f"sessionStorage.setItem('siteaudit.token', {json.dumps(token)})")
    page = context.new_page()
    errors = watch_errors(page)
    response = page.goto(f"{base}/dashboard.html?{PERIOD}")
    assert response is not None and "style-src 'self'" in response.headers["content-security-policy"]
    page.locator("body[data-loaded='1']").wait_for(timeout=60_000)
    return page, errors


@pytest.mark.parametrize("seeded", ["sqlite"], indirect=True)
@pytest.mark.parametrize("role", ["admin", "supervisor"])
def test_dashboard_renders_and_is_screenshotted(
    seeded: Seeded, browser: Browser, artifacts_dir: Path, role: str
) -> None:
    world = seeded.world
    email = {"admin": "admin@example.com", "supervisor": "boss@example.com"}[role]
    headers = world.bearer(email)
    token = headers["Authorization"].removeprefix("Bearer ")
    figures = world.client.get(f"/api/dashboard?{PERIOD}", headers=headers).json()
    with serve_app(world.app, name="dashboard-page") as base:
        for name, viewport in VIEWPORTS.items():
            page, errors = _open(browser, base, token, viewport)
            try:
                assert page.locator("#dash-error").is_hidden(), page.locator("#dash-error").text_content()
                for chart in ("daily", "cameras", "zones", "outages"):
                    expect(page.locator(f"#chart-{chart} canvas")).to_have_count(1)
                kpis = page.locator("#kpis")
                expect(kpis).to_contain_text(str(figures["totals"]["violations"]))
                expect(kpis).to_contain_text(f"{figures['totals']['compliance_rate']:.2f}")
                rows = page.locator("#sites tr")
                expect(rows).to_have_count(len(figures["sites"]))
                if role == "supervisor":
                    expect(rows).to_have_count(1)
                    expect(page.locator("#make-report")).to_be_hidden()
                expect(page.locator("#definition")).to_contain_text("per 100 monitored camera-hours")
                page.screenshot(path=str(artifacts_dir / f"dashboard-{role}-{name}.png"), full_page=True)
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= viewport["width"] + 1, f"{name}: the page scrolls sideways ({width}px)"
                assert errors == []
            finally:
                page.context.close()


@pytest.mark.parametrize("seeded", ["sqlite"], indirect=True)
def test_csv_export_button_downloads_the_filtered_rows(seeded: Seeded, browser: Browser) -> None:
    world = seeded.world
    token = world.bearer("admin@example.com")["Authorization"].removeprefix("Bearer ")
    with serve_app(world.app, name="dashboard-export") as base:
        page, errors = _open(browser, base, token, VIEWPORTS["desktop"])
        try:
            page.select_option("#f-site", str(seeded.history.site_ids[2]))
            with page.expect_download() as info:
                page.locator("[data-export='events']").click()
            download = info.value
            assert re.fullmatch(r"siteaudit-events-2025-03-01-2025-04-29\.csv", download.suggested_filename)
            text = Path(download.path()).read_text(encoding="utf-8-sig")
            assert "东区工地" in text and text.count("\n") > 10
            assert errors == []
        finally:
            page.context.close()
