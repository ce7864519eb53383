"""Rows written in a transaction and handed to the outside world after it commits.

Emails (OutboxMessage) and webhook calls (WebhookDelivery) share the pattern: a
request only writes rows; what it committed is delivered when its response has gone
out, in a session of its own; a failure is kept on the row and retried with backoff
by `flask --app widget outbox deliver`.

A row written in a request is leased to its process from the start (its next
attempt is a lease away). Once the response has gone out, the request hands the row
to the process's courier, a thread per kind that sends it without claiming it and
records the outcomes of everything it sent in one short transaction; should the process die
first, the sweep takes the row once the lease is over. The sweep claims rows one at
a time, with SKIP LOCKED on PostgreSQL, so two runs never deliver one row twice.
"""

import atexit
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from logging import Logger
from typing import Any

from flask import Flask, current_app, g, has_request_context
from flask.wrappers import Response
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from .clock import now
from .extensions import db
from .models import OutboxMessage, WebhookDelivery

Row = OutboxMessage | WebhookDelivery
CLAIM_LEASE = timedelta(minutes=10)
"""How long a claimed row is hidden from other runs: far longer than one delivery takes."""
LEASE_MARGIN = timedelta(minutes=2)
RECORD_EVERY_SECONDS = 15.0
MAX_RETRY_DELAY = timedelta(hours=1)
GIVE_UP_AFTER = timedelta(days=3)
"""A row still failing this long after it was written is given up: retried hourly till
then, and kept, with its last error, for the log."""
DELIVERY_LIMIT = 100
GATHER_SECONDS = 0.1
"""How long the courier lets rows gather after the first: a busy worker then sends many
emails over one SMTP connection and records their outcomes in one transaction."""
SETTLE_AT_EXIT_SECONDS = 10
_QUEUED = "outbox_queued"
_COMMITTED = "outbox_committed"
KINDS: tuple[type[Row], ...] = (OutboxMessage, WebhookDelivery)
_deliverers: dict[type[Row], Callable[..., "DeliveryCounts"]] = {}


