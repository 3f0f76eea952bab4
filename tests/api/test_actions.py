"""Corrective actions end to end on a real database and store: opening with a due date and the responsible
supervisor, answers with real photos (EXIF stripped, stored write-once with SHA-256), rejections and
verification with history, overdue listing, the rectification report PDF, and every bad input."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select, update

from audit_api.models import ActionPhoto, ActionResponse, AuditLog, CorrectiveAction, Event, Site, User
from audit_api.schemas.bounds import MAX_ACTION_DUE_DAYS, MAX_PHOTOS_PER_RESPONSE
from audit_api.settings import Settings
from tests.api.conftest import SECRET, World
from tests.fixtures import photos

MakeEvent = Callable[..., Event]
Headers = dict[str, str]
MAX_PHOTO = 300_000
SITE_NAME = "北京朝阳变电站"
NO_SUPERVISOR = "not an active supervisor of site"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"max_photo_bytes": MAX_PHOTO})


def _due(days: float = 7) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def _user_id(world: World, email: str) -> int:
    with world.sessions() as session:
        return session.scalars(select(User.id).where(User.email == email)).one()


def _open_action(world: World, make_event: MakeEvent, inspector: Headers, **body: Any) -> dict[str, Any]:
    event = make_event()
    assert (
        world.post(f"/api/events/{event.id}/review", inspector, {"verdict": "confirmed"}).status_code == 201
    )
    body = {"action_due": _due(), "action_supervisor_id": _user_id(world, "boss@example.com")} | body
    signed = world.post(f"/api/events/{event.id}/signoff", inspector, body)
    assert signed.status_code == 201, signed.text
    (action,) = world.client.get(f"/api/events/{event.id}", headers=inspector).json()["actions"]
    return dict(action)


def _answer(
    world: World, action_id: int, headers: Headers, files: list[tuple[str, bytes, str]], note: str = "fixed"
):  # type: ignore[no-untyped-def]
    upload = [("photos", f) for f in files]
    return world.client.post(
        f"/api/actions/{action_id}/respond", data={"note": note}, files=upload, headers=headers
    )


def _stored_photo_keys(world: World) -> list[str]:
    root = Path(world.store.root)  # type: ignore[attr-defined]
    return (
        sorted(str(p.relative_to(root)) for p in (root / "actions").rglob("*") if p.is_file())
        if (root / "actions").exists()
        else []
    )


def _pdf_text(tmp_path: Path, pdf: bytes) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True, timeout=120
    ).stdout


def test_action_flow_with_photos_rejection_verification_and_report(
    world: World, make_event: MakeEvent, inspector: Headers, supervisor: Headers, tmp_path: Path
) -> None:
    with world.sessions() as session:
        session.execute(
            update(Site).where(Site.id == world.site_id).values(name=SITE_NAME, timezone="Asia/Shanghai")
        )
        session.execute(update(User).where(User.email == "boss@example.com").values(name="Wang Wei"))
        session.execute(update(User).where(User.email == "inspector@example.com").values(name="Li Na"))
        session.commit()
    boss = _user_id(world, "boss@example.com")
    supervisors = world.client.get(f"/api/sites/{world.site_id}/supervisors", headers=inspector).json()
    assert [s["id"] for s in supervisors] == [boss]
    action = _open_action(world, make_event, inspector)
    assert action["supervisor_id"] == boss and action["supervisor_name"] == "Wang Wei" and action["due"]
    assert action["overdue"] is False and action["status"] == "open" and action["site_id"] == world.site_id

    too_early = world.client.get(f"/api/actions/{action['id']}/report.pdf", headers=inspector)
    assert too_early.status_code == 409 and "is open" in too_early.json()["detail"], too_early.text

    frame = photos.frame_jpeg()
    assert photos.EXIF_MAKE.encode() in frame  # the upload carries EXIF (make, GPS)
    answered = _answer(
        world, action["id"], supervisor, [("site.jpg", frame, "image/jpeg")], "Helmets handed out"
    )
    assert answered.status_code == 200, answered.text
    (first,) = answered.json()["responses"]
    (photo,) = first["photos"]
    stored = world.client.get(photo["url"], headers=inspector)
    assert stored.status_code == 200 and stored.headers["content-type"] == "image/jpeg"
    assert hashlib.sha256(stored.content).hexdigest() == photo["sha256"]
    assert photos.EXIF_MAKE.encode() not in stored.content and b"Exif" not in stored.content
    image = Image.open(io.BytesIO(stored.content))
    assert image.size == (1280, 720) and dict(image.getexif()) == {} and "exif" not in image.info

    assert world.post(f"/api/actions/{action['id']}/reopen", inspector, {"note": ""}).status_code == 422
    rejected = world.post(f"/api/actions/{action['id']}/reopen", inspector, {"note": "Show the whole crew"})
    assert rejected.status_code == 200 and rejected.json()["status"] == "reopened"
    second = _answer(
        world,
        action["id"],
        supervisor,
        [("crew.png", photos.small_png(), "image/png"), ("gate.jpg", frame, "image/jpeg")],
        "Whole crew",
    )
    assert second.status_code == 200, second.text
    verified = world.post(f"/api/actions/{action['id']}/verify", inspector, {"note": "Good"}).json()
    assert verified["status"] == "verified"
    assert [(d["accepted"], d["note"]) for d in verified["decisions"]] == [
        (False, "Show the whole crew"),
        (True, "Good"),
    ]
    assert [r["note"] for r in verified["responses"]] == ["Helmets handed out", "Whole crew"]
    # The same frame sent twice is one content-addressed object.
    assert len(_stored_photo_keys(world)) == 2

    report = world.client.get(f"/api/actions/{action['id']}/report.pdf", headers=supervisor)
    assert report.status_code == 200, report.text
    assert report.content.startswith(b"%PDF") and report.headers["content-type"] == "application/pdf"
    assert report.headers["x-content-sha256"] == hashlib.sha256(report.content).hexdigest()
    text = _pdf_text(tmp_path, report.content)
    flat = "".join(text.split())
    with world.sessions() as session:
        entries = session.scalars(
            select(AuditLog)
            .where(AuditLog.entity.in_([f"event:{action['event_id']}", f"action:{action['id']}"]))
            .order_by(AuditLog.seq)
        ).all()
        event = session.get(Event, action["event_id"])
        assert event is not None
        clip_hashes = [c.sha256 for c in event.clips]
        photo_hashes = list(session.scalars(select(ActionPhoto.sha256)))
    assert {e.action for e in entries} >= {
        "action.opened",
        "action.responded",
        "action.reopened",
        "action.verified",
    }
    assert f"event{action['event_id']}" in flat and SITE_NAME in text and "Asia/Shanghai" in text
    assert "Wang Wei" in text and "Li Na" in text and "Show the whole crew" in text
    assert "by Wang Wei <boss@example.com>" in text  # who generated it (the supervisor asked for it)
    for digest in clip_hashes + photo_hashes + [e.hash for e in entries]:
        assert digest in flat, digest
    subprocess.run(
        ["pdftoppm", "-r", "30", "-png", str(tmp_path / "report.pdf"), str(tmp_path / "page")],
        check=True,
        timeout=120,
    )
    pages = sorted(tmp_path.glob("page-*.png"))
    assert pages and all(p.stat().st_size > 1000 for p in pages)
    _report_languages(world, action["id"], supervisor, tmp_path)


REPORT_WORDS = {
    "zh-CN": ["整改报告", "违规情况", "复核与签字确认", "整改通知", "整改回复", "未戴安全帽", "验收通过",
              "由 Wang Wei <boss@example.com> 于"],
    "en": ["Rectification report", "Violation", "Review and sign-off", "Rectification notice", "Responses",
           "No hardhat", "Verified by Li Na", "by Wang Wei <boss@example.com>"],
}  # fmt: skip
REPORT_LANGUAGES = [  # (the site's locale, ?lang=, the report's language)
    ("en", None, "en"),
    ("en", "zh-CN", "zh-CN"),
    ("en", "zh_cn", "zh-CN"),
    ("en", "fr", "en"),  # a language the server does not have: English, never an error
    ("zh-CN", None, "zh-CN"),
    ("zh-CN", "en", "en"),
    ("zh-CN", "xx-unknown", "en"),
]


def _report_languages(world: World, action_id: int, headers: Headers, tmp_path: Path) -> None:
    """The rectification report in the site's language or the one asked for: its headings, the site name,
    times in the site's zone labelled with it."""
    for site_locale, lang, expected in REPORT_LANGUAGES:
        with world.sessions() as session:
            session.execute(update(Site).where(Site.id == world.site_id).values(locale=site_locale))
            session.commit()
        query = {"lang": lang} if lang is not None else {}
        report = world.client.get(f"/api/actions/{action_id}/report.pdf", params=query, headers=headers)
        assert report.status_code == 200, (site_locale, lang, report.text)
        text = " ".join(_pdf_text(tmp_path, report.content).split())
        case = (site_locale, lang)
        assert all(word in text for word in REPORT_WORDS[expected]), (case, text[:400])
        other = REPORT_WORDS["en" if expected == "zh-CN" else "zh-CN"]
        assert not any(word in text for word in other[:5]), case
        assert SITE_NAME in text and "(Asia/Shanghai, GMT+08:00)" in text, case
    too_long = world.client.get(f"/api/actions/{action_id}/report.pdf", params={"lang": "x" * 36},
                                headers=headers)  # fmt: skip
    assert too_long.status_code == 422 and "lang" in too_long.text


