"""Booking emails: what each one says, written to the outbox."""

from datetime import datetime

from sqlalchemy.orm import Session

from .domain import notify
from .domain.timezones import zone_named
from .models import Booking, Provider


def _when(provider: Provider, booking: Booking) -> str:
    zone = zone_named(booking.timezone or provider.timezone)
    start = booking.start_at.astimezone(zone)
    return f"{start:%A %d %B %Y, %H:%M} ({zone.key})"


def queue_hold_email(
    session: Session, provider: Provider, booking: Booking, confirm_url: str, now: datetime
) -> None:
    assert booking.email is not None
    notify.queue_email(
        session,
        recipient=booking.email,
        subject=f"Confirm your booking with {provider.name}",
        text_body=(
            f"Hello {booking.name},\n\n"
            f"To confirm {booking.appointment_type.name} on {_when(provider, booking)}, "
            f"open this link within {provider.pending_hold_minutes} minutes:\n\n"
            f"{confirm_url}\n\n"
            "If you did not ask for this, ignore this email and the time will be released.\n"
        ),
        now=now,
        provider_id=provider.id,
        booking_id=booking.id,
    )


def queue_confirmation_email(
    session: Session, provider: Provider, booking: Booking, now: datetime
) -> None:
    assert booking.email is not None
    notify.queue_email(
        session,
        recipient=booking.email,
        subject=f"Booked: {booking.appointment_type.name} with {provider.name}",
        text_body=(
            f"Hello {booking.name},\n\n"
            f"Your {booking.appointment_type.name} with {provider.name} is confirmed for "
            f"{_when(provider, booking)}.\n"
        ),
        now=now,
        provider_id=provider.id,
        booking_id=booking.id,
    )
