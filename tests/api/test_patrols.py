"""Remote patrols on both databases: plan validation (422 for bad times, unknown cameras, other sites'
cameras), a round walked step by step (verdicts, a finding through the live capture service, seconds per
camera measured by the server), the audit entries, and the schedule check that flags a missed slot once
and alerts the channels that want `patrol_missed`."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import cv2
import pytest
from sqlalchemy import select

from audit_api.api.routes.live import AlertFeed
from audit_api.models import (
    Alert,
    AlertChannel,
    AlertDelivery,
    AuditLog,
    Camera,
    CameraKind,
    ChannelType,
    PatrolMiss,
    PatrolPlan,
    Role,
    Site,
    User,
)
from audit_api.schemas.alerting import WebhookBody
from audit_api.services.alerting.message import alert_message
from audit_api.services.patrols import schedule
from ingest import Frame
from ingest.live import LiveDetections
from ingest.preroll import PreRollBuffer, StoredFrame
from tests.api.conftest import _PASSWORD_HASH, World


class FootageSource:
    """What a worker gives the live view (audit_api.services.live.LiveSource), fed with one real frame
    of site footage per camera through the worker's own pre-roll ring."""

    def __init__(self, video: Path, camera_ids: list[int]) -> None:
        capture = cv2.VideoCapture(str(video))
        ok, image = capture.read()
        capture.release()
        assert ok, video
        self.rings = {str(c): PreRollBuffer() for c in camera_ids}
        for camera_id, ring in self.rings.items():
            ring.push(Frame(camera_id, time.time(), 0.0, image))

    def runs(self, camera_id: str) -> bool:
        return camera_id in self.rings

    def live_frame(self, camera_id: str) -> StoredFrame | None:
        return self.rings[camera_id].latest()

    def live_detections(self, camera_id: str) -> LiveDetections | None:
        return None


@pytest.fixture
def cameras(world: World) -> list[int]:
    """Three cameras of the own site (the world's gate camera first)."""
    with world.sessions() as session:
        extra = [
            Camera(site_id=world.site_id, name=name, kind=CameraKind.RTSP, url=f"rtsp://{name}.local/s")
            for name in ("crane", "scaffold")
        ]
        session.add_all(extra)
        session.commit()
        return [world.camera_id, *(c.id for c in extra)]


@pytest.fixture
def other_camera(world: World) -> int:
    with world.sessions() as session:
        camera = Camera(
            site_id=world.other_site_id, name="pit", kind=CameraKind.RTSP, url="rtsp://pit.local/s"
        )
        session.add(camera)
        session.commit()
        return camera.id


def user_id(world: World, email: str) -> int:
    with world.sessions() as session:
        return session.scalars(select(User.id).where(User.email == email)).one()


def plan_body(world: World, cameras: list[int], **overrides: Any) -> dict[str, Any]:
    body = {
        "site_id": world.site_id,
        "name": "twice a day",
        "camera_ids": cameras,
        "times": ["15:00", "09:00"],
        "grace_minutes": 60,
        "inspector_ids": [user_id(world, "inspector@example.com")],
    }
    return body | overrides


