"""An app on a real, migrated database (SQLite and PostgreSQL), a real local evidence store, three users."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from audit_api.auth import hash_password
from audit_api.main import create_app
from audit_api.models import Camera, CameraKind, ClipSegment, Event, EventViolation, Role, Site, User
from audit_api.services.events import record_event
from audit_api.services.sessions import start_session
from audit_api.settings import Settings
from audit_api.storage import LocalStore, ObjectStore
from detect.annotate import encode_jpeg

with warnings.catch_warnings():
    # Starlette 1.x nudges TestClient users from httpx to httpx2; httpx is what the project depends on.
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient` is deprecated")
    from fastapi.testclient import TestClient

SECRET = "test-secret-0123456789-abcdefghijklmnop"
PASSWORD = "correct horse battery"
CLIP_BYTES = bytes(range(256)) * 40  # opaque to the API: it stores, hashes and serves bytes


def _snapshot_jpeg() -> bytes:
    """A small real JPEG with texture everywhere (so a blurred head region differs from the original)."""
    y, x = np.mgrid[0:96, 0:128]
    image = np.stack([(x * 7) % 256, (y * 5) % 256, ((x * y) // 3) % 256], axis=2).astype(np.uint8)
    return encode_jpeg(image)


SNAPSHOT_BYTES = _snapshot_jpeg()
_PASSWORD_HASH = hash_password(PASSWORD)  # argon2 is slow on purpose: hash once, not per test


@dataclass
class World:
    """The app under test plus handles to its database and store."""

    app: FastAPI
    client: TestClient
    sessions: sessionmaker[Session]
    settings: Settings
    store: ObjectStore
    site_id: int
    other_site_id: int
    camera_id: int

    def login(self, email: str, password: str = PASSWORD) -> dict[str, str]:
        response = self.client.post("/api/auth/token", data={"username": email, "password": password})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def post(self, path: str, headers: dict[str, str], body: dict[str, Any] | None = None) -> httpx.Response:
        response: httpx.Response = self.client.post(path, json=body, headers=headers)
        return response

    def bearer(self, email: str) -> dict[str, str]:
        """Headers for a user without a login round-trip (login itself is tested in test_auth)."""
        with self.sessions() as session:
            user = session.scalars(select(User).where(User.email == email)).one()
            token = start_session(session, user, self.settings)
        return {"Authorization": f"Bearer {token.access_token}"}


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key=SecretStr(SECRET),
        max_upload_bytes=64 * 1024,
        web_dir=tmp_path / "no-web",
        alert_sender=False,  # tests/api/test_alert_delivery.py runs the sender where it is tested
        report_scheduler=False,  # tests/reports/test_site_report.py runs schedulers where they are tested
        retention_job=False,  # tests/api/test_retention.py runs the job where it is tested
    )


@pytest.fixture
def world(settings: Settings, tmp_path: Path) -> Iterator[World]:
    with open_world(settings, tmp_path) as opened:
        yield opened


@contextmanager
def open_world(settings: Settings, tmp_path: Path) -> Iterator[World]:
    """The `world` fixture's app, store, sites and users, for fixtures of a wider scope (a seeded history)."""
    store = LocalStore(tmp_path / "evidence")
    app = create_app(settings, store=store)
    factory: sessionmaker[Session] = app.state.sessionmaker
    with factory() as session:
        # English sites: most tests read English texts; zh-CN (new sites' default) is tested by language
        site, other = Site(name="North yard", locale="en"), Site(name="South yard", locale="en")
        session.add_all([site, other])
        session.flush()
        camera = Camera(site_id=site.id, name="gate", kind=CameraKind.RTSP, url="rtsp://cam.local/stream")
        session.add(camera)
        session.commit()
        people = [
            ("admin@example.com", Role.ADMIN, []),
            ("inspector@example.com", Role.INSPECTOR, []),
            ("boss@example.com", Role.SUPERVISOR, [site]),
            ("other-boss@example.com", Role.SUPERVISOR, [other]),
        ]
        for email, role, sites in people:
            session.add(User(email=email, role=role, password_hash=_PASSWORD_HASH, sites=sites))
        session.commit()
        ids = site.id, other.id, camera.id
    with TestClient(app) as client:
        yield World(app, client, factory, settings, store, *ids)


