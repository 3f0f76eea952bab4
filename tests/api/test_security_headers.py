"""Security headers on a real server: every kind of response (API, pages, errors, 413, SSE, WHIP) carries
them; HSTS only over TLS; the CSP admits the S3 origin that presigned evidence URLs name."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from pydantic import SecretStr

from audit_api.db import upgrade_to_head
from audit_api.main import create_app
from audit_api.security_headers import content_security_policy
from audit_api.settings import Settings
from tests.browser.live_app import PASSWORD, USERS, WEB, AuditServer, Evidence, serve_audit
from tests.fixtures.net import serve_app
from tests.fixtures.s3 import S3_ACCESS_KEY, S3_SECRET_KEY, unique_bucket
from tests.fixtures.tls import self_signed

EVIDENCE = Evidence(
    clip=b"\x00\x00\x00\x18ftypmp42" + bytes(2000), snapshot=b"\xff\xd8\xff" + bytes(500), duration_s=1
)
EXPECTED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuditServer]:
    with serve_audit(tmp_path_factory.mktemp("headers") / "data", EVIDENCE) as srv:
        yield srv


def token(base_url: str, role: str = "admin") -> str:
    form = {"username": USERS[role], "password": PASSWORD}
    response = httpx.post(f"{base_url}/api/auth/token", data=form)
    assert response.status_code == 200, response.text
    value: str = response.json()["access_token"]
    return value


def assert_strict(headers: httpx.Headers) -> None:
    for name, value in EXPECTED.items():
        assert headers.get(name) == value, (name, dict(headers))
    policy = headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["connect-src"] == "'self'"  # local evidence store: nothing else to reach
    assert "data:" in directives["img-src"] and "blob:" in directives["media-src"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "strict-transport-security" not in headers  # plain http


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("GET", "/", {}, 200),
        ("GET", "/camera.html", {}, 200),
        ("GET", "/static/app.js", {}, 200),
        ("GET", "/no-such-page.html", {}, 404),
        ("GET", "/api/health", {}, 200),
        ("GET", "/api/me", {}, 401),
        ("GET", "/api/events?limit=0", {"auth": True}, 422),
        ("GET", "/openapi.json", {}, 200),
        ("POST", "/api/sites", {"auth": True, "content": b"x" * (11 * 1024 * 1024)}, 413),
        ("OPTIONS", "/whip/1", {}, 204),
        ("POST", "/whip/1", {"content": b"v=0", "headers": {"Content-Type": "application/sdp"}}, 401),
    ],
)
def test_every_kind_of_response_carries_the_headers(
    server: AuditServer, method: str, path: str, kwargs: dict[str, Any], status: int
) -> None:
    kwargs = dict(kwargs)  # the table's dicts are shared between runs
    headers = dict(kwargs.pop("headers", {}))
    if kwargs.pop("auth", False):
        headers["Authorization"] = f"Bearer {token(server.base_url)}"
    response = httpx.request(method, f"{server.base_url}{path}", headers=headers, timeout=60, **kwargs)
    assert response.status_code == status, response.text[:300]
    assert_strict(response.headers)


def test_the_api_docs_page_gets_its_own_policy_and_no_other_page_does(server: AuditServer) -> None:
    response = httpx.get(f"{server.base_url}/docs")
    assert response.status_code == 200
    assert "https://cdn.jsdelivr.net" in response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"


def test_the_alert_stream_keeps_streaming_with_the_headers(server: AuditServer) -> None:
    url = f"{server.base_url}/api/alerts/stream?access_token={token(server.base_url, 'supervisor')}"
    with httpx.Client(timeout=30) as client, client.stream("GET", url) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert_strict(response.headers)
        lines = response.iter_lines()
        assert next(lines).startswith("retry:")
        event = server.record()  # a new violation after the stream opened
        for line in lines:
            if line.startswith("data:"):
                assert f'"event_id":{event.id}' in line.replace(" ", "")
                break


def test_hsts_only_when_serving_tls(tmp_path: Path) -> None:
    """The way `siteaudit serve --tls-cert --tls-key` serves: uvicorn terminating TLS itself."""
    settings = Settings(dev_mode=True, data_dir=tmp_path / "data", web_dir=WEB)
    settings.data_dir.mkdir()
    upgrade_to_head(settings.effective_database_url)
    cert, key = self_signed(tmp_path)
    trust = ssl.create_default_context(cafile=str(cert))
    with serve_app(create_app(settings), tls=(cert, key)) as base_url:
        assert base_url.startswith("https://")
        for path in ("/", "/api/health", "/api/me"):
            response = httpx.get(f"{base_url}{path}", verify=trust)
            hsts = response.headers.get("strict-transport-security", "")
            assert hsts.startswith("max-age=31536000"), (path, dict(response.headers))
            assert response.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize(
    ("endpoint", "secure", "origin"),
    [
        ("minio:9000", False, "http://minio:9000"),
        ("s3.example.com", True, "https://s3.example.com"),
        ("https://s3.eu.example.com:8443", False, "https://s3.eu.example.com:8443"),
    ],
)
def test_the_policy_names_the_s3_origin(endpoint: str, secure: bool, origin: str) -> None:
    settings = Settings(
        dev_mode=True,
        storage_backend="s3",
        s3_endpoint=endpoint,
        s3_secure=secure,
        s3_access_key="k",
        s3_secret_key=SecretStr("s"),
    )
    directives = dict(d.strip().split(" ", 1) for d in content_security_policy(settings).split(";"))
    for name in ("connect-src", "media-src", "img-src"):
        assert origin in directives[name].split(), (name, directives[name])


def test_a_presigned_evidence_redirect_goes_where_the_policy_allows(s3_endpoint: str, tmp_path: Path) -> None:
    """The pages fetch evidence (following the 307 to S3) and show it as blob: URLs: connect-src must
    admit the presigned URL's origin, derived from the same settings the store is built from."""
    settings = Settings(
        dev_mode=True,
        data_dir=tmp_path / "data",
        web_dir=WEB,
        storage_backend="s3",
        s3_endpoint=s3_endpoint,
        s3_access_key=S3_ACCESS_KEY,
        s3_secret_key=SecretStr(S3_SECRET_KEY),
        s3_bucket=unique_bucket(),
    )
    with serve_audit(tmp_path / "data", EVIDENCE, settings=settings) as srv:
        event = srv.record()
        response = srv.request("inspector", "GET", f"/api/events/{event.id}/clip")
        assert response.status_code == 307, response.text
        target = urlsplit(response.headers["location"])
        directives = dict(
            d.strip().split(" ", 1) for d in response.headers["content-security-policy"].split(";")
        )
        assert f"{target.scheme}://{target.netloc}" in directives["connect-src"].split()
        assert httpx.get(response.headers["location"]).content == EVIDENCE.clip
