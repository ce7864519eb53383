"""Emails: what each one says, written to the outbox, and how they reach SMTP.

A request only writes to the outbox; `widget.outbox` hands what it committed to
`deliver_due_mail` once the response has gone out, and retries what failed.
"""

import logging
import smtplib
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import unquote, urlsplit

import icalendar
from flask import current_app, has_request_context, render_template, request
from sqlalchemy.orm import Session

from . import outbox
from .clock import now
from .domain import notify
from .domain.timezones import clock_time, zone_named
from .extensions import db
from .models import Booking, BookingStatus, Client, OutboxMessage, Provider

SMTP_TIMEOUT_SECONDS = 20


def _when(provider: Provider, booking: Booking) -> str:
    zone = zone_named(booking.timezone or provider.timezone)
    start = booking.start_at.astimezone(zone)
    return f"{start:%A %d %B %Y}, {clock_time(start)} ({zone.key})"


def _queue(
    session: Session,
    provider: Provider,
    recipient: str | None,
    name: str,
    subject: str,
    now: datetime,
    *,
    booking: Booking | None = None,
    invite: bool = False,
    **context: Any,
) -> None:
    """Email `name` from `provider`: text and HTML (which escapes what visitors typed), and
    the booking's calendar event when `invite`."""
    assert recipient is not None
    values: dict[str, Any] = {"provider": provider, "booking": booking}
    if booking is not None:
        values["when"] = _when(provider, booking)
    notify.queue_email(
        session,
        recipient=recipient,
        subject=subject,
        text_body=render_template(f"email/{name}.txt", **values, **context),
        html_body=render_template(f"email/{name}.html", **values, **context),
        ics=booking_invite(provider, booking, now) if booking is not None and invite else None,
        now=now,
        provider_id=provider.id,
        booking_id=booking.id if booking is not None else None,
    )


def queue_login_email(
    session: Session, provider: Provider, client: Client, login_url: str, now: datetime
) -> None:
    subject = f"Your login link for {provider.name}"
    _queue(session, provider, client.email, "login", subject, now, client=client, url=login_url)


def queue_no_account_email(session: Session, provider: Provider, email: str, now: datetime) -> None:
    """The answer to a login-link request for an address no client uses: written and
    committed like a login link, so the page's timing does not tell the two apart."""
    subject = f"No client account with {provider.name}"
    _queue(session, provider, email, "no_account", subject, now, email=email)


def queue_password_email(
    session: Session, provider: Provider, client: Client, password_url: str, now: datetime
) -> None:
    subject = f"Set your password for {provider.name}"
    _queue(
        session, provider, client.email, "password", subject, now, client=client, url=password_url
    )


