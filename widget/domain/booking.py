"""Booking, cancelling, rescheduling and no-shows: each one transaction, never a double booking.

Order inside a booking transaction, the same on both engines, so races end in a
clear answer and never in a deadlock: lock the type row when it caps bookings per
day, check the start against hours, notice, horizon and live bookings (one read of
what overlaps its block), retire expired holds that overlap, lock the credit account
and ask the policy, insert the booking, spend the credit. On SQLite the whole
transaction already holds the write lock (BEGIN IMMEDIATE); on PostgreSQL the
exclusion constraint turns a lost race into `slot_unavailable`.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache

from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import testing_hooks
from ..models import (
    AppointmentType,
    Booking,
    BookingStatus,
    Channel,
    Client,
    Provider,
)
from . import credits, policy, webhooks
from .appointment_types import appointment_type_of
from .availability import Interval, free_slots, working_intervals
from .clients import client_of, create_client, is_existing
from .errors import InvalidState, NotFound, Refused
from .schedule import booked_on, stored_hours
from .timezones import zone_named

EXCLUSION_VIOLATION = "23P01"


@dataclass(frozen=True)
class Person:
    """Who a visitor says they are; a public booking makes them a client once it is allowed."""

    name: str
    email: str


@dataclass(frozen=True)
class Cancellation:
    booking: Booking
    credit_refunded: bool


def settings_of(provider: Provider) -> policy.Settings:
    return policy.Settings(
        public_links_new_client_only=provider.public_links_new_client_only,
        negative_credit_limit=provider.negative_credit_limit,
        public_booking_verification=provider.public_booking_verification,
    )


def terms_of(appointment_type: AppointmentType) -> policy.TypeTerms:
    return policy.TypeTerms(
        audience=appointment_type.audience,
        requires_credit=appointment_type.requires_credit,
        active=appointment_type.active,
    )


def block_of(appointment_type: AppointmentType, start: datetime) -> tuple[datetime, datetime]:
    return (
        start - timedelta(minutes=appointment_type.buffer_before_minutes),
        start
        + timedelta(
            minutes=appointment_type.duration_minutes + appointment_type.buffer_after_minutes
        ),
    )


def _lock_for_day_cap(session: Session, appointment_type: AppointmentType) -> None:
    """Serialise bookings of a capped type, so two cannot both take a day's last place."""
    if appointment_type.max_per_day is not None:
        session.execute(
            select(AppointmentType.id)
            .where(AppointmentType.id == appointment_type.id)
            .with_for_update()
        )


_CLIENT_AND_TYPE = (
    select(Client, AppointmentType)
    .join(AppointmentType, AppointmentType.provider_id == Client.provider_id)
    .where(
        Client.id == bindparam("client_id"),
        Client.provider_id == bindparam("provider_id"),
        AppointmentType.id == bindparam("type_id"),
    )
)


def client_and_type(
    session: Session, provider: Provider, client_id: int, type_id: int
) -> tuple[Client, AppointmentType]:
    """The provider's client and type for a booking, in one query; when one is missing,
    the lookups of each say which."""
    row = session.execute(
        _CLIENT_AND_TYPE,
        {"client_id": client_id, "provider_id": provider.id, "type_id": type_id},
    ).first()
    if row is None:
        return (
            client_of(session, provider, client_id),
            appointment_type_of(session, provider, type_id),
        )
    return row[0], row[1]


def prepare_slot(
    session: Session,
    provider: Provider,
    appointment_type: AppointmentType,
    start: datetime,
    channel: Channel,
    now: datetime,
    *,
    excluding: int | None = None,
) -> Interval:
    """Everything before a booking, hold or move is written, in the order that cannot deadlock."""
    _lock_for_day_cap(session, appointment_type)
    block = Interval(*block_of(appointment_type, start))
    in_the_way = _in_the_way(session, provider.id, block, now, excluding)
    check_start(
        session,
        provider,
        appointment_type,
        start,
        channel,
        now,
        excluding=excluding,
        in_the_way=in_the_way,
    )
    if in_the_way.expired_holds:
        _retire_expired_holds(session, provider.id, block, now)
    return block