@dataclass(frozen=True)
class DeliveryCounts:
    sent: int = 0
    failed: int = 0

    def __add__(self, other: "DeliveryCounts") -> "DeliveryCounts":
        return DeliveryCounts(self.sent + other.sent, self.failed + other.failed)


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4 ... minutes after the first, second, third failure; at most an hour."""
    return min(timedelta(minutes=2 ** min(attempts - 1, 6)), MAX_RETRY_DELAY)


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def _claim_next(session: Session, kind: type[Row], at: datetime) -> Any:
    """Take one due row and hide it from other runs for the lease, in a short transaction.

    On PostgreSQL, SKIP LOCKED lets concurrent runs pass each other's claims; SQLite's
    BEGIN IMMEDIATE serialises them. The delivery itself happens outside any transaction.
    """
    query = (
        select(kind)
        .where(kind.sent_at.is_(None), kind.given_up_at.is_(None), kind.next_attempt_at <= at)
        .order_by(kind.next_attempt_at, kind.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
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
) -> DeliveryCounts:
    """Deliver what is due. A failure is recorded on the row for a later retry with
    backoff (until GIVE_UP_AFTER), never raised: the table is the retry queue."""
    counts = DeliveryCounts()
    while counts.sent + counts.failed < limit:
        row = _claim_next(session, kind, at)
        if row is None:
            break
        counts = counts + _attempt(row, send, at, logger)
        session.commit()
    return counts


def deliver_leased(
    session: Session, rows: list[Any], send: Callable[[Any], None], *, logger: Logger
) -> DeliveryCounts:
    """Deliver rows leased to the caller (requests' own), recording the outcomes in one
    transaction when the run is quick: the rows come from the requests' sessions, so
    nothing is read again and nothing needs claiming.

    The sweep takes a row once its lease is over, so a row is sent only while more than
    LEASE_MARGIN of it is left, and outcomes are recorded at least every
    RECORD_EVERY_SECONDS: however long a backlog behind a hanging receiver takes, the
    sweep never finds a row unsent that was sent, and never sends one twice."""
    counts = DeliveryCounts()
    recorded = time.monotonic()
    for row in rows:
        at = now()
        if at + LEASE_MARGIN < row.next_attempt_at:
            counts = counts + _attempt(session.merge(row, load=False), send, at, logger)
        if time.monotonic() - recorded >= RECORD_EVERY_SECONDS:
            session.commit()
            recorded = time.monotonic()
    session.commit()
    return counts


def _attempt(row: Any, send: Callable[[Any], None], at: datetime, logger: Logger) -> DeliveryCounts:
    """One delivery attempt, its outcome written on the row; a failure is never raised."""
    row.attempts += 1
    try:
        send(row)
    except Exception as exc:
        row.last_error = describe(exc)
        if at - row.created_at >= GIVE_UP_AFTER:
            row.given_up_at = at
            logger.error(
                "%s %s given up after %s attempts: %s",
                type(row).__tablename__,
                row.id,
                row.attempts,
                row.last_error,
            )
            return DeliveryCounts(failed=1)
        row.next_attempt_at = at + retry_delay(row.attempts)
        logger.warning(
            "%s %s not delivered (attempt %s, retry after %s): %s",
            type(row).__tablename__,
            row.id,
            row.attempts,
            row.next_attempt_at.isoformat(),
            row.last_error,
        )
        return DeliveryCounts(failed=1)
    row.sent_at = at
    row.last_error = None
    return DeliveryCounts(sent=1)


def deliver_everything(limit: int = DELIVERY_LIMIT) -> dict[str, DeliveryCounts]:
    return {kind.__tablename__: _deliverers[kind](limit=limit) for kind in KINDS}


@event.listens_for(Session, "before_flush")
def _lease_to_request(session: Session, _flush_context: object, _instances: object) -> None:
    """A row written in a request is that request's to send after its response."""
    if not has_request_context():
        return
    for row in session.new:
        if isinstance(row, KINDS) and row.sent_at is None:
            row.next_attempt_at = (row.next_attempt_at or now()) + CLAIM_LEASE
            session.info.setdefault(_QUEUED, []).append(row)


@event.listens_for(Session, "after_commit")
def _note_committed(session: Session) -> None:
    """Only committed rows are delivered, and only by the request that committed them."""
    queued = session.info.pop(_QUEUED, None)
    if queued and has_request_context():
        g.setdefault(_COMMITTED, []).extend(queued)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_QUEUED, None)


def _deliver(app: Flask, kind: type[Row], rows: list[Row]) -> None:
    """Deliver rows that requests committed, in an app context (and session) of its own."""
    with app.app_context():
        try:
            _deliverers[kind](rows=rows)
        except Exception:
            app.logger.exception("delivery after a response failed; `outbox deliver` retries")
        finally:
            db.session.remove()


class _Lane:
    """One delivery thread for one kind of row; rows handed within GATHER_SECONDS of each
    other go together."""

    def __init__(self, kind: type[Row]) -> None:
        self.kind = kind
        self._changed = threading.Condition()
        self._handed: list[tuple[Flask, list[Row]]] = []
        self._busy = False
        self._hurry = False
        self._pid: int | None = None

    def hand(self, app: Flask, rows: list[Row]) -> None:
        with self._changed:
            if self._pid != os.getpid():  # first use here; threads do not survive a fork
                self._pid, self._handed, self._busy = os.getpid(), [], False
                name = f"widget-courier-{self.kind.__tablename__}"
                threading.Thread(target=self._run, name=name, daemon=True).start()
            self._handed.append((app, rows))
            if len(self._handed) == 1:  # else the thread is gathering, and takes these too
                self._changed.notify_all()

    def settle(self, timeout: float | None = None) -> bool:
        with self._changed:
            self._hurry = True
            self._changed.notify_all()
            settled = self._changed.wait_for(lambda: not (self._handed or self._busy), timeout)
            self._hurry = False  # what is handed later gathers again
            return settled

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._handed)
                self._changed.wait_for(lambda: self._hurry, GATHER_SECONDS)
                handed, self._handed = self._handed, []
                self._busy, self._hurry = True, False
            try:
                by_app: dict[Flask, list[Row]] = {}
                for app, rows in handed:
                    by_app.setdefault(app, []).extend(rows)
                for app, rows in by_app.items():
                    _deliver(app, self.kind, rows)
            finally:
                with self._changed:
                    self._busy = False
                    self._changed.notify_all()


