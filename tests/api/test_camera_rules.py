"""What an admin configures through the API is exactly what the worker runs: zones, calibration and
rules stored in the database become a valid `CameraRules` (both databases), and changes bump the version
the worker uses to restart the camera."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from audit_api.models import Camera, CameraStatus
from audit_api.services.camera_runtime import camera_rules
from audit_api.storage import LocalStore
from audit_api.worker.recorder import EventRecorder
from audit_api.worker.sync import camera_specs, publish_status
from detect import PPEKind, SceneAnalyzer
from ingest.health import UnmonitoredInterval
from tests.api.conftest import World

Headers = dict[str, str]
SQUARE = [[0.1, 0.5], [0.9, 0.5], [0.9, 0.95], [0.1, 0.95]]


def rules_of(world: World) -> tuple[object, str]:
    with world.sessions() as session:
        camera = session.get(Camera, world.camera_id)
        assert camera is not None
        return camera_rules(session, camera)


def test_zones_calibration_and_rules_from_the_api_reach_the_worker(world: World, admin: Headers) -> None:
    base = f"/api/cameras/{world.camera_id}"
    _, version0 = rules_of(world)
    zone = world.post(
        f"{base}/zones",
        admin,
        {
            "name": "scaffold",
            "polygon": SQUARE,
            "required_ppe": ["hardhat", "vest", "mask"],
            "occupancy_cap": 4,
            "schedule": [{"days": [0, 1, 2, 3, 4], "start": "07:00", "end": "18:00"}],
        },
    )
    assert zone.status_code == 201, zone.text
    calibration = world.client.put(
        f"{base}/calibration",
        headers=admin,
        json={"image_points": SQUARE, "world_points_m": [[0, 0], [8, 0], [8, 5], [0, 5]]},
    )
    assert calibration.status_code == 200, calibration.text
    rules = world.client.put(f"{base}/rules", headers=admin, json={"k": 2, "n": 4, "min_distance_m": 2.0})
    assert rules.status_code == 200, rules.text

    config, version = rules_of(world)
    assert version != version0
    (zone_cfg,) = config.zones  # type: ignore[attr-defined]
    assert zone_cfg.required_ppe == {PPEKind.HARDHAT, PPEKind.VEST, PPEKind.MASK}
    assert zone_cfg.occupancy_cap == 4 and zone_cfg.schedule is not None
    assert config.rules.k == 2 and config.rules.n == 4 and config.rules.min_distance_m == 2.0  # type: ignore[attr-defined]
    assert SceneAnalyzer("cam", config, (1280, 720)).distance_rule_enabled  # type: ignore[arg-type]
    with world.sessions() as session:
        (spec,) = [s for s in camera_specs(session) if s.camera_id == str(world.camera_id)]
    assert spec.version == version and spec.source_factory is not None

    health = world.client.get(f"{base}/health", headers=admin).json()
    assert health["distance_rule_enabled"] is True and health["state"] == "not_running"


@pytest.mark.parametrize(
    "body",
    [
        {"k": 6, "n": 5},
        {"k": 3, "n": 5, "no_such_rule": 1},
        {"min_distance_m": -1},
        {"cooldown_s": "soon"},
    ],
    ids=["k-above-n", "unknown-field", "negative-distance", "not-a-number"],
)
def test_bad_rules_are_422(world: World, admin: Headers, body: dict[str, object]) -> None:
    response = world.client.put(f"/api/cameras/{world.camera_id}/rules", headers=admin, json=body)
    assert response.status_code == 422, response.text


def test_without_calibration_the_api_says_the_distance_rule_is_off(world: World, admin: Headers) -> None:
    health = world.client.get(f"/api/cameras/{world.camera_id}/health", headers=admin).json()
    assert health["distance_rule_enabled"] is False


def test_camera_outages_are_persisted_and_reported(
    world: World, admin: Headers, supervisor: Headers, tmp_path: Path
) -> None:
    persist = EventRecorder(world.sessions, LocalStore(tmp_path / "evidence"), tmp_path / "journal").interval
    reason = "cannot open rtsp://10.0.0.9:554/x: connection refused"
    persist(UnmonitoredInterval(str(world.camera_id), 1_700_000_000.0, 1_700_000_150.0, reason))
    persist(UnmonitoredInterval("not-a-db-camera", 1.0, 2.0, "ignored"))  # e.g. the demo's probe
    (outage,) = world.client.get(f"/api/cameras/{world.camera_id}/health", headers=admin).json()[
        "unmonitored"
    ]
    assert outage["reason"] == reason
    with world.sessions() as session:
        publish_status(session, {str(world.camera_id): {"state": "reconnecting", "last_error": reason}})
    seen = world.client.get(f"/api/cameras/{world.camera_id}/health", headers=supervisor).json()
    assert seen["last_error"] == seen["unmonitored"][0]["reason"] == "camera unreachable (an admin sees why)"
    assert (
        world.client.get(f"/api/cameras/{world.camera_id}/health", headers=admin).json()["last_error"]
        == reason
    )
    started, ended = (datetime.fromisoformat(outage[k]) for k in ("started_at", "ended_at"))
    assert (ended - started).total_seconds() == 150


def test_api_without_a_worker_reports_what_the_worker_stored(world: World, admin: Headers) -> None:
    path = f"/api/cameras/{world.camera_id}/health"
    with world.sessions() as session:
        publish_status(session, {str(world.camera_id): {"state": "reconnecting", "reconnect_count": 3}})
    health = world.client.get(path, headers=admin).json()
    assert health["state"] == "reconnecting" and health["reconnect_count"] == 3 and health["reported_at"]

    with world.sessions() as session:  # the worker process stopped reporting a minute ago
        row = session.get(CameraStatus, world.camera_id)
        assert row is not None
        row.updated_at = datetime.now(UTC) - timedelta(seconds=60)
        session.commit()
    assert world.client.get(path, headers=admin).json()["state"] == "worker_silent"
