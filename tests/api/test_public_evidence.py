"""Deployed mode: presigned clip URLs name SITEAUDIT_S3_PUBLIC_ENDPOINT (what a browser outside the
compose network reaches), not the internal endpoint, and the 307 target downloads the recorded bytes."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr

from audit_api.main import build_store
from audit_api.models import Event
from audit_api.settings import Settings
from tests.api.conftest import World
from tests.fixtures.net import tcp_forward
from tests.fixtures.s3 import S3_ACCESS_KEY, S3_SECRET_KEY, unique_bucket


def test_clip_redirect_names_the_public_endpoint_and_downloads(
    world: World, admin: dict[str, str], make_event: Callable[..., Event], s3_endpoint: str
) -> None:
    host, port = s3_endpoint.rsplit(":", 1)
    with tcp_forward((host, int(port))) as public_port:
        public = f"http://127.0.0.1:{public_port}"
        settings = Settings(
            secret_key=SecretStr("p" * 40),
            data_dir=world.settings.data_dir,
            storage_backend="s3",
            s3_endpoint=s3_endpoint,
            s3_access_key=S3_ACCESS_KEY,
            s3_secret_key=SecretStr(S3_SECRET_KEY),
            s3_bucket=unique_bucket(),
            s3_public_endpoint=public,
            evidence_short_retention_days=1,
        )
        store = build_store(settings)
        store.check()
        body = b"\x00\x00\x00\x18ftypisom" + bytes(range(256)) * 64
        clip = store.put("cameras/1/2025/03/04/item/clip.mp4", body, "video/mp4")
        snapshot = store.put("cameras/1/2025/03/04/item/snapshot.jpg", b"\xff\xd8jpeg", "image/jpeg")
        event = make_event(clip=clip, snapshot=snapshot)
        world.app.state.store = store

        response = world.client.get(f"/api/events/{event.id}/clip", headers=admin, follow_redirects=False)
        assert response.status_code == 307, response.text
        target = response.headers["location"]
        assert urlsplit(target).netloc == f"127.0.0.1:{public_port}" and s3_endpoint not in target
        download = httpx.get(target, timeout=30)
        assert download.status_code == 200, download.text
        assert hashlib.sha256(download.content).hexdigest() == clip.sha256
        # (moto does not check presigned signatures; MinIO does, over the Host the URL names: the public one.)
        # SITEAUDIT_EVIDENCE_SHORT_RETENTION_DAYS reached the store: the object carries a COMPLIANCE lock.
        primary = store.primary  # type: ignore[attr-defined]
        head = primary.client.stat_object(primary.bucket, clip.key).metadata
        assert head.get("x-amz-object-lock-mode") == "COMPLIANCE", dict(head)
