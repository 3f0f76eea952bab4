"""The FastAPI application factory: settings, database, object store and routers wired onto app.state."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session, sessionmaker

from audit_api import ice
from audit_api.api.errors import validation_error
from audit_api.api.params import parse_id
from audit_api.api.routes import (
    actions,
    alert_channels,
    alerts,
    audit,
    auth,
    camera_config,
    camera_health,
    camera_live,
    dashboard,
    events,
    exports,
    health,
    live,
    patrols,
    push,
    recordings,
    reports,
    sites,
    storage,
    users,
    whip,
)
from audit_api.auth import verify_camera_credential
from audit_api.db import make_engine, make_sessionmaker
from audit_api.limits import BodySizeLimit
from audit_api.login_guard import LoginGuard
from audit_api.metrics import Metrics
from audit_api.metrics import router as metrics_router
from audit_api.models import Camera
from audit_api.security_headers import SecurityHeaders, content_security_policy
from audit_api.services.alerting import webpush
from audit_api.services.alerting.sender import AlertSender
from audit_api.services.errors import ServiceError
from audit_api.services.reports.scheduler import ReportScheduler
from audit_api.services.retention_job import RetentionJob
from audit_api.settings import Settings
from audit_api.storage import ObjectStore, open_store
from ingest._frame import Frame
from ingest.whip import WhipHub

API_MODULES = (
    auth,
    users,
    sites,
    camera_config,
    camera_health,
    camera_live,
    events,
    recordings,
    actions,
    live,
    alerts,
    alert_channels,
    patrols,
    push,
    audit,
    dashboard,
    exports,
    reports,
    storage,
    health,
)


def build_store(settings: Settings) -> ObjectStore:
    """The object store the settings describe (local directory or S3/MinIO)."""
    if settings.storage_backend == "local":
        return open_store("local", data_dir=settings.data_dir)
    assert settings.s3_endpoint and settings.s3_access_key and settings.s3_secret_key  # checked by Settings
    return open_store(
        "s3",
        data_dir=settings.data_dir,
        s3_endpoint=settings.s3_endpoint,
        s3_access_key=settings.s3_access_key,
        s3_secret_key=settings.s3_secret_key.get_secret_value(),
        s3_bucket=settings.s3_bucket,
        s3_secure=settings.s3_secure,
        s3_region=settings.s3_region or "us-east-1",
        s3_public_endpoint=settings.s3_public_endpoint,
        object_lock=settings.s3_object_lock,
        retention_days=settings.evidence_short_retention_days if settings.s3_object_lock else None,
    )


def camera_token_verifier(factory: sessionmaker[Session], settings: Settings) -> whip.CameraTokenVerifier:
    """The WHIP routes' credential check (API and worker alike): LookupError for an unknown camera, else
    whether the camera's token or a publish grant for it matches (`verify_camera_credential`)."""

    def verify(camera_id: str, token: str) -> bool:
        number = parse_id(camera_id)
        with factory() as session:
            if number is None or session.get(Camera, number) is None:
                raise LookupError(camera_id)
            return verify_camera_credential(session, number, token, settings)

    return verify


async def service_error(request: Request, exc: Exception) -> JSONResponse:
    status_code = exc.status_code if isinstance(exc, ServiceError) else 500
    headers: dict[str, str] | None = getattr(exc, "headers", None)  # e.g. Retry-After on a 503
    return JSONResponse({"detail": str(exc)}, status_code=status_code, headers=headers)


def create_app(
    settings: Settings | None = None,
    *,
    store: ObjectStore | None = None,
    frame_sink: Callable[[Frame], None] | None = None,
    whip_max_fps: float = 10.0,
) -> FastAPI:
    """Build the app; raises DatabaseUnavailable when the database cannot be reached.

    The schema is not migrated here: callers (the CLI, tests) run audit_api.db.upgrade_to_head first.
    With `frame_sink` (the worker's `push_frame`), WHIP publishers' frames enter the same pipeline as
    RTSP frames; without it, POST /whip answers 503 (this process runs no worker).
    """
    settings = settings or Settings()
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.effective_database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The hub lives on the server's event loop (aiortc is asyncio), so it is built here.
        hub = None
        if frame_sink is not None:
            hub = WhipHub(frame_sink, max_fps=whip_max_fps, ice_servers=lambda: ice.for_aiortc(settings))
        app.state.whip_hub = hub
        with app.state.sessionmaker() as session:
            webpush.ensure_keys(session)  # VAPID keys, created on the first start and kept in the database
        # One alert sender per app, however many servers run its lifespan (tests serve one app twice).
        sender = None
        if settings.alert_sender and getattr(app.state, "alert_sender", None) is None:
            sender = app.state.alert_sender = AlertSender(app.state.sessionmaker, settings, app.state.store)
            sender.start()
        scheduler = None
        if settings.report_scheduler and getattr(app.state, "report_scheduler", None) is None:
            scheduler = ReportScheduler(app.state.sessionmaker, settings, app.state.store)
            app.state.report_scheduler = scheduler
            scheduler.start()
        retention_job = None
        if settings.retention_job and getattr(app.state, "retention_job", None) is None:
            retention_job = RetentionJob(app.state.sessionmaker, settings, app.state.store)
            app.state.retention_job = retention_job
            retention_job.start()
        try:
            yield
        finally:
            if retention_job is not None:
                retention_job.stop()
                app.state.retention_job = None
            if scheduler is not None:
                scheduler.stop()
                app.state.report_scheduler = None
            if sender is not None:
                sender.stop()
                app.state.alert_sender = None
            grids = getattr(app.state, "live_grids", None)
            if grids is not None:  # grid views still open are audited now
                grids.close()
                app.state.live_grids = None
            if hub is not None:
                await hub.close()
            app.state.login_guard.close()
            engine.dispose()

    app = FastAPI(title="siteaudit", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.camera_token_verifier = camera_token_verifier(app.state.sessionmaker, settings)
    app.state.routes_to_workers = frame_sink is None  # deployed API: 307 to the owning worker
    app.state.login_guard = LoginGuard(settings, app.state.sessionmaker)
    app.state.store = store if store is not None else build_store(settings)
    app.state.metrics = Metrics(app.state.store)  # GET /metrics
    app.add_exception_handler(ServiceError, service_error)
    app.add_exception_handler(RequestValidationError, validation_error)  # 422s quote only excerpts
    photo_upload = (actions.PHOTO_UPLOAD_PATH, actions.photo_upload_limit(settings.max_photo_bytes))
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_upload_bytes, larger=[photo_upload])
    # Outermost, so 413s, static pages and streams get the headers too.
    docs = (app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url)
    app.add_middleware(
        SecurityHeaders, csp=content_security_policy(settings), docs_paths=[p for p in docs if p]
    )
    for module in API_MODULES:
        app.include_router(module.router, prefix="/api")
    app.include_router(whip.router)  # /whip/{camera_id}: RFC 9725 publishers (phones, cameras)
    app.include_router(metrics_router)  # /metrics: Prometheus
    if settings.web_dir.is_dir():
        app.mount("/", StaticFiles(directory=settings.web_dir, html=True), name="web")
    return app
