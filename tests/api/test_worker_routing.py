"""Deployed-mode routing decisions of the API (no worker in the process), on both databases: a WHIP offer
is redirected (307) to the URL in the camera's live lease with a publish grant; an expired, released or
URL-less lease gives 503 with Retry-After; the grant is only good for that camera and its current token.
Live view is forwarded only after the viewer was checked (another site's supervisor: 404, never routed).
The end-to-end path (real processes, Chromium) is tests/e2e/test_routing.py."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import SecretStr

from audit_api.auth import create_publish_grant, verify_camera_credential
from audit_api.models import CameraLease, utcnow
from tests.api.conftest import World

WORKER = "http://worker-7.internal:8100"
SDP = {"Content-Type": "application/sdp"}


def _whip_camera(world: World, admin: dict[str, str], name: str = "phone") -> tuple[int, str]:
    body = {"site_id": world.site_id, "name": name, "kind": "whip"}
    created = world.client.post("/api/cameras", headers=admin, json=body)
    assert created.status_code == 201, created.text
    return int(created.json()["id"]), str(created.json()["whip_token"])


def _lease(world: World, camera: int, *, url: str | None = WORKER, expires_in_s: float = 30) -> None:
    with world.sessions() as session:
        session.merge(
            CameraLease(
                camera_id=camera,
                worker_id=None if url is None else "host:1:abc",
                epoch=1,
                heartbeat_at=utcnow(),
                expires_at=utcnow() + timedelta(seconds=expires_in_s),
                worker_url=url,
            )
        )
        session.commit()


def _grant_of(location: str) -> str:
    (grant,) = parse_qs(urlsplit(location).query)["grant"]
    return grant


def test_offer_goes_to_the_lease_holder_with_a_grant_for_that_camera(
    world: World, admin: dict[str, str]
) -> None:
    camera, token = _whip_camera(world, admin)
    other, _ = _whip_camera(world, admin, "second phone")
    _lease(world, camera)
    auth = SDP | {"Authorization": f"Bearer {token}"}
    response = world.client.post(f"/whip/{camera}", content="v=0", headers=auth, follow_redirects=False)
    assert response.status_code == 307, response.text
    location = response.headers["location"]
    assert location.startswith(f"{WORKER}/whip/{camera}?grant=")
    assert response.headers["access-control-expose-headers"] == "Location, Link"
    grant = _grant_of(location)
    with world.sessions() as session:
        assert verify_camera_credential(session, camera, grant, world.settings)
        assert not verify_camera_credential(session, other, grant, world.settings)  # one camera only
        assert verify_camera_credential(session, camera, token, world.settings)  # the token itself too
        assert not verify_camera_credential(session, camera, grant[:-3] + "abc", world.settings)
    # DELETE of a session is sent to the worker as well.
    gone = world.client.delete(f"/whip/{camera}/abc", headers=auth, follow_redirects=False)
    assert gone.status_code == 307 and gone.headers["location"].startswith(
        f"{WORKER}/whip/{camera}/abc?grant="
    )
    # A rotated token voids the grants issued for the old one.
    assert world.client.post(f"/api/cameras/{camera}/token", headers=admin).status_code == 200
    with world.sessions() as session:
        assert not verify_camera_credential(session, camera, grant, world.settings)
        assert not verify_camera_credential(session, camera, token, world.settings)


@pytest.mark.parametrize(
    "lease",
    [
        None,  # never leased
        {"expires_in_s": -1},  # the holder stopped renewing (killed, paused)
        {"url": None},  # released on a clean stop
    ],
    ids=["no-lease", "expired", "released"],
)
def test_no_live_worker_is_503_with_retry_after(
    world: World, admin: dict[str, str], lease: dict[str, object] | None
) -> None:
    camera, token = _whip_camera(world, admin)
    if lease is not None:
        _lease(world, camera, **lease)  # type: ignore[arg-type]
    auth = SDP | {"Authorization": f"Bearer {token}"}
    response = world.client.post(f"/whip/{camera}", content="v=0", headers=auth, follow_redirects=False)
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == str(max(1, round(world.settings.lease_ttl_s / 3)))
    assert f"no worker runs camera {camera}" in response.json()["detail"]
    assert response.headers["access-control-allow-origin"] == "*"
    frame = world.client.get(f"/api/cameras/{camera}/live/frame", headers=admin)
    assert frame.status_code == 503 and frame.headers["retry-after"]


def test_token_is_checked_before_any_routing(world: World, admin: dict[str, str]) -> None:
    camera, _ = _whip_camera(world, admin)
    _lease(world, camera)
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        response = world.client.post(f"/whip/{camera}", content="v=0", headers=SDP | headers)
        assert response.status_code == 401 and "location" not in response.headers
    with world.sessions() as session:
        wrong_key = world.settings.model_copy(update={"secret_key": SecretStr("x" * 40)})
        forged = create_publish_grant(session, camera, wrong_key)
    response = world.client.post(f"/whip/{camera}?grant={forged}", content="v=0", headers=SDP)
    assert response.status_code == 401


def test_live_view_of_another_site_is_404_before_any_routing(
    world: World, other_supervisor: dict[str, str]
) -> None:
    _lease(world, world.camera_id)
    for path in ("live/frame", "detections"):
        response = world.client.get(f"/api/cameras/{world.camera_id}/{path}", headers=other_supervisor)
        assert response.status_code == 404, response.text
