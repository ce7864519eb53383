"""Rows written in a transaction and handed to the outside world after it commits.

Emails (OutboxMessage) and webhook calls (WebhookDelivery) share the pattern: a
request only writes rows; what it committed is delivered when its response has gone
out, in a session of its own; a failure is kept on the row and retried with backoff
by `flask --app widget outbox deliver`. Rows are claimed one at a time with SKIP
LOCKED on PostgreSQL, so two runs never deliver one row twice.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from logging import Logger
from typing import Any

from flask import Flask, current_app, g, has_request_context
from flask.wrappers import Response
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from .extensions import db
from .models import OutboxMessage, WebhookDelivery

Row = OutboxMessage | WebhookDelivery
CLAIM_LEASE = timedelta(minutes=10)
"""How long a claimed row is hidden from other runs: far longer than one delivery takes."""
MAX_RETRY_DELAY = timedelta(hours=1)
DELIVERY_LIMIT = 100
_QUEUED = "outbox_queued"
_COMMITTED = "outbox_committed"
KINDS: tuple[type[Row], ...] = (OutboxMessage, WebhookDelivery)
_deliverers: dict[type[Row], Callable[..., "DeliveryCounts"]] = {}


@dataclass(frozen=True)
class DeliveryCounts:
    sent: int = 0
    failed: int = 0


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4 ... minutes after the first, second, third failure; at most an hour."""
    return min(timedelta(minutes=2 ** min(attempts - 1, 6)), MAX_RETRY_DELAY)


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def _claim_next(session: Session, kind: type[Row], at: datetime, ids: set[int] | None) -> Any:
    """Take one due row and hide it from other runs for the lease, in a short transaction.

    On PostgreSQL, SKIP LOCKED lets concurrent runs pass each other's claims; SQLite's
    BEGIN IMMEDIATE serialises them. The delivery itself happens outside any transaction.
    """
    query = (
        select(kind)
        .where(kind.sent_at.is_(None), kind.next_attempt_at <= at)
        .order_by(kind.next_attempt_at, kind.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if ids is not None:
        query = query.where(kind.id.in_(ids))
    row = session.scalars(query).first()
    if row is not None:
        row.next_attempt_at = at + CLAIM_LEASE
    session.commit()
    return row


def deliver_due(
    session: Session,
    kind: type[Row],
    send: Callable[[Any], None],
    *,
    at: datetime,
    logger: Logger,
    limit: int = DELIVERY_LIMIT,
    ids: set[int] | None = None,
) -> DeliveryCounts:
    """Deliver what is due (only `ids`, when given). A failure is recorded on the row for a
    later retry with backoff, never raised: the table is the retry queue."""
    sent = failed = 0
    while sent + failed < limit:
        row = _claim_next(session, kind, at, ids)
        if row is None:
            break
        row.attempts += 1
        try:
            send(row)
        except Exception as exc:
            row.last_error = describe(exc)
            row.next_attempt_at = at + retry_delay(row.attempts)
            failed += 1
            logger.warning(
                "%s %s not delivered (attempt %s, retry after %s): %s",
                kind.__tablename__,
                row.id,
                row.attempts,
                row.next_attempt_at.isoformat(),
                row.last_error,
            )
        else:
            row.sent_at = at
            row.last_error = None
            sent += 1
        session.commit()
    return DeliveryCounts(sent=sent, failed=failed)


def deliver_everything(limit: int = DELIVERY_LIMIT) -> dict[str, DeliveryCounts]:
    return {kind.__tablename__: _deliverers[kind](limit=limit) for kind in KINDS}


@event.listens_for(Session, "after_flush")
def _note_queued(session: Session, _flush_context: object) -> None:
    for row in session.new:
        if isinstance(row, KINDS):
            session.info.setdefault(_QUEUED, set()).add((type(row), row.id))


@event.listens_for(Session, "after_commit")
def _note_committed(session: Session) -> None:
    """Only committed rows are delivered, and only by the request that committed them."""
    queued = session.info.pop(_QUEUED, None)
    if queued and has_request_context():
        g.setdefault(_COMMITTED, set()).update(queued)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_QUEUED, None)


def _deliver_after_response(app: Flask, queued: set[tuple[type[Row], int]]) -> None:
    """Runs when the server closes the response, in an app context (and session) of its own."""
    with app.app_context():
        for kind in KINDS:
            ids = {row_id for row_kind, row_id in queued if row_kind is kind}
            if not ids:
                continue
            try:
                _deliverers[kind](ids=ids)
            except Exception:
                app.logger.exception("delivery after a response failed; `outbox deliver` retries")
            finally:
                db.session.remove()


def _hand_on_committed(response: Response) -> Response:
    queued: set[tuple[type[Row], int]] | None = g.pop(_COMMITTED, None)
    if queued:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        response.call_on_close(lambda: _deliver_after_response(app, queued))
    return response


def init_app(app: Flask, deliverers: dict[type[Row], Callable[..., DeliveryCounts]]) -> None:
    """Deliver what a request committed once its response has gone out; each deliverer,
    called as `deliver(limit=..., ids=...)`, sends due rows of its kind."""
    _deliverers.update(deliverers)
    app.after_request(_hand_on_committed)
