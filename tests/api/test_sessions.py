"""Sign-in sessions: refresh tokens rotate (reuse kills the session), sign-out is server-side, a password,
role or state change revokes earlier tokens, and the last active admin stays an active admin."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from audit_api.models import AuditLog, AuthSession
from tests.api.conftest import PASSWORD, SECRET, World


def _login(world: World, email: str = "inspector@example.com") -> dict[str, Any]:
    response = world.client.post("/api/auth/token", data={"username": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _me(world: World, access_token: str) -> int:
    return world.client.get("/api/me", headers={"Authorization": f"Bearer {access_token}"}).status_code


def _refresh(world: World, refresh_token: str) -> httpx.Response:
    response: httpx.Response = world.client.post("/api/auth/refresh", json={"refresh_token": refresh_token})
    return response


def _user_id(world: World, email: str) -> int:
    users = world.client.get("/api/users", headers=world.bearer("admin@example.com")).json()
    return int(next(u["id"] for u in users if u["email"] == email))


def test_login_returns_a_refresh_token_and_refresh_rotates_it(world: World) -> None:
    first = _login(world)
    assert first["token_type"] == "bearer" and first["expires_in"] == world.settings.access_token_minutes * 60
    response = _refresh(world, first["refresh_token"])
    assert response.status_code == 200, response.text
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert _me(world, second["access_token"]) == 200
    assert _me(world, first["access_token"]) == 200  # same session: still valid until it expires
    third = _refresh(world, second["refresh_token"]).json()
    assert _me(world, third["access_token"]) == 200


def test_reusing_a_rotated_refresh_token_revokes_the_session(world: World) -> None:
    stolen = _login(world)
    owner = _refresh(world, stolen["refresh_token"]).json()  # the owner refreshes first
    reused = _refresh(world, stolen["refresh_token"])  # the thief (or a confused client) tries the old one
    assert reused.status_code == 401 and "already used" in reused.json()["detail"]
    assert reused.headers["www-authenticate"] == "Bearer"
    # The whole session is dead: the current refresh token and every access token of it.
    assert _refresh(world, owner["refresh_token"]).status_code == 401
    assert _me(world, owner["access_token"]) == 401
    assert _me(world, stolen["access_token"]) == 401
    with world.sessions() as session:
        assert session.scalars(select(AuthSession.revoked_reason)).all() == ["refresh token reused"]
    assert _me(world, _login(world)["access_token"]) == 200  # signing in again works


@pytest.mark.parametrize("refresh_token", ["", "x" * 257, "not-a-token-we-issued"])
def test_bad_refresh_tokens_are_refused(world: World, refresh_token: str) -> None:
    response = _refresh(world, refresh_token)
    assert response.status_code == (401 if refresh_token == "not-a-token-we-issued" else 422), response.text


@pytest.mark.parametrize("how", ["access token", "refresh token", "both"])
def test_logout_revokes_access_and_refresh_tokens(world: World, how: str) -> None:
    pair = _login(world)
    other = _login(world)  # another sign-in of the same user is not affected
    headers = {"Authorization": f"Bearer {pair['access_token']}"} if how != "refresh token" else {}
    body = {"refresh_token": pair["refresh_token"]} if how != "access token" else None
    response = world.client.post("/api/auth/logout", json=body, headers=headers)
    assert response.status_code == 204, response.text
    assert _me(world, pair["access_token"]) == 401
    assert _refresh(world, pair["refresh_token"]).status_code == 401
    assert _me(world, other["access_token"]) == 200
    assert _refresh(world, other["refresh_token"]).status_code == 200


def test_logout_without_valid_credentials_is_401(world: World) -> None:
    response = world.client.post("/api/auth/logout", json={"refresh_token": "unknown"})
    assert response.status_code == 401
    response = world.client.post("/api/auth/logout", headers={"Authorization": "Bearer garbage"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("change", "old_tokens_work"),
    [
        ({"password": "a brand new passphrase"}, False),
        ({"role": "admin"}, False),
        ({"active": False}, False),
        ({"name": "Ivo"}, True),
        ({"role": "inspector"}, True),  # the same role: nothing changes
        ({"active": True}, True),
    ],
    ids=["password", "role", "deactivated", "name", "same-role", "still-active"],
)
def test_token_issued_before_an_account_change(
    world: World, admin: dict[str, str], change: dict[str, Any], old_tokens_work: bool
) -> None:
    pair = _login(world)
    inspector = _user_id(world, "inspector@example.com")
    response = world.client.patch(f"/api/users/{inspector}", json=change, headers=admin)
    assert response.status_code == 200, response.text
    assert _me(world, pair["access_token"]) == (200 if old_tokens_work else 401)
    assert _refresh(world, pair["refresh_token"]).status_code == (200 if old_tokens_work else 401)


def test_site_change_keeps_a_supervisor_signed_in_with_the_new_scope(
    world: World, admin: dict[str, str]
) -> None:
    pair = _login(world, "boss@example.com")
    boss = _user_id(world, "boss@example.com")
    response = world.client.patch(
        f"/api/users/{boss}", json={"site_ids": [world.other_site_id]}, headers=admin
    )
    assert response.status_code == 200, response.text
    me = world.client.get("/api/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert me.status_code == 200 and me.json()["site_ids"] == [world.other_site_id]


@pytest.mark.parametrize(
    ("change", "word"), [({"role": "inspector"}, "demoted"), ({"active": False}, "deactivated")]
)
def test_the_last_active_admin_cannot_be_demoted_or_deactivated(
    world: World, admin: dict[str, str], change: dict[str, Any], word: str
) -> None:
    admin_id = _user_id(world, "admin@example.com")
    response = world.client.patch(f"/api/users/{admin_id}", json=change, headers=admin)
    assert response.status_code == 409, response.text
    assert response.json()["detail"] == (
        f"user {admin_id} is the last active admin and cannot be {word}: make another user admin first"
    )
    assert world.client.get("/api/me", headers=admin).json()["role"] == "admin"  # nothing changed
    # With a second admin, the first one may step down (and its old tokens stop working).
    second = {"email": "second@example.com", "password": PASSWORD, "role": "admin"}
    assert world.client.post("/api/users", json=second, headers=admin).status_code == 201
    assert world.client.patch(f"/api/users/{admin_id}", json=change, headers=admin).status_code == 200
    assert world.client.get("/api/me", headers=admin).status_code == 401


def test_failed_logins_lock_an_account_with_one_audit_row(world: World) -> None:
    limit = world.settings.login_account_failures
    form = {"username": "inspector@example.com", "password": "wrong password"}
    statuses = [world.client.post("/api/auth/token", data=form).status_code for _ in range(limit + 2)]
    assert statuses == [401] * limit + [429] * 2
    entity = f"user:{_user_id(world, form['username'])}"
    with world.sessions() as session:
        rows = session.scalars(select(AuditLog).where(AuditLog.action == "auth.login_locked")).all()
        assert [(r.entity, r.payload["failures"]) for r in rows] == [(entity, limit)]
        assert session.scalar(select(func.count()).select_from(AuditLog)) == 1  # not one row per attempt


def _cli(database_url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = os.environ | {"SITEAUDIT_DATABASE_URL": database_url, "SITEAUDIT_SECRET_KEY": SECRET}
    return subprocess.run(
        [sys.executable, "-m", "audit_api.cli", "user", *args],
        input=stdin, env=env, text=True, capture_output=True, timeout=120,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("flags", "word"), [(["--role", "supervisor"], "demoted"), (["--deactivate"], "deactivated")]
)
def test_cli_refuses_to_demote_or_deactivate_the_last_admin(
    world: World, admin: dict[str, str], flags: list[str], word: str
) -> None:
    url = world.settings.effective_database_url
    refused = _cli(url, "update", "admin@example.com", *flags)
    assert refused.returncode == 2, refused.stderr
    assert refused.stderr.strip().endswith(f"cannot be {word}: make another user admin first")
    assert "Traceback" not in refused.stderr
    assert world.client.get("/api/me", headers=admin).json()["role"] == "admin"
    done = _cli(url, "update", "inspector@example.com", "--role", "admin")
    assert done.returncode == 0, done.stderr
    assert _cli(url, "update", "admin@example.com", *flags).returncode == 0
    assert world.client.get("/api/me", headers=admin).status_code == 401


def test_cli_password_change_revokes_sign_ins(world: World) -> None:
    pair = _login(world)
    url = world.settings.effective_database_url
    done = _cli(url, "update", "inspector@example.com", "--password", stdin="another long passphrase\n")
    assert done.returncode == 0, done.stderr
    assert _me(world, pair["access_token"]) == 401
    login = {"username": "inspector@example.com", "password": "another long passphrase"}
    assert world.client.post("/api/auth/token", data=login).status_code == 200
