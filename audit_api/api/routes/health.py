"""Liveness/readiness: the process answers, the database is reachable, and where evidence goes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from audit_api.api.deps import SessionDep
from audit_api.storage import SpoolingStore, StorageError

router = APIRouter(tags=["health"])


def _storage(store: Any) -> dict[str, Any]:
    """The object store's state; with S3 down, evidence spools to local disk, so this is not fatal."""
    target = store.primary if isinstance(store, SpoolingStore) else store
    try:
        target.check()
        state = "ok"
    except StorageError as exc:
        state = f"unavailable: {exc}"
    pending = store.pending() if isinstance(store, SpoolingStore) else 0
    return {"storage": state, "spooled_objects": pending}


@router.get("/health")
def health(request: Request, session: SessionDep) -> JSONResponse:
    try:
        session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return JSONResponse({"status": "degraded", "database": str(exc).splitlines()[0]}, status_code=503)
    storage = _storage(request.app.state.store)
    status = "ok" if storage["storage"] == "ok" else "degraded"  # still serving; evidence is spooled
    return JSONResponse({"status": status, "database": "ok"} | storage)
