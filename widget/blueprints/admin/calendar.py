"""The bookings calendar (day and week), booking on a client's behalf, cancelling and moving."""

import re
from datetime import date, datetime, time, timedelta

from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, Field, SelectField, StringField, TextAreaField
from wtforms.validators import ValidationError
from wtforms.widgets import DateInput, TimeInput

from ...domain import appointment_types, booking, clients, schedule
from ...domain.errors import DomainError
from ...domain.timezones import is_skipped
from ...extensions import db
from ...models import Booking, BookingStatus, Channel
from .. import link_flow
from ..api import schemas
from ..api.base import now
from ..auth import provider_required
from .base import (
    DAY_FORMAT,
    Form,
    bp,
    current_provider,
    day_of,
    given,
    local,
    number,
    options,
    page,
    provider_zone,
    today,
    when,
)

SLOT_CODES = frozenset({"slot_unavailable", "outside_availability", "too_soon", "too_far_ahead"})
"""Refusals about the chosen time: shown beside the time field."""


def a_day(_form: Form, field: Field) -> None:
    if day_of(field.data) is None:
        raise ValidationError(DAY_FORMAT)


def time_of(text: str | None) -> time | None:
    """A typed wall-clock time, hours and minutes only: the form's zone is the provider's,
    so an offset or seconds would book something other than what the calendar shows."""
    if not re.fullmatch(r"\d\d:\d\d", text or ""):
        return None
    try:
        return time.fromisoformat(text or "")
    except ValueError:
        return None


def a_time(_form: Form, field: Field) -> None:
    if time_of(field.data) is None:
        raise ValidationError("Choose a time (HH:MM).")


class StartForm(Form):
    """A start as the provider types it: a day and a time on their own clock."""

    day = StringField("Day", widget=DateInput(), validators=[a_day])
    time = StringField("Time", widget=TimeInput(), validators=[a_time])

    def start(self) -> datetime | None:
        """The day and time on the provider's clock; in a repeated (fall-back) hour, its
        first reading."""
        day, at = day_of(self.day.data), time_of(self.time.data)
        return datetime.combine(day, at, tzinfo=provider_zone()) if day and at else None

    def validate_time(self, field: Field) -> None:
        start = self.start()
        if start is not None and is_skipped(start):
            raise ValidationError(
                f"There is no {field.data} on {start:%-d %B}: the clocks go forward an hour."
            )

    def field_for(self, key: str) -> Field | None:
        if key == "start":
            return self.day if self.day.errors else self.time
        return super().field_for(key)

    def refuse(self, exc: DomainError) -> None:
        if exc.code in SLOT_CODES:
            self.add_errors({"start": exc.message})
        else:
            super().refuse(exc)


class BookForm(StartForm):
    client_id = SelectField("Client", choices=[], default="")
    appointment_type_id = SelectField("Appointment type", choices=[], default="")
    allow_negative = BooleanField("Book even without enough credit (override)")


class CancelForm(Form):
    reason = TextAreaField("Reason (optional, for your records)")
    late = BooleanField("Late cancellation: the credit stays spent")


# The calendar


def _visible(found: list[Booking]) -> list[Booking]:
    """Appointments and live holds; holds that expired or were refused never happened."""
    at = now()
    return [
        b
        for b in found
        if b.status in (BookingStatus.confirmed, BookingStatus.no_show, BookingStatus.cancelled)
        or (
            b.status == BookingStatus.pending_verification
            and b.hold_expires_at is not None
            and b.hold_expires_at > at
        )
    ]


def _asked_day() -> date:
    return day_of(request.args.get("day")) or today()


@bp.get("/calendar")
@provider_required
def calendar() -> ResponseReturnValue:
    view = "day" if request.args.get("view") == "day" else "week"
    day = _asked_day()
    first = day if view == "day" else day - timedelta(days=day.weekday())
    length = 1 if view == "day" else 7
    last = first + timedelta(days=length - 1)
    found = _visible(
        booking.bookings_of(
            db.session, current_provider(), first_day=first, last_day=last, now=now()
        )
    )
    db.session.commit()  # the holds whose time ran out stay marked expired
    days = [first + timedelta(days=n) for n in range(length)]
    return page(
        "admin/calendar.html",
        view=view,
        day=day,
        today=today(),
        days=[(d, [b for b in found if local(b.start_at).date() == d]) for d in days],
        earlier=first - timedelta(days=length),
        later=first + timedelta(days=length),
        zone=current_provider().timezone,
    )


# Booking on a client's behalf


def _book_form() -> BookForm:
    provider = current_provider()
    if request.method == "POST":
        form = BookForm()
    else:
        form = BookForm(formdata=MultiDict(request.args) if request.args else None)
    form.client_id.choices = options(
        [
            (c.id, f"{c.name} ({c.email})")
            for c, _ in clients.clients_with_status(db.session, provider)
        ],
        blank="Choose a client",
    )
    form.appointment_type_id.choices = options(
        [
            (t.id, t.name)
            for t in appointment_types.appointment_types_of(db.session, provider)
            if t.active
        ],
        blank="Choose an appointment type",
    )
    return form


def _free_times(form: BookForm) -> list[datetime] | None:
    """Free starts on the chosen day as clients would see them, to pick from."""
    provider = current_provider()
    type_id, day = number(form.appointment_type_id.data), day_of(form.day.data)
    if day is None or not isinstance(type_id, int) or not 0 < type_id <= schemas.MAX_ID:
        return None
    try:
        appointment_type = appointment_types.appointment_type_of(db.session, provider, type_id)
    except DomainError:
        return None
    found = schedule.open_slots(
        db.session,
        provider,
        appointment_type,
        first_day=day,
        last_day=day,
        viewer_zone=provider_zone(),
        now=now(),
    )
    return [slot.start for slot in found]


