"""The `siteaudit` command: demo, serve, worker, user and model commands.

Expected failures (bad input, unreachable camera or database, storage outage) print one line on stderr
and exit with code 2 — never a traceback; nothing half-written is left behind.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from audit_api._cli_open import load_detector as _load_detector
from audit_api._cli_open import open_database as _open_database
from audit_api._cli_open import open_services as _open_services
from audit_api._cli_open import settings_from as _settings

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SITEAUDIT_SHARED", REPO.parent / "shared"))
DEFAULT_DEMO_VIDEO = SHARED / "videos" / "ppe-2.mp4"


class CliError(Exception):
    """A user-facing failure: printed as one line, exit code 2."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for ours in ("audit_api", "detect", "ingest"):  # our own progress at INFO, libraries' only when -v
        logging.getLogger(ours).setLevel(logging.DEBUG if args.verbose else logging.INFO)
    try:
        code: int = args.func(args)
        return code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        message = _expected_error(exc)
        if message is None:
            raise
        print(f"siteaudit: error: {message}", file=sys.stderr)
        return 2


def _expected_error(exc: Exception) -> str | None:
    """The one-line message for failures a user can cause and fix; None for bugs (keep the traceback)."""
    from audit_api.db import DatabaseUnavailable
    from audit_api.services.camera_runtime import CameraConfigError
    from audit_api.services.errors import ServiceError
    from audit_api.storage import StorageError
    from audit_api.worker.http import WorkerHttpError
    from detect.model import ModelError
    from ingest.source import SourceError
    from ingest.urls import InvalidCameraURL

    expected = (
        CliError
        | DatabaseUnavailable
        | StorageError
        | ModelError
        | InvalidCameraURL
        | CameraConfigError
        | ServiceError
        | WorkerHttpError
    )
    if isinstance(exc, expected):
        return str(exc)
    if isinstance(exc, SourceError):
        return f"cannot read the video source: {exc}"
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or exc.title
        return f"invalid setting {where}: {err['msg']}"
    return None


