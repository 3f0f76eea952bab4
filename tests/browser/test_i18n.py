"""The pages' language in Chromium: it follows the browser's locale (zh* -> zh-CN, else English), the header
switch changes it and the choice survives a reload and other pages; times carry the site's time zone; the
dashboard is screenshotted in both languages at desktop and phone widths (test artifacts)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.browser.conftest import watch_errors
from tests.browser.live_app import PASSWORD, USERS, AuditServer, Evidence, encode_evidence
from tests.fixtures.history import Seeded
from tests.fixtures.net import serve_app
from tests.fixtures.receivers import wait_until

pytestmark = pytest.mark.browser

WEB = Path(__file__).resolve().parents[2] / "web" / "static" / "i18n"
CATALOGUES = {
    lang: json.loads((WEB / f"{lang}.json").read_text(encoding="utf-8")) for lang in ("en", "zh-CN")
}
DESKTOP = ViewportSize(width=1280, height=800)
PHONE = ViewportSize(width=390, height=844)


@pytest.fixture(scope="module")
def evidence(videos: Path) -> Evidence:
    return encode_evidence(videos / "ppe-2.mp4", seconds=1.0)


@contextmanager
def localized(
    browser: Browser, locale: str, viewport: ViewportSize = DESKTOP, timezone_id: str | None = None
) -> Iterator[Page]:
    context = browser.new_context(
        locale=locale, viewport=viewport, device_scale_factor=1, timezone_id=timezone_id
    )
    page = context.new_page()
    errors = watch_errors(page)
    try:
        yield page
    finally:
        context.close()
    assert errors == [], errors


@pytest.mark.parametrize(
    ("locale", "lang"),
    [
        ("zh-CN", "zh-CN"),
        ("zh-Hans-CN", "zh-CN"),
        ("zh-TW", "zh-CN"),
        ("en-US", "en"),
        ("fr-FR", "en"),
        ("xx", "en"),
    ],
)
def test_sign_in_page_follows_the_browser_locale(
    server: AuditServer, browser: Browser, locale: str, lang: str
) -> None:
    texts = CATALOGUES[lang]
    with localized(browser, locale) as page:
        page.goto(f"{server.base_url}/")
        expect(page.locator("html")).to_have_attribute("lang", lang)
        expect(page.get_by_role("button", name=texts["login.signIn"])).to_be_visible()
        expect(page.get_by_label(texts["login.password"])).to_be_visible()
        expect(page).to_have_title(texts["login.siteauditSignIn"])
        expect(page.locator("#lang")).to_have_value(lang)


def test_switch_changes_the_language_and_it_survives_reload_and_sign_in(
    server: AuditServer, browser: Browser, artifacts_dir: Path
) -> None:
    en, zh = CATALOGUES["en"], CATALOGUES["zh-CN"]
    with localized(browser, "en-US") as page:
        page.goto(f"{server.base_url}/")
        expect(page.get_by_role("button", name=en["login.signIn"])).to_be_visible()
        page.locator("#lang").select_option("zh-CN")
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(page.get_by_role("button", name=zh["login.signIn"])).to_be_visible()
        page.reload()
        expect(page.get_by_role("button", name=zh["login.signIn"])).to_be_visible()
        # Signed in, the role's page keeps the choice and its header has the same switch.
        page.get_by_label(zh["app.email"]).fill(USERS["inspector"])
        page.get_by_label(zh["login.password"]).fill(PASSWORD)
        page.get_by_role("button", name=zh["login.signIn"]).click()
        page.wait_for_url(re.compile(r"/inspector\.html"))
        expect(page.get_by_role("button", name=zh["app.signOut"])).to_be_visible()
        expect(page.get_by_role("button", name=zh["inspector.markSelectedAsFalse"])).to_be_visible()
        expect(page.locator("#who")).to_contain_text(zh["term.inspector"])
        page.locator("main:not([aria-busy])").wait_for()
        page.screenshot(path=str(artifacts_dir / "inspector-zh-CN-desktop.png"), full_page=True)
        header = page.locator("header #lang")
        expect(header).to_have_value("zh-CN")
        header.select_option("en")
        expect(page.get_by_role("button", name=en["inspector.markSelectedAsFalse"])).to_be_visible()
        page.reload()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.get_by_role("button", name=en["app.signOut"])).to_be_visible()


@pytest.mark.parametrize("seeded", ["sqlite"], indirect=True)
def test_dashboard_in_both_languages_is_screenshotted(
    seeded: Seeded, browser: Browser, artifacts_dir: Path
) -> None:
    world = seeded.world
    token = world.bearer("admin@example.com")["Authorization"].removeprefix("Bearer ")
    with serve_app(world.app, name="dashboard-i18n") as base:
        for locale, lang in (("zh-CN", "zh-CN"), ("en-US", "en")):
            texts = CATALOGUES[lang]
            for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
                with localized(browser, locale, viewport) as page:
                    page.context.add_init_script(
                        f"sessionStorage.setItem('siteaudit.token', {json.dumps(token)})"
                    )
                    page.goto(f"{base}/dashboard.html?start=2025-03-01&end=2025-04-29")
                    page.locator("body[data-loaded='1']").wait_for(timeout=60_000)
                    expect(page.locator("html")).to_have_attribute("lang", lang)
                    expect(page.locator("#kpis")).to_contain_text(texts["dashboard.compliance"])
                    expect(page.locator("#sites-head")).to_contain_text(texts["dashboard.col.timeZone"])
                    expect(page).to_have_title(texts["dashboard.pageTitle"])
                    page.screenshot(path=str(artifacts_dir / f"dashboard-{lang}-{name}.png"), full_page=True)
                    width = page.evaluate("document.documentElement.scrollWidth")
                    assert width <= viewport["width"] + 1, (
                        f"{lang} {name}: the page scrolls sideways ({width}px)"
                    )


@pytest.mark.parametrize(
    ("locale", "lang", "pattern"),
    [
        ("zh-CN", "zh-CN", "%Y/%m/%d %H:%M:%S（Asia/Shanghai）"),
        ("en-US", "en", "%Y-%m-%d %H:%M:%S (Asia/Shanghai)"),
    ],
)
def test_event_times_are_shown_in_the_site_zone_and_labelled(
    server: AuditServer, browser: Browser, locale: str, lang: str, pattern: str
) -> None:
    """The browser is in Berlin, the site in Shanghai: the event's times are Shanghai's, and say so."""
    form = {"username": USERS["inspector"], "password": PASSWORD}
    token = httpx.post(f"{server.base_url}/api/auth/token", data=form, timeout=120).json()["access_token"]
    site = {"name": "North yard", "address": "", "timezone": "Asia/Shanghai"}
    assert server.request("admin", "PUT", f"/api/sites/{server.site_id}", json=site, timeout=120).is_success
    event = server.record()
    started = (
        event.started_at if event.started_at.tzinfo else event.started_at.replace(tzinfo=ZoneInfo("UTC"))
    )
    expected = datetime.fromtimestamp(started.timestamp(), ZoneInfo("Asia/Shanghai")).strftime(pattern)
    with localized(browser, locale, timezone_id="Europe/Berlin") as page:
        page.context.add_init_script(f"sessionStorage.setItem('siteaudit.token', {json.dumps(token)})")
        page.goto(f"{server.base_url}/inspector.html#event={event.id}")
        facts = page.locator("#facts")
        expect(facts).to_contain_text(CATALOGUES[lang]["inspector.started"])
        expect(facts).to_contain_text(expected)


def test_service_worker_notifications_follow_the_chosen_language(
    server: AuditServer, browser: Browser
) -> None:
    """The browser says English, the user chose Chinese on the page: the worker (which cannot read
    localStorage) labels the notification's action in Chinese, from the choice kept in Cache Storage."""
    context = browser.new_context(locale="en-US", viewport=PHONE)
    context.grant_permissions(["notifications"], origin=server.base_url)
    context.add_init_script("localStorage.setItem('siteaudit.lang', 'zh-CN')")
    page = context.new_page()
    errors = watch_errors(page)
    cdp = context.new_cdp_session(page)
    registrations: list[dict[str, object]] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated", lambda event: registrations.extend(event["registrations"])
    )
    cdp.send("ServiceWorker.enable")
    try:
        zh = CATALOGUES["zh-CN"]
        page.goto(f"{server.base_url}/")
        page.get_by_label(zh["app.email"]).fill(USERS["supervisor"])
        page.get_by_label(zh["login.password"]).fill(PASSWORD)
        page.get_by_role("button", name=zh["login.signIn"]).click()
        page.wait_for_url(re.compile(r"/supervisor\.html"))
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        scope = f"{server.base_url}/"
        registration = wait_until(
            lambda: next((r for r in registrations if r["scopeURL"] == scope and not r["isDeleted"]), None),
            "the service worker registration",
        )
        payload = {"title": "t", "body": "b", "alert_id": 7, "url": scope, "ack_url": f"{scope}ack?token=x"}
        cdp.send(
            "ServiceWorker.deliverPushMessage",
            {
                "origin": server.base_url,
                "registrationId": registration["registrationId"],
                "data": json.dumps(payload),
            },
        )
        shown = wait_until(
            lambda: page.evaluate(
                "navigator.serviceWorker.ready.then(async (r) => (await r.getNotifications())"
                ".map((n) => n.actions.map((a) => a.title)))"
            ),
            "the notification",
        )
        assert shown == [[zh["sw.ack"]]]
    finally:
        context.close()
    assert errors == []