@dataclass(frozen=True)
class InTheWay:
    """What overlaps a block: a live booking or hold (the slot is taken), or holds that have
    expired but still count for PostgreSQL's exclusion constraint until they are retired."""

    live: bool
    expired_holds: bool


@cache
def _in_the_way_query(excluding: bool) -> Select[BookingStatus, datetime | None]:
    query = select(Booking.status, Booking.hold_expires_at).where(
        Booking.provider_id == bindparam("provider_id"),
        Booking.block_start < bindparam("block_end"),
        Booking.block_end > bindparam("block_start"),
        Booking.status.in_((BookingStatus.confirmed, BookingStatus.pending_verification)),
    )
    if excluding:
        query = query.where(Booking.id != bindparam("excluding"))
    return query


def _in_the_way(
    session: Session, provider_id: int, block: Interval, now: datetime, excluding: int | None
) -> InTheWay:
    """One query for both: usually it finds nothing, and nothing needs retiring."""
    params = {
        "provider_id": provider_id,
        "block_start": block.start,
        "block_end": block.end,
        "excluding": excluding,
    }
    live = expired = False
    for status, hold_expires_at in session.execute(
        _in_the_way_query(excluding is not None), params
    ):
        if status == BookingStatus.confirmed:
            live = True
        elif hold_expires_at is not None:
            if hold_expires_at > now:
                live = True
            else:
                expired = True
    return InTheWay(live=live, expired_holds=expired)


def _retire_expired_holds(
    session: Session, provider_id: int, block: Interval, now: datetime
) -> None:
    """A constraint cannot read the clock, so expired holds in the way are marked first."""
    session.execute(
        update(Booking)
        .where(
            Booking.provider_id == provider_id,
            Booking.status == BookingStatus.pending_verification,
            Booking.hold_expires_at <= now,
            Booking.block_start < block.end,
            Booking.block_end > block.start,
        )
        .values(status=BookingStatus.expired)
        .execution_options(synchronize_session=False)
    )


def check_start(
    session: Session,
    provider: Provider,
    appointment_type: AppointmentType,
    start: datetime,
    channel: Channel,
    now: datetime,
    *,
    excluding: int | None = None,
    in_the_way: InTheWay | None = None,
) -> None:
    """Raise the reason a start is not bookable: notice, horizon, hours, or taken.

    Provider bookings skip notice and horizon and may start off the slot grid, but
    must still fit the working hours. `in_the_way` is what `_in_the_way` found for
    the start's block, if the caller has read it already.
    """
    zone = zone_named(provider.timezone)
    local_day = start.astimezone(zone).date()
    duration = timedelta(minutes=appointment_type.duration_minutes)
    weekly, exceptions = stored_hours(session, provider.id)
    working = working_intervals(
        weekly, exceptions, zone, local_day - timedelta(days=1), local_day + timedelta(days=1)
    )
    if channel == Channel.provider:
        inside = any(w.start <= start and start + duration <= w.end for w in working)
    else:
        if start < now + timedelta(minutes=appointment_type.min_notice_minutes):
            raise Refused("too_soon", "This time is too soon to book.")
        if local_day > now.astimezone(zone).date() + timedelta(
            days=appointment_type.max_days_ahead
        ):
            raise Refused("too_far_ahead", "This time is too far ahead to book.")
        inside = bool(
            free_slots(
                working=working,
                busy=[],
                duration=duration,
                buffer_before=timedelta(0),
                buffer_after=timedelta(0),
                step=timedelta(minutes=appointment_type.slot_step_minutes),
                earliest=start,
                latest_local_date=local_day,
                zone=zone,
                window=Interval(start, start + timedelta(microseconds=1)),
            )
        )
    if not inside:
        raise Refused("outside_availability", "This time is outside the bookable hours.")
    if in_the_way is None:
        block = Interval(*block_of(appointment_type, start))
        in_the_way = _in_the_way(session, provider.id, block, now, excluding)
    if in_the_way.live:
        raise Refused("slot_unavailable", "This time has just been taken.")
    cap = appointment_type.max_per_day
    if cap is not None and (
        booked_on(session, provider, appointment_type, local_day, now, excluding=excluding) >= cap
    ):
        raise Refused("slot_unavailable", "This day is fully booked for this appointment type.")