def test_a_plan_round_trips_and_is_read_by_whoever_sees_the_site(
    world: World, cameras: list[int], admin: dict[str, str], inspector: dict[str, str],
    supervisor: dict[str, str], other_supervisor: dict[str, str],
) -> None:  # fmt: skip
    created = world.post("/api/patrol-plans", admin, plan_body(world, cameras))
    assert created.status_code == 201, created.text
    plan = created.json()
    assert plan["times"] == ["09:00", "15:00"] and plan["camera_ids"] == cameras and plan["version"] == 1
    for headers in (inspector, supervisor):
        assert world.client.get(f"/api/patrol-plans/{plan['id']}", headers=headers).json() == plan
    assert world.client.get(f"/api/patrol-plans/{plan['id']}", headers=other_supervisor).status_code == 404
    listed = world.client.get("/api/patrol-plans", headers=other_supervisor)
    assert (listed.json(), listed.headers["X-Total-Count"]) == ([], "0")

    edit = plan_body(world, cameras[::-1], times=["08:30"])
    del edit["site_id"]
    updated = world.client.put(f"/api/patrol-plans/{plan['id']}", json=edit, headers=admin)
    assert updated.status_code == 200, updated.text
    assert (updated.json()["camera_ids"], updated.json()["times"], updated.json()["version"]) == (
        cameras[::-1], ["08:30"], 2,
    )  # fmt: skip
    moved = world.client.put(f"/api/patrol-plans/{plan['id']}", json=edit | {"site_id": 2}, headers=admin)
    assert moved.status_code == 422  # a plan cannot move sites: PUT takes no site_id
    assert world.post("/api/patrol-plans", inspector, plan_body(world, cameras)).status_code == 403
    duplicate = world.post("/api/patrol-plans", admin, plan_body(world, cameras))
    assert duplicate.status_code == 409, duplicate.text  # the same name in the same site
    with world.sessions() as session:
        actions = session.scalars(
            select(AuditLog.action).where(AuditLog.entity == f"patrol_plan:{plan['id']}")
        )
        assert list(actions) == ["patrol_plan.created", "patrol_plan.updated"]


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"times": ["24:00"]}, "out of range"),
        ({"times": ["12:60"]}, "out of range"),
        ({"times": ["9:00"]}, "HH:MM"),
        ({"times": ["09:00:00"]}, "at most 5 characters"),
        ({"times": ["noon!"]}, "HH:MM"),
        ({"times": []}, "at least 1"),
        ({"times": ["09:00", "09:00"]}, "once"),
        ({"times": [f"{h:02d}:00" for h in range(24)] + ["23:30"]}, "at most 24"),
        ({"grace_minutes": 4}, "greater than or equal to 5"),
        ({"grace_minutes": 721}, "less than or equal to 720"),
        ({"camera_ids": []}, "at least 1"),
        ({"camera_ids": "dup"}, "once"),
        ({"camera_ids": [2**31]}, "less than or equal to"),
        ({"camera_ids": "unknown"}, "unknown camera ids"),
        ({"camera_ids": "other site"}, "belong to another site"),
        ({"inspector_ids": "supervisor"}, "not active inspectors"),
        ({"site_id": 2**31 - 1}, "does not exist"),
        ({"name": ""}, "at least 1"),
        ({"color": "red"}, "Extra inputs"),
    ],
)
def test_bad_plans_are_refused_with_a_readable_422(
    world: World, cameras: list[int], other_camera: int, admin: dict[str, str], change: dict[str, Any],
    detail: str,
) -> None:  # fmt: skip
    symbolic = {
        "dup": [cameras[0], cameras[0]],
        "unknown": [cameras[0], 999_999],
        "other site": [cameras[0], other_camera],
        "supervisor": [user_id(world, "boss@example.com")],
    }
    change = {k: symbolic.get(v, v) if isinstance(v, str) else v for k, v in change.items()}
    response = world.post("/api/patrol-plans", admin, plan_body(world, cameras) | change)
    assert response.status_code == 422, response.text
    assert detail in str(response.json()["detail"])
    with world.sessions() as session:
        assert session.scalars(select(PatrolPlan)).first() is None  # nothing written half-way


def _now_slot(site_tz: str) -> str:
    local = datetime.now(ZoneInfo(site_tz))
    if local.hour == 0 and local.minute < 2:  # keep the slot on today's local date
        time.sleep(120)
        local = datetime.now(ZoneInfo(site_tz))
    return f"{local:%H}:{local:%M}"


def _audit(world: World, entity: str) -> list[AuditLog]:
    with world.sessions() as session:
        return list(session.scalars(select(AuditLog).where(AuditLog.entity == entity).order_by(AuditLog.seq)))


