"""Debian's Chromium driven by Playwright (never `playwright install`), and the audit app served for it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from tests.browser.live_app import AuditServer, Evidence, serve_audit

CHROMIUM = Path("/usr/bin/chromium")
# Without these, Chromium keeps reaching for Google's hosts, which this network refuses. --lang pins the
# browser's language to English (the pages follow navigator.languages, and most tests assert English texts);
# a context made with locale="zh-CN" (tests/browser/test_i18n.py) overrides it.
BASE_ARGS = ("--no-sandbox", "--disable-background-networking", "--disable-component-update", "--lang=en-US")


@contextmanager
def launch_chromium(extra_args: Sequence[str] = ()) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=[*BASE_ARGS, *extra_args])
        yield browser
        browser.close()


def watch_errors(page: Page) -> list[str]:
    """What a test must fail on: uncaught page errors and Content-Security-Policy violations, which
    Chromium reports on the console ("Refused to ... because it violates ... Content Security Policy")."""
    errors: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            errors.append(f"CSP violation: {message.text}")

    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", console)
    return errors


def click_canvas(page: Page, points: list[tuple[float, float]]) -> None:
    """Click the zone editor's canvas at normalised positions (what an admin does to draw a polygon)."""
    canvas = page.locator("#zone-canvas")
    box = canvas.bounding_box()
    assert box is not None
    for x, y in points:
        canvas.click(position={"x": x * box["width"], "y": y * box["height"]})


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_chromium() as browser:
        yield browser


@pytest.fixture
def server(tmp_path: Path, evidence: Evidence) -> Iterator[AuditServer]:
    """The real app on loopback with seeded users; `evidence` comes from the test module."""
    with serve_audit(tmp_path / "data", evidence) as srv:
        yield srv
