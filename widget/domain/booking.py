"""Booking, cancelling, rescheduling and no-shows: each one transaction, never a double booking.

Order inside a booking transaction, the same on both engines, so races end in a
clear answer and never in a deadlock: lock the type row when it caps bookings per
day, check the start against hours, notice, horizon and live bookings (one read of
what overlaps its block), retire expired holds that overlap, lock the credit account
and ask the policy, insert the booking, spend the credit. On SQLite the whole
transaction already holds the write lock (BEGIN IMMEDIATE); on PostgreSQL the
exclusion constraint turns a lost race into `slot_unavailable`.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import String, bindparam, cast, null, select, union_all, update
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
from .appointment_types import LONGEST_BLOCK, appointment_type_of
from .availability import Hours, Interval, free_slots, working_intervals
from .clients import client_of, create_client, is_existing
from .errors import InvalidState, NotFound, Refused, ValidationFailed
from .schedule import (
    NO_DATE,
    NO_INT,
    NO_MOMENT,
    NO_TIME,
    booked_on,
    hours_of,
    hours_parts,
)
from .timezones import zone_named

EXCLUSION_VIOLATION = "23P01"
_NO_STATUS: Any = cast(null(), String(32))


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


def ends_at(appointment_type: AppointmentType, start: datetime) -> datetime:
    """When an appointment starting at `start` ends, in `start`'s zone. The duration is
    counted in real time: Python adds a timedelta to a zoned time on the wall clock, so an
    appointment over a clock change would last an hour more or less."""
    end = start.astimezone(UTC) + timedelta(minutes=appointment_type.duration_minutes)
    return end.astimezone(start.tzinfo)


def block_of(appointment_type: AppointmentType, start: datetime) -> tuple[datetime, datetime]:
    """What the appointment keeps from other bookings, buffers included."""
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
    """Everything before a booking, hold or move is written, in the order that cannot deadlock.

    `start` may be in any zone; the checks count in UTC (see `ends_at`)."""
    start = start.astimezone(UTC)
    _lock_for_day_cap(session, appointment_type)
    block = Interval(*block_of(appointment_type, start))
    surroundings = _surroundings(session, provider.id, block, now, excluding)
    check_start(session, provider, appointment_type, start, channel, now, surroundings, excluding)
    if surroundings.expired_holds:
        retire_due_holds(session, provider.id, now, in_the_way_of=block)
    return block


@dataclass(frozen=True)
class Surroundings:
    """What a start is checked against: the provider's hours, and what overlaps its block:
    a live booking or hold (the slot is taken), or holds that have expired but still count
    for PostgreSQL's exclusion constraint until they are retired."""

    weekly: dict[int, Hours]
    exceptions: dict[date, Hours]
    live: bool
    expired_holds: bool


@cache
def _surroundings_query(excluding: bool) -> Any:
    """The overlapping bookings' (status, hold expiry) and the hours, in one statement."""
    overlapping = select(
        NO_INT, NO_DATE, NO_TIME, NO_TIME, Booking.status, Booking.hold_expires_at
    ).where(
        Booking.provider_id == bindparam("provider_id"),
        Booking.block_start < bindparam("block_end"),
        Booking.block_start > bindparam("reach"),
        Booking.block_end > bindparam("block_start"),
        Booking.status.in_((BookingStatus.confirmed, BookingStatus.pending_verification)),
    )
    if excluding:
        overlapping = overlapping.where(Booking.id != bindparam("excluding"))
    return union_all(overlapping, *hours_parts(_NO_STATUS, NO_MOMENT))


def _surroundings(
    session: Session, provider_id: int, block: Interval, now: datetime, excluding: int | None
) -> Surroundings:
    """One round trip: usually nothing overlaps, and nothing needs retiring."""
    params = {
        "provider_id": provider_id,
        "block_start": block.start,
        "block_end": block.end,
        "reach": block.start - LONGEST_BLOCK,
        "excluding": excluding,
    }
    hours = []
    live = expired = False
    for row in session.execute(_surroundings_query(excluding is not None), params):
        status, hold_expires_at = row[4], row[5]
        if status is None:
            hours.append(row)
        elif status == BookingStatus.confirmed:
            live = True
        elif hold_expires_at is not None:
            if hold_expires_at > now:
                live = True
            else:
                expired = True
    weekly, exceptions = hours_of(hours)
    return Surroundings(weekly, exceptions, live=live, expired_holds=expired)


def retire_due_holds(
    session: Session, provider_id: int, now: datetime, *, in_the_way_of: Interval | None = None
) -> None:
    """Mark the provider's holds whose time ran out `expired` (only those overlapping
    `in_the_way_of`, when given). A hold is otherwise marked only when its link is opened:
    a status read would say `pending_verification`, and PostgreSQL's exclusion
    constraint, which cannot read the clock, would still count it."""
    query = update(Booking).where(
        Booking.provider_id == provider_id,
        Booking.status == BookingStatus.pending_verification,
        Booking.hold_expires_at <= now,
    )
    if in_the_way_of is not None:
        query = query.where(
            Booking.block_start < in_the_way_of.end,
            Booking.block_start > in_the_way_of.start - LONGEST_BLOCK,
            Booking.block_end > in_the_way_of.start,
        )
    session.execute(query.values(status=BookingStatus.expired))


