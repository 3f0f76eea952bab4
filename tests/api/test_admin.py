"""Admin configuration: users, sites, cameras (URL checks, WHIP tokens), zones, calibration, rules."""

from __future__ import annotations

from typing import Any

import pytest

from audit_api.auth import verify_camera_token
from tests.api.conftest import World

SQUARE = [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]]
QUAD_PX = [[0.1, 0.5], [0.9, 0.5], [0.8, 0.95], [0.2, 0.95]]
QUAD_M = [[0, 10], [8, 10], [8, 0], [0, 0]]


def test_user_admin(world: World, admin: dict[str, str]) -> None:
    body = {"email": "New@Example.com", "password": "long enough", "role": "supervisor", "site_ids": [1]}
    created = world.client.post("/api/users", json=body, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["email"] == "new@example.com" and created.json()["site_ids"] == [world.site_id]
    again = world.client.post("/api/users", json=body, headers=admin)
    assert again.status_code == 409 and "already exists" in again.json()["detail"]
    user_id = created.json()["id"]
    change = {"role": "inspector", "site_ids": []}
    updated = world.client.patch(f"/api/users/{user_id}", json=change, headers=admin)
    assert updated.json()["role"] == "inspector" and updated.json()["site_ids"] == []
    emails = [u["email"] for u in world.client.get("/api/users", headers=admin).json()]
    assert "new@example.com" in emails and len(emails) == 5
    world.login("new@example.com", "long enough")


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-email", "password": "long enough", "role": "admin"},
        {"email": "a@b.co", "password": "short", "role": "admin"},
        {"email": "a@b.co", "password": "long enough", "role": "root"},
        {"email": "a@b.co", "password": "long enough", "role": "admin", "site_ids": [999]},
    ],
)
def test_bad_users_are_422(world: World, admin: dict[str, str], body: dict[str, Any]) -> None:
    assert world.client.post("/api/users", json=body, headers=admin).status_code == 422


def test_site_crud(world: World, admin: dict[str, str], inspector: dict[str, str]) -> None:
    body = {"name": "East", "timezone": "Europe/Berlin"}
    created = world.client.post("/api/sites", json=body, headers=admin)
    assert created.status_code == 201
    assert created.json()["locale"] == "zh-CN"  # new sites write their alerts and reports in Chinese
    site_id = created.json()["id"]
    assert world.client.post("/api/sites", json={"name": "East"}, headers=admin).status_code == 409
    renamed = world.client.put(
        f"/api/sites/{site_id}", json={"name": "East 2", "locale": "en"}, headers=admin
    )
    assert (renamed.json()["name"], renamed.json()["locale"]) == ("East 2", "en")
    names = [s["name"] for s in world.client.get("/api/sites", headers=inspector).json()]
    assert names == ["North yard", "South yard", "East 2"]
    assert world.client.delete(f"/api/sites/{site_id}", headers=admin).status_code == 204
    assert world.client.get(f"/api/sites/{site_id}", headers=admin).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://cam.local/stream",
        "concat:rtsp://a|rtsp://b",
        "subfile:,,start,0,end,0,,:/etc/passwd",
        "rtsp://",
        "rtsp://cam.local/a b",
        "",
    ],
)
def test_camera_url_must_be_rtsp(world: World, admin: dict[str, str], url: str) -> None:
    body = {"site_id": world.site_id, "name": "c", "kind": "rtsp", "url": url}
    response = world.client.post("/api/cameras", json=body, headers=admin)
    assert response.status_code == 422, response.text


def test_rtsp_camera_password_is_redacted(world: World, admin: dict[str, str]) -> None:
    body = {
        "site_id": world.site_id,
        "name": "crane",
        "kind": "rtsp",
        "url": "rtsps://op:s3cret@10.0.0.5:322/live",
    }
    created = world.client.post("/api/cameras", json=body, headers=admin)
    assert created.status_code == 201
    assert created.json()["url"] == "rtsps://op:***@10.0.0.5:322/live"
    assert "whip_token" not in created.json()
    patched = world.client.patch(
        f"/api/cameras/{created.json()['id']}", json={"config": {"analysis_fps": 4}}, headers=admin
    )
    assert patched.json()["config"]["analysis_fps"] == 4 and patched.json()["config_version"] == 2


def test_whip_token_is_shown_once_and_only_its_hash_is_stored(world: World, admin: dict[str, str]) -> None:
    body = {"site_id": world.site_id, "name": "phone", "kind": "whip"}
    created = world.client.post("/api/cameras", json=body, headers=admin).json()
    token, camera_id = created["whip_token"], created["id"]
    assert len(token) >= 40
    assert "whip_token" not in world.client.get(f"/api/cameras/{camera_id}", headers=admin).json()
    with world.sessions() as session:
        assert verify_camera_token(session, camera_id, token)
        assert not verify_camera_token(session, camera_id, token + "x")
        assert not verify_camera_token(session, world.camera_id, token)
    rotated = world.client.post(f"/api/cameras/{camera_id}/token", headers=admin).json()["whip_token"]
    with world.sessions() as session:
        assert verify_camera_token(session, camera_id, rotated)
        assert not verify_camera_token(session, camera_id, token)
    verifier = world.app.state.camera_token_verifier  # what the WHIP routes call
    assert verifier(str(camera_id), rotated) and not verifier(str(world.camera_id), rotated)
    for unknown in ("999", "phone"):
        with pytest.raises(LookupError):
            verifier(unknown, rotated)
    whip_with_url = body | {"name": "p2", "url": "rtsp://x/y"}
    assert world.client.post("/api/cameras", json=whip_with_url, headers=admin).status_code == 422


