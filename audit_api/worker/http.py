"""The worker's own HTTP endpoint (`siteaudit worker`): WHIP for the cameras it holds, their live view,
health and Prometheus metrics — the same route modules the API serves, on the worker's own state.

- `POST /whip/{camera}` (+ OPTIONS, DELETE): `api.routes.whip` with a `WhipHub` feeding this worker's
  `push_frame`; the phone arrives here through the API's 307 (publish grant) or directly (its token),
  both checked by `auth.verify_camera_credential`. Only cameras this worker runs are accepted.
- `/api/cameras/{camera}/live`, `live/frame`, `detections`, `captures`: `api.routes.camera_live` on this
  worker (`app.state.worker`); the API forwards viewers here after checking them.
- `GET /api/cameras/{camera}/live/current` (`api.routes.worker_frames`, worker only): the current frame,
  as held and with boxes, which the API stores for a capture or a patrol finding in deployed mode.
- `GET /api/health`, `GET /metrics`.

`serve_worker_http` binds the socket first (a busy port is one clear error before any camera starts) and
runs uvicorn in a thread; the URL it advertises (`public_url`) goes into every lease the worker holds.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from sqlalchemy.orm import Session, sessionmaker

from audit_api import ice
from audit_api.api.errors import validation_error
from audit_api.api.routes import camera_live, health, whip, worker_frames
from audit_api.limits import BodySizeLimit
from audit_api.main import camera_token_verifier, service_error
from audit_api.metrics import Metrics
from audit_api.metrics import router as metrics_router
from audit_api.services.errors import ServiceError
from audit_api.settings import Settings
from audit_api.storage import ObjectStore
from ingest.whip import WhipHub
from ingest.worker import Worker

WHIP_MAX_FPS = 10.0  # as in the embedded app: the pre-roll ring and analysis never need more


class WorkerHttpError(Exception):
    """The worker's HTTP endpoint cannot listen (busy port, bad address): one line for the CLI."""


def create_worker_app(
    settings: Settings,
    sessions: sessionmaker[Session],
    store: ObjectStore,
    worker: Worker,
    metrics: Metrics,
    public_url: str,
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        hub = WhipHub(worker.push_frame, max_fps=WHIP_MAX_FPS, ice_servers=lambda: ice.for_aiortc(settings))
        app.state.whip_hub = hub
        try:
            yield
        finally:
            await hub.close()

    app = FastAPI(title="siteaudit worker", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.sessionmaker = sessions
    app.state.store = store
    app.state.worker = worker
    app.state.metrics = metrics
    app.state.public_url = public_url.rstrip("/")
    app.state.camera_token_verifier = camera_token_verifier(sessions, settings)
    app.add_exception_handler(ServiceError, service_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_upload_bytes)
    app.include_router(whip.router)
    app.include_router(camera_live.router, prefix="/api")
    app.include_router(worker_frames.router, prefix="/api")
    app.include_router(health.router, prefix="/api")
    app.include_router(metrics_router)
    return app


def advertised_url(settings: Settings, port: int) -> str:
    """The URL leases name: SITEAUDIT_WORKER_PUBLIC_URL ({host} and {port} filled in), else
    http://bind-address:port (this machine's host name when bound to every address)."""
    host = settings.worker_http_host
    if host in ("0.0.0.0", "::", ""):
        host = socket.gethostname()
    if settings.worker_public_url:
        return settings.worker_public_url.replace("{host}", host).replace("{port}", str(port)).rstrip("/")
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


def bind(settings: Settings) -> socket.socket:
    host, port = settings.worker_http_host, settings.worker_http_port
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise WorkerHttpError(
            f"cannot serve the worker endpoint on {host}:{port} ({exc.strerror}); "
            "set SITEAUDIT_WORKER_HTTP_PORT (0 picks a free port)"
        ) from None
    sock.listen(128)
    return sock


@dataclass
class WorkerHttp:
    """A bound socket; `start(app)` serves the app on it in a thread, `stop()` ends it."""

    sock: socket.socket
    server: uvicorn.Server | None = None
    thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def start(self, app: FastAPI) -> None:
        config = uvicorn.Config(
            app, log_level="warning", lifespan="on", ws="none", timeout_graceful_shutdown=5
        )
        self.server = server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=server.run, kwargs={"sockets": [self.sock]}, name="worker-http", daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise WorkerHttpError(f"the worker endpoint on port {self.port} did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.server is not None and self.thread is not None:
            self.server.should_exit = True
            self.thread.join(30)
        self.sock.close()
