"""The alert leaves when the violation opens (the worker's `opened` hook, before the clip's post-roll) and
the clip link follows when the event is recorded. Both databases; the real camera is
tests/e2e/test_alert_timing.py."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from audit_api.models import Alert, AuditLog, Event
from audit_api.settings import Settings
from audit_api.worker.recorder import EventRecorder
from ingest import Opening
from tests.api.conftest import SECRET, SNAPSHOT_BYTES, World
from tests.fixtures.receivers import wait_until, webhook_receiver


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key=SecretStr(SECRET),
        max_upload_bytes=64 * 1024,
        web_dir=tmp_path / "no-web",
        alert_poll_s=0.05,
    )


def test_alert_at_open_then_clip_follow_up_to_the_same_recipients(
    world: World,
    admin: dict[str, str],
    supervisor: dict[str, str],
    make_event: Callable[..., Event],
    tmp_path: Path,
) -> None:
    recorder = EventRecorder(world.sessions, world.store, tmp_path / "outbox")
    opening = Opening(str(world.camera_id), "item-7", ["no_vest"], time.time() - 1, SNAPSHOT_BYTES)
    with webhook_receiver([200]) as hook:
        channel = {"name": "ops", "type": "webhook", "url": hook.url}
        assert world.post(f"/api/sites/{world.site_id}/alert-channels", admin, channel).status_code == 201

        def bodies() -> list[dict[str, Any]]:
            with hook.lock:
                return [json.loads(r.body) for r in hook.requests]

        recorder.opened(opening)
        recorder.opened(opening)  # the same item again: still one alert
        (first,) = wait_until(bodies, "the opening message")
        assert (first["purpose"], first["event_id"], first["kinds"]) == ("alert", None, ["no_vest"])
        # The message links the recipient's signed snapshot: blurred heads (the site's default), no sign-in.
        link = urlsplit(first["snapshot_url"])
        assert link.path == "/api/alerts/ack-link/snapshot" and link.query.startswith("token=")
        assert first["clip_url"] is None and first["ack_url"]
        linked = world.client.get(f"{link.path}?{link.query}")
        assert linked.status_code == 200 and linked.headers["content-type"] == "image/png"
        assert linked.content != SNAPSHOT_BYTES
        # The supervisor page shows the original (the site blurs alert channels and reports only).
        snapshot = world.client.get(f"/api/alerts/{first['alert_id']}/snapshot", headers=supervisor)
        assert snapshot.status_code == 200 and snapshot.content == SNAPSHOT_BYTES

        event = make_event(kinds=("no_vest",), rule_snapshot={"review_item": "item-7", "k": 3})
        clip = wait_until(lambda: bodies()[1:], "the clip follow-up")[0]
    assert (clip["purpose"], clip["alert_id"], clip["event_id"]) == ("clip", first["alert_id"], event.id)
    assert clip["clip_url"].endswith(f"/api/events/{event.id}/clip")
    with world.sessions() as session:
        (alert,) = session.scalars(select(Alert))
        assert alert.event_id == event.id and alert.review_item == "item-7"
        actions = list(session.scalars(select(AuditLog.action).order_by(AuditLog.seq)))
    assert actions.index("alert.opened") < actions.index("event.recorded")
