"""Provider API: hours-based free slots, and bookings made on a client's behalf."""

from zoneinfo import ZoneInfo

from flask import jsonify
from flask.typing import ResponseReturnValue

from ...domain import appointment_types, booking, schedule
from ...domain.timezones import zone_named
from ...extensions import db, reads_only
from ...models import AppointmentType, Booking, BookingStatus, Channel, Provider
from .. import link_flow
from . import schemas
from .base import (
    BodyAndStatus,
    bp,
    current_provider,
    idempotent,
    now,
    parse_body,
    parse_optional_body,
    parse_query,
)
from .render import booking_json, slots_json


def _provider_zone() -> ZoneInfo:
    return zone_named(current_provider().timezone)


@bp.get("/slots")
@reads_only
def slots() -> ResponseReturnValue:
    query = parse_query(schemas.SlotQuery)
    provider = current_provider()
    appointment_type = appointment_types.appointment_type_of(
        db.session, provider, query.appointment_type_id
    )
    return jsonify(slots_answer(provider, appointment_type, query))


def slots_answer(
    provider: Provider, appointment_type: AppointmentType, query: schemas.SlotQuery
) -> dict[str, object]:
    """Free slots on the asked local days, in the asker's zone (else the provider's)."""
    viewer = zone_named(query.timezone or provider.timezone)
    found = schedule.open_slots(
        db.session,
        provider,
        appointment_type,
        first_day=query.start,
        last_day=query.end,
        viewer_zone=viewer,
        now=now(),
    )
    return slots_json(found, viewer)


@bp.get("/bookings")
def list_bookings() -> ResponseReturnValue:
    query = parse_query(schemas.BookingQuery)
    found = booking.bookings_of(
        db.session,
        current_provider(),
        first_day=query.from_,
        last_day=query.to,
        status=BookingStatus(query.status) if query.status else None,
        now=now(),
    )
    db.session.commit()  # the holds whose time ran out stay marked expired
    zone = _provider_zone()
    return jsonify({"bookings": [booking_json(b, zone) for b in found]})


@bp.get("/bookings/<id:booking_id>")
def get_booking(booking_id: int) -> ResponseReturnValue:
    found = booking.booking_of(db.session, current_provider(), booking_id, now=now())
    db.session.commit()  # the holds whose time ran out stay marked expired
    return jsonify(booking_json(found, _provider_zone()))


def _tell_client(asked: bool, provider: Provider, made: Booking, *, moved: bool = False) -> None:
    """The email the booking's new state calls for, in its transaction, when asked for."""
    if asked and made.email:
        link_flow.announce(provider, made, moved=moved)


@bp.post("/bookings")
@idempotent()
def create_booking() -> BodyAndStatus:
    body = parse_body(schemas.BookingFields)
    provider = current_provider()
    client, appointment_type = booking.client_and_type(
        db.session, provider, body.client_id, body.appointment_type_id
    )
    made = booking.book(
        db.session,
        provider,
        appointment_type,
        start=body.start,
        channel=Channel.provider,
        now=now(),
        client=client,
        allow_negative=body.allow_negative,
    )
    _tell_client(body.notify_client, provider, made)
    return booking_json(made, _provider_zone()), 201


@bp.post("/bookings/<id:booking_id>/cancel")
@idempotent()
def cancel_booking(booking_id: int) -> BodyAndStatus:
    provider = current_provider()
    found = booking.booking_of(db.session, provider, booking_id, now=now())
    body = parse_optional_body(schemas.CancelFields)
    cancelled = booking.cancel(
        db.session,
        provider,
        found,
        by=Channel.provider,
        now=now(),
        late=body.late,
        reason=body.reason,
    )
    _tell_client(body.notify_client, provider, cancelled.booking)
    return booking_json(cancelled.booking, _provider_zone()), 200


@bp.post("/bookings/<id:booking_id>/reschedule")
@idempotent()
def reschedule_booking(booking_id: int) -> BodyAndStatus:
    provider = current_provider()
    found = booking.booking_of(db.session, provider, booking_id, now=now())
    body = parse_body(schemas.RescheduleFields)
    moved = booking.reschedule(
        db.session, provider, found, start=body.start, channel=Channel.provider, now=now()
    )
    _tell_client(body.notify_client, provider, moved, moved=True)
    return booking_json(moved, _provider_zone()), 200


@bp.post("/bookings/<id:booking_id>/no-show")
@idempotent()
def no_show(booking_id: int) -> BodyAndStatus:
    found = booking.booking_of(db.session, current_provider(), booking_id, now=now())
    marked = booking.mark_no_show(db.session, found, now())
    return booking_json(marked, _provider_zone()), 200