Files = list[tuple[str, bytes, str]]


def _ok() -> tuple[str, bytes, str]:
    return ("ok.png", photos.small_png(), "image/png")


# Built lazily (the bomb and the noise cost a second each): only the test that uses one pays for it.
BAD_PHOTOS: list[Any] = [
    pytest.param(lambda: [("notes.txt", b"not an image at all", "text/plain")], 415, "not a JPEG or PNG",
                 id="not-an-image"),
    pytest.param(lambda: [("anim.gif", photos.gif(), "image/gif")], 415, "not a JPEG or PNG", id="gif"),
    pytest.param(lambda: [("a.jpg", b"\xff\xd8\xff\xe0" + b"x" * 50, "image/jpeg")], 422,
                 "could not be decoded", id="jpeg-magic-only"),
    pytest.param(lambda: [("big.png", photos.noise_png(MAX_PHOTO + 1), "image/png")], 413,
                 f"larger than {MAX_PHOTO}", id="too-large"),
    pytest.param(lambda: [("bomb.png", photos.png_bomb(), "image/png")], 413, "pixels", id="image-bomb"),
    pytest.param(lambda: [("big.png", photos.png_bomb(7_000), "image/png")], 413, "refused before decoding",
                 id="more-pixels-than-allowed"),
    pytest.param(lambda: [("cut.jpg", photos.truncated_jpeg(), "image/jpeg")], 422, "could not be decoded",
                 id="truncated"),
    pytest.param(lambda: [_ok(), ("bomb.png", photos.png_bomb(), "image/png")], 413, "bomb.png",
                 id="good-then-bomb"),
    pytest.param(lambda: [_ok()] * (MAX_PHOTOS_PER_RESPONSE + 1), 422, "1 to", id="too-many"),
]  # fmt: skip


