"""Alert messages in the site's language (zh-CN, en) or the channel's, over real receivers on loopback
(webhook, SMTP): the headline names the violation in words, the time is the site's local time labelled with
its zone. Camera-offline and missed-patrol messages, built from the database, in both languages."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select, update

from audit_api.models import Alert, AlertKind, Camera, CameraKind, DeliveryPurpose, Event, Site
from audit_api.schemas.alerting import PatrolNotice
from audit_api.services.alerting.message import alert_message
from audit_api.services.alerting.notices import queue_notice
from audit_api.settings import Settings
from tests.api.conftest import SECRET, World
from tests.fixtures.receivers import smtp_server, wait_until, webhook_receiver

PUBLIC_URL = "https://audit.example.cn"
STARTED = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)  # 17:30 in Shanghai
LOCAL = {
    "zh-CN": "2025年3月4日 17:30:00 (Asia/Shanghai, GMT+08:00)",
    "en": "Mar 4, 2025, 5:30:00\u202fPM (Asia/Shanghai, GMT+08:00)",  # CLDR: a narrow no-break space
}
KIND = {  # kind → (zh-CN, en)
    "no_hardhat": ("未戴安全帽", "No hardhat"),
    "no_vest": ("未穿反光背心", "No vest"),
    "no_mask": ("未戴口罩", "No mask"),
    "crowding_occupancy": ("人员聚集（区域超员）", "Zone over capacity"),
    "crowding_distance": ("人员聚集（间距过近）", "People too close"),
}
WORDS = {  # language → (title prefix, body labels)
    "zh-CN": ("[siteaudit] 告警：",
              ["违规类型：", "工地：North yard", "摄像头：gate", "时间：", "事件：", "截图："]),
    "en": ("[siteaudit] ",
           ["Violation: ", "Site: North yard", "Camera: gate", "Time: ", "Event: ", "Snapshot: "]),
}  # fmt: skip


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key=SecretStr(SECRET),
        web_dir=tmp_path / "no-web",
        public_url=PUBLIC_URL,
        alert_timeout_s=2.0,
        alert_poll_s=0.05,
    )


def _site(world: World, locale: str) -> None:
    with world.sessions() as session:
        session.execute(
            update(Site).where(Site.id == world.site_id).values(locale=locale, timezone="Asia/Shanghai")
        )
        session.commit()


def _event_at(make_event: Callable[..., Event], kind: str) -> Event:
    violation = {"kind": kind, "track_id": 7, "ts": STARTED + timedelta(seconds=2),
                 "box": [0.1, 0.2, 0.3, 0.6], "confidence": 0.81}  # fmt: skip
    return make_event(kinds=(kind,), started_at=STARTED, ended_at=STARTED + timedelta(seconds=12),
                      violations=[violation])  # fmt: skip


def _channel(world: World, admin: dict[str, str], body: dict[str, Any]) -> None:
    created = world.post(f"/api/sites/{world.site_id}/alert-channels", admin, {"name": "ops"} | body)
    assert created.status_code == 201, created.text
    assert created.json()["locale"] == body.get("locale")


@pytest.mark.parametrize(
    ("site_locale", "channel_locale", "kind", "expected"),
    [
        ("zh-CN", None, "no_hardhat", "zh-CN"),
        ("en", None, "no_vest", "en"),
        ("en", "zh-CN", "no_mask", "zh-CN"),  # the channel's own language wins over the site's
        ("zh-CN", "en", "crowding_occupancy", "en"),
        ("zh-CN", None, "crowding_distance", "zh-CN"),
    ],
)
def test_webhook_speaks_the_sites_or_channels_language(
    world: World,
    admin: dict[str, str],
    make_event: Callable[..., Event],
    site_locale: str,
    channel_locale: str | None,
    kind: str,
    expected: str,
) -> None:
    _site(world, site_locale)
    with webhook_receiver([200]) as receiver:
        _channel(world, admin, {"type": "webhook", "url": receiver.url, "locale": channel_locale})
        event = _event_at(make_event, kind)
        got = wait_until(lambda: receiver.requests, "the webhook")[0]
    body = json.loads(got.body)
    label = KIND[kind][0 if expected == "zh-CN" else 1]
    prefix, labels = WORDS[expected]
    assert body["locale"] == expected
    assert body["title"] == f"{prefix}{label} · North yard / gate"
    lines = body["text"].splitlines()
    assert [line[: len(start)] for line, start in zip(lines, labels, strict=False)] == labels, lines
    assert lines[0].endswith(label) and lines[3].endswith(LOCAL[expected]), lines
    assert lines[4].endswith(f"/inspector.html#event={event.id}")
    assert body["started_at_local"] == "2025-03-04 17:30:00 CST"  # the language-neutral field stays as it was


@pytest.mark.parametrize(
    ("site_locale", "subject", "lines"),
    [
        ("zh-CN", "[siteaudit] 告警：未戴安全帽 · North yard / gate", ["违规类型：未戴安全帽",
                                                                         f"时间：{LOCAL['zh-CN']}"]),
        ("en", "[siteaudit] No hardhat · North yard / gate", ["Violation: No hardhat",
                                                               f"Time: {LOCAL['en']}"]),
    ],
)  # fmt: skip
def test_email_subject_and_body_in_the_sites_language(
    world: World,
    admin: dict[str, str],
    make_event: Callable[..., Event],
    site_locale: str,
    subject: str,
    lines: list[str],
) -> None:
    _site(world, site_locale)
    with smtp_server() as mailbox:
        url = f"mailto://127.0.0.1:{mailbox.port}?from=alerts@siteaudit.example&to=boss@site.example&mode=insecure"
        _channel(world, admin, {"url": url})
        _event_at(make_event, "no_hardhat")
        wait_until(lambda: mailbox.messages, "the email")
    (message,) = mailbox.messages
    assert str(message["Subject"]) == subject
    text = message.get_body(("plain", "html"))
    assert text is not None
    content = " ".join(text.get_content().split())  # Apprise's email body: whitespace may be folded
    assert all(" ".join(line.split()) in content for line in lines), content


@pytest.mark.parametrize(
    ("locale", "purpose", "title", "first_line", "since"),
    [
        ("zh-CN", DeliveryPurpose.ALERT, "[siteaudit] 告警：2 个摄像头离线 · North yard / gate",
         "摄像头离线：gate、tower（共 2 个）", "离线起始："),
        ("zh-CN", DeliveryPurpose.RESOLVED, "[siteaudit] 已恢复：2 个摄像头离线 · North yard / gate",
         "已恢复在线：gate、tower（共 2 个）", "离线起始："),
        ("en", DeliveryPurpose.ALERT, "[siteaudit] 2 cameras offline · North yard / gate",
         "Camera offline: gate, tower (2)", "Since: "),
        ("en", DeliveryPurpose.RESOLVED, "[siteaudit] resolved · 2 cameras offline · North yard / gate",
         "Back online: gate, tower (2)", "Since: "),
    ],
)  # fmt: skip
def test_camera_offline_message_in_both_languages(
    world: World, locale: str, purpose: DeliveryPurpose, title: str, first_line: str, since: str
) -> None:
    _site(world, locale)
    with world.sessions() as session:
        tower = Camera(site_id=world.site_id, name="tower", kind=CameraKind.RTSP, url="rtsp://cam.local/t")
        session.add(tower)
        session.flush()
        lead = Alert(site_id=world.site_id, kind=AlertKind.CAMERA_OFFLINE, kinds=["camera_offline"],
                     camera_id=world.camera_id, started_at=STARTED)  # fmt: skip
        session.add(lead)
        session.flush()
        session.add(Alert(site_id=world.site_id, kind=AlertKind.CAMERA_OFFLINE, kinds=["camera_offline"],
                          camera_id=tower.id, started_at=STARTED, folded_into_id=lead.id))  # fmt: skip
        session.flush()
        message = alert_message(session, lead, PUBLIC_URL, purpose=purpose)
    assert (message.locale, message.title) == (locale, title)
    lines = message.text.splitlines()
    assert lines[0] == first_line and lines[2] == f"{since}{LOCAL[locale]}", lines


@pytest.mark.parametrize(
    ("locale", "lang", "headline", "lines"),
    [
        ("zh-CN", None, "[siteaudit] 巡检漏检：twice a day 2025-03-04 17:00",
         ["巡检计划：twice a day（2025-03-04 17:00）", "状态：漏检", f"巡检时限：{LOCAL['zh-CN']} 前"]),
        ("en", None, "[siteaudit] patrol twice a day 2025-03-04 17:00 missed",
         ["Patrol: twice a day (2025-03-04 17:00)", "State: missed", f"Window: until {LOCAL['en']}"]),
        ("zh-CN", "de", "[siteaudit] patrol twice a day 2025-03-04 17:00 missed",  # unknown: English
         ["Patrol: twice a day (2025-03-04 17:00)", "State: missed", f"Window: until {LOCAL['en']}"]),
    ],
)  # fmt: skip
def test_missed_patrol_notice_is_worded_when_sent(
    world: World, locale: str, lang: str | None, headline: str, lines: list[str]
) -> None:
    """The notice keeps its facts; each message words them in its own language."""
    _site(world, locale)
    notice = PatrolNotice(plan="twice a day", date="2025-03-04", time="17:00", state="missed",
                          window_ends_at=STARTED, link="/inspector.html#patrols")  # fmt: skip
    with world.sessions() as session:
        alert = queue_notice(session, site_id=world.site_id, kind="patrol_missed", notice=notice)
        session.commit()
        stored = session.scalars(select(Alert).where(Alert.id == alert.id)).one()
        message = alert_message(session, stored, PUBLIC_URL, lang=lang)
    assert (message.headline, message.lines, message.title) == (headline, lines, headline)
    assert message.text.splitlines()[: len(lines)] == lines
    assert message.text.endswith(f"{PUBLIC_URL}/inspector.html#patrols")