def queue_hold_email(
    session: Session, provider: Provider, booking: Booking, confirm_url: str, now: datetime
) -> None:
    subject = f"Confirm your booking with {provider.name}"
    assert booking.hold_expires_at is not None
    _queue(
        session,
        provider,
        booking.email,
        "hold",
        subject,
        now,
        booking=booking,
        confirm_url=confirm_url,
        minutes=max(1, int((booking.hold_expires_at - now).total_seconds() // 60)),
    )


def queue_confirmation_email(
    session: Session,
    provider: Provider,
    booking: Booking,
    manage_url: str,
    now: datetime,
    *,
    moved: bool = False,
) -> None:
    """The booking's time (new, or `moved` to), its invitation and its manage link."""
    subject = (
        f"{'Moved' if moved else 'Booked'}: {booking.appointment_type.name} with {provider.name}"
    )
    _queue(
        session,
        provider,
        booking.email,
        "confirmation",
        subject,
        now,
        booking=booking,
        invite=True,
        manage_url=manage_url,
        moved=moved,
    )


def queue_cancellation_email(
    session: Session, provider: Provider, booking: Booking, now: datetime
) -> None:
    """Says what happened to the credit, and withdraws the calendar event."""
    subject = f"Cancelled: {booking.appointment_type.name} with {provider.name}"
    _queue(
        session, provider, booking.email, "cancellation", subject, now, booking=booking, invite=True
    )


def _uid_domain() -> str:
    """This installation's host, so UIDs from two Widgets never merge in one calendar."""
    base = current_app.config.get("WIDGET_BASE_URL") or (
        request.host_url if has_request_context() else ""
    )
    return urlsplit(base).hostname or "widget"


def booking_invite(provider: Provider, booking: Booking, now: datetime) -> str:
    """The calendar event of a confirmed booking; its UID stays the same for the booking's life,
    so a later update or cancellation replaces the event instead of adding one."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Widget//Bookings//EN")
    calendar.add("version", "2.0")
    cancelled = booking.status == BookingStatus.cancelled
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")
    invite = icalendar.Event()
    invite.add("uid", f"booking-{booking.id}@{_uid_domain()}")
    invite.add("dtstamp", now.astimezone(UTC))
    invite.add("dtstart", booking.start_at.astimezone(UTC))
    invite.add("dtend", booking.end_at.astimezone(UTC))
    invite.add("summary", f"{booking.appointment_type.name} with {provider.name}")
    invite.add("sequence", int(now.timestamp()))
    invite.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    organizer = icalendar.vCalAddress(f"mailto:{provider.email}")
    organizer.params["CN"] = provider.name
    invite.add("organizer", organizer)
    attendee = icalendar.vCalAddress(f"mailto:{booking.email}")
    if booking.name:
        attendee.params["CN"] = booking.name
    attendee.params["PARTSTAT"] = "ACCEPTED"
    attendee.params["RSVP"] = "FALSE"
    invite.add("attendee", attendee)
    calendar.add_component(invite)
    ics: str = calendar.to_ical().decode()
    return ics


def outbox_email(message: OutboxMessage, sender: str) -> EmailMessage:
    """The MIME message: text, its HTML alternative, and the invitation as invite.ics."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = " ".join(message.subject.split())
    email["Date"] = formatdate(message.created_at.timestamp(), usegmt=True)
    email["Message-ID"] = make_msgid(idstring=f"outbox-{message.id}")
    email.set_content(message.text_body)
    if message.html_body:
        email.add_alternative(message.html_body, subtype="html")
    if message.ics:
        email.add_attachment(
            message.ics,
            subtype="calendar",
            filename="invite.ics",
            params={"method": "CANCEL" if "METHOD:CANCEL" in message.ics else "REQUEST"},
        )
    return email


class SmtpTransport:
    """One connection for a delivery run, opened on first use.

    When the server cannot be reached, the rest of the run fails at once instead of
    waiting out a timeout per message.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.connection: smtplib.SMTP | None = None
        self.unreachable: str | None = None

    def send(self, message: OutboxMessage, sender: str) -> None:
        if self.unreachable is not None:
            raise ConnectionError(self.unreachable)
        if self.connection is None:
            try:
                self.connection = smtp_connection(self.url)
            except Exception as exc:
                self.unreachable = outbox.describe(exc)
                raise
        try:
            self.connection.send_message(outbox_email(message, sender))
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        if self.connection is None:
            return
        try:
            self.connection.quit()
        except OSError:
            self.connection.close()
        self.connection = None


def smtp_connection(url: str) -> smtplib.SMTP:
    """A logged-in connection for `smtp://`, `smtps://` or `smtp+starttls://`, with an
    optional `user:password@` (percent-encoded) and port."""
    parts = urlsplit(url)
    ports = {"smtp": 25, "smtps": 465, "smtp+starttls": 587}
    if parts.scheme not in ports:
        raise ValueError(
            f"WIDGET_SMTP_URL: unknown scheme {parts.scheme!r}, use {', '.join(ports)}"
        )
    host, port = parts.hostname or "localhost", parts.port or ports[parts.scheme]
    tls = ssl.create_default_context()
    connection = (
        smtplib.SMTP_SSL(host, port, timeout=SMTP_TIMEOUT_SECONDS, context=tls)
        if parts.scheme == "smtps"
        else smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT_SECONDS)
    )
    try:
        if parts.scheme == "smtp+starttls":
            connection.starttls(context=tls)
        if parts.username:
            connection.login(unquote(parts.username), unquote(parts.password or ""))
    except BaseException:
        connection.close()
        raise
    return connection


@contextmanager
def _transport(
    smtp_url: str | None, logger: logging.Logger
) -> Iterator[Callable[[OutboxMessage, str], None]]:
    """SMTP, or without WIDGET_SMTP_URL the log (development and tests): logged counts as sent."""
    if smtp_url is None:

        def log(message: OutboxMessage, _sender: str) -> None:
            logger.info(
                "mail to %s (no WIDGET_SMTP_URL, logged instead): %s\n%s",
                message.recipient,
                message.subject,
                message.text_body,
            )

        yield log
        return
    smtp = SmtpTransport(smtp_url)
    try:
        yield smtp.send
    finally:
        smtp.close()


def deliver_outbox(
    session: Session,
    *,
    smtp_url: str | None,
    sender: str,
    now: datetime,
    logger: logging.Logger,
    limit: int = outbox.DELIVERY_LIMIT,
    rows: list[OutboxMessage] | None = None,
) -> outbox.DeliveryCounts:
    """Send the emails that are due (or the leased `rows`), over one SMTP connection."""
    with _transport(smtp_url, logger) as transport:

        def send(message: OutboxMessage) -> None:
            transport(message, sender)

        if rows is not None:
            return outbox.deliver_leased(session, rows, send, logger=logger)
        return outbox.deliver_due(session, OutboxMessage, send, at=now, logger=logger, limit=limit)


def deliver_due_mail(
    *, limit: int = outbox.DELIVERY_LIMIT, rows: list[OutboxMessage] | None = None
) -> outbox.DeliveryCounts:
    """deliver_outbox with this app's settings and clock."""
    return deliver_outbox(
        db.session(),
        smtp_url=current_app.config["WIDGET_SMTP_URL"],
        sender=current_app.config["WIDGET_MAIL_FROM"],
        now=now(),
        logger=current_app.logger,
        limit=limit,
        rows=rows,
    )
