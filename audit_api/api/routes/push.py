"""Web Push for the signed-in user's browsers: the VAPID public key, subscribe and unsubscribe."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from audit_api.api.deps import CurrentUser, SessionDep
from audit_api.api.route_docs import DocumentedRoute
from audit_api.schemas.alerting import PushSubscriptionIn, PushSubscriptionOut, PushUnsubscribe, VapidKeyOut
from audit_api.services.alerting import webpush

router = APIRouter(prefix="/push", tags=["push"], route_class=DocumentedRoute)


@router.get("/vapid-key")
def vapid_key(session: SessionDep, user: CurrentUser) -> VapidKeyOut:
    """The applicationServerKey for `PushManager.subscribe` (created on the first start)."""
    return VapidKeyOut(public_key=webpush.ensure_keys(session).public_key)


@router.post("/subscriptions", status_code=status.HTTP_201_CREATED)
def subscribe(body: PushSubscriptionIn, session: SessionDep, user: CurrentUser) -> PushSubscriptionOut:
    """Alerts of the user's escalation level (supervisors: their sites) are pushed to this browser too."""
    return PushSubscriptionOut.model_validate(webpush.subscribe(session, body, user))


@router.post("/unsubscribe", status_code=status.HTTP_204_NO_CONTENT)
def unsubscribe(body: PushUnsubscribe, session: SessionDep, user: CurrentUser) -> Response:
    """Stop pushing to this browser (the caller's own subscription; nothing happens for another one)."""
    webpush.unsubscribe(session, body.endpoint, user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