@pytest.mark.parametrize(("files", "status", "detail"), BAD_PHOTOS)
def test_bad_photos_are_refused_before_anything_is_stored(
    world: World,
    make_event: MakeEvent,
    inspector: Headers,
    supervisor: Headers,
    files: Callable[[], Files],
    status: int,
    detail: str,
) -> None:
    action = _open_action(world, make_event, inspector)
    with world.sessions() as session:
        entries_before = session.scalar(select(func.count()).select_from(AuditLog))
    response = _answer(world, action["id"], supervisor, files())
    assert response.status_code == status, response.text
    assert detail in response.json()["detail"]
    assert _stored_photo_keys(world) == []
    with world.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ActionResponse)) == 0
        assert session.scalar(select(func.count()).select_from(AuditLog)) == entries_before
        stored = session.get(CorrectiveAction, action["id"])
        assert stored is not None and stored.status.value == "open"


def test_answer_without_photo_or_note_is_refused(
    world: World, make_event: MakeEvent, inspector: Headers, supervisor: Headers
) -> None:
    action = _open_action(world, make_event, inspector)
    url = f"/api/actions/{action['id']}/respond"
    assert world.client.post(url, data={"note": "done"}, headers=supervisor).status_code == 422
    no_note = world.client.post(
        url, files=[("photos", ("a.png", photos.small_png(), "image/png"))], headers=supervisor
    )
    assert no_note.status_code == 422