def flush_or_taken(session: Session) -> None:
    try:
        session.flush()
    except IntegrityError as exc:
        if getattr(exc.orig, "sqlstate", None) == EXCLUSION_VIOLATION:
            raise Refused("slot_unavailable", "This time has just been taken.") from None
        raise


def book(
    session: Session,
    provider: Provider,
    appointment_type: AppointmentType,
    *,
    start: datetime,
    channel: Channel,
    now: datetime,
    client: Client | None,
    allow_negative: bool = False,
    personal_link: bool = False,
    share_link_id: int | None = None,
    person: Person | None = None,
    timezone: str | None = None,
) -> Booking:
    """Book a confirmed appointment for a known client, or for a `person` who becomes one."""
    block = prepare_slot(session, provider, appointment_type, start, channel, now)
    decision = decide_for(
        session,
        provider,
        appointment_type,
        channel,
        client,
        now,
        personal_link=personal_link,
        override=allow_negative,
    )
    if not decision.allowed:
        raise Refused(decision.reason or "invalid_state", decision.message)
    if client is None and person is not None:
        client = create_client(session, provider, email=person.email, name=person.name)

    booking = Booking(
        provider_id=provider.id,
        client_id=client.id if client is not None else None,
        appointment_type_id=appointment_type.id,
        share_link_id=share_link_id,
        channel=channel,
        status=BookingStatus.confirmed,
        start_at=start,
        end_at=start + timedelta(minutes=appointment_type.duration_minutes),
        block_start=block.start,
        block_end=block.end,
        name=client.name if client else None,
        email=client.email if client else None,
        timezone=timezone,
        created_at=now,
        credit_spent=decision.cost > 0,
    )
    session.add(booking)
    flush_or_taken(session)
    spend(session, provider, booking, client, decision, now)
    webhooks.booking_event(session, booking, "booking.created", now)
    webhooks.booking_event(session, booking, "booking.confirmed", now)
    return booking


def decide_for(
    session: Session,
    provider: Provider,
    appointment_type: AppointmentType,
    channel: Channel,
    client: Client | None,
    now: datetime,
    *,
    personal_link: bool = False,
    override: bool = False,
) -> policy.Decision:
    """Ask the policy about this client, with their credit account locked for the spend."""
    balance = 0
    if appointment_type.requires_credit and client is not None:
        balance = credits.balance_for_update(
            session,
            provider_id=provider.id,
            client_id=client.id,
            type_id=appointment_type.id,
            now=now,
        )
    booker = None
    if client is not None:
        # Whether the client counts as existing is a query: asked only where a rule reads it.
        matters = policy.audience_matters(
            channel, appointment_type.audience, personal_link=personal_link
        )
        booker = policy.Booker(existing=matters and is_existing(session, client))
    return policy.decide(
        channel,
        terms_of(appointment_type),
        booker,
        settings_of(provider),
        balance,
        personal_link=personal_link,
        override=override,
    )


def spend(
    session: Session,
    provider: Provider,
    booking: Booking,
    client: Client | None,
    decision: policy.Decision,
    now: datetime,
) -> None:
    """Spend what the decision said the booking costs, referencing the booking."""
    booking.credit_spent = decision.cost > 0
    if decision.cost and client is not None:
        credits.consume_credit(
            session,
            provider_id=provider.id,
            client_id=client.id,
            type_id=booking.appointment_type_id,
            booking_id=booking.id,
            negative_limit=provider.negative_credit_limit,
            now=now,
            override=decision.override,
        )
    session.flush()
    testing_hooks.reach("after_spend")


