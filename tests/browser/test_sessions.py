"""The pages keep a sign-in alive with the refresh token, and signing out ends it on the server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.live_app import AuditServer, Evidence, encode_evidence
from tests.browser.test_pages import open_page, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def evidence(videos: Path) -> Evidence:
    return encode_evidence(videos / "ppe-2.mp4", seconds=1.0)


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Page]:
    with open_page(browser) as page:
        yield page


def _stored(page: Page) -> dict[str, str | None]:
    tokens: dict[str, str | None] = page.evaluate(
        "({access: sessionStorage.getItem('siteaudit.token'), "
        "refresh: sessionStorage.getItem('siteaudit.refresh')})"
    )
    return tokens


def _me(server: AuditServer, access: str | None) -> int:
    return httpx.get(f"{server.base_url}/api/me", headers={"Authorization": f"Bearer {access}"}).status_code


def test_a_rejected_access_token_is_refreshed_once_transparently(server: AuditServer, desktop: Page) -> None:
    sign_in(desktop, server, "inspector")
    before = _stored(desktop)
    assert before["access"] and before["refresh"]
    desktop.evaluate("sessionStorage.setItem('siteaudit.token', 'expired-or-revoked')")
    desktop.reload()  # every call of the page now meets a 401 first
    desktop.locator("main:not([aria-busy])").wait_for()
    expect(desktop).to_have_url(re.compile(r"/inspector\.html(#.*)?$"))
    expect(desktop.locator("#who")).to_contain_text("inspector", ignore_case=True)
    after = _stored(desktop)
    # Parallel 401s shared one refresh: had the old refresh token been used twice, the server would have
    # revoked the sign-in and the new tokens would fail.
    assert after["refresh"] != before["refresh"] and _me(server, after["access"]) == 200
    refreshed = httpx.post(f"{server.base_url}/api/auth/refresh", json={"refresh_token": after["refresh"]})
    assert refreshed.status_code == 200, refreshed.text


def test_a_failed_refresh_sends_the_user_to_sign_in(server: AuditServer, desktop: Page) -> None:
    sign_in(desktop, server, "supervisor")
    desktop.evaluate(
        "sessionStorage.setItem('siteaudit.token', 'bad'); sessionStorage.setItem('siteaudit.refresh', 'bad')"
    )
    desktop.reload()
    expect(desktop).to_have_url(re.compile(r"/index\.html\?expired=1$"))
    expect(desktop.get_by_text("Your session has ended")).to_be_visible()


def test_sign_out_ends_the_session_on_the_server(server: AuditServer, desktop: Page) -> None:
    sign_in(desktop, server, "admin")
    tokens = _stored(desktop)
    assert _me(server, tokens["access"]) == 200
    desktop.get_by_role("button", name="Sign out").click()
    expect(desktop).to_have_url(re.compile(r"/index\.html$"))
    assert _stored(desktop) == {"access": None, "refresh": None}
    assert _me(server, tokens["access"]) == 401  # copies of the tokens are dead too
    refresh = httpx.post(f"{server.base_url}/api/auth/refresh", json={"refresh_token": tokens["refresh"]})
    assert refresh.status_code == 401
