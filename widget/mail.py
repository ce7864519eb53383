"""Booking emails: what each one says, written to the outbox, and their delivery.

A request only writes to the outbox. What it queued is handed to SMTP when the
server closes its response (after the commit and after the answer went out), and
`flask --app widget outbox deliver` retries whatever failed.
"""

import logging
import smtplib
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import unquote, urlsplit

import icalendar
from flask import Flask, current_app, g, has_request_context, render_template, request
from flask.wrappers import Response
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from .domain import notify
from .domain.timezones import zone_named
from .extensions import db
from .models import Booking, BookingStatus, Client, OutboxMessage, Provider, utcnow

SMTP_TIMEOUT_SECONDS = 20
CLAIM_LEASE = timedelta(minutes=10)
"""How long a claimed message is hidden from other runs: far longer than one send can take."""
MAX_RETRY_DELAY = timedelta(hours=1)
DELIVERY_LIMIT = 100

_QUEUED = "outbox_queued"
_COMMITTED = "outbox_committed"


def _when(provider: Provider, booking: Booking) -> str:
    zone = zone_named(booking.timezone or provider.timezone)
    start = booking.start_at.astimezone(zone)
    return f"{start:%A %d %B %Y, %H:%M} ({zone.key})"


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
    _queue(
        session,
        provider,
        booking.email,
        "hold",
        subject,
        now,
        booking=booking,
        confirm_url=confirm_url,
    )


def queue_confirmation_email(
    session: Session, provider: Provider, booking: Booking, manage_url: str, now: datetime
) -> None:
    subject = f"Booked: {booking.appointment_type.name} with {provider.name}"
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


@dataclass(frozen=True)
class DeliveryCounts:
    sent: int = 0
    failed: int = 0


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4 ... minutes after the first, second, third failure; at most an hour."""
    return min(timedelta(minutes=2 ** min(attempts - 1, 6)), MAX_RETRY_DELAY)


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
                self.unreachable = _describe(exc)
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


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def _claim_next(session: Session, now: datetime, ids: set[int] | None) -> OutboxMessage | None:
    """Take one due message and hide it from other runs for the lease, in a short transaction.

    On PostgreSQL, SKIP LOCKED lets concurrent runs pass each other's claims; SQLite's
    BEGIN IMMEDIATE serialises them. The send itself happens outside any transaction.
    """
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(ids))
    message = session.scalars(query).first()
    if message is not None:
        message.next_attempt_at = now + CLAIM_LEASE
    session.commit()
    return message


def deliver_outbox(
    session: Session,
    *,
    smtp_url: str | None,
    sender: str,
    now: datetime,
    logger: logging.Logger,
    limit: int = DELIVERY_LIMIT,
    ids: set[int] | None = None,
) -> DeliveryCounts:
    """Send what is due (only `ids`, when given). A failure is recorded on the message
    for a later retry with backoff, never raised: the outbox is the retry queue."""
    sent = failed = 0
    with _transport(smtp_url, logger) as transport:
        while sent + failed < limit:
            message = _claim_next(session, now, ids)
            if message is None:
                break
            message.attempts += 1
            try:
                transport(message, sender)
            except Exception as exc:
                message.last_error = _describe(exc)
                message.next_attempt_at = now + retry_delay(message.attempts)
                failed += 1
                logger.warning(
                    "outbox message %s not sent (attempt %s, retry after %s): %s",
                    message.id,
                    message.attempts,
                    message.next_attempt_at.isoformat(),
                    message.last_error,
                )
            else:
                message.sent_at = now
                message.last_error = None
                sent += 1
            session.commit()
    return DeliveryCounts(sent=sent, failed=failed)


def _now() -> datetime:
    """The app's clock: tests set WIDGET_CLOCK to travel in time."""
    clock: Callable[[], datetime] = current_app.config.get("WIDGET_CLOCK") or utcnow
    return clock()


def deliver_due_mail(*, limit: int = DELIVERY_LIMIT, ids: set[int] | None = None) -> DeliveryCounts:
    """deliver_outbox with this app's settings and clock."""
    return deliver_outbox(
        db.session(),
        smtp_url=current_app.config["WIDGET_SMTP_URL"],
        sender=current_app.config["WIDGET_MAIL_FROM"],
        now=_now(),
        logger=current_app.logger,
        limit=limit,
        ids=ids,
    )


@event.listens_for(Session, "after_flush")
def _note_queued(session: Session, _flush_context: object) -> None:
    queued = {row.id for row in session.new if isinstance(row, OutboxMessage)}
    if queued:
        session.info.setdefault(_QUEUED, set()).update(queued)


@event.listens_for(Session, "after_commit")
def _note_committed(session: Session) -> None:
    """Only committed mail is delivered, and only the request that committed it hands it on."""
    queued = session.info.pop(_QUEUED, None)
    if queued and has_request_context():
        g.setdefault(_COMMITTED, set()).update(queued)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_QUEUED, None)


def _deliver_after_response(app: Flask, ids: set[int]) -> None:
    """Runs when the server closes the response, in an app context (and session) of its own."""
    with app.app_context():
        try:
            deliver_due_mail(ids=ids)
        except Exception:
            app.logger.exception(
                "outbox delivery after a response failed; `outbox deliver` retries"
            )


def _hand_on_committed_mail(response: Response) -> Response:
    ids: set[int] | None = g.pop(_COMMITTED, None)
    if ids:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        response.call_on_close(lambda: _deliver_after_response(app, ids))
    return response


def init_app(app: Flask) -> None:
    """Deliver the mail a request committed once its response has gone out."""
    app.after_request(_hand_on_committed_mail)
