"""The inspector's review queue in Chromium: worked with the keyboard only (j/k, c, f, n, s, ?), a bulk false
positive for a selection, filters that survive a reload, and the evidence player that marks each violation
on the recording's timeline, crosses segment boundaries and shows the violator's box and still."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from audit_api.models import (
    ClipSegment,
    Event,
    EventStatus,
    EventViolation,
    Review,
    SignOff,
    Verdict,
    ViolationSnapshot,
)
from tests.browser.live_app import PASSWORD, USERS, AuditServer, Evidence, encode_evidence
from tests.browser.test_pages import open_page, sign_in

LOAD_MS = 20_000  # a page (re)load or a verdict's round trips, on a busy machine


@pytest.fixture(scope="module")
def evidence(videos: Path) -> Evidence:
    return encode_evidence(videos / "ppe-2.mp4", seconds=2.0)


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Page]:
    with open_page(browser) as page:
        yield page


def sign_in_by_keyboard(page: Page, server: AuditServer) -> None:
    page.goto(f"{server.base_url}/")
    page.get_by_label("Email").focus()
    page.keyboard.type(USERS["inspector"])
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/inspector\.html"))


def opened(page: Page, event_id: int) -> None:
    expect(page.locator("#detail-title")).to_contain_text(f"Event #{event_id}", timeout=LOAD_MS)
    expect(page.locator(f"#queue tr[data-event-id='{event_id}']")).to_be_focused()


def reviews(server: AuditServer) -> dict[int, tuple[str, Verdict | None, str]]:
    with server.sessions() as session:
        return {
            e.id: (e.status.value, e.verdict, e.reviews[-1].comment if e.reviews else "")
            for e in session.scalars(select(Event))
        }


def test_inspector_works_the_queue_with_the_keyboard_only(server: AuditServer, desktop: Page) -> None:
    events = [server.record(kinds=("no_vest",)) for _ in range(6)]
    newest_first = [e.id for e in reversed(events)]
    sign_in_by_keyboard(desktop, server)
    expect(desktop.locator("#queue tr[data-event-id]")).to_have_count(6, timeout=LOAD_MS)

    desktop.keyboard.press("?")  # the list of keys, in a modal dialog; Escape closes it
    dialog = desktop.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("False positive")
    desktop.keyboard.press("c")  # inert while the dialog is open
    desktop.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    desktop.keyboard.press("j")
    opened(desktop, newest_first[0])
    desktop.keyboard.press("c")  # confirm → the next unreviewed event opens
    opened(desktop, newest_first[1])
    expect(desktop.locator("#announce")).to_contain_text(f"Event #{newest_first[0]} marked confirmed")
    desktop.keyboard.press("f")
    opened(desktop, newest_first[2])
    desktop.keyboard.press("n")  # a note: typed into the comment, Escape leaves the field
    expect(desktop.get_by_label("Comment")).to_be_focused()
    desktop.keyboard.type("Vest under the jacket, ok")
    desktop.keyboard.press("Escape")
    desktop.keyboard.press("f")
    opened(desktop, newest_first[3])
    desktop.keyboard.press("c")
    opened(desktop, newest_first[4])
    desktop.keyboard.press("j")  # skip one: j/k only move
    opened(desktop, newest_first[5])
    desktop.keyboard.press("c")
    opened(desktop, newest_first[4])  # the one skipped is the only unreviewed left
    desktop.keyboard.press("k")
    desktop.keyboard.press("k")
    desktop.keyboard.press("k")
    desktop.keyboard.press("k")
    opened(desktop, newest_first[0])
    desktop.keyboard.press("s")  # sign off the confirmed event
    expect(desktop.locator("#signoff-done")).to_contain_text("Signed off by you")
    expect(desktop.locator("#signoff-done")).to_be_visible()
    expect(desktop.locator("#announce")).to_contain_text(f"Event #{newest_first[0]} signed off")
    desktop.keyboard.press("j")
    opened(desktop, newest_first[1])
    expect(desktop.locator("#signoff-done")).to_be_hidden()
    desktop.keyboard.press("s")
    expect(desktop.locator("#announce")).to_contain_text(f"Event #{newest_first[1]} signed off")
    expect(desktop.locator("#signoff-done")).to_be_visible()

    got = reviews(server)
    confirmed, fp = Verdict.CONFIRMED, Verdict.FALSE_POSITIVE
    assert got == {
        newest_first[0]: ("signed_off", confirmed, ""),
        newest_first[1]: ("signed_off", fp, ""),
        newest_first[2]: ("false_positive", fp, "Vest under the jacket, ok"),
        newest_first[3]: ("confirmed", confirmed, ""),
        newest_first[4]: ("open", None, ""),
        newest_first[5]: ("confirmed", confirmed, ""),
    }
    with server.sessions() as session:
        assert set(session.scalars(select(SignOff.event_id))) == set(newest_first[:2])


def test_bulk_false_positive_for_a_selection(server: AuditServer, desktop: Page) -> None:
    events = [server.record(kinds=("no_hardhat",)) for _ in range(5)]
    sign_in(desktop, server, "inspector")
    chosen = [events[0].id, events[2].id, events[3].id]
    for event_id in chosen[:2]:  # with the mouse
        desktop.get_by_label(f"Select event #{event_id}").check()
    desktop.locator(f"#queue tr[data-event-id='{chosen[2]}']").click()  # and with x on the open one
    expect(desktop.locator("#detail-title")).to_contain_text(f"Event #{chosen[2]}")
    desktop.keyboard.press("x")
    expect(desktop.get_by_label(f"Select event #{chosen[2]}")).to_be_checked()
    expect(desktop.locator("#bulk-count")).to_have_text("3 selected")
    desktop.get_by_role("button", name="Mark selected as false positive").click()
    expect(desktop.locator("#announce")).to_contain_text("3 events marked false positive")
    expect(desktop.locator("#bulk-fp")).to_be_disabled()
    for event_id in chosen:
        expect(desktop.locator(f"#queue tr[data-event-id='{event_id}']")).to_contain_text("False positive")
    got = reviews(server)
    assert {i for i, (status, _, _) in got.items() if status == "false_positive"} == set(chosen)
    assert {i for i, (status, _, _) in got.items() if status == "open"} == {events[1].id, events[4].id}


def test_filters_stay_put_across_reloads(server: AuditServer, desktop: Page) -> None:
    server.record(kinds=("no_vest",))
    hardhat = server.record(kinds=("no_hardhat",))
    sign_in(desktop, server, "inspector")
    desktop.get_by_label("Kind").select_option("no_hardhat")
    desktop.get_by_label("Status").select_option("open")
    expect(desktop.locator("#queue tr[data-event-id]")).to_have_count(1)
    expect(desktop).to_have_url(re.compile(r"\?status=open&kind=no_hardhat"))
    desktop.reload()
    expect(desktop.get_by_label("Kind")).to_have_value("no_hardhat", timeout=LOAD_MS)
    expect(desktop.locator("#queue tr[data-event-id]")).to_have_count(1, timeout=LOAD_MS)
    expect(desktop.locator("#queue tr[data-event-id]")).to_have_attribute("data-event-id", str(hardhat.id))
    desktop.goto(f"{server.base_url}/inspector.html")  # no query: the last filters (localStorage)
    expect(desktop.get_by_label("Status")).to_have_value("open", timeout=LOAD_MS)
    expect(desktop.locator("#queue tr[data-event-id]")).to_have_count(1, timeout=LOAD_MS)


def record_span(server: AuditServer) -> tuple[int, list[int]]:
    """An event whose recording is two 2 s segments, with a violation in each and a still for each."""
    event = server.record(kinds=("no_vest",))
    with server.sessions() as session:
        row = session.get_one(Event, event.id)
        start = row.started_at
        for index in range(2):
            stored = server.store.put(
                f"events/{row.id}/segments/{index}.mp4", server.evidence.clip, "video/mp4"
            )
            session.add(
                ClipSegment(
                    event=row, index=index, object_key=stored.key, sha256=stored.sha256, size=stored.size,
                    content_type=stored.content_type, started_at=start + timedelta(seconds=2.0 * index),
                    ended_at=start + timedelta(seconds=2.0 * index + server.evidence.duration_s),
                )
            )  # fmt: skip
        (first,) = row.violations
        first.ts, first.box = start + timedelta(seconds=0.5), [0.1, 0.2, 0.3, 0.6]
        second = EventViolation(kind="no_vest", track_id=9, ts=start + timedelta(seconds=3.0),
                                box=[0.5, 0.1, 0.9, 0.95], confidence=0.9)  # fmt: skip
        row.violations.append(second)
        for n, violation in enumerate(row.violations):
            stored = server.store.put(
                f"events/{row.id}/violations/{n}.jpg", server.evidence.snapshot, "image/jpeg"
            )
            violation.snapshot = ViolationSnapshot(
                object_key=stored.key,
                sha256=stored.sha256,
                size=stored.size,
                content_type=stored.content_type,
            )
        session.commit()
        return row.id, [v.id for v in row.violations]


def test_player_marks_each_violation_and_jumps_across_segments(server: AuditServer, desktop: Page) -> None:
    event_id, _ = record_span(server)
    sign_in(desktop, server, "inspector")
    desktop.goto(f"{server.base_url}/inspector.html#event={event_id}")
    expect(desktop.locator("#clip-caption")).to_contain_text("2 segments", timeout=LOAD_MS)
    markers = desktop.locator("#timeline button.marker")
    expect(markers).to_have_count(2)
    desktop.wait_for_function("() => document.getElementById('clip').readyState >= 1", timeout=30_000)

    markers.nth(1).click()  # the second violation is 1.0 s into the second segment
    video = desktop.locator("#clip")
    expect(video).to_have_attribute("data-segment", "1")
    desktop.wait_for_function(
        "() => { const v = document.getElementById('clip'); return v.readyState >= 1 && !v.seeking"
        " && Math.abs(v.currentTime - 1.0) < 0.1; }",
        timeout=30_000,
    )
    box = desktop.locator("#violation-box")
    expect(box).to_be_visible()
    stage = desktop.locator(".player-stage").bounding_box()
    drawn = box.bounding_box()
    assert stage is not None and drawn is not None
    assert drawn["x"] - stage["x"] == pytest.approx(0.5 * stage["width"], abs=4)
    assert drawn["width"] == pytest.approx(0.4 * stage["width"], abs=6)
    expect(desktop.locator("#snapshot-caption")).to_contain_text("Violation 2")
    expect(desktop.locator("#snapshot")).to_have_js_property("complete", True)
    expect(markers.nth(1)).to_have_attribute("aria-pressed", "true")

    markers.nth(0).click()  # back into the first segment
    expect(video).to_have_attribute("data-segment", "0")
    desktop.wait_for_function(
        "() => { const v = document.getElementById('clip');"
        " return !v.seeking && Math.abs(v.currentTime - 0.5) < 0.1; }",
        timeout=30_000,
    )
    # Played to its end, the first segment hands over to the second.
    video.evaluate("v => { v.muted = true; v.currentTime = Math.max(0, v.duration - 0.3); return v.play(); }")
    expect(video).to_have_attribute("data-segment", "1", timeout=30_000)
    with server.sessions() as session:
        assert session.get_one(Event, event_id).status == EventStatus.OPEN
        assert session.scalars(select(Review)).all() == []
