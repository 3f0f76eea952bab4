"""Corrective actions in real Chromium: the inspector opens one at sign-off (responsible supervisor, due
date), the supervisor answers on a phone-sized page with a real photo (EXIF is gone from the stored copy),
the inspector rejects once and then verifies and downloads the rectification report; overdue actions are
flagged on both pages; an audit-log row edited in the database is named on the audit verification panel."""

from __future__ import annotations

import io
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select, update

from audit_api.models import AuditLog, CorrectiveAction, Site
from tests.browser.live_app import PASSWORD, USERS, AuditServer, Evidence, encode_evidence
from tests.browser.test_pages import SHOTS, open_page, sign_in
from tests.fixtures import photos

pytestmark = pytest.mark.browser
SITE_NAME = "北京朝阳变电站"


@pytest.fixture(scope="module")
def evidence(videos: Path) -> Evidence:
    return encode_evidence(videos / "ppe-1.mp4", seconds=2.0)


def _bearer(server: AuditServer, role: str) -> dict[str, str]:
    form = {"username": USERS[role], "password": PASSWORD}  # argon2 on a busy machine: generous timeouts
    token = httpx.post(f"{server.base_url}/api/auth/token", data=form, timeout=120).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def _call(server: AuditServer, role: str, method: str, path: str, **kwargs: Any) -> Any:
    url = f"{server.base_url}{path}"
    response = httpx.request(method, url, headers=_bearer(server, role), timeout=120, **kwargs)
    assert response.is_success, response.text
    return response.json() if response.content else None


def _photo_file(name: str, data: bytes) -> list[dict[str, object]]:
    return [{"name": name, "mimeType": "image/jpeg", "buffer": data}]


