"""Manage links: a booking's own signed link to cancel or move it without logging in.

The token names the booking and the start it was sent for, so it stops working once
the booking is cancelled, moved (the new confirmation carries a new link) or past,
and says which in plain words. A client acts here under the same rules as in the
portal: notice and horizon for a new time, the late-cancel window for credits.
"""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Booking, BookingStatus, Channel, Provider
from . import tokens
from .booking import Cancellation, cancel, is_late_for_client, reschedule
from .errors import InvalidState, Refused


def manage_token(booking: Booking, keys: Sequence[str]) -> str:
    return tokens.sign([booking.id, _sent_for(booking)], keys, tokens.MANAGE_BOOKING)


def _sent_for(booking: Booking) -> int:
    """The start a link was sent for, as the same number whichever zone it was given in."""
    return int(booking.start_at.timestamp())


def booking_to_manage(
    session: Session, token: str, keys: Sequence[str], now: datetime
) -> tuple[Booking, Provider]:
    """The booking a manage link names, locked for the change, if the link still works."""
    payload = tokens.unsign(token, keys, tokens.MANAGE_BOOKING)
    if not (
        isinstance(payload, list)
        and len(payload) == 2
        and isinstance(payload[0], int)
        and isinstance(payload[1], int)
    ):
        raise Refused("link_invalid", "This link is not valid.")
    booking_id, sent_for = payload
    booking = session.scalar(select(Booking).where(Booking.id == booking_id).with_for_update())
    if booking is None:
        raise Refused("link_invalid", "This link is not valid.")
    if booking.status == BookingStatus.cancelled:
        raise Refused("booking_cancelled", "This booking was cancelled; this link no longer works.")
    if booking.status != BookingStatus.confirmed:
        raise Refused(
            "booking_closed", f"This booking is {booking.status.value.replace('_', ' ')}."
        )
    if _sent_for(booking) != sent_for:
        raise Refused(
            "booking_moved",
            "This booking has been moved since this link was sent: use the link in the "
            "newest email about it.",
        )
    if booking.start_at <= now:
        raise Refused("booking_past", "This appointment has already taken place.")
    provider = session.get(Provider, booking.provider_id)
    assert provider is not None
    return booking, provider


def cancel_as_client(
    session: Session, provider: Provider, booking: Booking, now: datetime
) -> Cancellation:
    """Refunded before the late-cancel window, forfeited inside it (DESIGN rule 6)."""
    return cancel(session, provider, booking, by=Channel.portal, now=now, reason="by the client")


def move_as_client(
    session: Session, provider: Provider, booking: Booking, start: datetime, now: datetime
) -> Booking:
    """A client moves a booking online only before the late-cancel window."""
    if is_late_for_client(provider, booking, now):
        raise InvalidState(
            "This appointment is too close to move online; please contact your provider."
        )
    return reschedule(session, provider, booking, start=start, channel=Channel.portal, now=now)
