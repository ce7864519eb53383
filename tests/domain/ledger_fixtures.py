"""Rows the ledger tests need: a provider, a type, a client, and booking rows to spend on."""

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from widget.domain import providers
from widget.models import (
    AppointmentType,
    Audience,
    Booking,
    BookingStatus,
    Channel,
    Client,
    Package,
    PackageItem,
)

_hours = itertools.count()
FAR_FUTURE = datetime(2030, 1, 1, tzinfo=UTC)


@dataclass
class Account:
    provider_id: int
    client_id: int
    type_id: int


def new_account(session: Session, *, email: str = "ledger@example.com") -> Account:
    created = providers.create_provider(
        session, name="Ledger Clinic", email=email, timezone="Europe/Berlin"
    )
    provider = created.provider
    follow_up = AppointmentType(
        provider_id=provider.id,
        name="Follow-Up",
        duration_minutes=50,
        audience=Audience.existing_clients,
        requires_credit=True,
        slot_step_minutes=50,
    )
    client = Client(provider_id=provider.id, email=f"client-{email}", name="Client")
    session.add_all([follow_up, client])
    session.flush()
    return Account(provider.id, client.id, follow_up.id)


def new_package(
    session: Session, account: Account, quantity: int, expires_after_days: int | None
) -> Package:
    package = Package(
        provider_id=account.provider_id,
        name=f"{quantity} sessions",
        price_cents=1000 * quantity,
        items=[
            PackageItem(
                appointment_type_id=account.type_id,
                quantity=quantity,
                expires_after_days=expires_after_days,
            )
        ],
    )
    session.add(package)
    session.flush()
    return package


def new_booking(session: Session, account: Account, *, written: bool = True) -> Booking:
    """A confirmed booking on an hour no other test booking uses, for credits to reference;
    not `written`, it is left for the spend to write (as a new booking's is)."""
    start = FAR_FUTURE + timedelta(hours=next(_hours))
    booking = Booking(
        provider_id=account.provider_id,
        client_id=account.client_id,
        appointment_type_id=account.type_id,
        channel=Channel.provider,
        status=BookingStatus.confirmed,
        start_at=start,
        end_at=start + timedelta(minutes=50),
        block_start=start,
        block_end=start + timedelta(minutes=50),
    )
    if written:
        session.add(booking)
        session.flush()
    return booking