def _book_page(form: BookForm) -> ResponseReturnValue:
    return page(
        "admin/book.html",
        422 if form.errors else 200,
        form=form,
        free_times=_free_times(form),
    )


@bp.get("/bookings/new")
@provider_required
def new_booking() -> ResponseReturnValue:
    form = _book_form()
    if not form.day.data:
        form.day.data = today().isoformat()
    return _book_page(form)


@bp.post("/bookings/new")
@provider_required
def book_for_client() -> ResponseReturnValue:
    provider = current_provider()
    form = _book_form()
    if request.form.get("show_times"):
        return _book_page(form)
    body = form.checked(
        schemas.BookingFields,
        given(
            client_id=number(form.client_id.data),
            appointment_type_id=number(form.appointment_type_id.data),
            start=form.start(),
            allow_negative=form.allow_negative.data,
        ),
    )
    if body is None:
        return _book_page(form)

    def book_and_tell() -> Booking:
        made = booking.book(
            db.session,
            provider,
            appointment_types.appointment_type_of(
                db.session, provider, body.appointment_type_id, field="appointment_type_id"
            ),
            start=body.start,
            channel=Channel.provider,
            now=now(),
            client=clients.client_of(db.session, provider, body.client_id, field="client_id"),
            allow_negative=body.allow_negative,
        )
        if made.email:
            link_flow.announce(provider, made)
        return made

    made = form.attempt(book_and_tell)
    if made is None:
        return _book_page(form)
    spent = " One credit spent." if made.credit_spent else ""
    flash(f"Booked {made.appointment_type.name} for {made.name} on {when(made.start_at)}.{spent}")
    return redirect(url_for("admin.booking_detail", booking_id=made.id))


# One booking


def _booking_page(found: Booking, cancel: CancelForm, move: StartForm) -> ResponseReturnValue:
    started = found.start_at <= now()
    live = found.status in (BookingStatus.confirmed, BookingStatus.pending_verification)
    return page(
        "admin/booking.html",
        422 if cancel.errors or move.errors else 200,
        booking=found,
        cancel=cancel,
        move=move,
        may_cancel=live,
        may_move=found.status == BookingStatus.confirmed,
        may_mark_no_show=found.status == BookingStatus.confirmed and started,
    )


@bp.get("/bookings/<id:booking_id>")
@provider_required
def booking_detail(booking_id: int) -> ResponseReturnValue:
    found = booking.booking_of(db.session, current_provider(), booking_id, now=now())
    db.session.commit()  # the holds whose time ran out stay marked expired
    seen = local(found.start_at)
    move = StartForm(formdata=None, day=seen.date().isoformat(), time=f"{seen:%H:%M}")
    return _booking_page(found, CancelForm(formdata=None), move)


def _back_to_day(found: Booking) -> ResponseReturnValue:
    day = local(found.start_at).date().isoformat()
    return redirect(url_for("admin.calendar", view="day", day=day))


@bp.post("/bookings/<id:booking_id>/cancel")
@provider_required
def cancel_booking(booking_id: int) -> ResponseReturnValue:
    provider = current_provider()
    found = booking.booking_of(db.session, provider, booking_id, now=now())
    form = CancelForm()
    body = form.checked(
        schemas.CancelFields, given(reason=form.reason.data or None, late=form.late.data)
    )
    if body is None:
        return _booking_page(found, form, StartForm(formdata=None))
    cancelled = booking.cancel(
        db.session,
        provider,
        found,
        by=Channel.provider,
        now=now(),
        late=body.late,
        reason=body.reason,
    )
    if found.email:
        link_flow.announce(provider, found)
    db.session.commit()
    if cancelled.credit_refunded:
        outcome = " The credit was refunded."
    elif found.credit_spent:
        outcome = " Cancelled late: the credit stays spent."
    else:
        outcome = ""
    flash(f"Cancelled {found.name or 'the booking'} on {when(found.start_at)}.{outcome}")
    return _back_to_day(found)


@bp.post("/bookings/<id:booking_id>/no-show")
@provider_required
def mark_no_show(booking_id: int) -> ResponseReturnValue:
    found = booking.booking_of(db.session, current_provider(), booking_id, now=now())
    booking.mark_no_show(db.session, found, now())
    db.session.commit()
    kept = " The credit stays spent." if found.credit_spent else ""
    flash(f"Marked {found.name or 'the client'} as a no-show.{kept}")
    return redirect(url_for("admin.booking_detail", booking_id=found.id))


@bp.post("/bookings/<id:booking_id>/reschedule")
@provider_required
def reschedule_booking(booking_id: int) -> ResponseReturnValue:
    provider = current_provider()
    found = booking.booking_of(db.session, provider, booking_id, now=now())
    form = StartForm()
    body = form.checked(schemas.RescheduleFields, given(start=form.start()))

    def move_and_tell() -> Booking:
        moved = booking.reschedule(
            db.session, provider, found, start=body.start, channel=Channel.provider, now=now()
        )
        if moved.email:
            link_flow.announce(provider, moved, moved=True)
        return moved

    if body is None or form.attempt(move_and_tell) is None:
        return _booking_page(found, CancelForm(formdata=None), form)
    flash(f"Moved to {when(found.start_at)}. The credit is untouched.")
    return redirect(url_for("admin.booking_detail", booking_id=found.id))
