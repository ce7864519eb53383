"""Manage links from booking emails: see a booking, cancel it or move it, without logging in.

The signed link is the credential (it names the booking and the time it was sent
for), so a forged form cannot reach it; POSTs must still come from this site. The
rules are the domain's: the page only shows what `manage` allows and says why not.
"""

from collections.abc import Callable
from datetime import timedelta

from flask import render_template, request
from flask.typing import ResponseReturnValue

from ...domain import manage, schedule
from ...domain.booking import is_late_for_client
from ...domain.errors import DomainError
from ...domain.timezones import clock_time, zone_named
from ...extensions import db
from ...models import Booking, Provider
from .. import link_flow
from ..api.base import now
from ..limits import read_limit, submission_limit
from . import bp, error_page
from .booking_page import (
    day_label,
    parse_start,
    parse_week,
    sent_from_this_site,
)

DAYS_SHOWN = 7


def _open(token: str) -> tuple[Booking, Provider]:
    return manage.booking_to_manage(db.session, token, link_flow.signing_keys(), now())


def _page(token: str, booking: Booking, provider: Provider, **context: object) -> str:
    zone = zone_named(booking.timezone or provider.timezone)
    late = is_late_for_client(provider, booking, now())
    today = now().astimezone(zone).date()
    # Between today and the type's horizon (the viewer's zone may be a day ahead), as the
    # portal's week: a week asked for beyond it shows the last one.
    horizon = today + timedelta(days=booking.appointment_type.max_days_ahead + 1)
    first = min(max(parse_week(request.args.get("week")) or today, today), horizon)
    last = first + timedelta(days=DAYS_SHOWN - 1)
    days = (
        {}
        if late
        else schedule.free_starts_by_day(
            db.session,
            provider,
            booking.appointment_type,
            first_day=first,
            last_day=last,
            viewer_zone=zone,
            now=now(),
            excluding=booking.id,
        )
    )
    return render_template(
        "pages/manage.html",
        token=token,
        booking=booking,
        provider=provider,
        zone=zone.key,
        start=booking.start_at.astimezone(zone),
        end=booking.end_at.astimezone(zone),
        late=late,
        refund=booking.credit_spent and not late,
        days=days,
        earlier=(first - timedelta(days=DAYS_SHOWN)) if first > today else None,
        later=last + timedelta(days=1) if last < horizon else None,
        day_label=day_label,
        time_label=clock_time,
        **context,
    )


@bp.get("/manage/<token>")
@read_limit
def manage_booking(token: str) -> ResponseReturnValue:
    try:
        booking, provider = _open(token)
        page = _page(token, booking, provider)
    except DomainError as exc:
        return error_page(exc.code, exc.message)
    finally:
        db.session.rollback()
    return page


SLOT_CODES = frozenset({"slot_unavailable", "outside_availability", "too_soon", "too_far_ahead"})


def _change(
    token: str,
    act: Callable[[Booking, Provider], Booking],
    done: Callable[[Booking, Provider], str],
    *,
    moved: bool = False,
) -> ResponseReturnValue:
    """Run one change in one transaction, email what it did and show `done`; or the page
    saying why not. A time no longer free shows the booking's page again, the reason on top.
    """
    if not sent_from_this_site():
        return error_page("cross_site", status=403)
    try:
        booking, provider = _open(token)
        link_flow.announce(provider, act(booking, provider), moved=moved)
    except DomainError as exc:
        db.session.rollback()
        if exc.code not in SLOT_CODES:
            return error_page(exc.code, exc.message)
        booking, provider = _open(token)
        page = _page(token, booking, provider, notice=exc.message)
        db.session.rollback()
        return page, 409 if exc.code == "slot_unavailable" else 422
    db.session.commit()
    return done(booking, provider)


@bp.post("/manage/<token>/cancel")
@submission_limit
def cancel_booking(token: str) -> ResponseReturnValue:
    refunded = False

    def cancel(booking: Booking, provider: Provider) -> Booking:
        nonlocal refunded
        cancelled = manage.cancel_as_client(db.session, provider, booking, now())
        refunded = cancelled.credit_refunded
        return cancelled.booking

    def done(booking: Booking, provider: Provider) -> str:
        return render_template(
            "pages/managed.html",
            booking=booking,
            provider=provider,
            cancelled=True,
            refunded=refunded,
        )

    return _change(token, cancel, done)


@bp.post("/manage/<token>/reschedule")
@submission_limit
def reschedule_booking(token: str) -> ResponseReturnValue:
    def move(booking: Booking, provider: Provider) -> Booking:
        zone = zone_named(booking.timezone or provider.timezone)
        start = parse_start(request.form.get("start", ""), zone)
        return manage.move_as_client(db.session, provider, booking, start, now())

    def done(booking: Booking, provider: Provider) -> str:
        zone = zone_named(booking.timezone or provider.timezone)
        return render_template(
            "pages/managed.html",
            booking=booking,
            provider=provider,
            cancelled=False,
            start=booking.start_at.astimezone(zone),
            zone=zone.key,
            day_label=day_label,
            time_label=clock_time,
        )

    return _change(token, move, done, moved=True)
