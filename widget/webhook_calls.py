"""Sending webhook deliveries: a signed POST each, retried with backoff from the outbox.

Every call carries `Widget-Signature: t=<unix time>,v1=<hex>`, where v1 is the
HMAC-SHA256 of "<t>.<body>" under the endpoint's secret. A receiver recomputes it
and refuses old timestamps, so a captured call cannot be replayed later (README).
"""

import functools
import hashlib
import hmac
import ipaddress
import json
import socket
import urllib.error
import urllib.request
from typing import Any

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


class PrivateAddress(OSError):
    """The receiver's host is inside the network Widget runs in."""


def _public_connection(
    address: tuple[str, int], timeout: float | None, source: Any = None
) -> socket.socket:
    """socket.create_connection to the host's public addresses only, tried in turn. Checked
    here, as the socket opens, so DNS cannot answer one address to a check and another to
    the call: a provider's endpoint URL must not reach the database, a cloud metadata
    service or anything else only Widget's network can see."""
    host, port = address
    refused, failure = [], None
    for *_kind, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        ip = ipaddress.ip_address(sockaddr[0])
        if not ip.is_global:
            refused.append(str(ip))
            continue
        try:
            return socket.create_connection((str(ip), port), timeout, source)
        except OSError as exc:
            failure = exc
    if failure is not None:
        raise failure
    raise PrivateAddress(
        f"{host} is {', '.join(refused)}: not a public address, so not called "
        "(WIDGET_WEBHOOK_PRIVATE_ADDRESSES allows it)"
    )


@functools.cache
def _public_only(connection_class: type) -> Any:
    class PublicOnly(connection_class):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._create_connection = _public_connection  # how http.client opens its socket

    return PublicOnly


class _PublicOnlyHandler(urllib.request.AbstractHTTPHandler):
    def do_open(self, http_class: Any, req: Any, **kwargs: Any) -> Any:
        return super().do_open(_public_only(http_class), req, **kwargs)


class _PublicHTTP(_PublicOnlyHandler, urllib.request.HTTPHandler):
    pass


class _PublicHTTPS(_PublicOnlyHandler, urllib.request.HTTPSHandler):
    pass


_opener = urllib.request.build_opener(_NoRedirects)
_public_opener = urllib.request.build_opener(_NoRedirects, _PublicHTTP, _PublicHTTPS)


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
        opener = (
            _opener if current_app.config["WIDGET_WEBHOOK_PRIVATE_ADDRESSES"] else _public_opener
        )
        with opener.open(request, timeout=TIMEOUT_SECONDS) as response:
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
        return outbox.deliver_leased(session, rows, post, logger=logger)
    return outbox.deliver_due(session, WebhookDelivery, post, at=at, logger=logger, limit=limit)
