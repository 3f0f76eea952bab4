"""Alert routing per site (admins): which channels get which violation kinds; the delivery queue's state."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from audit_api.api.deps import AdminUser, SessionDep
from audit_api.api.params import Id, IdFilter, PageDep, set_total
from audit_api.api.route_docs import DocumentedRoute
from audit_api.models import DeliveryStatus
from audit_api.schemas.alerting import ChannelCreated, ChannelIn, ChannelOut, DeliveryOut
from audit_api.services.alerting import channels, queue

router = APIRouter(tags=["alerts"], route_class=DocumentedRoute)


@router.get("/sites/{site_id}/alert-channels")
def list_channels(site_id: Id, session: SessionDep, admin: AdminUser) -> list[ChannelOut]:
    return [ChannelOut.model_validate(c) for c in channels.list_channels(session, site_id, admin)]


@router.post("/sites/{site_id}/alert-channels", status_code=status.HTTP_201_CREATED)
def create_channel(site_id: Id, body: ChannelIn, session: SessionDep, admin: AdminUser) -> ChannelCreated:
    """The URL is checked (422 naming the problem) and never returned; a webhook's signing secret is
    returned here, once."""
    channel = channels.create_channel(session, site_id, body, admin)
    return ChannelCreated.model_validate(channel)


@router.delete("/alert-channels/{channel_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_channel(channel_id: Id, session: SessionDep, admin: AdminUser) -> Response:
    channels.deactivate_channel(session, channel_id, admin)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/alert-deliveries")
def list_deliveries(
    session: SessionDep,
    admin: AdminUser,
    page: PageDep,
    response: Response,
    status: DeliveryStatus | None = None,
    alert_id: IdFilter = None,
) -> list[DeliveryOut]:
    """Deliveries newest first, e.g. `?status=failed` with each one's last (redacted) error."""
    rows, total = queue.list_deliveries(session, page, status=status, alert_id=alert_id)
    set_total(response, total)
    return [DeliveryOut.model_validate(r) for r in rows]