@pytest.fixture
def admin(world: World) -> dict[str, str]:
    return world.bearer("admin@example.com")


@pytest.fixture
def inspector(world: World) -> dict[str, str]:
    return world.bearer("inspector@example.com")


@pytest.fixture
def supervisor(world: World) -> dict[str, str]:
    return world.bearer("boss@example.com")


@pytest.fixture
def other_supervisor(world: World) -> dict[str, str]:
    return world.bearer("other-boss@example.com")


T0 = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)


@pytest.fixture
def make_event(world: World) -> Callable[..., Event]:
    """Record a finished event the way the worker does: evidence into the store, then record_event."""
    counter = iter(range(1, 1000))

    def make(kinds: tuple[str, ...] = ("no_hardhat",), **overrides: Any) -> Event:
        n = next(counter)
        clip = world.store.put(f"events/{n}/clip.mp4", CLIP_BYTES + bytes([n]), "video/mp4")
        snapshot = world.store.put(f"events/{n}/snapshot.jpg", SNAPSHOT_BYTES, "image/jpeg")
        started = T0 + timedelta(minutes=n)
        arguments: dict[str, Any] = {
            "camera_id": world.camera_id,
            "kinds": list(kinds),
            "started_at": started,
            "ended_at": started + timedelta(seconds=12),
            "violations": [
                {
                    "kind": k,
                    "track_id": 7,
                    "ts": started + timedelta(seconds=2),
                    "box": [0.1, 0.2, 0.3, 0.6],
                    "confidence": 0.81,
                }
                for k in kinds
            ],
            "snapshot": snapshot,
            "clip": clip,
            "clip_duration_s": 12.0,
            "model_version": "css10-yolov8n-416",
            "rule_snapshot": {"k": 3, "n": 5, "zones": []},
        } | overrides
        with world.sessions() as session:
            return record_event(session, **arguments)

    return make


CRANE_URL = "rtsp://u:pw@crane.local/s"  # the other site's camera, with credentials


@dataclass(frozen=True)
class SiteObjects:
    """The ids of one object of each kind in one site, for scoping tests."""

    site_id: int
    camera_id: int
    zone_id: int
    event_id: int  # reviewed (confirmed), not signed off yet
    action_id: int  # open, on a second event that is signed off
    alert_id: int  # the alert of event_id
    supervisor_id: int  # the user who supervises this site
    channel_id: int  # an alert channel of this site (created after the events: nothing queued for it)
    plan_id: int  # a patrol plan of this site (its camera, 09:00)
    round_id: int  # an open round of that plan walked by inspector@
    step_id: int  # its first step, started (the camera is being looked at)
    report_id: int  # a stored site report (PDF) of this site
    photo_id: int = 0  # a photo of an answered corrective action (on a third, signed-off event)
    segment_id: int = 0  # a segment of event_id's recorded span
    violation_id: int = 0  # event_id's violation, with its still


def _recorded_span(world: World, session: Session, event_id: int) -> tuple[ClipSegment, EventViolation]:
    """A segment of the event's span and a still of its first violation, stored like the worker does."""
    from audit_api.models import ViolationSnapshot

    event = session.get_one(Event, event_id)
    base = f"events/{event.id}"
    clip = world.store.put(f"{base}/segments/000.mp4", CLIP_BYTES, "video/mp4")
    still = world.store.put(f"{base}/violations/000.jpg", SNAPSHOT_BYTES, "image/jpeg")
    segment = ClipSegment(
        event=event, index=0, started_at=event.started_at, ended_at=event.ended_at, object_key=clip.key,
        sha256=clip.sha256, size=clip.size, content_type=clip.content_type,
    )  # fmt: skip
    session.add(segment)
    violation = event.violations[0]
    violation.snapshot = ViolationSnapshot(
        object_key=still.key, sha256=still.sha256, size=still.size, content_type=still.content_type
    )
    return segment, violation