def _parser() -> argparse.ArgumentParser:
    from audit_api import _cli_audit as audit_cli
    from detect import cli as model_cli

    parser = argparse.ArgumentParser(prog="siteaudit", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run the whole path on a video or RTSP camera, then serve the pages")
    demo.add_argument(
        "source", nargs="?", default=str(DEFAULT_DEMO_VIDEO), help="video file or rtsp:// URL (default ppe-2)"
    )
    demo.add_argument("--data-dir", type=Path, help="where the SQLite file and evidence go (default ./data)")
    demo.add_argument("--no-serve", action="store_true", help="analyse and exit (files only)")
    _server_args(demo)
    demo.set_defaults(func=_demo)

    serve = sub.add_parser("serve", help="API + pages (+ the worker for all cameras, unless --no-worker)")
    serve.add_argument("--no-worker", action="store_true", help="API only (deployed mode: run `worker`)")
    _server_args(serve)
    serve.set_defaults(func=_serve)

    worker = sub.add_parser("worker", help="run every enabled camera from the database")
    worker.set_defaults(func=_worker)

    user = sub.add_parser("user", help="manage users")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    create = user_sub.add_parser("create", help="create a user (password read from the terminal or stdin)")
    create.add_argument("email")
    create.add_argument("--role", choices=("admin", "inspector", "supervisor"), required=True)
    create.add_argument("--name", default="")
    create.set_defaults(func=_user_create)
    update = user_sub.add_parser("update", help="change a user's role, state or password (revokes sign-ins)")
    update.add_argument("email")
    update.add_argument("--role", choices=("admin", "inspector", "supervisor"))
    state = update.add_mutually_exclusive_group()
    state.add_argument("--deactivate", dest="active", action="store_false", default=None)
    state.add_argument("--activate", dest="active", action="store_true")
    update.add_argument("--password", action="store_true", help="set a new password (terminal or stdin)")
    update.set_defaults(func=_user_update)

    model_cli.register(sub)
    audit_cli.register(sub)
    return parser


def _server_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default=None, help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port (default 8000)")
    # Phones only open their camera for an https page (or localhost): serve TLS directly when asked.
    p.add_argument("--tls-cert", type=Path, help="PEM certificate: serve https (for phone camera pages)")
    p.add_argument("--tls-key", type=Path, help="PEM private key that goes with --tls-cert")


def _tls(args: argparse.Namespace) -> tuple[Path, Path] | None:
    if (args.tls_cert is None) != (args.tls_key is None):
        raise CliError("--tls-cert and --tls-key go together")
    if args.tls_cert is None:
        return None
    for path in (args.tls_cert, args.tls_key):
        if not path.is_file():
            raise CliError(f"TLS file not found: {path}")
    return args.tls_cert, args.tls_key


def _check_source(source: str) -> Path | str:
    """A readable video file, or a valid rtsp(s) URL; anything else is refused before any writes."""
    from ingest.urls import validate_camera_url

    if "://" in source:
        return validate_camera_url(source)
    path = Path(source)
    if not path.is_file():
        raise CliError(f"video not found: {path}")
    from ingest.files import VideoFileSource

    probe = VideoFileSource("probe", path)
    try:
        next(iter(probe.frames()))
    except StopIteration:
        raise CliError(f"video has no frames: {path}") from None
    finally:
        probe.close()
    return path


def _demo(args: argparse.Namespace) -> int:
    from audit_api.demo import DEMO_PASSWORD, DEMO_USERS, analyse_file, seed
    from ingest.rtsp import RtspSource

    tls = _tls(args)
    os.environ.setdefault("SITEAUDIT_DEV_MODE", "true")  # the demo runs on the embedded default
    settings = _settings(data_dir=args.data_dir, host=args.host, port=args.port)
    source = _check_source(args.source)
    if not args.no_serve:
        _check_port_free(settings.host, settings.port)
    if isinstance(source, str):  # probe the camera before touching the database
        probe = RtspSource("probe", source, policy=settings.camera_network_policy)
        try:
            next(iter(probe.frames()))
        finally:
            probe.close()
    detector = _load_detector(settings)
    sessions, recorder = _open_services(settings)
    name = Path(source).name if isinstance(source, Path) else "rtsp camera"
    with sessions() as session:
        camera = seed(session, name, source if isinstance(source, str) else None)
    print(
        f"demo logins (password {DEMO_PASSWORD!r}): " + ", ".join(f"{e} ({r.value})" for e, r in DEMO_USERS)
    )
    if isinstance(source, Path):
        result = analyse_file(source, camera, sessions, detector, recorder)
        print(
            f"analysed {source.name}: {result.frames} frames, {result.analysed} analysed in "
            f"{result.seconds:.1f} s; {len(result.event_ids)} event(s) recorded"
        )
        _print_events(sessions, result.event_ids)
        if args.no_serve:
            return 0
        # Keep the worker running: cameras and phones added on the admin page start at once.
        return _run_server(settings, sessions, recorder, detector, with_worker=True, tls=tls)
    if args.no_serve:
        raise CliError("--no-serve only applies to video files; an RTSP camera runs until stopped")
    return _run_server(settings, sessions, recorder, detector, with_worker=True, tls=tls)


def _print_events(sessions: Any, event_ids: list[int]) -> None:
    from audit_api.models import Clip, ClipKind, Event

    with sessions() as session:
        for event_id in event_ids:
            event = session.get(Event, event_id)
            clip = next(c for c in event.clips if c.kind == ClipKind.CLIP) if event else None
            if event is None or not isinstance(clip, Clip):
                continue
            print(
                f"  event {event.id}: {', '.join(event.kinds)} {event.started_at:%H:%M:%S}-"
                f"{event.ended_at:%H:%M:%S} clip {clip.size // 1024} KiB sha256 {clip.sha256[:16]}…"
            )


def _serve(args: argparse.Namespace) -> int:
    tls = _tls(args)
    settings = _settings(host=args.host, port=args.port)
    sessions, recorder = _open_services(settings)
    detector = None if args.no_worker else _load_detector(settings)
    return _run_server(settings, sessions, recorder, detector, with_worker=not args.no_worker, tls=tls)


def _lease_keeper(settings: Any, sessions: Any, worker_url: str | None = None) -> Any:
    """The worker's camera leases; on SQLite (embedded) it is the one worker and runs every camera."""
    from audit_api.worker.lease_keeper import LeaseKeeper

    sole = sessions.kw["bind"].dialect.name == "sqlite"
    return LeaseKeeper(
        sessions,
        max_cameras=settings.max_cameras,
        ttl_s=settings.lease_ttl_s,
        sole_worker=sole,
        worker_url=worker_url,
    )


def _worker(args: argparse.Namespace) -> int:
    from audit_api.metrics import Metrics
    from audit_api.worker.http import WorkerHttp, advertised_url, bind, create_worker_app
    from audit_api.worker.sync import start_worker

    settings = _settings()
    sessions, recorder = _open_services(settings)
    detector = _load_detector(settings)
    http = WorkerHttp(bind(settings))  # a busy port fails before any camera starts
    url = advertised_url(settings, http.port)
    leases = _lease_keeper(settings, sessions, worker_url=url)  # the API routes phones and viewers to it
    worker, stop_worker = start_worker(
        detector,
        sessions,
        recorder,
        leases,
        policy=settings.camera_network_policy,
        segment_s=settings.clip_segment_s,
    )
    metrics = Metrics(recorder.store)
    metrics.watch(worker, recorder, leases)
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    try:
        http.start(create_worker_app(settings, sessions, recorder.store, worker, metrics, url))
        print(f"worker {leases.worker_id} running (up to {settings.max_cameras} camera leases) at {url} "
              "(WHIP, live view, /api/health, /metrics); Ctrl-C to stop", flush=True)  # fmt: skip
        done.wait()
    finally:
        stop_worker()  # releases the leases: their worker_url is cleared, the API stops routing here
        http.stop()
    return 0


def _run_server(
    settings: Any,
    sessions: Any,
    recorder: Any,
    detector: Any,
    *,
    with_worker: bool,
    tls: tuple[Path, Path] | None = None,
) -> int:
    import uvicorn

    from audit_api.main import create_app
    from audit_api.worker.sync import start_worker

    _check_port_free(settings.host, settings.port)
    stop_worker: Callable[[], None] = lambda: None  # noqa: E731
    if with_worker and detector is not None:
        leases = _lease_keeper(settings, sessions)
        worker, stop_worker = start_worker(
            detector,
            sessions,
            recorder,
            leases,
            policy=settings.camera_network_policy,
            segment_s=settings.clip_segment_s,
        )
        app = create_app(settings, store=recorder.store, frame_sink=worker.push_frame)
        app.state.worker = worker
        app.state.metrics.watch(worker, recorder, leases)
    else:
        app = create_app(settings, store=recorder.store)

    scheme = "https" if tls else "http"
    print(f"serving {scheme}://{settings.host}:{settings.port}  (Ctrl-C to stop)", flush=True)
    try:
        uvicorn.run(
            app,
            host=settings.host,
            port=settings.port,
            log_level="warning",
            timeout_graceful_shutdown=5,  # open alert streams (SSE) would otherwise hold Ctrl-C
            ssl_certfile=str(tls[0]) if tls else None,
            ssl_keyfile=str(tls[1]) if tls else None,
        )
    finally:
        stop_worker()
    return 0


def _check_port_free(host: str, port: int) -> None:
    """Fail with one line before starting cameras, rather than uvicorn's log after."""
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise CliError(f"cannot listen on {host}:{port} ({exc.strerror}); pass --port") from None


def _read_password() -> str:
    password = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    if len(password) < 8:
        raise CliError("password must be at least 8 characters")
    return password


def _user_create(args: argparse.Namespace) -> int:
    from audit_api.services.users import create_user

    settings = _settings()
    sessions = _open_database(settings)
    password = _read_password()
    with sessions() as session:
        user = create_user(session, args.email, password, args.role, name=args.name)
        print(f"created {user.role} {user.email} (id {user.id})")
    return 0


def _user_update(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from audit_api.models import Role, User
    from audit_api.services.users import update_user

    if args.role is None and args.active is None and not args.password:
        raise CliError("nothing to change: pass --role, --activate/--deactivate or --password")
    sessions = _open_database(_settings())
    password = _read_password() if args.password else None
    with sessions() as session:
        email = args.email.strip().lower()
        user_id = session.scalars(select(User.id).where(User.email == email)).first()
        if user_id is None:
            raise CliError(f"no user with email {email!r}")
        role = Role(args.role) if args.role else None
        user = update_user(session, user_id, actor=None, role=role, active=args.active, password=password)
        print(f"updated {user.email}: {user.role}, {'active' if user.active else 'deactivated'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
