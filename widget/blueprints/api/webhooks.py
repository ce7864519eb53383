"""Webhook endpoints and their delivery logs: the provider's systems hear about changes."""

from typing import Annotated

from flask import jsonify
from flask.typing import ResponseReturnValue
from pydantic import Field, StrictStr

from ...domain import webhooks
from ...extensions import db
from ...models import WebhookDelivery, WebhookEndpoint
from .base import BodyAndStatus, bp, current_provider, idempotent, now, parse_body
from .render import timestamp
from .schemas import Schema


class WebhookFields(Schema):
    url: Annotated[StrictStr, Field(min_length=1, max_length=2000)]
    events: Annotated[list[StrictStr], Field(max_length=10)]


def endpoint_json(endpoint: WebhookEndpoint, *, with_secret: bool = False) -> dict[str, object]:
    shown: dict[str, object] = {
        "id": endpoint.id,
        "url": endpoint.url,
        "events": endpoint.events,
        "active": endpoint.active,
        "created_at": timestamp(endpoint.created_at),
    }
    if with_secret:
        shown["secret"] = endpoint.secret
    return shown


def delivery_json(delivery: WebhookDelivery) -> dict[str, object]:
    return {
        "id": delivery.id,
        "event": delivery.event,
        "payload": delivery.payload,
        "created_at": timestamp(delivery.created_at),
        "attempts": delivery.attempts,
        "delivered_at": timestamp(delivery.sent_at),
        "next_attempt_at": None
        if delivery.sent_at or delivery.given_up_at
        else timestamp(delivery.next_attempt_at),
        "given_up_at": timestamp(delivery.given_up_at),
        "last_status": delivery.last_status,
        "last_error": delivery.last_error,
    }


@bp.post("/webhooks")
@idempotent()
def create_webhook() -> BodyAndStatus:
    """The secret is shown here and in the list: the provider needs it to check signatures."""
    body = parse_body(WebhookFields)
    endpoint = webhooks.create_endpoint(
        db.session, current_provider(), url=body.url, events=body.events, now=now()
    )
    return endpoint_json(endpoint, with_secret=True), 201


@bp.get("/webhooks")
def list_webhooks() -> ResponseReturnValue:
    found = webhooks.endpoints_of(db.session, current_provider())
    return jsonify({"webhooks": [endpoint_json(e, with_secret=True) for e in found]})


@bp.delete("/webhooks/<id:endpoint_id>")
def delete_webhook(endpoint_id: int) -> ResponseReturnValue:
    endpoint = webhooks.remove_endpoint(db.session, current_provider(), endpoint_id)
    db.session.commit()
    return jsonify(endpoint_json(endpoint))


@bp.get("/webhooks/<id:endpoint_id>/deliveries")
def webhook_deliveries(endpoint_id: int) -> ResponseReturnValue:
    found = webhooks.deliveries_of(db.session, current_provider(), endpoint_id)
    return jsonify({"deliveries": [delivery_json(d) for d in found]})