def _confirm_and_sign_off(page: Page, server: AuditServer, event_id: int) -> None:
    page.goto(f"{server.base_url}/inspector.html#event={event_id}")
    expect(page.locator("#detail-title")).to_contain_text(f"Event #{event_id}")
    page.get_by_role("button", name="Confirm violation").click()
    expect(page.locator("#detail-title")).to_contain_text("Confirmed")
    supervisor = page.get_by_label("Responsible supervisor")
    expect(supervisor.locator("option")).to_have_count(2)  # the placeholder and Sam, preselected
    expect(supervisor.locator("option:checked")).to_have_text("Sam (boss@example.com)")
    due = (datetime.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    page.get_by_label("Due", exact=True).fill(due)
    page.locator("#action-description").fill("Hand out vests to the crew")
    page.get_by_role("button", name="Sign off").click()
    expect(page.locator("#signoff-done")).to_contain_text("Signed off by you")


def _answer_on_phone(phone: Page, card_selector: str, note: str, data: bytes) -> None:
    card = phone.locator(card_selector)
    card.get_by_label("What was done").fill(note)
    card.get_by_label("Photos (JPEG or PNG, at least one)").set_input_files(
        files=_photo_file("fix.jpg", data)
    )
    card.get_by_role("button", name="Send answer").click()
    expect(card).to_contain_text(note)
    expect(card).to_contain_text("Answered")


def test_supervisor_answers_on_a_phone_inspector_rejects_then_verifies(
    server: AuditServer, browser: Browser, tmp_path: Path
) -> None:
    with server.sessions() as session:
        session.execute(update(Site).where(Site.id == server.site_id).values(name=SITE_NAME))
        session.commit()
    event = server.record()
    frame = photos.frame_jpeg()
    with open_page(browser) as desktop, open_page(browser, phone=True) as phone:
        sign_in(desktop, server, "inspector")
        _confirm_and_sign_off(desktop, server, event.id)
        [action] = _call(server, "inspector", "GET", "/api/actions")
        assert (
            action["supervisor_name"] == "Sam"
            and action["due"]
            and action["description"] == "Hand out vests to the crew"
        )
        card_selector = f"#actions [data-action-id='{action['id']}']"
        inspector_card = desktop.locator(card_selector)
        expect(inspector_card).to_contain_text("Responsible: Sam")
        expect(inspector_card).to_contain_text("Waiting for the site supervisor")

        sign_in(phone, server, "supervisor")
        _answer_on_phone(phone, card_selector, "Vests handed out at the gate", frame)
        supervisor_card = phone.locator(card_selector)
        image = supervisor_card.locator("img.action-photo")
        expect(image).to_have_js_property("complete", True)
        assert image.evaluate("img => img.naturalWidth") == 1280
        phone.screenshot(path=str(SHOTS / "siteaudit-supervisor-action-phone.png"), full_page=True)
        [answered] = _call(server, "supervisor", "GET", "/api/actions")
        [photo] = answered["responses"][0]["photos"]
        stored = httpx.get(
            f"{server.base_url}{photo['url']}", headers=_bearer(server, "inspector"), timeout=120
        ).content
        assert photos.EXIF_MAKE.encode() in frame and photos.EXIF_MAKE.encode() not in stored
        assert dict(Image.open(io.BytesIO(stored)).getexif()) == {}

        desktop.reload()
        expect(inspector_card).to_contain_text("Vests handed out at the gate")
        inspector_card.get_by_role("button", name="Reject (reopen)").click()
        expect(inspector_card).to_contain_text("Give the reason")  # a rejection needs a reason
        inspector_card.get_by_label("Note (optional when verifying; the reason when rejecting)").fill(
            "Two men still without vests"
        )
        inspector_card.get_by_role("button", name="Reject (reopen)").click()
        expect(inspector_card).to_contain_text("Reopened")
        expect(inspector_card).to_contain_text("Two men still without vests")

        phone.reload()
        expect(supervisor_card).to_contain_text("Two men still without vests")
        _answer_on_phone(phone, card_selector, "Everyone has a vest now", photos.frame_jpeg("ppe-2.mp4", 1.0))

        desktop.reload()
        expect(inspector_card).to_contain_text("Everyone has a vest now")
        inspector_card.get_by_role("button", name="Verify (close)").click()
        expect(inspector_card).to_contain_text("Verified")
        desktop.screenshot(path=str(SHOTS / "siteaudit-inspector-action-verified.png"), full_page=True)
        with desktop.expect_download() as download:
            inspector_card.get_by_role("button", name="Rectification report (PDF)").click()
        pdf = tmp_path / "report.pdf"
        download.value.save_as(pdf)
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    flat = "".join(text.split())
    assert f"event{event.id}" in flat and SITE_NAME in text and "Sam" in text and "Ivo Inspector" in text
    assert photo["sha256"] in flat and "Two men still without vests" in text
    subprocess.run(
        ["pdftoppm", "-r", "30", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")],
        check=True,
        timeout=120,
    )
    assert (tmp_path / "p-1.png").stat().st_size > 1000
    [closed] = _call(server, "inspector", "GET", "/api/actions")
    assert closed["status"] == "verified" and [d["accepted"] for d in closed["decisions"]] == [False, True]


def test_overdue_actions_are_flagged_on_both_pages(server: AuditServer, browser: Browser) -> None:
    event = server.record()
    _call(server, "inspector", "POST", f"/api/events/{event.id}/review", json={"verdict": "confirmed"})
    _call(
        server,
        "inspector",
        "POST",
        f"/api/events/{event.id}/signoff",
        json={"action_description": "Fence the pit"},
    )
    [action] = _call(server, "inspector", "GET", "/api/actions")
    with server.sessions() as session:
        past = datetime.now(UTC) - timedelta(hours=2)
        session.execute(update(CorrectiveAction).where(CorrectiveAction.id == action["id"]).values(due=past))
        session.commit()
    with open_page(browser) as desktop, open_page(browser, phone=True) as phone:
        sign_in(desktop, server, "inspector")
        overdue = desktop.locator(f"#overdue [data-action-id='{action['id']}']")
        expect(overdue).to_contain_text("Fence the pit")
        expect(overdue.locator(".badge-overdue")).to_have_text("Overdue")
        expect(desktop.locator("#overdue")).to_contain_text("North yard · 1 overdue")
        sign_in(phone, server, "supervisor")
        card = phone.locator(f"#actions [data-action-id='{action['id']}']")
        expect(card.locator(".badge-overdue")).to_have_text("Overdue")
        expect(phone.locator("#overdue-count")).to_have_text("1 overdue")


@pytest.mark.parametrize("role", ["inspector", "admin"])
def test_audit_panel_names_the_first_broken_entry(server: AuditServer, browser: Browser, role: str) -> None:
    server.record()
    with open_page(browser) as page:
        sign_in(page, server, role)
        if role == "admin":
            page.get_by_role("tab", name="Audit verification").click()
        page.get_by_role("button", name="Verify now").click()
        result = page.locator("#audit-verify-result")
        expect(result).to_have_attribute("data-valid", "true", timeout=30_000)
        expect(result).to_contain_text("2 stored objects verified")
        with server.sessions() as session:
            seq = session.scalars(select(AuditLog.seq).order_by(AuditLog.seq)).first()
            session.execute(update(AuditLog).where(AuditLog.seq == seq).values(payload={"edited": True}))
            session.commit()
        page.get_by_role("button", name="Verify now").click()
        expect(result).to_have_attribute("data-valid", "false", timeout=30_000)
        expect(result).to_contain_text(f"BROKEN at entry {seq}")
        expect(result).to_contain_text("the entry was edited")
