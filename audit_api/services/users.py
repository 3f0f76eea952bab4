"""User administration, usable from the API and the CLI."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit_api import audit_log
from audit_api.auth import hash_password
from audit_api.models import Role, Site, User
from audit_api.schemas.people import UserOut
from audit_api.services.errors import Conflict, Invalid, NotFound

SYSTEM_ACTOR = "system"


def actor_of(user: User | None) -> str:
    return SYSTEM_ACTOR if user is None else f"user:{user.id}"


def _sites(session: Session, site_ids: Sequence[int]) -> list[Site]:
    sites = list(session.scalars(select(Site).where(Site.id.in_(site_ids))))
    missing = set(site_ids) - {s.id for s in sites}
    if missing:
        raise Invalid(f"unknown site ids: {sorted(missing)}")
    return sites


def create_user(
    session: Session,
    email: str,
    password: str,
    role: Role | str,
    *,
    name: str = "",
    site_ids: Sequence[int] = (),
    actor: User | None = None,
) -> User:
    """Create and commit a user; raises Conflict when the email is taken."""
    email = email.strip().lower()
    if session.scalars(select(User).where(User.email == email)).first() is not None:
        raise Conflict(f"a user with email {email!r} already exists")
    user = User(email=email, name=name, role=Role(role), password_hash=hash_password(password), active=True)
    user.sites = _sites(session, site_ids)
    session.add(user)
    session.flush()
    audit_log.append(
        session, actor_of(actor), "user.created", f"user:{user.id}", {"email": email, "role": user.role}
    )
    session.commit()
    return user


def _keeps_an_admin(session: Session, user: User, role: Role | None, active: bool | None) -> None:
    """Conflict when the change would leave no active admin (nobody could administer users any more)."""
    if user.role != Role.ADMIN or not user.active:
        return
    if (role is None or role == Role.ADMIN) and active is not False:
        return
    # FOR UPDATE (PostgreSQL): two admins demoting each other at once cannot both pass this check.
    others = session.scalars(
        select(User.id)
        .where(User.role == Role.ADMIN, User.active.is_(True), User.id != user.id)
        .with_for_update()
    ).first()
    if others is None:
        what = "deactivated" if active is False else "demoted"
        raise Conflict(
            f"user {user.id} is the last active admin and cannot be {what}: make another user admin first"
        )


def update_user(
    session: Session,
    user_id: int,
    *,
    actor: User | None,
    role: Role | None = None,
    name: str | None = None,
    active: bool | None = None,
    password: str | None = None,
    site_ids: Sequence[int] | None = None,
) -> User:
    """Apply the given changes and commit; None means unchanged.

    A new password, another role or a deactivation bumps the user's token_version, which revokes every
    access token and sign-in issued before. Supervised sites are read on every request, so changing them
    takes effect at once without signing the supervisor out.
    """
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    _keeps_an_admin(session, user, role, active)
    changes: dict[str, object] = {}
    new_role = role is not None and role != user.role
    revoke = password is not None or new_role or (active is False and user.active)
    if role is not None:
        user.role = changes["role"] = role
    if name is not None:
        user.name = changes["name"] = name
    if active is not None:
        user.active = changes["active"] = active
    if password is not None:
        user.password_hash = hash_password(password)
        changes["password"] = "changed"
    if site_ids is not None:
        user.sites = _sites(session, site_ids)
        changes["site_ids"] = sorted(site_ids)
    if revoke:
        user.token_version += 1
        changes["sign_ins_revoked"] = True
    audit_log.append(session, actor_of(actor), "user.updated", f"user:{user.id}", changes)
    session.commit()
    return user


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        active=user.active,
        site_ids=sorted(s.id for s in user.sites),
    )
