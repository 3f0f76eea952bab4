"""What the API accepts is what the worker runs (issue 9): one table of inputs, each with its status.

Every accepted row is then built by the worker's own builder (runtime.camera_specs → camera_runtime):
no camera may come out with a config_error. Every refused row must leave nothing written (the audit
log, which every accepted write appends to, keeps its length). Both databases.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import supervision as sv
from sqlalchemy import func, select

from audit_api.models import AuditLog, Camera, Site, Zone
from audit_api.worker.sync import camera_specs, publish_status
from detect.events import ReviewItem
from detect.model import Detector
from detect.zones import Zone as ZoneGeometry
from ingest._frame import Frame
from ingest._sink import Evidence
from ingest.pipeline import CameraPipeline
from ingest.worker import Worker
from tests.api.conftest import World

Headers = dict[str, str]
SQUARE = [[0.1, 0.5], [0.9, 0.5], [0.9, 0.95], [0.1, 0.95]]
SECRET = "s3cret-Pw"


def ring(n: int) -> tuple[list[list[float]], list[list[float]]]:
    """n calibration pairs on a circle (any 4 in general position)."""
    angles = [2 * np.pi * i / n for i in range(n)]
    image = [[round(0.5 + 0.4 * np.cos(a), 4), round(0.5 + 0.4 * np.sin(a), 4)] for a in angles]
    world = [[round(10 * np.cos(a), 3), round(10 * np.sin(a), 3)] for a in angles]
    return image, world


def camera(url: str, **extra: Any) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"site_id": w.site_id, "name": "cam-under-test", "kind": "rtsp", "url": url} | extra


def zone(**fields: Any) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"name": "scaffold", "polygon": SQUARE, "required_ppe": ["hardhat"]} | fields


def const(body: dict[str, Any]) -> Callable[[World], dict[str, Any]]:
    return lambda w: body


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # {camera} and {site} are filled in
    body: Callable[[World], dict[str, Any]]
    status: int
    detail: str = ""  # a part of the 422's reason
    allow: list[str] = field(default_factory=list)  # SITEAUDIT_CAMERA_ALLOW_NETWORKS for this row


ZONES = "/api/cameras/{camera}/zones"
CALIBRATION = "/api/cameras/{camera}/calibration"
OVERNIGHT = [{"days": [0], "start": "22:00", "end": "06:00"}]

ROWS: dict[str, Row] = {
    "zone name 150 chars": Row("POST", ZONES, zone(name="z" * 150), 422, "at most 100 characters"),
    "zone name 100 chars": Row("POST", ZONES, zone(name="z" * 100), 201),
    "zone polygon 65 points": Row(
        "POST",
        ZONES,
        zone(polygon=[[0.5 + 0.4 * np.cos(a), 0.5 + 0.4 * np.sin(a)] for a in np.linspace(0, 6, 65)]),
        422,
        "at most 64",
    ),
    "overnight schedule": Row("POST", ZONES, zone(schedule=OVERNIGHT), 201),
    "empty schedule window": Row(
        "POST", ZONES, zone(schedule=[{"days": [0], "start": "07:00", "end": "07:00"}]), 422, "empty window"
    ),
    "calibration 25 points": Row(
        "PUT",
        CALIBRATION,
        const(dict(zip(("image_points", "world_points_m"), ring(25), strict=True))),
        422,
        "at most 20",
    ),
    "calibration 20 points": Row(
        "PUT", CALIBRATION, const(dict(zip(("image_points", "world_points_m"), ring(20), strict=True))), 200
    ),
    "invalid site tz (create)": Row(
        "POST", "/api/sites", const({"name": "Mars", "timezone": "Mars/Olympus"}), 422, "unknown time zone"
    ),
    "invalid site tz (update)": Row(
        "PUT",
        "/api/sites/{site}",
        const({"name": "North yard", "timezone": "UTC+8"}),
        422,
        "unknown time zone",
    ),
    "site tz Asia/Shanghai": Row(
        "POST", "/api/sites", const({"name": "Pudong", "timezone": "Asia/Shanghai"}), 201
    ),
    "site locale en": Row("POST", "/api/sites", const({"name": "Pudong", "locale": "en"}), 201),
    "site locale zh-CN": Row("POST", "/api/sites", const({"name": "Pudong", "locale": "zh-CN"}), 201),
    "unknown site locale (create)": Row(
        "POST", "/api/sites", const({"name": "Pudong", "locale": "fr"}), 422, "'zh-CN' or 'en'"
    ),
    "unknown site locale (update)": Row(
        "PUT", "/api/sites/{site}", const({"name": "North yard", "locale": "zh_CN"}), 422, "'zh-CN' or 'en'"
    ),
    "url with |": Row("POST", "/api/cameras", camera("rtsp://127.0.0.1:15432/a|b"), 422, "percent-encoded"),
    "url port 0": Row("POST", "/api/cameras", camera("rtsp://127.0.0.1:0/"), 422, "port 0"),
    "url port not a number": Row(
        "POST", "/api/cameras", camera("rtsp://u:p@127.0.0.1:abc/"), 422, "invalid host or port"
    ),
    "metadata 169.254.169.254": Row(
        "POST", "/api/cameras", camera("rtsp://169.254.169.254/latest"), 422, "denied network 169.254.0.0/16"
    ),
    "metadata [fd00:ec2::254]": Row(
        "POST", "/api/cameras", camera("rtsp://[fd00:ec2::254]:554/x"), 422, "fd00:ec2::254/128"
    ),
    "metadata Alibaba 100.100.100.200": Row(
        "POST", "/api/cameras", camera("rtsp://100.100.100.200/x"), 422, "denied network"
    ),
    "metadata as a decimal number": Row(
        "POST", "/api/cameras", camera("rtsp://2852039166/x"), 422, "169.254.0.0/16"
    ),
    "metadata as IPv4-mapped IPv6": Row(
        "POST", "/api/cameras", camera("rtsp://[::ffff:169.254.169.254]/x"), 422, "169.254.0.0/16"
    ),
    "link-local fe80::": Row("POST", "/api/cameras", camera("rtsp://[fe80::1]:554/x"), 422, "fe80::/10"),
    "link-local camera in an allowed site network": Row(
        "POST", "/api/cameras", camera("rtsp://169.254.10.5:554/x"), 201, allow=["169.254.10.0/24"]
    ),
    "loopback stays allowed": Row("POST", "/api/cameras", camera("rtsp://127.0.0.1:8554/ppe-1"), 201),
    "credentials in the query string": Row(
        "POST",
        "/api/cameras",
        camera(f"rtsp://op:{SECRET}@[fe80::1]:554/x?user=op&password={SECRET}"),
        422,
        "fe80::/10",
    ),
    "credentials in the query string, allowed address": Row(
        "POST",
        "/api/cameras",
        camera(f"rtsp://10.0.0.5:554/live?user=op&password={SECRET}&Token={SECRET}"),
        201,
    ),
    "patch url to metadata": Row(
        "PATCH", "/api/cameras/{camera}", const({"url": "rtsp://169.254.169.254/x"}), 422, "denied network"
    ),
    "sampling fps 0": Row(
        "POST", "/api/cameras", camera("rtsp://10.0.0.5/x", config={"analysis_fps": 0}), 422
    ),
    "sampling fps 31": Row("PATCH", "/api/cameras/{camera}", const({"config": {"analysis_fps": 31}}), 422),
    "sampling applied fields": Row(
        "PATCH",
        "/api/cameras/{camera}",
        const({"config": {"analysis_fps": 2, "motion_gate": False, "preroll_s": 1, "postroll_s": 2}}),
        200,
    ),
    "tiling mode unknown": Row(
        "PATCH", "/api/cameras/{camera}", const({"config": {"tiling": {"mode": "always"}}}), 422, "mode"
    ),
    "tiling tile below the least": Row(
        "PATCH", "/api/cameras/{camera}", const({"config": {"tiling": {"tile_px": 255}}}), 422, "tile_px"
    ),
    "tiling tile above the most": Row(
        "POST",
        "/api/cameras",
        camera("rtsp://10.0.0.5/x", config={"tiling": {"tile_px": 1921}}),
        422,
        "tile_px",
    ),
    "tiling overlap over half": Row(
        "PATCH", "/api/cameras/{camera}", const({"config": {"tiling": {"overlap": 0.6}}}), 422, "overlap"
    ),
    "tiling unknown field": Row(
        "PATCH", "/api/cameras/{camera}", const({"config": {"tiling": {"grid": "2x2"}}}), 422, "grid"
    ),
    "tiling tiles at the bounds": Row(
        "PATCH",
        "/api/cameras/{camera}",
        const({"config": {"tiling": {"mode": "on", "tile_px": 1920, "overlap": 0.5, "probe_s": 0.2}}}),
        200,
    ),
    "tiling off": Row("PATCH", "/api/cameras/{camera}", const({"config": {"tiling": {"mode": "off"}}}), 200),
}


def audit_rows(world: World) -> int:
    with world.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(AuditLog)) or 0)


@pytest.mark.parametrize("row", ROWS.values(), ids=ROWS.keys())
def test_the_api_accepts_exactly_what_the_worker_runs(world: World, admin: Headers, row: Row) -> None:
    if row.allow:
        world.app.state.settings = world.settings.model_copy(update={"camera_allow_networks": row.allow})
    policy = world.app.state.settings.camera_network_policy
    path = row.path.format(camera=world.camera_id, site=world.site_id)
    body = row.body(world)
    before = audit_rows(world)

    response = world.client.request(row.method, path, json=body, headers=admin)

    assert response.status_code == row.status, response.text
    assert SECRET not in response.text  # never echoed, not even in a 422's reason
    if row.status == 422:
        assert row.detail in response.text, response.text
        assert audit_rows(world) == before  # nothing written
        return
    assert audit_rows(world) == before + 1
    with world.sessions() as session:
        specs = camera_specs(session, policy)
        log = json.dumps([r.payload for r in session.scalars(select(AuditLog))])
    assert [s.config_error for s in specs] == [None] * len(specs)  # the worker can run every camera
    assert SECRET not in log  # the audit log holds the redacted URL only
    assert SECRET not in world.client.get("/api/cameras", headers=admin).text


def test_an_overnight_shift_is_stored_as_the_worker_runs_it(world: World, admin: Headers) -> None:
    put = world.client.put(
        f"/api/sites/{world.site_id}", json={"name": "North yard", "timezone": "Asia/Shanghai"}, headers=admin
    )
    assert put.status_code == 200, put.text
    created = world.post(f"/api/cameras/{world.camera_id}/zones", admin, zone(schedule=OVERNIGHT)(world))
    assert created.status_code == 201, created.text
    assert created.json()["schedule"] == [{"days": [0], "start": "22:00:00", "end": "06:00:00"}]

    with world.sessions() as session:
        (spec,) = [s for s in camera_specs(session) if s.camera_id == str(world.camera_id)]
    assert spec.config_error is None
    (config,) = spec.rules.zones
    geometry = ZoneGeometry(config, (1280, 720))
    shanghai = ZoneInfo("Asia/Shanghai")
    monday_night = datetime(2024, 1, 1, 23, 30, tzinfo=shanghai).timestamp()  # 2024-01-01 is a Monday
    tuesday_early = datetime(2024, 1, 2, 5, 0, tzinfo=shanghai).timestamp()
    monday_noon = datetime(2024, 1, 1, 12, 0, tzinfo=shanghai).timestamp()
    assert geometry.is_active(monday_night) and geometry.is_active(tuesday_early)
    assert not geometry.is_active(monday_noon)
    with ThreadPoolExecutor(1) as pool:  # and the camera's pipeline runs it on a frame in the shift
        pipeline = CameraPipeline(
            spec.camera_id,
            spec.rules,
            sink=NullSink(),
            clip_pool=pool,
            model_version="t",
            config=spec.pipeline,
        )
        frame = Frame(spec.camera_id, monday_night, 0.0, np.zeros((720, 1280, 3), np.uint8))
        assert pipeline.analyze(frame, sv.Detections.empty()) == []
        pipeline.finish(monday_night + 1)


class NullSink:
    def publish(self, evidence: Evidence) -> None:
        raise AssertionError("no event expected")

    def close(self, camera_id: str, item: ReviewItem) -> None:
        raise AssertionError("no event expected")


# -- configurations stored before these checks existed: the worker still cannot run them --------------
LEGACY_NAME = "legacy " + "x" * 143


def store_legacy_zone(world: World) -> int:
    with world.sessions() as session:
        row = Zone(camera_id=world.camera_id, name=LEGACY_NAME, polygon=SQUARE, required_ppe=["hardhat"])
        session.add(row)
        session.commit()
        return row.id


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", CALIBRATION, dict(zip(("image_points", "world_points_m"), ring(4), strict=True))),
        ("PUT", "/api/rules", {"k": 2, "n": 4}),  # global rules: every camera running them is built
        ("PUT", "/api/cameras/{camera}/rules", {"k": 2, "n": 4}),
        ("PATCH", "/api/cameras/{camera}", {"config": {"analysis_fps": 3}}),
        ("PUT", "/api/sites/{site}", {"name": "North yard", "timezone": "Asia/Shanghai"}),
        ("POST", ZONES, {"name": "new", "polygon": SQUARE}),
    ],
)
def test_writes_to_a_camera_the_worker_cannot_run_are_422_with_the_reason(
    world: World, admin: Headers, method: str, path: str, body: dict[str, Any]
) -> None:
    zone_id = store_legacy_zone(world)
    before = audit_rows(world)
    response = world.client.request(
        method, path.format(camera=world.camera_id, site=world.site_id), json=body, headers=admin
    )
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert (
        f"camera {world.camera_id}" in detail and f"zone {zone_id}" in detail and "100 characters" in detail
    )
    assert audit_rows(world) == before
    with world.sessions() as session:
        site = session.get(Site, world.site_id)
        cam = session.get(Camera, world.camera_id)
        assert site is not None and site.timezone == "UTC" and cam is not None and cam.config_version == 1
    # Deleting the bad zone is allowed (it makes the camera runnable again).
    assert world.client.delete(f"/api/zones/{zone_id}", headers=admin).status_code == 204


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector.load()


def test_a_camera_the_worker_cannot_run_reports_why_in_its_health(
    world: World, admin: Headers, supervisor: Headers, inspector: Headers, detector: Detector
) -> None:
    zone_id = store_legacy_zone(world)
    with world.sessions() as session:
        specs = camera_specs(session)
    (spec,) = [s for s in specs if s.camera_id == str(world.camera_id)]
    assert spec.config_error is not None and f"zone {zone_id}" in spec.config_error

    worker = Worker(detector, NullSink())
    try:
        worker.sync(specs)
        health = worker.health()[spec.camera_id]
        assert health["state"] == "invalid_config"
        assert "100 characters" in health["last_error"] and health["unmonitored"][0]["end"] is None
        with world.sessions() as session:
            publish_status(session, worker.health())  # what the worker process stores for the API
        shown = world.client.get(f"/api/cameras/{world.camera_id}/health", headers=admin).json()
        assert shown["state"] == "invalid_config" and f"zone {zone_id}" in shown["last_error"]
        for other in (supervisor, inspector):  # other roles see that it cannot run, not the details
            seen = world.client.get(f"/api/cameras/{world.camera_id}/health", headers=other).json()
            assert seen["state"] == "invalid_config"
            assert seen["last_error"] == "invalid configuration (an admin sees why)"

        assert world.client.delete(f"/api/zones/{zone_id}", headers=admin).status_code == 204  # fixed
        with world.sessions() as session:
            (fixed,) = [s for s in camera_specs(session) if s.camera_id == spec.camera_id]
        assert fixed.config_error is None and fixed.version != spec.version  # the worker restarts it
    finally:
        worker.stop()
