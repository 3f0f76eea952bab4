"""Request/response bodies for users and login."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from audit_api.models import Role
from audit_api.schemas.bounds import MAX_ID_LIST, BodyId


def _email(value: str) -> str:
    value = value.strip().lower()
    local, at, domain = value.partition("@")
    if not (local and at and "." in domain) or any(c.isspace() for c in value):
        raise ValueError(f"{value!r} is not an email address")
    return value


Email = Annotated[str, Field(min_length=3, max_length=254), AfterValidator(_email)]
Password = Annotated[str, Field(min_length=8, max_length=256)]


class Token(BaseModel):
    """OAuth2 token response (RFC 6749 §5.1) plus the sign-in's refresh token."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="access token lifetime, seconds")
    refresh_token: str = Field(description="opaque; single use: POST /api/auth/refresh returns the next one")


RefreshTokenValue = Annotated[str, Field(min_length=1, max_length=256)]


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: RefreshTokenValue


class LogoutRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: RefreshTokenValue | None = Field(
        None, description="ends this token's sign-in even when the access token has expired"
    )


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    password: Password
    role: Role
    name: str = Field("", max_length=200)
    site_ids: list[BodyId] = Field(
        default_factory=list, max_length=MAX_ID_LIST, description="sites a supervisor is responsible for"
    )


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    name: str | None = Field(None, max_length=200)
    active: bool | None = None
    password: Password | None = None
    site_ids: list[BodyId] | None = Field(None, max_length=MAX_ID_LIST)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    role: Role
    active: bool
    site_ids: list[int]
