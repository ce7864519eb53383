"""Sending webhook deliveries: a signed POST each, retried with backoff from the outbox.

Every call carries `Widget-Signature: t=<unix time>,v1=<hex>`, where v1 is the
HMAC-SHA256 of "<t>.<body>" under the endpoint's secret. A receiver recomputes it
and refuses old timestamps, so a captured call cannot be replayed later (README).
"""

import hashlib
import hmac
import json
import urllib.error
import urllib.request

from flask import current_app

from . import outbox
from .clock import now
from .extensions import db
from .models import WebhookDelivery, WebhookEndpoint

TIMEOUT_SECONDS = 10


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A 3xx is an answer other than 2xx: followed, it would turn the POST into a bodiless
    GET and log the event as delivered."""

    def redirect_request(self, *_args: object, **_kwargs: object) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def post(delivery: WebhookDelivery) -> None:
    """One attempt; anything but a 2xx answer is a failure to retry."""
    endpoint = db.session.get(WebhookEndpoint, delivery.endpoint_id)
    assert endpoint is not None
    url, secret = endpoint.url, endpoint.secret
    # SQLite's write lock lasts the whole transaction: never hold it across a call out.
    db.session.commit()
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    timestamp = int(now().timestamp())
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Widget-Webhooks/1",
            "Widget-Event": delivery.event,
            "Widget-Delivery": str(delivery.id),
            "Widget-Signature": f"t={timestamp},v1={signature(secret, timestamp, body)}",
        },
    )
    delivery.last_status = None  # an attempt that gets no answer shows none
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            delivery.last_status = response.status
    except urllib.error.HTTPError as exc:
        delivery.last_status = exc.code
        raise


def deliver_due_webhooks(
    *, limit: int = outbox.DELIVERY_LIMIT, rows: list[WebhookDelivery] | None = None
) -> outbox.DeliveryCounts:
    """The due deliveries, or the leased `rows`."""
    session, at, logger = db.session(), now(), current_app.logger
    if rows is not None:
        return outbox.deliver_leased(session, rows, post, at=at, logger=logger)
    return outbox.deliver_due(session, WebhookDelivery, post, at=at, logger=logger, limit=limit)
