"""Engine/session factories, the FastAPI session dependency and programmatic Alembic migrations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request

_PACKAGE_DIR = Path(__file__).resolve().parent


class DatabaseUnavailable(RuntimeError):
    """The database URL is malformed, its driver is missing, or the server cannot be reached."""


def _describe(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return text[0] if text else type(orig).__name__


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")  # SQLite ignores FOREIGN KEY clauses without this
    cursor.execute("PRAGMA journal_mode=WAL")  # readers (API) do not block the writer (worker)
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Create an engine and prove it can connect; raises DatabaseUnavailable with a one-line reason."""
    try:
        parsed = make_url(url)
        if parsed.drivername in ("postgresql", "postgres"):
            parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3, not the psycopg2 default
        engine = create_engine(parsed, pool_pre_ping=True)
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise DatabaseUnavailable(f"invalid database URL {_describe(url)}: {_first_line(exc)}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        with engine.connect():
            pass
    except DBAPIError as exc:
        engine.dispose()
        raise DatabaseUnavailable(f"cannot connect to {_describe(url)}: {_first_line(exc)}") from exc
    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def get_db(request: Request) -> Iterator[Session]:
    """FastAPI dependency: one session per request from the app's sessionmaker, closed afterwards."""
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    with factory() as session:
        yield session


def alembic_config(url: str | None = None) -> Config:
    """An Alembic Config located through the package path, so it works from an installed wheel."""
    config = Config(str(_PACKAGE_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(_PACKAGE_DIR / "migrations"))
    if url is not None:
        config.attributes["database_url"] = url  # not via set_main_option: '%' in URLs breaks ini parsing
    return config


def upgrade_to_head(url: str) -> None:
    """Apply every migration to the database at url."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except DBAPIError as exc:
        raise DatabaseUnavailable(f"migrating {_describe(url)} failed: {_first_line(exc)}") from exc
    finally:
        engine.dispose()


def downgrade_to_base(url: str) -> None:
    """Undo every migration (tests and disaster recovery only)."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
    finally:
        engine.dispose()
