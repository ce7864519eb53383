"""HTML pages of the public flow: confirmation links and the error page for every reason code."""

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, make_response, render_template
from flask.typing import ResponseReturnValue

from ...domain.errors import DomainError
from ...domain.timezones import clock_time, zone_named
from ...extensions import db
from ...models import BookingStatus, Provider
from .. import link_flow
from ..api.base import status_of
from ..limits import read_limit
from .framing import PAGE_POLICY

bp = Blueprint("pages", __name__)

REASONS = {
    "link_invalid": ("This link does not work", "Check that you copied the whole link."),
    "link_expired": ("This link has expired", "Ask your provider for a new one."),
    "link_revoked": ("This link was withdrawn", "Ask your provider for a new one."),
    "link_exhausted": ("This link is used up", "Ask your provider for a new one."),
    "expired": (
        "This hold has expired",
        "The time was released because it was not confirmed in time. Please book again.",
    ),
    "booking_cancelled": (
        "This booking was cancelled",
        "Nothing more to do here. To book again, use your provider's booking page.",
    ),
    "booking_moved": (
        "This booking has moved",
        "Use the link in the newest email about it.",
    ),
    "booking_past": ("This appointment has passed", "It can no longer be changed online."),
    "booking_closed": ("This booking can no longer be changed", "Contact your provider."),
    "csrf_failed": (
        "This form has expired",
        "Go back, reload the page and send the form again. Nothing was changed.",
    ),
    "link_used": ("This link has been used already", "Ask for a new one."),
    "new_clients_only": (
        "This appointment is for new clients",
        "You are already a client: please book through your client portal.",
    ),
    "existing_clients_only": (
        "This appointment is for existing clients",
        "Please book an appointment for new clients first.",
    ),
    "login_required": ("Please log in to book", "Log in to your client portal to book this."),
    "insufficient_credits": (
        "No credit left for this appointment",
        "Buy a package from your provider, or ask them, to book this appointment.",
    ),
    "type_not_public": (
        "This appointment cannot be booked here",
        "It is not offered through public links.",
    ),
    "slot_unavailable": ("This time is no longer free", "Please choose another time."),
    "outside_availability": ("This time is not bookable", "Please choose another time."),
    "too_soon": ("This time is too soon", "Please choose a later time."),
    "too_far_ahead": ("This time is too far ahead", "Please choose an earlier time."),
    "not_found": ("Not found", "There is nothing here."),
    "rate_limited": ("Too many requests", "Please wait a minute and try again."),
    "bad_request": ("This address is not valid", "Start again from the link you were given."),
    "validation_error": ("Some details are not valid", "Go back, correct them and try again."),
    "cross_site": (
        "This form was sent from another site",
        "Open the booking page and send the form from there.",
    ),
    "unauthorized": ("Please log in", "This page needs you to log in."),
    "method_not_allowed": ("This cannot be done here", "Start again from the link you were given."),
    "conflict": ("This already exists", "Nothing was changed."),
    "invalid_state": ("This cannot be done now", "Nothing was changed."),
    "idempotency_conflict": (
        "This request is already being handled",
        "Wait a moment, then check your email before trying again.",
    ),
    "payload_too_large": ("What you sent is too large", "Please shorten it and try again."),
    "service_unavailable": (
        "The booking service is unavailable",
        "Booking is unavailable for a moment; please try again in a minute.",
    ),
    "internal_error": (
        "Something went wrong on our side",
        "Nothing was booked. Please try again in a few minutes.",
    ),
}
PORTAL_CODES = frozenset({"new_clients_only", "login_required"})
"""Refusals an existing client gets past by logging in to the portal."""


def error_page(
    code: str,
    message: str = "",
    *,
    status: int | None = None,
    provider: Provider | None = None,
    slot: tuple[int, datetime | None, str | None] | None = None,
    **context: Any,
) -> tuple[str, int]:
    """The page for a reason code: what happened, what to do next, and the code itself.

    With the provider known, refusals that a login would lift link to its portal, back
    to the `slot` (type id, start, zone) the visitor chose when it is known.
    """
    title, advice = REASONS.get(code, ("Something went wrong", message))
    portal = None
    if provider is not None and code in PORTAL_CODES:
        portal = link_flow.portal_url(provider, *(slot or ()))
    page = render_template(
        "pages/error.html",
        code=code,
        title=title,
        message=message,
        advice=advice,
        portal_url=portal,
        **context,
    )
    return page, status or status_of(DomainError(message, code=code))


def failure_page(code: str, status: int) -> Response:
    """The page of a failure on our side (a database outage, an unexpected error), for any
    page: rendered from the reason code alone, without the database.

    It names no provider (finding one would need the database), so it is never framable.
    """
    page, status = error_page(code, status=status)
    response = make_response(page, status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    return response


@bp.get("/confirm/<token>")
@read_limit
def confirm(token: str) -> ResponseReturnValue:
    try:
        booking, provider = link_flow.confirm(token)
    except DomainError as exc:
        db.session.commit()  # an expired hold stays marked expired
        return error_page(exc.code, exc.message)
    db.session.commit()
    zone = zone_named(booking.timezone or provider.timezone)
    if booking.status == BookingStatus.refused:
        return error_page(
            booking.refusal_reason or "invalid_state",
            provider=provider,
            slot=(booking.appointment_type_id, booking.start_at.astimezone(zone), booking.timezone),
        )
    return render_template(
        "pages/confirmed.html",
        booking=booking,
        provider=provider,
        start=booking.start_at.astimezone(zone),
        zone=zone.key,
        time_label=clock_time,
    ), (200 if booking.status == BookingStatus.confirmed else 409)


# Registers the booking page's and the manage links' routes on bp.
from . import booking_page, framing, manage  # noqa: E402

__all__ = [
    "REASONS",
    "booking_page",
    "bp",
    "error_page",
    "framing",
    "manage",
    "failure_page",
]