def check_start(
    session: Session,
    provider: Provider,
    appointment_type: AppointmentType,
    start: datetime,
    channel: Channel,
    now: datetime,
    surroundings: Surroundings,
    excluding: int | None = None,
) -> None:
    """Raise the reason a start is not bookable: notice, horizon, hours, or taken.

    Provider bookings skip notice and horizon and may start off the slot grid, but
    must still fit the working hours.
    """
    zone = zone_named(provider.timezone)
    local_day = start.astimezone(zone).date()
    duration = timedelta(minutes=appointment_type.duration_minutes)
    working = working_intervals(
        surroundings.weekly,
        surroundings.exceptions,
        zone,
        local_day - timedelta(days=1),
        local_day + timedelta(days=1),
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
    if surroundings.live:
        raise Refused("slot_unavailable", "This time has just been taken.")
    cap = appointment_type.max_per_day
    if cap is not None and (
        booked_on(session, provider, appointment_type, local_day, now, excluding=excluding) >= cap
    ):
        raise Refused("slot_unavailable", "This day is fully booked for this appointment type.")


@contextmanager
def taken_if_excluded() -> Iterator[None]:
    """On PostgreSQL a race lost on the exclusion constraint is slot_unavailable."""
    try:
        yield
    except IntegrityError as exc:
        if getattr(exc.orig, "sqlstate", None) == EXCLUSION_VIOLATION:
            raise Refused("slot_unavailable", "This time has just been taken.") from None
        raise


def flush_or_taken(session: Session) -> None:
    with taken_if_excluded():
        session.flush()


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
    start = start.astimezone(UTC)
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
        end_at=ends_at(appointment_type, start),
        block_start=block.start,
        block_end=block.end,
        name=client.name if client else None,
        email=client.email if client else None,
        timezone=timezone,
        created_at=now,
        credit_spent=decision.cost > 0,
    )
    with taken_if_excluded():
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
        booker = policy.Booker(existing=matters and is_existing(session, client, for_decision=True))
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
    """Spend what the decision said the booking costs, referencing the booking, which is
    written with it if new."""
    booking.credit_spent = decision.cost > 0
    if decision.cost and client is not None:
        credits.consume_credit(
            session,
            booking=booking,
            negative_limit=provider.negative_credit_limit,
            now=now,
            override=decision.override,
        )
    else:
        session.add(booking)
    session.flush()
    testing_hooks.reach("after_spend")


def booking_of(session: Session, provider: Provider, booking_id: int, *, now: datetime) -> Booking:
    retire_due_holds(session, provider.id, now)
    booking = session.scalar(
        select(Booking).where(Booking.id == booking_id, Booking.provider_id == provider.id)
    )
    if booking is None:
        raise NotFound("No such booking.")
    return booking


def _locked(session: Session, booking: Booking) -> None:
    """Lock the booking and read it again before changing its status: of two changes at
    once (two cancels, a cancel and a no-show), the second sees what the first did."""
    session.refresh(booking, with_for_update=True)


def late_cancel_hours(provider: Provider, appointment_type: AppointmentType) -> int:
    """The type's own late-cancel window, else the provider's."""
    hours = appointment_type.late_cancel_hours
    return provider.late_cancel_hours if hours is None else hours


def late_cancel_window(provider: Provider, appointment_type: AppointmentType) -> timedelta:
    return timedelta(hours=late_cancel_hours(provider, appointment_type))


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
    _locked(session, booking)
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
    start = start.astimezone(UTC)
    _locked(session, booking)
    if booking.status != BookingStatus.confirmed:
        raise InvalidState(f"A booking that is {booking.status.value} cannot be rescheduled.")
    appointment_type = booking.appointment_type
    block = prepare_slot(
        session, provider, appointment_type, start, channel, now, excluding=booking.id
    )
    previous_start, previous_end = booking.start_at, booking.end_at
    booking.start_at = start
    booking.end_at = ends_at(appointment_type, start)
    booking.block_start, booking.block_end = block.start, block.end
    flush_or_taken(session)
    # A receiver that keeps the times (a calendar, a billing system) learns the new ones.
    webhooks.booking_event(
        session,
        booking,
        "booking.rescheduled",
        now,
        previous_start=previous_start.isoformat(),
        previous_end=previous_end.isoformat(),
    )
    return booking


def mark_no_show(session: Session, booking: Booking, now: datetime) -> Booking:
    """The client did not come: the booking is kept, and so is its credit."""
    _locked(session, booking)
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
    now: datetime,
) -> list[Booking]:
    """The provider's bookings, by start; days are local to the provider."""
    if first_day is not None and last_day is not None and last_day < first_day:
        raise ValidationFailed({"to": "must not be before from"})
    retire_due_holds(session, provider.id, now)
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