def test_an_inspector_walks_a_slot_round_with_one_finding(
    world: World, cameras: list[int], admin: dict[str, str], inspector: dict[str, str],
    supervisor: dict[str, str], videos: Path,
) -> None:  # fmt: skip
    with world.sessions() as session:
        site = session.get(Site, world.site_id)
        assert site is not None
        site.timezone = "Asia/Shanghai"
        session.commit()
    slot_time = _now_slot("Asia/Shanghai")
    plan = world.post("/api/patrol-plans", admin, plan_body(world, cameras, times=[slot_time])).json()
    (slot,) = world.client.get("/api/patrols/schedule", headers=supervisor).json()
    assert (slot["plan_id"], slot["time"], slot["state"], slot["round_id"]) == (
        plan["id"],
        slot_time,
        "due",
        None,
    )
    local_start = datetime.fromisoformat(slot["slot_at"]).astimezone(ZoneInfo("Asia/Shanghai"))
    assert f"{local_start:%H:%M}" == slot_time and slot["date"] == f"{local_start:%Y-%m-%d}"

    assert world.post("/api/patrol-rounds", supervisor, {"plan_id": plan["id"]}).status_code == 403
    wrong_slot = {"plan_id": plan["id"], "slot_at": "2030-01-01T00:00:00Z"}
    assert world.post("/api/patrol-rounds", inspector, wrong_slot).status_code == 422
    started = world.post("/api/patrol-rounds", inspector, {"plan_id": plan["id"], "slot_at": slot["slot_at"]})
    assert started.status_code == 201, started.text
    round_ = started.json()
    steps = round_["steps"]
    assert [s["camera_id"] for s in steps] == cameras and round_["status"] == "open"

    early = world.post(f"/api/patrol-steps/{steps[0]['id']}/verdict", inspector, {"verdict": "ok"})
    assert early.status_code == 409 and "before judging" in early.json()["detail"]
    for step in steps[:2]:
        assert world.post(f"/api/patrol-steps/{step['id']}/start", inspector).status_code == 200
    time.sleep(1.2)  # looked at for more than a second (the server's clock measures it)
    ok = world.post(f"/api/patrol-steps/{steps[0]['id']}/verdict", inspector, {"verdict": "ok"})
    assert ok.status_code == 200 and ok.json()["seconds"] >= 1.0, ok.text
    again = world.post(f"/api/patrol-steps/{steps[0]['id']}/verdict", inspector, {"verdict": "ok"})
    assert again.status_code == 409

    finding = {"verdict": "finding", "finding": {"kind": "no_vest", "note": "man by the mixer, no vest"}}
    no_worker = world.post(f"/api/patrol-steps/{steps[1]['id']}/verdict", inspector, finding)
    assert no_worker.status_code == 503, no_worker.text  # this app runs no worker: nothing is written
    no_note = world.post(
        f"/api/patrol-steps/{steps[1]['id']}/verdict", inspector, finding | {"finding": None}
    )
    assert no_note.status_code == 422
    world.app.state.worker = FootageSource(videos / "ppe-2.mp4", cameras)
    found = world.post(f"/api/patrol-steps/{steps[1]['id']}/verdict", inspector, finding)
    assert found.status_code == 200, found.text
    event_id, still = found.json()["event_id"], found.json()["still_sha256"]
    event = world.client.get(f"/api/events/{event_id}", headers=inspector).json()
    assert event["kinds"] == ["no_vest"] and event["rule_snapshot"]["note"] == "man by the mixer, no vest"
    served = world.client.get(f"/api/events/{event_id}/snapshot", headers=inspector).content
    assert hashlib.sha256(served).hexdigest() == still

    ended = world.post(f"/api/patrol-rounds/{round_['id']}/end", inspector)
    assert ended.status_code == 200 and ended.json()["status"] == "incomplete"  # the scaffold is unchecked
    assert world.post(f"/api/patrol-steps/{steps[2]['id']}/start", inspector).status_code == 409
    (slot,) = world.client.get("/api/patrols/schedule", headers=inspector).json()
    assert (slot["state"], slot["round_id"]) == ("due", round_["id"])  # the window is still open

    second = world.post(
        "/api/patrol-rounds", inspector, {"plan_id": plan["id"], "slot_at": slot["slot_at"]}
    ).json()
    for step in second["steps"]:
        world.post(f"/api/patrol-steps/{step['id']}/start", inspector)
        assert (
            world.post(f"/api/patrol-steps/{step['id']}/verdict", inspector, {"verdict": "ok"}).status_code
            == 200
        )
    assert world.post(f"/api/patrol-rounds/{second['id']}/end", inspector).json()["status"] == "complete"
    (slot,) = world.client.get("/api/patrols/schedule", headers=inspector).json()
    assert (slot["state"], slot["round_id"]) == ("done", second["id"])

    entries = _audit(world, f"patrol_round:{round_['id']}")
    assert [e.action for e in entries] == ["patrol.step", "patrol.step", "patrol.round"]
    assert entries[0].actor == f"user:{user_id(world, 'inspector@example.com')}"
    assert [e.payload["verdict"] for e in entries[:2]] == ["ok", "finding"]
    assert entries[1].payload["still_sha256"] == still and entries[1].payload["event_id"] == event_id
    assert entries[0].payload["seconds"] >= 1.0
    summary = entries[2].payload
    assert (summary["status"], summary["checked"], summary["cameras"], summary["findings"]) == (
        "incomplete",
        2,
        3,
        1,
    )
    assert [s["still_sha256"] for s in summary["steps"]] == [None, still, None]
    captured = [e for e in _audit(world, f"camera:{cameras[1]}") if e.action == "live.captured"]
    assert captured[-1].payload["still"]["sha256"] == still  # the same capture service, not a copy

    review = world.post(f"/api/events/{event_id}/review", inspector, {"verdict": "confirmed"})
    assert review.status_code == 201
    signed = world.post(f"/api/events/{event_id}/signoff", inspector)
    assert signed.status_code == 201 and signed.json()["clip_sha256"] == still


