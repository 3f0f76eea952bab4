"""The pages under the Content-Security-Policy in real Chromium: served with it, and it bites."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Browser

from tests.browser.conftest import watch_errors
from tests.browser.live_app import AuditServer, Evidence

pytestmark = pytest.mark.browser

PAGES = [
    "index.html",
    "admin.html",
    "inspector.html",
    "supervisor.html",
    "camera.html",
    "live.html",
    "patrol.html",
    "dashboard.html",
]


@pytest.fixture(scope="module")
def evidence() -> Evidence:
    return Evidence(clip=b"not shown here", snapshot=b"not shown here", duration_s=1.0)


@pytest.mark.parametrize("name", PAGES)
def test_each_page_is_served_with_the_policy(server: AuditServer, browser: Browser, name: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    response = page.goto(f"{server.base_url}/{name}")
    assert response is not None and response.ok
    headers = response.headers
    context.close()
    policy = headers["content-security-policy"]
    assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"


def test_inline_script_and_style_are_refused_and_reported(server: AuditServer, browser: Browser) -> None:
    """What an injected `<script>` or `style=` would do: blocked, and watch_errors (which every page test
    uses) fails the test on the violation report."""
    context = browser.new_context()
    page = context.new_page()
    errors = watch_errors(page)
    page.goto(f"{server.base_url}/index.html")
    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.injected = true";
            document.body.append(script);
            document.body.setAttribute("style", "background: red");
        }"""
    )
    deadline = time.monotonic() + 10
    while len(errors) < 2 and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    injected = page.evaluate("() => window.injected === true")
    background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    context.close()
    assert not injected, "an inline script ran despite the policy"
    assert background != "rgb(255, 0, 0)", "an inline style applied despite the policy"
    assert len(errors) == 2, errors
    assert all(e.startswith("CSP violation: ") and "violates" in e for e in errors), errors
    assert any("script-src" in e for e in errors) and any("style-src" in e for e in errors), errors
