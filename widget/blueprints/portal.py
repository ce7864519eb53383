"""The client portal, /portal/<slug>/: credits and their history, booking, and bookings.

Each view loads what it names (another provider's or client's object is not found),
asks the domain, and renders what it answered; a change is one transaction that
queues its email and then commits. Times are shown in the client's zone: the one
they chose (kept in their session), else the provider's.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import NotFound as HttpNotFound

from ..domain import credit_history, credits, manage, portal_view, schedule
from ..domain.appointment_types import appointment_type_of
from ..domain.booking import book as book_appointment
from ..domain.booking import ends_at, late_cancel_window
from ..domain.errors import DomainError, Refused, ValidationFailed
from ..domain.portal_view import ClientBooking
from ..domain.timezones import clock_time, zone_named
from ..extensions import db
from ..models import AppointmentType, Booking, Channel
from . import link_flow
from .api.base import MAX_ID, now, status_of
from .auth import client_required
from .pages import REASONS
from .pages.booking_page import day_label, parse_start, parse_week, zone_choices

bp = Blueprint("portal", __name__, url_prefix="/portal/<slug>")

DAYS_SHOWN = 7
ZONE_KEY = "portal_tz"
SLOT_CODES = frozenset({"slot_unavailable", "outside_availability", "too_soon", "too_far_ahead"})
NO_LONGER_FREE = "That time is no longer free. Please choose another."


# Helpers


def _zone() -> ZoneInfo:
    """The client's zone: one asked for in the address is kept for the rest of the visit."""
    asked = request.args.get("tz", "")
    if asked:
        try:
            session[ZONE_KEY] = zone_named(asked).key
        except ValidationFailed:
            g.zone_error = f"'{asked[:64]}' is not a time zone we know: choose one from the list."
    return zone_named(session.get(ZONE_KEY) or g.provider.timezone)


def _page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    page = render_template(
        template,
        provider=g.provider,
        client=g.client,
        brand=g.provider.name,
        zone=_zone(),
        day_label=day_label,
        time_label=clock_time,
        **context,
    )
    return page, status


def _id(text: str | None) -> int:
    """An id from a query or form; anything else names nothing, so it is not found."""
    if text is None or not re.fullmatch(r"[0-9]{1,10}", text) or int(text) > MAX_ID:
        return 0
    return int(text)


def _start(text: str | None) -> datetime | None:
    return parse_start(text, _zone()) if text else None


@dataclass(frozen=True)
class Week:
    """Free starts by local day, and where the arrows go."""

    days: dict[date, list[datetime]]
    first: date
    last: date
    earlier: date | None
    later: date | None

    @property
    def any_free(self) -> bool:
        return any(self.days.values())


def _week(
    appointment_type: AppointmentType,
    wanted: date | None,
    *,
    days: int = DAYS_SHOWN,
    moving: Booking | None = None,
) -> Week:
    """The free times of a week; a booking being `moving` is not in their way."""
    zone = _zone()
    today = now().astimezone(zone).date()
    horizon = today + timedelta(days=appointment_type.max_days_ahead + 1)
    first = min(max(wanted or today, today), horizon)
    last = first + timedelta(days=days - 1)
    found = schedule.free_starts_by_day(
        db.session,
        g.provider,
        appointment_type,
        first_day=first,
        last_day=last,
        viewer_zone=zone,
        now=now(),
        excluding=moving.id if moving is not None else None,
    )
    earlier = max(first - timedelta(days=days), today) if first > today else None
    later = last + timedelta(days=1) if last < horizon else None
    return Week(found, first, last, earlier, later)


def _is_free(
    appointment_type: AppointmentType, start: datetime, moving: Booking | None = None
) -> bool:
    # Compared in UTC: two times of one zone compare by their wall clocks, so the two
    # 01:30s of a fall-back night would be equal.
    week = _week(appointment_type, start.date(), days=1, moving=moving)
    offered = week.days.get(start.date(), [])
    return start.astimezone(UTC) in {slot.astimezone(UTC) for slot in offered}


def _week_page(
    appointment_type: AppointmentType,
    wanted: date | None,
    *,
    heading: str,
    url: Callable[..., str],
    notice: str | None = None,
    status: int = 200,
    **context: Any,
) -> tuple[str, int]:
    """Free times of a week, each a link to `url(start=...)`; arrows to `url(week=...)`."""
    return _page(
        "portal/week.html",
        status,
        appointment_type=appointment_type,
        week=_week(appointment_type, wanted, moving=context.get("moving")),
        heading=heading,
        url=url,
        notice=notice,
        zones=zone_choices(),
        zone_chosen=ZONE_KEY in session,
        zone_error=g.get("zone_error"),
        **context,
    )


