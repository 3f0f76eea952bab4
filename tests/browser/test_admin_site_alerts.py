"""A site's camera-offline alerting on the admin page (issue 14) in real headless Chromium against the real
app on loopback: the offline threshold and the working hours (the zone schedule editor, reused) are set in
the site form, shown after a reload and returned by the API; the API's refusals are shown and save
nothing; editing only the name keeps them (the site's PUT replaces the whole site). The language of the
site's alerts and reports is set in the same form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, ViewportSize, expect

from tests.browser.conftest import watch_errors
from tests.browser.live_app import PASSWORD, USERS, AuditServer, Evidence, encode_evidence

pytestmark = pytest.mark.browser
SITE = "North yard"


@pytest.fixture(scope="module")
def evidence(videos: Path) -> Evidence:
    return encode_evidence(videos / "ppe-2.mp4", seconds=0.5)


@pytest.fixture
def admin(browser: Browser, server: AuditServer) -> Iterator[Page]:
    context = browser.new_context(viewport=ViewportSize(width=1366, height=900))
    page = context.new_page()
    errors = watch_errors(page)
    page.goto(f"{server.base_url}/")
    page.get_by_label("Email").fill(USERS["admin"])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/admin\.html"))
    expect(page.locator("main")).not_to_have_attribute("aria-busy", "true")
    yield page
    context.close()
    assert not errors, f"uncaught errors or CSP violations in the page: {errors}"


def site_of(server: AuditServer) -> dict[str, Any]:
    response = server.request("admin", "GET", f"/api/sites/{server.site_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def edit(page: Page) -> Locator:
    page.locator("#site-rows tr", has_text=SITE).get_by_role("button", name="Edit").click()
    form = page.locator("#site-form")
    expect(page.locator("#site-form-title")).to_contain_text(SITE)
    return form


def save(form: Locator) -> None:
    form.get_by_role("button", name="Save site").click()


def test_admin_sets_offline_threshold_and_working_hours(server: AuditServer, admin: Page) -> None:
    put = {"name": SITE, "timezone": "Asia/Shanghai", "ack_deadline_s": 900}
    assert server.request("admin", "PUT", f"/api/sites/{server.site_id}", json=put).status_code == 200
    admin.reload()
    form = edit(admin)
    expect(form.get_by_label("Alert after (seconds unmonitored)")).to_have_value("600")  # the default
    expect(admin.locator("#site-hours-help")).to_have_text("None: offline cameras alert around the clock.")
    form.get_by_label("Alert after (seconds unmonitored)").fill("300")
    form.get_by_role("button", name="Add working hours").click()
    hours = form.locator(".schedule-window")
    expect(hours).to_have_count(1)
    hours.get_by_label("Start").fill("07:00")
    hours.get_by_label("End").fill("18:00")
    expect(admin.locator("#site-hours-help")).to_contain_text("(Asia/Shanghai)")  # the site's time zone
    language = form.get_by_label("Language of alerts and reports")
    expect(language).to_have_value("zh-CN")  # the PUT above left it out: the default
    language.select_option("en")
    save(form)
    row = admin.locator("#site-rows tr", has_text=SITE)
    expect(row).to_contain_text("after 300 s, Mon–Fri 07:00–18:00")
    stored = site_of(server)
    assert stored["offline_alert_s"] == 300 and stored["ack_deadline_s"] == 900  # the hidden field is kept
    assert stored["working_hours"] == [{"days": [0, 1, 2, 3, 4], "start": "07:00:00", "end": "18:00:00"}]
    assert stored["locale"] == "en"

    # After a reload the form shows what is stored; renaming alone keeps the alerting.
    admin.reload()
    form = edit(admin)
    expect(form.get_by_label("Alert after (seconds unmonitored)")).to_have_value("300")
    expect(hours).to_have_count(1)
    expect(hours.get_by_label("Start")).to_have_value("07:00")
    expect(hours.get_by_label("End")).to_have_value("18:00")
    expect(hours.get_by_label("Monday")).to_be_checked()
    expect(hours.get_by_label("Saturday")).not_to_be_checked()
    expect(form.get_by_label("Language of alerts and reports")).to_have_value("en")
    form.get_by_label("Address").fill("Pier 4")
    save(form)
    expect(row).to_contain_text("Pier 4")
    renamed = site_of(server)
    assert renamed["address"] == "Pier 4" and renamed | {"address": ""} == stored | {"address": ""}

    # Empty threshold: no offline alerts; the hours stay stored.
    form = edit(admin)
    form.get_by_label("Alert after (seconds unmonitored)").fill("")
    save(form)
    expect(row.locator("td").nth(3)).to_have_text("off")
    assert site_of(server)["offline_alert_s"] is None


@pytest.mark.parametrize(
    ("threshold", "end", "shown"),
    [
        ("100000", "18:00", "offline_alert_s: Input should be less than or equal to 86400"),
        ("0", "18:00", "offline_alert_s: Input should be greater than or equal to 1"),
        ("300", "07:00", "Working hours 1: working hours start and end are equal (empty window)"),
    ],
)
def test_out_of_range_values_show_the_api_refusal_and_save_nothing(
    server: AuditServer, admin: Page, threshold: str, end: str, shown: str
) -> None:
    before = site_of(server)
    form = edit(admin)
    form.get_by_label("Alert after (seconds unmonitored)").fill(threshold)
    form.get_by_role("button", name="Add working hours").click()
    form.locator(".schedule-window").get_by_label("Start").fill("07:00")
    form.locator(".schedule-window").get_by_label("End").fill(end)
    save(form)
    expect(admin.locator("#site-error")).to_contain_text(shown)
    expect(admin.locator("#site-form-title")).to_contain_text(SITE)  # still editing: nothing was reset
    assert site_of(server) == before
