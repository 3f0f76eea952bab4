"""FastAPI dependencies: the DB session, settings, object store, current user and role gates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session, sessionmaker

from audit_api.api.route_docs import raises
from audit_api.auth import InvalidToken, user_for_token
from audit_api.db import get_db
from audit_api.models import Role, User
from audit_api.settings import Settings
from audit_api.storage import ObjectStore

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token")


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_store(request: Request) -> ObjectStore:
    store: ObjectStore = request.app.state.store
    return store


def get_sessionmaker(request: Request) -> sessionmaker[Session]:
    """For work that outlives the request's session (a streamed response opens its own)."""
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    return factory


SessionDep = Annotated[Session, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionmakerDep = Annotated[sessionmaker[Session], Depends(get_sessionmaker)]
StoreDep = Annotated[ObjectStore, Depends(get_store)]
TokenDep = Annotated[str, Depends(oauth2_scheme)]


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


@raises(401)
def get_current_user(session: SessionDep, settings: SettingsDep, token: TokenDep) -> User:
    try:
        return user_for_token(session, token, settings)
    except InvalidToken as exc:
        raise _unauthorized(str(exc)) from exc


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_role(*roles: Role) -> Callable[[User], User]:
    """A dependency that lets only the given roles through (403 otherwise)."""
    allowed = ", ".join(r.value for r in roles)

    def check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"requires role: {allowed}")
        return user

    return check if set(roles) == set(Role) else raises(403)(check)


AdminUser = Annotated[User, Depends(require_role(Role.ADMIN))]
InspectorUser = Annotated[User, Depends(require_role(Role.INSPECTOR))]
SupervisorUser = Annotated[User, Depends(require_role(Role.SUPERVISOR))]
ViewerUser = Annotated[User, Depends(require_role(Role.ADMIN, Role.INSPECTOR, Role.SUPERVISOR))]