def test_another_inspector_cannot_walk_your_round(world: World, cameras: list[int], admin: dict[str, str],
                                                   inspector: dict[str, str]) -> None:  # fmt: skip
    with world.sessions() as session:
        session.add(User(email="second@example.com", role=Role.INSPECTOR, password_hash=_PASSWORD_HASH))
        session.commit()
    second = world.bearer("second@example.com")
    plan = world.post("/api/patrol-plans", admin, plan_body(world, cameras)).json()
    round_ = world.post("/api/patrol-rounds", inspector, {"plan_id": plan["id"]}).json()  # ad hoc
    assert round_["slot_at"] is None
    step = round_["steps"][0]["id"]
    refused = world.post(f"/api/patrol-steps/{step}/start", second)
    assert refused.status_code == 409 and "another inspector" in refused.json()["detail"]
    assert world.post(f"/api/patrol-rounds/{round_['id']}/end", second).status_code == 409


@pytest.fixture
def closed_slot(world: World, cameras: list[int], admin: dict[str, str]) -> Iterator[dict[str, Any]]:
    """A plan whose slot three hours ago has closed (the plan dates from yesterday) and a channel that
    wants patrol_missed, one that wants only no_hardhat."""
    local = datetime.now(UTC) - timedelta(hours=3)
    plan = world.post("/api/patrol-plans", admin, plan_body(world, cameras, times=[f"{local:%H:%M}"])).json()
    with world.sessions() as session:
        row = session.get(PatrolPlan, plan["id"])
        assert row is not None
        row.created_at = datetime.now(UTC) - timedelta(days=1, hours=4)
        for name, kinds in (("patrols", ["patrol_missed"]), ("hats", ["no_hardhat"])):
            session.add(AlertChannel(site_id=world.site_id, name=name, type=ChannelType.APPRISE,
                                     url="json://127.0.0.1:9/x", url_redacted="json://127.0.0.1:9/x",
                                     kinds=kinds, level=1))  # fmt: skip
        session.commit()
    yield plan