def test_body_above_the_upload_limit_is_refused_with_413(
    world: World, make_event: MakeEvent, inspector: Headers, supervisor: Headers
) -> None:
    from audit_api.api.routes.actions import photo_upload_limit

    action = _open_action(world, make_event, inspector)
    huge = b"\0" * (photo_upload_limit(MAX_PHOTO) + 1)
    response = _answer(world, action["id"], supervisor, [("huge.jpg", huge, "image/jpeg")])
    assert response.status_code == 413 and _stored_photo_keys(world) == []


def test_supervisor_of_another_site_gets_404_and_nothing_is_stored(
    world: World, make_event: MakeEvent, inspector: Headers, other_supervisor: Headers
) -> None:
    action = _open_action(world, make_event, inspector)
    denied = _answer(world, action["id"], other_supervisor, [("a.jpg", photos.frame_jpeg(), "image/jpeg")])
    assert (
        denied.status_code == 404 and denied.json()["detail"] == f"corrective action {action['id']} not found"
    )
    assert _stored_photo_keys(world) == []
    assert (
        world.client.get(f"/api/actions/{action['id']}/report.pdf", headers=other_supervisor).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        pytest.param({"action_due": _due(-1)}, "in the future", id="due-in-the-past"),
        pytest.param(
            {"action_due": _due(MAX_ACTION_DUE_DAYS + 2)}, f"{MAX_ACTION_DUE_DAYS} days", id="due-too-far"
        ),
        pytest.param({"action_due": "2030-01-01T10:00:00"}, "timezone", id="due-without-timezone"),
        pytest.param({"supervisor": "other-boss@example.com"}, NO_SUPERVISOR, id="other-site"),
        pytest.param({"supervisor": "inspector@example.com"}, NO_SUPERVISOR, id="not-a-supervisor"),
        pytest.param({"action_supervisor_id": 2**31}, "less than or equal", id="id-out-of-bounds"),
    ],
)
def test_bad_due_date_or_supervisor_is_refused_and_nothing_is_signed(
    world: World, make_event: MakeEvent, inspector: Headers, body: dict[str, Any], detail: str
) -> None:
    event = make_event()
    world.post(f"/api/events/{event.id}/review", inspector, {"verdict": "confirmed"})
    if "supervisor" in body:
        body = {"action_supervisor_id": _user_id(world, body["supervisor"])}
    response = world.post(f"/api/events/{event.id}/signoff", inspector, {"action_due": _due()} | body)
    assert response.status_code == 422, response.text
    assert detail in str(response.json()["detail"])
    detail_after = world.client.get(f"/api/events/{event.id}", headers=inspector).json()
    assert detail_after["signoff"] is None and detail_after["actions"] == []