@pytest.fixture
def site_objects(world: World, make_event: Callable[..., Event]) -> dict[str, SiteObjects]:
    """'own' (supervised by boss@) and 'other' (by other-boss@): a camera with a zone, calibration and rules,
    a reviewed event with its alert, an open corrective action. Global rules are set too."""
    from audit_api.models import (
        Alert,
        AlertChannel,
        Calibration,
        ChannelType,
        PatrolPlan,
        PatrolPlanCamera,
        PatrolRound,
        PatrolStep,
        RuleConfig,
        Verdict,
        Zone,
        utcnow,
    )
    from audit_api.schemas.geometry import RuleConfigIn
    from audit_api.services import actions, workflow
    from tests.fixtures.photos import small_png

    rules = RuleConfigIn().model_dump(mode="json", exclude={"version"})
    with world.sessions() as session:
        crane = Camera(site_id=world.other_site_id, name="crane", kind=CameraKind.RTSP, url=CRANE_URL)
        session.add_all([crane, RuleConfig(camera_id=None, config=rules)])
        session.commit()
        cameras = {"own": (world.site_id, world.camera_id), "other": (world.other_site_id, crane.id)}
    found: dict[str, SiteObjects] = {}
    for name, (site_id, camera_id) in cameras.items():
        event, signed = make_event(camera_id=camera_id), make_event(camera_id=camera_id)
        answered = make_event(camera_id=camera_id)
        with world.sessions() as session:
            zone = Zone(camera_id=camera_id, name="pit", polygon=[[0.1, 0.1], [0.6, 0.1], [0.6, 0.6]])
            calibration = Calibration(
                camera_id=camera_id,
                image_points=[[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]],
                world_points_m=[[0, 0], [10, 0], [10, 10], [0, 10]],
            )
            channel = AlertChannel(
                site_id=site_id, name="ops", type=ChannelType.APPRISE, url="json://127.0.0.1:9/x",
                url_redacted="json://127.0.0.1:9/x",
            )  # fmt: skip
            session.add_all([zone, calibration, channel, RuleConfig(camera_id=camera_id, config=rules)])
            segment, violation = _recorded_span(world, session, event.id)
            session.commit()
            inspector = session.scalars(select(User).where(User.role == Role.INSPECTOR)).one()
            workflow.review_event(session, event.id, inspector, Verdict.CONFIRMED, "")
            workflow.review_event(session, signed.id, inspector, Verdict.CONFIRMED, "")
            action = workflow.sign_off(session, signed.id, inspector, world.store).event.actions[0]
            workflow.review_event(session, answered.id, inspector, Verdict.CONFIRMED, "")
            answerable = workflow.sign_off(session, answered.id, inspector, world.store).event.actions[0]
            alert_id = session.scalars(select(Alert.id).where(Alert.event_id == event.id)).one()
            supervisor = session.scalars(
                select(User).where(User.role == Role.SUPERVISOR, User.sites.any(Site.id == site_id))
            ).one()
            plan = PatrolPlan(site_id=site_id, name="daily", times=["09:00"])
            plan.cameras = [PatrolPlanCamera(camera_id=camera_id, position=0)]
            patrol = PatrolRound(plan=plan, inspector_id=inspector.id)
            patrol.steps = [PatrolStep(camera_id=camera_id, position=0, started_at=utcnow())]
            session.add_all([plan, patrol])
            session.commit()
            upload = actions.PhotoUpload("done.png", small_png())
            answer = actions.respond(
                session, world.store, answerable.id, supervisor, "done", [upload], max_photo_bytes=10**6
            )
            photo_id = answer.responses[0].photos[0].id
            report = _stored_report(world, session, site_id)
            found[name] = SiteObjects(
                site_id, camera_id, zone.id, event.id, action.id, alert_id, supervisor.id, channel.id,
                plan.id, patrol.id, patrol.steps[0].id, report, photo_id,
                segment_id=segment.id, violation_id=violation.id,
            )  # fmt: skip
    return found


def _stored_report(world: World, session: Session, site_id: int) -> int:
    """A ready site report row with its stored object (rendering real PDFs is tests/reports' business)."""
    from datetime import date

    from audit_api.models import ReportStatus, ReportTrigger, SiteReport

    stored = world.store.put(f"reports/site-{site_id}/sample.pdf", b"%PDF-1.4\n%sample\n", "application/pdf")
    report = SiteReport(
        site_id=site_id, start_day=date(2025, 3, 1), end_day=date(2025, 3, 31),
        trigger=ReportTrigger.ON_DEMAND, status=ReportStatus.READY, object_key=stored.key,
        sha256=stored.sha256, size=stored.size,
    )  # fmt: skip
    session.add(report)
    session.commit()
    return report.id
