"""WHIP publishers get the ICE servers (RFC 9725 Link rel="ice-server") on an authenticated OPTIONS, TURN
entries with credentials minted for the camera; a CORS preflight or a wrong token gets none."""

from __future__ import annotations

from pydantic import SecretStr

from audit_api import ice
from tests.api.conftest import World

SECRET = "turn-shared-secret-0123456789"


def test_authenticated_options_returns_ice_servers(world: World, admin: dict[str, str]) -> None:
    servers = [
        ice.IceServer(urls=["stun:stun.example.org:3478"]),
        ice.IceServer(urls=["turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:5349"]),
        ice.IceServer(urls="turn:static.example.org", username='we"ird', credential="p\\w"),
    ]
    world.app.state.settings = world.settings.model_copy(
        update={"ice_servers": servers, "turn_secret": SecretStr(SECRET)}
    )
    created = world.client.post(
        "/api/cameras", headers=admin, json={"site_id": world.site_id, "name": "p", "kind": "whip"}
    )
    assert created.status_code == 201, created.text
    camera, token = created.json()["id"], created.json()["whip_token"]

    wrong = world.client.options(f"/whip/{camera}", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "link" not in wrong.headers
    preflight = world.client.options(f"/whip/{camera}", headers={"Origin": "https://x.example"})
    assert preflight.status_code == 204 and "link" not in preflight.headers

    response = world.client.options(f"/whip/{camera}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 204
    links = response.headers.get_list("link")
    assert links[0] == '<stun:stun.example.org:3478>; rel="ice-server"'
    for link in links[1:3]:
        assert f':camera-{camera}"; credential="' in link and link.endswith('credential-type="password"')
    assert links[3].endswith('username="we\\"ird"; credential="p\\\\w"; credential-type="password"')
    assert len(links) == 4
