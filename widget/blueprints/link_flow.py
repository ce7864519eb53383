"""The share-link flow that the JSON API and the HTML pages both drive.

Parse and authenticate stay in each blueprint; this module opens the link a token
names, runs the domain's submission or confirmation, and queues the email that
follows, so the API and the pages can never answer the same submission differently.
"""

from datetime import datetime
from urllib.parse import urlencode

from flask import current_app, request, url_for

from .. import mail
from ..domain import link_booking, links, manage, tokens
from ..domain.errors import Refused
from ..domain.timezones import zone_named
from ..extensions import db
from ..models import Booking, BookingStatus, Provider, ShareLink
from .api.base import now


def signing_keys() -> list[str]:
    """Oldest first, newest last, as itsdangerous wants them."""
    fallbacks = current_app.config.get("SECRET_KEY_FALLBACKS") or []
    return [*reversed(fallbacks), current_app.config["SECRET_KEY"]]


def base_url() -> str:
    """Where links in emails and snippets point: WIDGET_BASE_URL, else this request's host."""
    return str(current_app.config.get("WIDGET_BASE_URL") or request.host_url).rstrip("/")


def open_link(token: str) -> tuple[ShareLink, Provider]:
    link = links.open_link(db.session, token, signing_keys(), now())
    provider = db.session.get(Provider, link.provider_id)
    assert provider is not None
    return link, provider


def submit(
    token: str,
    *,
    appointment_type_id: int,
    start_at: datetime,
    name: str | None,
    email: str | None,
    timezone: str | None,
) -> tuple[Booking, Provider]:
    """Book or hold through a link and queue its email; the caller commits."""
    link, provider = open_link(token)
    appointment_type = links.offered_type(provider, link, appointment_type_id)
    if timezone is not None:
        zone_named(timezone, field="timezone")
    try:
        booking = link_booking.submit(
            db.session,
            provider,
            link,
            appointment_type,
            start=start_at,
            name=name,
            email=email,
            timezone=timezone,
            now=now(),
        )
    except Refused as exc:
        # Both answers point to the portal (DESIGN rule 4, API.md): to its step for this
        # slot where a login lifts the refusal, else to its start.
        if exc.code == "login_required":
            exc.details = {
                "portal_url": base_url()
                + portal_url(provider, appointment_type.id, start_at, timezone)
            }
        elif exc.code == "new_clients_only":
            exc.details = {"portal_url": base_url() + portal_url(provider)}
        raise
    announce(provider, booking)
    return booking, provider


def portal_url(
    provider: Provider,
    appointment_type_id: int | None = None,
    start: datetime | None = None,
    tz: str | None = None,
) -> str:
    """The provider's client portal, where existing clients log in (always opened top level).

    With the type (and start) the visitor chose, the portal's booking step for that
    slot, which the login sends them back to.
    """
    if appointment_type_id is None:
        return f"/portal/{provider.slug}/"
    slot = {"type": appointment_type_id, "start": start.isoformat() if start else None, "tz": tz}
    return f"/portal/{provider.slug}/book?" + urlencode({k: v for k, v in slot.items() if v})


def announce(provider: Provider, booking: Booking, *, moved: bool = False) -> None:
    """Queue the email a booking's state calls for: a confirmation link, the confirmation
    (with its manage link, new for every new time; `moved` says the time changed), or the
    cancellation."""
    if booking.status == BookingStatus.pending_verification:
        token = tokens.sign(booking.id, signing_keys(), tokens.CONFIRM_BOOKING)
        confirm_url = base_url() + url_for("pages.confirm", token=token)
        mail.queue_hold_email(db.session, provider, booking, confirm_url, now())
    elif booking.status == BookingStatus.confirmed:
        token = manage.manage_token(booking, signing_keys())
        manage_url = base_url() + url_for("pages.manage_booking", token=token)
        mail.queue_confirmation_email(db.session, provider, booking, manage_url, now(), moved=moved)
    elif booking.status == BookingStatus.cancelled:
        mail.queue_cancellation_email(db.session, provider, booking, now())


def confirm(token: str) -> tuple[Booking, Provider]:
    """Open a confirmation link: the hold becomes confirmed or refused; the caller commits."""
    booking_id = tokens.unsign(token, signing_keys(), tokens.CONFIRM_BOOKING)
    outcome = link_booking.confirm_hold(
        db.session, booking_id if isinstance(booking_id, int) else 0, now()
    )
    provider = db.session.get(Provider, outcome.booking.provider_id)
    assert provider is not None
    if outcome.decided_now:
        announce(provider, outcome.booking)
    return outcome.booking, provider
