"""What a logged-in client sees in their portal: what they may book, and their bookings.

The answers come from the policy and the booking rules; the portal's pages only show
them (DESIGN: templates get permissions as booleans computed by the policy).
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import AppointmentType, Booking, BookingStatus, Channel, Client, Provider
from . import credits, policy
from .appointment_types import appointment_type_of, appointment_types_of
from .booking import is_late_for_client, late_cancel_window, settings_of, terms_of
from .clients import is_existing
from .errors import NotFound

SHOWN_STATUSES = (BookingStatus.confirmed, BookingStatus.cancelled, BookingStatus.no_show)
"""A client's own bookings worth listing: not expired or refused holds."""


@dataclass(frozen=True)
class Offer:
    """An appointment type and the policy's answer for this client booking it in the portal."""

    appointment_type: AppointmentType
    decision: policy.Decision
    balance: int

    @property
    def bookable(self) -> bool:
        return self.decision.allowed


@dataclass(frozen=True)
class ClientBooking:
    booking: Booking
    upcoming: bool
    late: bool
    """Inside the late-cancel window: cancelling forfeits the credit, moving is not offered."""
    window_opens: datetime
    """When the late-cancel window starts: until then, cancelling refunds."""

    @property
    def may_cancel(self) -> bool:
        return self.upcoming

    @property
    def may_move(self) -> bool:
        return self.upcoming and not self.late


def _offer(
    appointment_type: AppointmentType,
    provider: Provider,
    existing: bool,
    balance: int,
) -> Offer:
    decision = policy.decide(
        Channel.portal,
        terms_of(appointment_type),
        policy.Booker(existing=existing),
        settings_of(provider),
        balance,
    )
    return Offer(appointment_type, decision, balance)


def _balances(
    session: Session, provider: Provider, client: Client, now: datetime
) -> dict[int, int]:
    return {
        account.appointment_type.id: account.balance
        for account in credits.client_balances(
            session, provider_id=provider.id, client_id=client.id, now=now
        )
    }


def offers_for(session: Session, provider: Provider, client: Client, now: datetime) -> list[Offer]:
    """Every type this client may be offered: those they may book, and those refused for a
    reason they can act on (no credit left). Types for new clients and inactive types are
    left out: they are not for this client to book here."""
    balances = _balances(session, provider, client, now)
    existing = is_existing(session, client)
    offers = [
        _offer(t, provider, existing, balances.get(t.id, 0))
        for t in appointment_types_of(session, provider)
        if t.active
    ]
    return [o for o in offers if o.decision.reason != "new_clients_only"]


def offer_of(
    session: Session, provider: Provider, client: Client, type_id: int, now: datetime
) -> Offer:
    """The policy's answer for one of the provider's types (another provider's: not found)."""
    appointment_type = appointment_type_of(session, provider, type_id)
    balance = _balances(session, provider, client, now).get(appointment_type.id, 0)
    return _offer(appointment_type, provider, is_existing(session, client), balance)


def bookings_of_client(
    session: Session, provider: Provider, client: Client, now: datetime
) -> tuple[list[ClientBooking], list[ClientBooking]]:
    """Upcoming bookings, soonest first, and past or cancelled ones, latest first."""
    found = session.scalars(
        select(Booking)
        .where(Booking.client_id == client.id, Booking.status.in_(SHOWN_STATUSES))
        .order_by(Booking.start_at, Booking.id)
    )
    upcoming: list[ClientBooking] = []
    past: list[ClientBooking] = []
    for booking in found:
        mine = _client_booking(provider, booking, now)
        (upcoming if mine.upcoming else past).append(mine)
    return upcoming, past[::-1]


def _client_booking(provider: Provider, booking: Booking, now: datetime) -> ClientBooking:
    ahead = booking.status == BookingStatus.confirmed and booking.start_at > now
    return ClientBooking(
        booking,
        upcoming=ahead,
        late=ahead and is_late_for_client(provider, booking, now),
        window_opens=booking.start_at - late_cancel_window(provider, booking.appointment_type),
    )


def booking_of_client(
    session: Session,
    provider: Provider,
    client: Client,
    booking_id: int,
    now: datetime,
    *,
    for_update: bool = False,
) -> ClientBooking:
    """One of this client's bookings; anyone else's is as unknown as a missing one."""
    query = select(Booking).where(
        Booking.id == booking_id,
        Booking.client_id == client.id,
        Booking.provider_id == provider.id,
        Booking.status.in_(SHOWN_STATUSES),
    )
    booking = session.scalar(query.with_for_update() if for_update else query)
    if booking is None:
        raise NotFound("No such booking.")
    return _client_booking(provider, booking, now)