def booking_of(session: Session, provider: Provider, booking_id: int) -> Booking:
    booking = session.scalar(
        select(Booking).where(Booking.id == booking_id, Booking.provider_id == provider.id)
    )
    if booking is None:
        raise NotFound("No such booking.")
    return booking


def late_cancel_window(provider: Provider, appointment_type: AppointmentType) -> timedelta:
    hours = appointment_type.late_cancel_hours
    return timedelta(hours=provider.late_cancel_hours if hours is None else hours)


def is_late_for_client(provider: Provider, booking: Booking, now: datetime) -> bool:
    """Inside the late-cancel window: a client's cancel forfeits the credit, and a move waits
    for the provider."""
    return now > booking.start_at - late_cancel_window(provider, booking.appointment_type)


def cancel(
    session: Session,
    provider: Provider,
    booking: Booking,
    *,
    by: Channel,
    now: datetime,
    late: bool = False,
    reason: str | None = None,
) -> Cancellation:
    """Cancel, refunding the credit unless the cancellation is late (DESIGN rule 6).

    A client is late inside the late-cancel window; a provider is late only when they
    say so.
    """
    if booking.status not in (BookingStatus.confirmed, BookingStatus.pending_verification):
        raise InvalidState(f"A booking that is {booking.status.value} cannot be cancelled.")
    if by != Channel.provider:
        if booking.start_at <= now:
            raise InvalidState("This appointment has already started.")
        late = is_late_for_client(provider, booking, now)
    refunded = False
    if booking.credit_spent:
        if late:
            credits.forfeit_credit(session, booking=booking, now=now)
        else:
            credits.refund_credit(session, booking=booking, now=now)
            refunded = True
    booking.status = BookingStatus.cancelled
    booking.cancelled_at = now
    booking.cancelled_by = by.value
    booking.cancel_reason = reason
    booking.late_cancellation = late
    booking.credit_refunded = refunded
    webhooks.booking_event(session, booking, "booking.cancelled", now)
    session.flush()
    return Cancellation(booking, refunded)


def reschedule(
    session: Session,
    provider: Provider,
    booking: Booking,
    *,
    start: datetime,
    channel: Channel,
    now: datetime,
) -> Booking:
    """Move a confirmed booking; its credit stays where it is."""
    if booking.status != BookingStatus.confirmed:
        raise InvalidState(f"A booking that is {booking.status.value} cannot be rescheduled.")
    appointment_type = booking.appointment_type
    block = prepare_slot(
        session, provider, appointment_type, start, channel, now, excluding=booking.id
    )
    booking.start_at = start
    booking.end_at = start + timedelta(minutes=appointment_type.duration_minutes)
    booking.block_start, booking.block_end = block.start, block.end
    flush_or_taken(session)
    return booking


def mark_no_show(session: Session, booking: Booking, now: datetime) -> Booking:
    """The client did not come: the booking is kept, and so is its credit."""
    if booking.status != BookingStatus.confirmed:
        raise InvalidState(f"A booking that is {booking.status.value} cannot be a no-show.")
    if booking.start_at > now:
        raise InvalidState("A booking that has not started yet cannot be a no-show.")
    booking.status = BookingStatus.no_show
    session.flush()
    return booking


def bookings_of(
    session: Session,
    provider: Provider,
    *,
    first_day: date | None = None,
    last_day: date | None = None,
    status: BookingStatus | None = None,
) -> list[Booking]:
    """The provider's bookings, by start; days are local to the provider."""
    zone = zone_named(provider.timezone)
    query = select(Booking).where(Booking.provider_id == provider.id)
    if first_day is not None:
        query = query.where(
            Booking.start_at >= datetime.combine(first_day, datetime.min.time(), tzinfo=zone)
        )
    if last_day is not None:
        query = query.where(
            Booking.start_at
            < datetime.combine(last_day + timedelta(days=1), datetime.min.time(), tzinfo=zone)
        )
    if status is not None:
        query = query.where(Booking.status == status)
    return list(session.scalars(query.order_by(Booking.start_at, Booking.id)))