def test_zones_are_versioned(world: World, admin: dict[str, str], supervisor: dict[str, str]) -> None:
    path = f"/api/cameras/{world.camera_id}/zones"
    zone = {"name": "crane", "polygon": SQUARE, "required_ppe": ["vest", "hardhat"], "occupancy_cap": 3}
    created = world.client.post(path, json=zone, headers=admin)
    assert created.status_code == 201, created.text
    assert sorted(created.json()["required_ppe"]) == ["hardhat", "vest"] and created.json()["version"] == 1
    assert world.client.post(path, json=zone, headers=admin).status_code == 409
    schedule = [{"days": [0, 1, 2, 3, 4], "start": "07:00", "end": "18:00"}]
    replaced = world.client.put(
        f"/api/zones/{created.json()['id']}", json=zone | {"schedule": schedule}, headers=admin
    )
    assert replaced.json()["version"] == 2 and replaced.json()["schedule"][0]["start"] == "07:00:00"
    assert [z["name"] for z in world.client.get(path, headers=supervisor).json()] == ["crane"]


@pytest.mark.parametrize(
    ("polygon", "extra"),
    [
        ([[0.1, 0.1], [0.9, 0.1]], {}),  # fewer than 3 points
        ([[0.1, 0.1], [1.2, 0.1], [0.5, 0.9]], {}),  # not normalised
        ([[0.1, 0.1], [0.9, 0.9], [0.9, 0.1], [0.1, 0.9]], {}),  # bow-tie: self-intersecting
        ([[0.1, 0.1], [0.5, 0.5], [0.9, 0.9]], {}),  # zero area
        (SQUARE, {"required_ppe": ["gloves"]}),
        (SQUARE, {"schedule": [{"days": [7], "start": "07:00", "end": "18:00"}]}),
        (SQUARE, {"schedule": [{"days": [1], "start": "07:00", "end": "07:00"}]}),  # empty window
    ],
)
def test_bad_zones_are_422(
    world: World, admin: dict[str, str], polygon: list[list[float]], extra: dict[str, Any]
) -> None:
    body = {"name": "z", "polygon": polygon} | extra
    response = world.client.post(f"/api/cameras/{world.camera_id}/zones", json=body, headers=admin)
    assert response.status_code == 422, response.text


def test_calibration(world: World, admin: dict[str, str]) -> None:
    path = f"/api/cameras/{world.camera_id}/calibration"
    assert world.client.get(path, headers=admin).status_code == 404
    first = world.client.put(path, json={"image_points": QUAD_PX, "world_points_m": QUAD_M}, headers=admin)
    assert first.status_code == 200 and first.json()["version"] == 1
    second = world.client.put(path, json={"image_points": QUAD_PX, "world_points_m": QUAD_M}, headers=admin)
    assert second.json()["version"] == 2
    assert world.client.get(path, headers=admin).json()["world_points_m"][1] == [8.0, 10.0]


@pytest.mark.parametrize(
    "body",
    [
        {"image_points": QUAD_PX[:3], "world_points_m": QUAD_M[:3]},
        {"image_points": QUAD_PX, "world_points_m": QUAD_M[:3]},
        {"image_points": [[0.1, 0.1], [0.2, 0.2], [0.3, 0.3], [0.4, 0.4]], "world_points_m": QUAD_M},
        {"image_points": QUAD_PX, "world_points_m": [[0, 0], [1, 0], [2, 0], [3, 0]]},
        {"image_points": [[0.1, 0.1], [0.5, 0.1], [0.9, 0.1], [0.5, 0.8]], "world_points_m": QUAD_M},
    ],
    ids=["too-few", "length-mismatch", "collinear-image", "collinear-world", "three-on-a-line"],
)
def test_bad_calibration_is_422(world: World, admin: dict[str, str], body: dict[str, Any]) -> None:
    response = world.client.put(f"/api/cameras/{world.camera_id}/calibration", json=body, headers=admin)
    assert response.status_code == 422, response.text


def test_rules(world: World, admin: dict[str, str]) -> None:
    assert world.client.get("/api/rules", headers=admin).status_code == 404
    assert world.client.put("/api/rules", json={"k": 2, "n": 4}, headers=admin).json()["version"] == 1
    path = f"/api/cameras/{world.camera_id}/rules"
    body = {"k": 3, "n": 3, "min_distance_m": 1.2}
    assert world.client.put(path, json=body, headers=admin).json()["config"]["min_distance_m"] == 1.2
    assert world.client.put(path, json=body, headers=admin).json()["version"] == 2
    assert world.client.get("/api/rules", headers=admin).json()["config"]["k"] == 2
    bad = world.client.put(path, json={"k": 6, "n": 5}, headers=admin)
    assert bad.status_code == 422 and "must not exceed n" in bad.text
    assert world.client.delete(path, headers=admin).status_code == 204  # back to the global rules
    assert world.client.get(path, headers=admin).status_code == 404
    assert world.client.delete(path, headers=admin).status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/cameras/999"),
        ("GET", "/api/cameras/999/zones"),
        ("GET", "/api/zones/999"),
        ("PATCH", "/api/users/999"),
        ("GET", "/api/sites/999"),
        ("GET", "/api/events/999"),
    ],
)
def test_unknown_ids_are_404(world: World, admin: dict[str, str], method: str, path: str) -> None:
    response = world.client.request(method, path, json={} if method == "PATCH" else None, headers=admin)
    assert response.status_code == 404
    assert "not found" in response.json()["detail"]