# Where the public pages' advice sends a client to the portal, a client in it is told
# what to do there.
IN_PORTAL = {
    "new_clients_only": (
        "This appointment is for new clients",
        "As a client, please choose another of your appointments.",
    ),
}


def _problem(code: str, message: str, status: int, **context: Any) -> tuple[str, int]:
    """A refusal or an error in the portal's own layout: what happened and what to do."""
    title, advice = {**REASONS, **IN_PORTAL}.get(code, ("Something went wrong", message))
    page = render_template(
        "portal/problem.html",
        provider=g.get("provider"),
        client=g.get("client"),
        brand=g.provider.name if "provider" in g else None,
        code=code,
        title=title,
        message=message if message != advice else "",
        advice=advice,
        **context,
    )
    return page, status


@bp.errorhandler(DomainError)
def domain_error(exc: DomainError) -> ResponseReturnValue:
    db.session.rollback()
    return _problem(exc.code, exc.message, status_of(exc))


@bp.errorhandler(HttpNotFound)
def not_found(exc: HttpNotFound) -> ResponseReturnValue:
    return _problem("not_found", "", 404)


# Credits


@bp.get("/")
@client_required
def home(slug: str) -> ResponseReturnValue:
    balances = credits.client_balances(
        db.session, provider_id=g.provider.id, client_id=g.client.id, now=now()
    )
    upcoming, _ = portal_view.bookings_of_client(db.session, g.provider, g.client, now())
    db.session.commit()  # expiries that fell due are written, as on every account read
    return _page("portal/home.html", balances=balances, upcoming=upcoming)


@bp.get("/credits/<id:type_id>")
@client_required
def history(slug: str, type_id: int) -> ResponseReturnValue:
    appointment_type = appointment_type_of(db.session, g.provider, type_id)
    story = credit_history.account_story(
        db.session, g.provider, g.client, appointment_type, zone=_zone(), now=now()
    )
    db.session.commit()
    return _page("portal/history.html", story=story)


# Booking


def _book_url(appointment_type: AppointmentType) -> Callable[..., str]:
    def url(**params: str) -> str:
        return url_for("portal.book", slug=g.provider.slug, type=appointment_type.id, **params)

    return url


def _refused(
    appointment_type: AppointmentType, start: datetime | None, code: str, message: str
) -> tuple[str, int]:
    """Why this type cannot be booked, and what this client may book instead, at the same time
    if they had chosen one."""
    others = [
        o
        for o in portal_view.offers_for(db.session, g.provider, g.client, now())
        if o.bookable and o.appointment_type.id != appointment_type.id
    ]
    return _problem(
        code,
        message,
        status_of(Refused(code, message)),
        appointment_type=appointment_type,
        start=start,
        others=others,
        day_label=day_label,
        time_label=clock_time,
    )


def _choose_then_confirm(
    appointment_type: AppointmentType,
    start: datetime | None,
    *,
    heading: str,
    url: Callable[..., str],
    action: str,
    **context: Any,
) -> tuple[str, int]:
    """Booking and moving alike: the week to choose a start in (again, with a notice, when
    the start chosen was just taken), then the confirmation of a free start that posts to
    `action`. `context` goes to both pages."""
    if start is None:
        week = parse_week(request.args.get("week"))
        return _week_page(appointment_type, week, heading=heading, url=url, **context)
    if not _is_free(appointment_type, start, context.get("moving")):
        return _week_page(
            appointment_type,
            start.date(),
            heading=heading,
            url=url,
            notice=NO_LONGER_FREE,
            status=409,
            **context,
        )
    return _page(
        "portal/confirm.html",
        appointment_type=appointment_type,
        start=start,
        end=ends_at(appointment_type, start),
        action=action,
        back=url(week=start.date().isoformat()),
        **context,
    )


@bp.get("/book")
@client_required
def book(slug: str) -> ResponseReturnValue:
    """Choose a type, then a time, then confirm: each step a plain link or GET form.

    `type` and `start` in the address (a public link that needed a login sends them)
    open the step for that slot directly.
    """
    if not request.args.get("type"):
        offers = portal_view.offers_for(db.session, g.provider, g.client, now())
        db.session.commit()
        return _page("portal/book_types.html", offers=offers)
    offer = portal_view.offer_of(db.session, g.provider, g.client, _id(request.args["type"]), now())
    db.session.commit()
    start = _start(request.args.get("start"))
    appointment_type = offer.appointment_type
    if not offer.bookable:
        reason = offer.decision.reason or "invalid_state"
        return _refused(appointment_type, start, reason, offer.decision.message)
    return _choose_then_confirm(
        appointment_type,
        start,
        heading=f"Book {appointment_type.name}",
        url=_book_url(appointment_type),
        action=url_for("portal.book_slot", slug=slug),
        offer=offer,
    )