def test_a_missed_slot_is_flagged_once_and_alerts_the_channels_that_want_it(
    world: World, closed_slot: dict[str, Any], inspector: dict[str, str], supervisor: dict[str, str]
) -> None:
    slots = world.client.get("/api/patrols/schedule", params={"days": 2}, headers=inspector).json()
    missed = [s for s in slots if s["state"] == "missed"]
    assert len(missed) >= 1 and all(s["plan_id"] == closed_slot["id"] for s in slots)
    with world.sessions() as session:
        flagged = schedule.flag_missed(session)
        assert {f.slot_at for f in flagged} == {datetime.fromisoformat(s["slot_at"]) for s in missed}
        assert schedule.flag_missed(session) == []  # once per slot
        miss = session.scalars(select(PatrolMiss).order_by(PatrolMiss.slot_at.desc())).first()
        assert miss is not None and miss.status == "missed" and miss.alert_id is not None
        alert = session.get(Alert, miss.alert_id)
        assert alert is not None and (alert.kind, alert.event_id) == ("patrol_missed", None)
        channels = session.scalars(
            select(AlertChannel.name).join(AlertDelivery, AlertDelivery.channel_id == AlertChannel.id)
            .where(AlertDelivery.alert_id == alert.id)
        ).all()  # fmt: skip
        assert list(channels) == ["patrols"]
        audited = session.scalars(select(AuditLog).where(AuditLog.action == "patrol.missed")).all()
        assert len(audited) == len(flagged) and audited[0].entity == f"patrol_plan:{closed_slot['id']}"
        message = alert_message(session, alert, "https://audit.example.cn")
        assert (message.alert_kind, message.event_id, message.snapshot_url) == ("patrol_missed", None, None)
        assert message.title.startswith("[siteaudit] patrol twice a day") and "missed" in message.title
        assert (
            "Patrol: twice a day" in message.text
            and "https://audit.example.cn/inspector.html" in message.text
        )
        body = WebhookBody(**message.model_dump(), delivery_id=1, attempt=1).model_dump(mode="json")
        assert body["alert_kind"] == "patrol_missed" and body["lines"] == message.lines
    # a notice is delivered to channels only: the supervisor page's alert list shows event alerts
    assert world.client.get("/api/alerts", headers=supervisor).json() == []
    assert world.client.post(f"/api/alerts/{miss.alert_id}/ack", headers=supervisor).status_code == 404
    assert world.client.get(f"/api/alerts/{miss.alert_id}/snapshot", headers=supervisor).status_code == 404
    feed = AlertFeed(world.sessions, world.app.state.settings, supervisor["Authorization"].split(" ", 1)[1])
    assert feed.newer_than(0) == []  # nor does the supervisor page's live stream


def test_slots_follow_the_site_time_zone(world: World, cameras: list[int], admin: dict[str, str]) -> None:
    plan = world.post("/api/patrol-plans", admin, plan_body(world, cameras, times=["09:00", "15:00"])).json()
    with world.sessions() as session:
        row = session.get(PatrolPlan, plan["id"])
        assert row is not None
        row.site.timezone = "Asia/Shanghai"
        row.created_at = datetime(2025, 3, 1, tzinfo=UTC)
        now = datetime(2025, 3, 4, 5, 0, tzinfo=UTC)  # 13:00 in Shanghai
        slots = list(schedule.plan_slots(row, 2, now))
        assert [(s.day.isoformat(), s.starts.isoformat()) for s in slots] == [
            ("2025-03-03", "2025-03-03T01:00:00+00:00"),
            ("2025-03-03", "2025-03-03T07:00:00+00:00"),
            ("2025-03-04", "2025-03-04T01:00:00+00:00"),
            ("2025-03-04", "2025-03-04T07:00:00+00:00"),
        ]
        states = [schedule.slot_state(s, [], now)[0] for s in slots]
        assert states == ["missed", "missed", "missed", "upcoming"]
        assert schedule.slot_state(slots[2], [], datetime(2025, 3, 4, 1, 59, tzinfo=UTC))[0] == "due"
