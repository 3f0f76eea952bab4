"""Blurred heads (issue 13): a real footage frame through the real detector and the pipeline's own snapshot
path; what the supervisor page, inspectors and `siteaudit audit verify` get. Both databases (`world`)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from sqlalchemy import select

from audit_api.models import Alert, AuditLog, Event, EvidenceKind, EvidenceObject, PrivacyBlur, Site
from audit_api.services import integrity
from detect import Detector
from detect.annotate import draw_snapshot, encode_jpeg
from ingest.pipeline import HEADS
from tests.api.conftest import World


@pytest.fixture(scope="module")
def footage_snapshot(videos: Path) -> Iterator[tuple[bytes, list[list[int]]]]:
    """A ppe-2 frame with workers, run through the detector, drawn and encoded as the pipeline does, and
    the head regions the pipeline records with it."""
    cap = cv2.VideoCapture(str(videos / "ppe-2.mp4"))
    cap.set(cv2.CAP_PROP_POS_FRAMES, 60)
    ok, frame = cap.read()
    cap.release()
    assert ok
    detections = Detector.load().detect([frame])[0]
    image = draw_snapshot(frame, detections, [])
    heads = [list(r) for r in HEADS.head_regions(detections, image.shape)]
    assert heads, "no head found on a frame with workers"
    yield encode_jpeg(image), heads


def _decode(data: bytes) -> npt.NDArray[np.uint8]:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image


def _changed_only_inside(original: bytes, blurred: bytes, heads: list[list[int]]) -> None:
    before, after = _decode(original), _decode(blurred)
    assert before.shape == after.shape
    inside = np.zeros(before.shape[:2], dtype=bool)
    for x1, y1, x2, y2 in heads:
        inside[y1:y2, x1:x2] = True
    changed = (before != after).any(axis=2)
    assert not (changed & ~inside).any(), "pixels outside the head regions changed"
    assert changed[inside].mean() > 0.5, "the head regions are not pixelated"


def _set_blur(world: World, blur: PrivacyBlur) -> None:
    with world.sessions() as session:
        site = session.get_one(Site, world.site_id)
        site.privacy_blur = blur
        session.commit()


def _copies(world: World) -> list[EvidenceObject]:
    with world.sessions() as session:
        return list(
            session.scalars(select(EvidenceObject).where(EvidenceObject.kind == EvidenceKind.BLURRED))
        )


def test_real_frame_blurred_only_inside_head_regions(
    world: World,
    make_event: Callable[..., Event],
    footage_snapshot: tuple[bytes, list[list[int]]],
    supervisor: dict[str, str],
    inspector: dict[str, str],
) -> None:
    jpeg, heads = footage_snapshot
    snapshot = world.store.put("footage/ppe-2/snapshot.jpg", jpeg, "image/jpeg")
    event = make_event(snapshot=snapshot, snapshot_heads=heads)
    _set_blur(world, PrivacyBlur.ALSO_SUPERVISORS)

    seen = world.client.get(f"/api/events/{event.id}/snapshot", headers=supervisor)
    assert seen.status_code == 200, seen.text
    assert seen.headers["content-type"] == "image/png"
    _changed_only_inside(jpeg, seen.content, heads)
    (copy,) = _copies(world)
    assert hashlib.sha256(seen.content).hexdigest() == copy.sha256 and copy.original_key == snapshot.key
    # The inspector still sees the original, bytes for bytes.
    original = world.client.get(f"/api/events/{event.id}/snapshot", headers=inspector)
    assert original.status_code == 200 and original.content == jpeg


@pytest.mark.parametrize(
    ("blur", "supervisor_blurred"),
    [(PrivacyBlur.ALSO_SUPERVISORS, True), (PrivacyBlur.EXTERNAL, False), (PrivacyBlur.OFF, False)],
)
def test_supervisor_snapshot_urls_follow_the_site_setting(
    world: World,
    make_event: Callable[..., Event],
    supervisor: dict[str, str],
    inspector: dict[str, str],
    blur: PrivacyBlur,
    supervisor_blurred: bool,
) -> None:
    heads = [[10, 10, 50, 40]]
    event = make_event(snapshot_heads=heads)
    _set_blur(world, blur)
    original = world.store.get(event.clips[1].object_key)
    urls = [f"/api/events/{event.id}/snapshot", f"/api/alerts/{_alert_of(world, event.id)}/snapshot"]
    for url in urls:
        got = world.client.get(url, headers=supervisor)
        assert got.status_code == 200, (url, got.text)
        assert (got.content != original) == supervisor_blurred, url
        if supervisor_blurred:
            (copy,) = _copies(world)  # one copy, derived once, for both URLs
            assert hashlib.sha256(got.content).hexdigest() == copy.sha256
            _changed_only_inside(original, got.content, heads)
        mine = world.client.get(url, headers=inspector)
        assert mine.status_code == 200 and mine.content == original, url
    # Anyone may ask for the blurred copy.
    asked = world.client.get(urls[0], headers=inspector, params={"blurred": "true"})
    assert asked.status_code == 200 and asked.headers["content-type"] == "image/png"
    _changed_only_inside(original, asked.content, heads)


def _alert_of(world: World, event_id: int) -> int:
    with world.sessions() as session:
        return session.scalars(select(Alert.id).where(Alert.event_id == event_id)).one()


def test_unknown_heads_blur_the_whole_snapshot(
    world: World, make_event: Callable[..., Event], inspector: dict[str, str]
) -> None:
    event = make_event()  # recorded without head regions (an older worker): nothing identifiable leaves
    got = world.client.get(f"/api/events/{event.id}/snapshot", headers=inspector, params={"blurred": "true"})
    assert got.status_code == 200
    original = _decode(world.store.get(event.clips[1].object_key))
    changed = (original != _decode(got.content)).any(axis=2)
    assert changed.mean() > 0.5


def test_audit_verify_covers_the_blurred_copies(
    world: World, make_event: Callable[..., Event], inspector: dict[str, str]
) -> None:
    event = make_event(snapshot_heads=[[0, 0, 30, 30]])
    assert (
        world.client.get(f"/api/events/{event.id}/snapshot?blurred=true", headers=inspector).status_code
        == 200
    )
    (copy,) = _copies(world)
    with world.sessions() as session:
        before = integrity.verify(session, world.store)
        assert before and before.objects_checked == 3  # clip, snapshot, blurred copy
        entry = session.scalars(select(AuditLog).where(AuditLog.action == "evidence.blurred")).one()
        assert entry.payload["sha256"] == copy.sha256 and entry.payload["original_key"] == copy.original_key
    path = world.store.root / copy.object_key  # type: ignore[attr-defined]
    path.write_bytes(path.read_bytes()[:-1] + b"\x00")  # the copy damaged behind the store's back
    with world.sessions() as session:
        after = integrity.verify(session, world.store)
    assert not after and after.first_broken_object is not None
    assert after.first_broken_object.ref.key == copy.object_key
    assert "blurred copy" in after.first_broken_object.ref.what
