"""Booking through a share link: who is booking is decided by the email, never by the page.

Under `public_booking_verification = "email"` a submission does the same work
whoever the email belongs to: it checks what does not depend on the person (link,
type, slot), holds the slot and leaves identification to the confirmation link,
so neither the answer nor its timing tells a visitor whether an email is a client's.
Under `"none"` the email is matched at once and the rules answer at once. A
personal link books as its client under the portal's rules.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import (
    AppointmentType,
    Booking,
    BookingStatus,
    Channel,
    Client,
    Provider,
    ShareLink,
    Verification,
)
from . import booking as bookings
from . import links, policy, webhooks
from .clients import create_client, identify
from .emails import checked_email
from .errors import NotFound, Refused, ValidationFailed


def submit(
    session: Session,
    provider: Provider,
    link: ShareLink,
    appointment_type: AppointmentType,
    *,
    start: datetime,
    name: str | None,
    email: str | None,
    timezone: str | None,
    now: datetime,
) -> Booking:
    """A booking (confirmed) or a hold (pending_verification), or the reason why not."""
    personal = link.client_id is not None
    person = None if personal else _person(name, email)
    links.claim_use(session, link, now)
    if person is not None and provider.public_booking_verification == Verification.email:
        return _hold(session, provider, link, appointment_type, start, person, timezone, now)
    return bookings.book(
        session,
        provider,
        appointment_type,
        start=start,
        channel=Channel.public,
        now=now,
        client=(
            session.get(Client, link.client_id)
            if person is None
            else identify(session, provider, person.email)
        ),
        personal_link=personal,
        share_link_id=link.id,
        person=person,
        timezone=timezone,
    )


def _person(name: str | None, email: str | None) -> bookings.Person:
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = "is required"
    try:
        email = checked_email(email or "")
    except ValidationFailed as exc:
        errors.update(exc.details)
    if errors:
        raise ValidationFailed(errors)
    return bookings.Person(name=name, email=str(email))


def _hold(
    session: Session,
    provider: Provider,
    link: ShareLink,
    appointment_type: AppointmentType,
    start: datetime,
    person: bookings.Person,
    timezone: str | None,
    now: datetime,
) -> Booking:
    """Keep the slot for the visitor while the confirmation email travels."""
    start = start.astimezone(UTC)
    before = policy.decide_before_identity(
        bookings.terms_of(appointment_type), bookings.settings_of(provider)
    )
    if not before.allowed:
        raise Refused(before.reason or "invalid_state", before.message)
    block = bookings.prepare_slot(session, provider, appointment_type, start, Channel.public, now)
    hold = Booking(
        provider_id=provider.id,
        appointment_type_id=appointment_type.id,
        share_link_id=link.id,
        channel=Channel.public,
        status=BookingStatus.pending_verification,
        start_at=start,
        end_at=bookings.ends_at(appointment_type, start),
        block_start=block.start,
        block_end=block.end,
        hold_expires_at=hold_ends(provider, start, now),
        name=person.name,
        email=person.email,
        timezone=timezone,
        created_at=now,
    )
    session.add(hold)
    bookings.flush_or_taken(session)
    webhooks.booking_event(session, hold, "booking.created", now)
    return hold


def hold_ends(provider: Provider, start: datetime, now: datetime) -> datetime:
    """A hold lasts the provider's hold time, and never past its appointment's start
    (confirm_hold expires it then)."""
    return min(now + timedelta(minutes=provider.pending_hold_minutes), start)


@dataclass(frozen=True)
class Confirmation:
    booking: Booking
    decided_now: bool


def confirm_hold(session: Session, booking_id: int, now: datetime) -> Confirmation:
    """Identify the person behind a hold and apply the audience and credit rules.

    The booking comes back `confirmed` (a credit spent if the type needs one) or
    `refused` with its `refusal_reason`; a hold past its time raises `expired`.
    Opening the link again answers the same booking without doing anything twice.
    """
    booking = session.scalar(select(Booking).where(Booking.id == booking_id).with_for_update())
    if booking is None or booking.channel != Channel.public:
        raise NotFound("This confirmation link is not valid.")
    # A hold is over at its time, or once its appointment has begun, whichever comes first.
    if booking.status == BookingStatus.pending_verification and (
        booking.hold_expires_at is None or booking.hold_expires_at <= now or booking.start_at <= now
    ):
        booking.status = BookingStatus.expired
        session.flush()
    if booking.status == BookingStatus.expired:
        raise Refused("expired", "This hold has expired; the time was released. Please book again.")
    if booking.status != BookingStatus.pending_verification:
        return Confirmation(booking, decided_now=False)

    provider = session.get(Provider, booking.provider_id)
    assert provider is not None and booking.email is not None
    client = identify(session, provider, booking.email)
    decision = bookings.decide_for(
        session, provider, booking.appointment_type, Channel.public, client, now
    )
    booking.hold_expires_at = None
    if not decision.allowed:
        booking.status = BookingStatus.refused
        booking.refusal_reason = decision.reason
        session.flush()
        return Confirmation(booking, decided_now=True)
    if client is None:
        client = create_client(session, provider, email=booking.email, name=booking.name or "")
    booking.client_id = client.id
    booking.status = BookingStatus.confirmed
    bookings.spend(session, provider, booking, client, decision, now)
    webhooks.booking_event(session, booking, "booking.confirmed", now)
    return Confirmation(booking, decided_now=True)