class Courier:
    """The process's delivery threads, one per kind. A sync worker that called SMTP or a
    webhook receiver after each response could not take the next request meanwhile;
    requests hand their rows here instead. Emails and webhook calls travel apart, so a
    receiver that hangs for its whole timeout never holds up a client's email."""

    def __init__(self) -> None:
        self._lanes = {kind: _Lane(kind) for kind in KINDS}
        self._exit_pid: int | None = None

    def hand(self, app: Flask, rows: list[Row]) -> None:
        if self._exit_pid != os.getpid():
            self._exit_pid = os.getpid()
            atexit.register(self.settle, SETTLE_AT_EXIT_SECONDS)
        for kind, lane in self._lanes.items():
            mine = [row for row in rows if type(row) is kind]
            if mine:
                lane.hand(app, mine)

    def settle(self, timeout: float | None = None) -> bool:
        """Deliver what was handed without gathering more, and wait until it is done (a
        worker that exits, a test that looks at what was sent); False if time ran out."""
        deadline = None if timeout is None else time.monotonic() + timeout
        return all(
            [
                lane.settle(None if deadline is None else max(0.0, deadline - time.monotonic()))
                for lane in self._lanes.values()
            ]
        )


courier = Courier()


def _hand_on_committed(response: Response) -> Response:
    """Hand the rows on once the response is closed, when the request's session is gone."""
    queued: list[Row] | None = g.pop(_COMMITTED, None)
    if queued:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        response.call_on_close(lambda: courier.hand(app, queued))
    return response


class _ClosedOnceSent:
    """An answer that closes itself once all of it has been sent.

    A server must close every answer (PEP 3333), and closing is when a request hands its
    rows to the courier. werkzeug's development server skips close() when the client
    resets the connection right after reading the answer (its read of leftover request
    data raises ConnectionResetError, which it takes for a dropped connection), as
    Chromium sometimes does after a redirect: the email then waited for the sweep, with
    nothing logged."""

    def __init__(self, body: Iterable[bytes]) -> None:
        self._body = body
        self._open = True

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._body
        finally:  # all sent, or the server let go of the answer
            self.close()

    def close(self) -> None:
        if self._open:
            self._open = False
            close = getattr(self._body, "close", None)
            if close is not None:
                close()


def _closing_once_sent(wsgi_app: Callable[..., Iterable[bytes]]) -> Callable[..., Any]:
    """Answers served by werkzeug's server (`flask run`, `widget demo`) close once sent;
    gunicorn's and the test client's are left as they are."""

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = wsgi_app(environ, start_response)
        if str(environ.get("SERVER_SOFTWARE", "")).startswith("Werkzeug/"):
            return _ClosedOnceSent(body)
        return body

    return serve


def init_app(app: Flask, deliverers: dict[type[Row], Callable[..., DeliveryCounts]]) -> None:
    """Deliver what a request committed once its response has gone out; each deliverer,
    called as `deliver(limit=...)` sends due rows of its kind, and as `deliver(rows=...)`
    the rows a request leased."""
    _deliverers.update(deliverers)
    app.after_request(_hand_on_committed)
    app.wsgi_app = _closing_once_sent(app.wsgi_app)  # type: ignore[method-assign]
