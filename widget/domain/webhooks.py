"""Webhooks: a provider's systems hear about bookings and credits.

An event is written as one delivery row per subscribed endpoint, in the same
transaction as the change it reports, so a rolled-back booking announces nothing
and a committed one is never lost; sending (signed, retried) happens after commit.
"""

import secrets
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import bindparam, event, select
from sqlalchemy.orm import Session

from ..models import Booking, Provider, WebhookDelivery, WebhookEndpoint
from .errors import NotFound, ValidationFailed

EVENTS = (
    "booking.created",
    "booking.confirmed",
    "booking.rescheduled",
    "booking.cancelled",
    "credits.changed",
)
LOG_SHOWN = 100
_CACHE = "webhook_endpoints"


def _callable(url: str) -> bool:
    """An http(s) URL with a host and a port an HTTP client can open: printable ASCII only
    (other characters percent-encoded, a host in its xn-- form), no user name or password
    (the signature authenticates each call), a port from 1 to 65535."""
    if not url.isascii() or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return False
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return False
    return (
        parts.scheme in {"http", "https"}
        and bool(parts.hostname)
        and port != 0
        and parts.username is None
        and parts.password is None
    )


def create_endpoint(
    session: Session, provider: Provider, *, url: str, events: list[str], now: datetime
) -> WebhookEndpoint:
    errors: dict[str, str] = {}
    if not _callable(url):
        errors["url"] = (
            "must be an http(s) URL, like https://clinic.example/widget-hooks, in ASCII"
            " (percent-encode other characters) and without a user name or password"
        )
    unknown = [e for e in events if e not in EVENTS]
    if not events:
        errors["events"] = "must name at least one of " + ", ".join(EVENTS)
    elif unknown:
        errors["events"] = f"'{unknown[0]}' is not an event; use " + ", ".join(EVENTS)
    if errors:
        raise ValidationFailed(errors)
    endpoint = WebhookEndpoint(
        provider_id=provider.id,
        url=url,
        events=sorted(set(events), key=EVENTS.index),
        secret="whsec_" + secrets.token_urlsafe(32),
        active=True,
        created_at=now,
    )
    session.add(endpoint)
    _endpoints_changed(session, provider)
    return endpoint


def endpoints_of(session: Session, provider: Provider) -> list[WebhookEndpoint]:
    return list(
        session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.provider_id == provider.id)
            .order_by(WebhookEndpoint.id)
        )
    )


def endpoint_of(session: Session, provider: Provider, endpoint_id: int) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.provider_id != provider.id:
        raise NotFound("No such webhook endpoint.")
    return endpoint


def remove_endpoint(session: Session, provider: Provider, endpoint_id: int) -> WebhookEndpoint:
    """Deleting an endpoint drops its log and anything not yet sent."""
    endpoint = endpoint_of(session, provider, endpoint_id)
    session.delete(endpoint)
    _endpoints_changed(session, provider)
    return endpoint


def _endpoints_changed(session: Session, provider: Provider) -> None:
    session.flush()
    session.info.pop(_CACHE, None)
    session.expire(provider, ["has_webhooks"])


def deliveries_of(session: Session, provider: Provider, endpoint_id: int) -> list[WebhookDelivery]:
    """The endpoint's delivery log, newest first."""
    endpoint = endpoint_of(session, provider, endpoint_id)
    return list(
        session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint.id)
            .order_by(WebhookDelivery.id.desc())
            .limit(LOG_SHOWN)
        )
    )


_ACTIVE = select(WebhookEndpoint).where(
    WebhookEndpoint.provider_id == bindparam("provider_id"), WebhookEndpoint.active.is_(True)
)


def _listening(session: Session, provider_id: int) -> list[WebhookEndpoint]:
    """The provider's active endpoints, read once per transaction, and not at all when the
    provider, already loaded, has none (most have none)."""
    cache: dict[int, list[WebhookEndpoint]] = session.info.setdefault(_CACHE, {})
    if provider_id not in cache:
        provider = session.get(Provider, provider_id)
        if provider is None or not provider.has_webhooks:
            cache[provider_id] = []
        else:
            cache[provider_id] = list(session.scalars(_ACTIVE, {"provider_id": provider_id}))
    return cache[provider_id]


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_endpoints(session: Session) -> None:
    session.info.pop(_CACHE, None)


def emit(
    session: Session,
    provider_id: int,
    event: str,
    data: Callable[[], dict[str, Any]],
    now: datetime,
) -> None:
    """Queue `event` for every active endpoint of the provider that asked for it; `data`
    makes the payload's data, only when someone listens."""
    for endpoint in _listening(session, provider_id):
        if event in endpoint.events:
            payload = {
                "id": str(uuid.uuid4()),
                "type": event,
                "created_at": now.isoformat(),
                "data": data(),
            }
            session.add(
                WebhookDelivery(
                    endpoint_id=endpoint.id,
                    event=event,
                    payload=payload,
                    created_at=now,
                    next_attempt_at=now,
                    attempts=0,
                )
            )


def booking_data(booking: Booking) -> dict[str, Any]:
    return {
        "id": booking.id,
        "status": booking.status.value,
        "start": booking.start_at.isoformat(),
        "end": booking.end_at.isoformat(),
        "appointment_type_id": booking.appointment_type_id,
        "client_id": booking.client_id,
        "channel": booking.channel.value,
        "credit_spent": booking.credit_spent,
        "credit_refunded": booking.credit_refunded,
        "late_cancellation": booking.late_cancellation,
    }


def booking_event(
    session: Session, booking: Booking, event: str, now: datetime, **extra: Any
) -> None:
    """`event` with the booking as its data, and `extra` beside it."""
    emit(session, booking.provider_id, event, lambda: {**booking_data(booking), **extra}, now)
