"""The outbox: emails are written in the transaction that causes them and sent after it.

So a request never waits on SMTP (its timing reveals nothing about the recipient),
a rolled-back booking sends nothing, and a mail server that is down loses nothing.
"""

from datetime import datetime

from sqlalchemy.orm import Session

from ..models import OutboxMessage


def queue_email(
    session: Session,
    *,
    recipient: str,
    subject: str,
    text_body: str,
    now: datetime,
    html_body: str | None = None,
    ics: str | None = None,
    provider_id: int | None = None,
    booking_id: int | None = None,
) -> OutboxMessage:
    message = OutboxMessage(
        provider_id=provider_id,
        booking_id=booking_id,
        recipient=recipient,
        subject=subject,
        text_body=text_body,
        html_body=html_body,
        ics=ics,
        created_at=now,
        next_attempt_at=now,
        attempts=0,
    )
    session.add(message)
    return message
