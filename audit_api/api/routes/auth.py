"""Login (OAuth2 password form → bearer token) and the caller's own profile."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.security import OAuth2PasswordRequestForm

from audit_api.api.deps import CurrentUser, SessionDep, SettingsDep
from audit_api.api.route_docs import DocumentedRoute, errors
from audit_api.auth import authenticate, create_access_token
from audit_api.schemas.people import Token, UserOut
from audit_api.services.users import user_out

router = APIRouter(tags=["auth"], route_class=DocumentedRoute)


@router.post("/auth/token", responses=errors(401, 429))
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep, settings: SettingsDep
) -> Token:
    user = authenticate(session, form.username, form.password)
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "incorrect email or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return Token(access_token=create_access_token(user.id, settings))


@router.get("/me")
def me(user: CurrentUser) -> UserOut:
    return user_out(user)
