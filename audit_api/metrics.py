"""Prometheus metrics of the API and the worker (prometheus-client), read from the live counters.

Per-camera figures come from `Worker.health()` (the same snapshot `/api/cameras/{id}/health` shows), the
evidence queues from the recorder (its journal) and the spooling store — read at scrape time by
a collector, so nothing on the video path counts twice. Only the detector latency is observed as it
happens (`Detector.on_batch`). The API serves `GET /metrics`; `siteaudit worker` serves the same route
on its own HTTP endpoint (`SITEAUDIT_WORKER_HTTP_PORT`, audit_api/worker/http.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from audit_api.storage import ObjectStore, SpoolingStore

if TYPE_CHECKING:
    from audit_api.worker.lease_keeper import LeaseKeeper
    from audit_api.worker.recorder import EventRecorder
    from ingest.worker import Worker

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
router = APIRouter(tags=["metrics"])


class Metrics:
    """One process's registry. `watch()` attaches the worker (and its recorder) once it runs."""

    def __init__(self, store: ObjectStore) -> None:
        self.registry = CollectorRegistry()
        self.store = store
        self.worker: Worker | None = None
        self.recorder: EventRecorder | None = None
        self.leases: LeaseKeeper | None = None
        self._latency = Histogram(
            "siteaudit_detector_latency_seconds",
            "Wall time of one detector call (one batch of due frames).",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_Collector(self))

    def watch(self, worker: Worker, recorder: EventRecorder, leases: LeaseKeeper | None = None) -> None:
        self.worker, self.recorder, self.leases = worker, recorder, leases
        worker.detector.on_batch = lambda _frames, seconds: self._latency.observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _Collector(Collector):
    def __init__(self, metrics: Metrics) -> None:
        self._m = metrics

    def collect(self) -> Iterator[Metric]:
        worker, recorder = self._m.worker, self._m.recorder
        health = worker.health() if worker is not None else {}
        cam = ["camera"]
        families: dict[str, GaugeMetricFamily | CounterMetricFamily] = {
            "input": GaugeMetricFamily(
                "siteaudit_camera_input_fps", "Frames per second received.", labels=cam
            ),
            "analysed": GaugeMetricFamily(
                "siteaudit_camera_analysed_fps", "Frames per second run through the detector.", labels=cam
            ),
            "streaming": GaugeMetricFamily(
                "siteaudit_camera_streaming", "1 while the camera delivers frames, else 0.", labels=cam
            ),
            "reconnects": CounterMetricFamily(
                "siteaudit_camera_reconnects", "Reconnect attempts since the camera started here.", labels=cam
            ),
            "frames": CounterMetricFamily(
                "siteaudit_camera_frames_analysed", "Frames analysed since the camera started.", labels=cam
            ),
            "dropped": CounterMetricFamily(
                "siteaudit_camera_frames_dropped",
                "Due frames replaced before the detector took them (detector behind).",
                labels=cam,
            ),
        }
        for camera_id, snap in sorted(health.items()):
            families["input"].add_metric([camera_id], float(snap["input_fps"]))
            families["analysed"].add_metric([camera_id], float(snap["analysed_fps"]))
            families["streaming"].add_metric([camera_id], 1.0 if snap["state"] == "streaming" else 0.0)
            families["reconnects"].add_metric([camera_id], float(snap["reconnect_count"]))
            families["frames"].add_metric([camera_id], float(snap["analysed"]))
            families["dropped"].add_metric([camera_id], float(snap["dropped"]))
        yield from families.values()
        leases = self._m.leases
        yield GaugeMetricFamily(
            "siteaudit_leases_held",
            "Camera leases this worker holds (the cameras it may run).",
            value=len(leases.held) if leases is not None else 0,
        )
        yield GaugeMetricFamily(
            "siteaudit_evidence_retry_queue",
            "Events whose evidence the object store refused, waiting in the journal for a retry.",
            value=recorder.unstored if recorder is not None else 0,
        )
        yield GaugeMetricFamily(
            "siteaudit_outbox_events",
            "Worker writes (events, closes, outage intervals) waiting in DATA_DIR/journal.sqlite3 for the "
            "database.",
            value=recorder.pending if recorder is not None else 0,
        )
        store = self._m.store
        yield GaugeMetricFamily(
            "siteaudit_spool_objects",
            "Evidence objects spooled on local disk while S3 is unreachable.",
            value=store.pending() if isinstance(store, SpoolingStore) else 0,
        )
        yield CounterMetricFamily(
            "siteaudit_alerts_sent",
            "Supervisor alerts raised by this process (one per recorded event).",
            value=len(recorder.recorded) if recorder is not None else 0,
        )


@router.get("/metrics", include_in_schema=False)
def scrape(request: Request) -> Response:
    """Prometheus text format; unauthenticated like any scrape target (camera ids, no content)."""
    process: Metrics = request.app.state.metrics
    return Response(process.render(), media_type=CONTENT_TYPE_LATEST)
