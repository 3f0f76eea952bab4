"""Liveness/readiness: the process answers, the database is reachable, and where evidence goes."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from audit_api.api.deps import SessionDep
from audit_api.api.route_docs import DocumentedRoute
from audit_api.storage import SpoolingStore, StorageError

router = APIRouter(tags=["health"], route_class=DocumentedRoute)


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"] = Field(description="degraded: database or object store down")
    database: str = Field(description="'ok' or the first line of the database error")
    storage: str | None = Field(None, description="'ok' or 'unavailable: ...' (evidence then spools to disk)")
    spooled_objects: int | None = Field(None, description="evidence objects waiting in the local spool")


def _storage(store: Any) -> tuple[str, int]:
    """The object store's state; with S3 down, evidence spools to local disk, so this is not fatal."""
    target = store.primary if isinstance(store, SpoolingStore) else store
    try:
        target.check()
        state = "ok"
    except StorageError as exc:
        state = f"unavailable: {exc}"
    pending = store.pending() if isinstance(store, SpoolingStore) else 0
    return state, pending


@router.get(
    "/health",
    response_model_exclude_none=True,
    responses={503: {"model": HealthOut, "description": "The database cannot be reached"}},
)
def health(request: Request, response: Response, session: SessionDep) -> HealthOut:
    try:
        session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return HealthOut(status="degraded", database=str(exc).splitlines()[0])
    storage, pending = _storage(request.app.state.store)
    state: Literal["ok", "degraded"] = "ok" if storage == "ok" else "degraded"  # still serving; spooled
    return HealthOut(status=state, database="ok", storage=storage, spooled_objects=pending)