def test_overdue_actions_are_flagged_and_listed_by_site(
    world: World, make_event: MakeEvent, inspector: Headers, supervisor: Headers, other_supervisor: Headers
) -> None:
    late, on_time = _open_action(world, make_event, inspector), _open_action(world, make_event, inspector)
    with world.sessions() as session:
        past = datetime.now(UTC) - timedelta(hours=1)
        session.execute(update(CorrectiveAction).where(CorrectiveAction.id == late["id"]).values(due=past))
        session.commit()
    for headers in (inspector, supervisor):
        listed = world.client.get(
            "/api/actions", params={"overdue": True, "site_id": world.site_id}, headers=headers
        )
        assert [(a["id"], a["overdue"]) for a in listed.json()] == [(late["id"], True)]
        assert listed.headers["X-Total-Count"] == "1"
    not_late = world.client.get("/api/actions", params={"overdue": False}, headers=inspector).json()
    assert on_time["id"] in [a["id"] for a in not_late] and late["id"] not in [a["id"] for a in not_late]
    assert world.client.get("/api/actions", params={"overdue": True}, headers=other_supervisor).json() == []
    other = world.client.get(
        "/api/actions", params={"overdue": True, "site_id": world.other_site_id}, headers=inspector
    )
    assert other.json() == []
    assert (
        _answer(world, late["id"], supervisor, [("a.png", photos.small_png(), "image/png")]).status_code
        == 200
    )
    assert world.client.get(f"/api/actions/{late['id']}", headers=inspector).json()["overdue"] is False


def _cli_verify(world: World, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {
        "SITEAUDIT_DATABASE_URL": world.settings.effective_database_url,
        "SITEAUDIT_DATA_DIR": str(tmp_path),  # the world's store is tmp_path/evidence
        "SITEAUDIT_SECRET_KEY": SECRET,
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    return subprocess.run(
        [sys.executable, "-m", "audit_api.cli", "audit", "verify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_audit_verify_names_the_first_broken_entry_and_object(
    world: World,
    make_event: MakeEvent,
    inspector: Headers,
    supervisor: Headers,
    admin: Headers,
    tmp_path: Path,
) -> None:
    action = _open_action(world, make_event, inspector)
    assert (
        _answer(world, action["id"], supervisor, [("a.png", photos.small_png(), "image/png")]).status_code
        == 200
    )
    intact = world.client.get("/api/audit/integrity", headers=inspector).json()
    assert intact["valid"] is True and intact["objects_checked"] == 3  # clip, snapshot, photo
    ok = _cli_verify(world, tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "intact" in ok.stdout

    with world.sessions() as session:
        row = session.scalars(select(AuditLog).where(AuditLog.action == "action.opened")).one()
        seq = row.seq
        session.execute(update(AuditLog).where(AuditLog.seq == seq).values(actor="user:999"))
        session.commit()
        photo_key = session.scalars(select(ActionPhoto.object_key)).one()
    (Path(world.store.root) / photo_key).write_bytes(b"tampered")  # type: ignore[attr-defined]

    broken = world.client.get("/api/audit/integrity", headers=admin).json()
    assert broken["valid"] is False
    assert broken["chain"]["first_bad_seq"] == seq and "edited" in broken["chain"]["reason"]
    assert broken["first_broken_object"]["key"] == photo_key and broken["objects_broken"] == 1
    assert world.client.get("/api/audit/verify", headers=admin).json()["first_bad_seq"] == seq
    cli = _cli_verify(world, tmp_path)
    assert cli.returncode == 1, cli.stdout + cli.stderr
    assert f"BROKEN at entry {seq}" in cli.stdout and "edited" in cli.stdout and photo_key in cli.stdout


def test_a_truncated_photo_is_refused_even_after_weasyprint_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    """WeasyPrint turns Pillow's LOAD_TRUNCATED_IMAGES on for the whole process when it is imported."""
    from PIL import ImageFile

    from audit_api.services.errors import Invalid
    from audit_api.services.photos import clean_photo

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)  # as `import weasyprint` leaves it
    with pytest.raises(Invalid, match="could not be decoded"):
        clean_photo(photos.truncated_jpeg(), "cut.jpg", MAX_PHOTO)