@bp.post("/book")
@client_required
def book_slot(slug: str) -> ResponseReturnValue:
    appointment_type = appointment_type_of(db.session, g.provider, _id(request.form.get("type")))
    start = parse_start(request.form.get("start", ""), _zone())
    try:
        booking = book_appointment(
            db.session,
            g.provider,
            appointment_type,
            start=start,
            channel=Channel.portal,
            now=now(),
            client=g.client,
            timezone=_zone().key,
        )
        link_flow.announce(g.provider, booking)
    except Refused as exc:
        db.session.rollback()
        if exc.code in SLOT_CODES:
            return _week_page(
                appointment_type,
                start.date(),
                heading=f"Book {appointment_type.name}",
                url=_book_url(appointment_type),
                notice=exc.message,
                status=status_of(exc),
            )
        return _refused(appointment_type, start, exc.code, exc.message)
    db.session.commit()
    flash(
        f"Booked: {appointment_type.name}, {_when(booking)}. A confirmation is on its way by email."
    )
    return redirect(url_for("portal.home", slug=slug))


def _when(booking: Booking) -> str:
    start = booking.start_at.astimezone(_zone())
    return f"{day_label(start.date())} at {clock_time(start)}"


# The client's bookings


@bp.get("/bookings")
@client_required
def bookings(slug: str) -> ResponseReturnValue:
    upcoming, past = portal_view.bookings_of_client(db.session, g.provider, g.client, now())
    return _page("portal/bookings.html", upcoming=upcoming, past=past)


def _booking(booking_id: int, *, for_update: bool = False) -> ClientBooking:
    return portal_view.booking_of_client(
        db.session, g.provider, g.client, booking_id, now(), for_update=for_update
    )


@bp.get("/bookings/<id:booking_id>/cancel")
@client_required
def cancel(slug: str, booking_id: int) -> ResponseReturnValue:
    mine = _booking(booking_id)
    if not mine.may_cancel:
        reason = "This booking is past or cancelled, so it can no longer be cancelled."
        return _problem("invalid_state", reason, 409)
    window = late_cancel_window(g.provider, mine.booking.appointment_type)
    return _page("portal/cancel.html", mine=mine, window_hours=int(window.total_seconds() // 3600))


@bp.post("/bookings/<id:booking_id>/cancel")
@client_required
def cancel_booking(slug: str, booking_id: int) -> ResponseReturnValue:
    mine = _booking(booking_id, for_update=True)
    cancelled = manage.cancel_as_client(db.session, g.provider, mine.booking, now())
    link_flow.announce(g.provider, cancelled.booking)
    db.session.commit()
    booking = cancelled.booking
    credit = ""
    if booking.credit_spent:
        credit = (
            " Its credit is back in your account."
            if cancelled.credit_refunded
            else " It was inside the late-cancellation window, so its credit is not refunded."
        )
    flash(f"Cancelled: {booking.appointment_type.name}, {_when(booking)}.{credit}")
    return redirect(url_for("portal.bookings", slug=slug))


def _move_url(booking: Booking) -> Callable[..., str]:
    def url(**params: str) -> str:
        return url_for("portal.move", slug=g.provider.slug, booking_id=booking.id, **params)

    return url


@bp.get("/bookings/<id:booking_id>/move")
@client_required
def move(slug: str, booking_id: int) -> ResponseReturnValue:
    mine = _booking(booking_id)
    booking = mine.booking
    appointment_type = booking.appointment_type
    if not mine.may_move:
        reason = (
            f"This appointment is too close to move online; please contact {g.provider.name}."
            if mine.late
            else "This booking is past or cancelled, so it can no longer be moved."
        )
        return _problem("invalid_state", reason, 409)
    return _choose_then_confirm(
        appointment_type,
        _start(request.args.get("start")),
        heading=f"Move {appointment_type.name}",
        url=_move_url(booking),
        action=url_for("portal.move_booking", slug=slug, booking_id=booking.id),
        moving=booking,
    )


@bp.post("/bookings/<id:booking_id>/move")
@client_required
def move_booking(slug: str, booking_id: int) -> ResponseReturnValue:
    mine = _booking(booking_id, for_update=True)
    booking = mine.booking
    start = parse_start(request.form.get("start", ""), _zone())
    try:
        manage.move_as_client(db.session, g.provider, booking, start, now())
        link_flow.announce(g.provider, booking, moved=True)
    except Refused as exc:
        db.session.rollback()
        if exc.code not in SLOT_CODES:
            raise
        moving = _booking(booking_id).booking
        return _week_page(
            moving.appointment_type,
            start.date(),
            heading=f"Move {moving.appointment_type.name}",
            url=_move_url(moving),
            notice=exc.message,
            status=status_of(exc),
            moving=moving,
        )
    db.session.commit()
    flash(f"Moved: {booking.appointment_type.name} is now {_when(booking)}.")
    return redirect(url_for("portal.bookings", slug=slug))
