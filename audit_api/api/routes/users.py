"""User administration (admins only)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from sqlalchemy import select

from audit_api.api.deps import AdminUser, SessionDep
from audit_api.api.params import Id, PageDep, set_total
from audit_api.api.route_docs import CONFLICT, DocumentedRoute
from audit_api.models import User
from audit_api.schemas.people import UserCreate, UserOut, UserUpdate
from audit_api.services import users as service
from audit_api.services.listing import paginate
from audit_api.services.users import user_out

router = APIRouter(prefix="/users", tags=["users"], route_class=DocumentedRoute)


@router.post("", status_code=status.HTTP_201_CREATED, responses=CONFLICT)
def create_user(body: UserCreate, session: SessionDep, admin: AdminUser) -> UserOut:
    user = service.create_user(
        session, body.email, body.password, body.role, name=body.name, site_ids=body.site_ids, actor=admin
    )
    return user_out(user)


@router.get("")
def list_users(session: SessionDep, admin: AdminUser, page: PageDep, response: Response) -> list[UserOut]:
    users, total = paginate(session, select(User).order_by(User.id), page)
    set_total(response, total)
    return [user_out(u) for u in users]


@router.patch("/{user_id}", responses=CONFLICT)
def update_user(user_id: Id, body: UserUpdate, session: SessionDep, admin: AdminUser) -> UserOut:
    user = service.update_user(session, user_id, actor=admin, **body.model_dump(exclude_none=True))
    return user_out(user)
