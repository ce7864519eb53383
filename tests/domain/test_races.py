"""Races between concurrent requests, with real threads, on both engines.

On PostgreSQL (READ COMMITTED) a decision is only safe when it is made on rows read
after the lock that serialises it; on SQLite every transaction starts with the write
lock (BEGIN IMMEDIATE), so the same races cannot interleave there. Each test releases
its threads together with a barrier, each thread with its own session (or its own
Flask test client), and asserts what a provider or a client would notice.
"""

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from widget import outbox
from widget.blueprints import link_flow
from widget.domain import accounts, link_booking, manage, packages
from widget.domain import booking as bookings
from widget.domain.errors import DomainError
from widget.extensions import db
from widget.models import (
    Booking,
    BookingStatus,
    Channel,
    Client,
    ClientPackage,
    ClientPackageStatus,
    CreditLot,
    OutboxMessage,
    Provider,
)

NEW_YORK = ZoneInfo("America/New_York")
MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=NEW_YORK)
MONDAY_NOW = datetime(2026, 11, 24, 14, 0, tzinfo=ZoneInfo("UTC"))
"""The clock's default (tests/conftest.py): a week before MONDAY."""
WEEK = {d: [{"start": "09:00", "end": "17:00"}] for d in ("mon", "tue", "wed", "thu", "fri")}

READ_TO_WRITE = 0.05
"""Seconds between a request's read and its write (parsing a body, say): wide enough that
racing requests all read before the first commits."""

Outcome = Any
Racer = Callable[[Callable[[], None]], Outcome]


@pytest.fixture(autouse=True)
def open_week(api):
    assert api.put("/api/v1/availability", json={"weekly": WEEK}).status_code == 200


def at(hour: int, minute: int = 0, day: int = 0) -> str:
    return (MONDAY + timedelta(days=day, hours=hour - 9, minutes=minute)).isoformat()


# Running racers


def _race(racers: list[Racer]) -> list[Outcome]:
    """Run each racer in its own thread; each calls `wait` where the race starts."""
    db.session.commit()  # the test's own session holds no lock (SQLite's write lock) meanwhile
    barrier = threading.Barrier(len(racers))
    outcomes: list[Outcome] = [None] * len(racers)

    def run(index: int, racer: Racer) -> None:
        try:
            outcomes[index] = racer(lambda: barrier.wait(timeout=30))
        except BaseException as exc:  # noqa: BLE001 - an unexpected error is an outcome
            outcomes[index] = f"error:{type(exc).__name__}"

    threads = [threading.Thread(target=run, args=(i, r)) for i, r in enumerate(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a racer hung"
    return outcomes


@contextmanager
def _pause_after(fragment: str) -> Iterator[None]:
    """Every statement containing `fragment` pauses once it has run, in every thread: the
    window between a check and the write that depends on it, which production hits by
    chance, is hit every time. Code that locks before it checks stays right: the others
    wait for the lock while its holder pauses."""

    def pause(*_args: object) -> None:
        statement = _args[2]
        if fragment in statement:
            time.sleep(READ_TO_WRITE)

    event.listen(db.engine, "after_cursor_execute", pause)
    try:
        yield
    finally:
        event.remove(db.engine, "after_cursor_execute", pause)


def _http(app, method: str, path: str, *, key: str | None = None, **kwargs: Any) -> Racer:
    """A request from a client of its own: (status, error code or None)."""

    def racer(wait: Callable[[], None]) -> Outcome:
        http = app.test_client()
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        wait()
        response = http.open(path, method=method, headers=headers, **kwargs)
        body = response.get_json(silent=True) or {}
        return response.status_code, (body.get("error") or {}).get("code")

    return racer


def _domain(app, work: Callable[[Session], Outcome]) -> Racer:
    """Domain work in a session of its own, committed; a refusal's code is its outcome."""

    def racer(wait: Callable[[], None]) -> Outcome:
        with app.app_context(), Session(db.engine) as session:
            wait()
            try:
                outcome = work(session)
                session.commit()
                return outcome
            except DomainError as refusal:
                session.rollback()
                return refusal.code

    return racer


# Reading the outcome


def _sorted(outcomes: list[Outcome]) -> list[Outcome]:
    return sorted(outcomes, key=repr)


def _ledger(api, client_id: int, type_id: int) -> tuple[int, list[str]]:
    answer = api.get(f"/api/v1/clients/{client_id}/credits/{type_id}").get_json()
    return answer["balance"], [entry["kind"] for entry in answer["history"]]


def _lots_left(client_id: int, type_id: int) -> int:
    return db.session.scalar(
        select(func.coalesce(func.sum(CreditLot.remaining), 0)).where(
            CreditLot.client_id == client_id, CreditLot.appointment_type_id == type_id
        )
    )


def _booking(booking_id: int) -> Booking:
    db.session.expire_all()
    found = db.session.get(Booking, booking_id)
    assert found is not None
    return found


# Setups


@pytest.fixture
def follow_up(make_type):
    """A credit-paid type for existing clients, cancellable by the client up to 24 h before."""
    return make_type(name="Follow-Up", duration_minutes=50, late_cancel_hours=24)


@pytest.fixture
def booked(api, follow_up, make_client, make_package, buy):
    """A client with 3 credits who booked Monday 9:00 through the API: balance 2."""
    person = make_client(email="kim@example.com", name="Kim")
    buy(person["id"], make_package([{"appointment_type_id": follow_up["id"], "quantity": 3}])["id"])
    made = api.post(
        "/api/v1/bookings",
        json={"client_id": person["id"], "appointment_type_id": follow_up["id"], "start": at(9)},
    )
    assert made.status_code == 201, made.get_json()
    assert _ledger(api, person["id"], follow_up["id"])[0] == 2
    return made.get_json(), person


def _share(api, *types, **fields) -> dict[str, Any]:
    response = api.post(
        "/api/v1/share-links",
        json={"appointment_type_ids": [t["id"] for t in types], **fields},
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _submit(http, link, appointment_type, start: str, email: str) -> Any:
    response = http.post(
        f"/api/v1/links/{link['token']}/bookings",
        json={
            "appointment_type_id": appointment_type["id"],
            "start": start,
            "name": "Visitor",
            "email": email,
        },
    )
    assert response.status_code in (201, 202), response.get_json()
    return response.get_json()["booking"]


def _submissions(app, link, appointment_type, name: str, email: str, count: int) -> list[Racer]:
    """`count` public submissions by one person, each for its own hour from 10:00."""
    return [
        _http(
            app,
            "POST",
            f"/api/v1/links/{link['token']}/bookings",
            json={
                "appointment_type_id": appointment_type["id"],
                "start": at(10 + i),
                "name": name,
                "email": email,
            },
        )
        for i in range(count)
    ]


def _pending_ids() -> list[int]:
    return list(
        db.session.scalars(
            select(Booking.id)
            .where(Booking.status == BookingStatus.pending_verification)
            .order_by(Booking.id)
        )
    )


# 1. Two changes of one booking at once: exactly one wins, the credit moves once.


def _as_provider(
    app, provider_id: int, booking_id: int, action: str, now: datetime = MONDAY_NOW
) -> Racer:
    """What the API's and the dashboard's cancel and no-show views do: load the booking
    (`booking_of`), then change it, in one transaction."""

    def work(session: Session) -> Outcome:
        provider = session.get(Provider, provider_id)
        found = bookings.booking_of(session, provider, booking_id, now=now)
        time.sleep(READ_TO_WRITE)
        if action == "cancel":
            bookings.cancel(session, provider, found, by=Channel.provider, now=now)
        else:
            bookings.mark_no_show(session, found, now)
        return "done"

    return _domain(app, work)


def _manage_cancel(app, booking_id: int) -> Racer:
    """The client's manage link from the confirmation email (it locks the booking row)."""
    token = manage.manage_token(db.session.get(Booking, booking_id), link_flow.signing_keys())
    cancel = _http(app, "POST", f"/manage/{token}/cancel")

    def racer(wait: Callable[[], None]) -> Outcome:
        status, code = cancel(wait)
        return "done" if status == 200 else (status, code)

    return racer


@pytest.mark.parametrize(
    "actions",
    [
        pytest.param(["cancel"] * 6, id="six-provider-cancels"),
        pytest.param(["manage-cancel", "cancel", "cancel"], id="client-and-provider-cancel"),
    ],
)
def test_cancelling_one_booking_at_once_refunds_one_credit(app, provider, api, booked, actions):
    booking, person = booked
    racers = [
        _manage_cancel(app, booking["id"])
        if action == "manage-cancel"
        else _as_provider(app, provider.id, booking["id"], action)
        for action in actions
    ]

    outcomes = _race(racers)

    assert outcomes.count("done") == 1, f"{outcomes}: cancelled more than once"
    refused = [o for o in outcomes if o != "done"]
    assert all(
        o == "invalid_state" or (isinstance(o, tuple) and 400 <= o[0] < 500) for o in refused
    ), f"{outcomes}: a loser must be told the booking is cancelled, not get an error"
    balance, kinds = _ledger(api, person["id"], booking["appointment_type_id"])
    assert kinds.count("cancellation_refund") == 1, kinds
    assert balance == 3
    assert _lots_left(person["id"], booking["appointment_type_id"]) == 3
    assert _booking(booking["id"]).status == BookingStatus.cancelled


def test_cancel_and_no_show_of_one_booking_at_once_leave_one_consistent_answer(
    app, provider, api, booked
):
    """A no-show keeps its credit, a provider's cancellation refunds it: not both."""
    booking, person = booked
    later = MONDAY + timedelta(hours=2)
    racers = [
        _as_provider(app, provider.id, booking["id"], "cancel", later),
        _as_provider(app, provider.id, booking["id"], "no-show", later),
    ]

    outcomes = _race(racers)

    assert _sorted(outcomes) == ["done", "invalid_state"], outcomes
    balance, kinds = _ledger(api, person["id"], booking["appointment_type_id"])
    final = _booking(booking["id"])
    refunded = kinds.count("cancellation_refund")
    assert (final.status, refunded, balance) in {
        (BookingStatus.cancelled, 1, 3),
        (BookingStatus.no_show, 0, 2),
    }, (final.status, kinds)


# 2. Confirmation links.


def test_opening_one_confirmation_link_at_once_spends_one_credit(
    app, client, api, make_type, make_client, make_package, buy, clock
):
    """A mail scanner and the client open the same link together: one booking, one credit."""
    settings = {"public_links_new_client_only": False}
    assert api.patch("/api/v1/settings", json=settings).status_code == 200
    session_type = make_type(name="Session", duration_minutes=50, audience="everyone")
    person = make_client(email="known@example.com", name="Known")
    buy(
        person["id"],
        make_package([{"appointment_type_id": session_type["id"], "quantity": 3}])["id"],
    )
    link = _share(api, session_type)
    _submit(client, link, session_type, at(9), "known@example.com")
    [hold_id] = _pending_ids()

    def confirm(session: Session) -> Outcome:
        outcome = link_booking.confirm_hold(session, hold_id, clock.now)
        return outcome.booking.status.value, outcome.decided_now

    outcomes = _race([_domain(app, confirm) for _ in range(6)])

    assert _sorted(outcomes) == [("confirmed", False)] * 5 + [("confirmed", True)], outcomes
    balance, kinds = _ledger(api, person["id"], session_type["id"])
    assert (balance, kinds.count("booking")) == (2, 1), kinds
    assert _lots_left(person["id"], session_type["id"]) == 2


def test_one_new_email_confirming_two_holds_at_once_makes_one_client(
    app, client, api, discovery, clock
):
    """Two holds of one new visitor, confirmed together: one client; the first confirmation
    makes them existing, so the other new-client booking is refused, not an error."""
    link = _share(api, discovery)
    _submit(client, link, discovery, at(10), "new@example.com")
    _submit(client, link, discovery, at(11), "new@example.com")
    holds = _pending_ids()
    assert len(holds) == 2

    def confirm(hold_id: int) -> Callable[[Session], Outcome]:
        def work(session: Session) -> Outcome:
            outcome = link_booking.confirm_hold(session, hold_id, clock.now)
            return outcome.booking.status.value, outcome.booking.refusal_reason

        return work

    with _pause_after("clients.email = "):
        outcomes = _race([_domain(app, confirm(h)) for h in holds])

    assert _sorted(outcomes) == [("confirmed", None), ("refused", "new_clients_only")], outcomes
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Client.id))) == 1


# 3. Who counts as a new client is decided once.


def test_a_client_without_history_books_a_new_client_type_once_at_once(
    app, provider, api, discovery, make_client
):
    """A known client with no package and no booking is new; once one discovery call is
    confirmed they are existing, so submissions racing it must be refused."""
    assert (
        api.patch("/api/v1/settings", json={"public_booking_verification": "none"}).status_code
        == 200
    )
    make_client(email="known@example.com", name="Known")
    racers = _submissions(app, _share(api, discovery), discovery, "Known", "known@example.com", 4)

    with _pause_after("FROM client_packages"):
        outcomes = _race(racers)

    assert _sorted(outcomes) == [(201, None)] + [(403, "new_clients_only")] * 3, outcomes
    confirmed = api.get("/api/v1/bookings", status="confirmed").get_json()["bookings"]
    assert len(confirmed) == 1


def test_a_new_email_booking_twice_at_once_makes_one_client(app, provider, api, discovery):
    """Without verification a stranger's two submissions race to create their client."""
    assert (
        api.patch("/api/v1/settings", json={"public_booking_verification": "none"}).status_code
        == 200
    )
    racers = _submissions(app, _share(api, discovery), discovery, "New", "new@example.com", 2)

    with _pause_after("clients.email = "):
        outcomes = _race(racers)

    assert _sorted(outcomes) == [(201, None), (403, "new_clients_only")], outcomes
    assert len(api.get("/api/v1/clients", email="new@example.com").get_json()["clients"]) == 1


def test_adding_one_client_twice_at_once_answers_conflict(app, provider, api):
    """A double-submitted 'add client' form: one client, and a clear 409 for the other."""
    body = {"email": "Kim@Example.com ", "name": "Kim"}
    racers = [_http(app, "POST", "/api/v1/clients", key=provider.key, json=body) for _ in range(4)]

    with _pause_after("clients.email = "):
        outcomes = _race(racers)

    assert _sorted(outcomes) == [(201, None)] + [(409, "conflict")] * 3, outcomes
    assert len(api.get("/api/v1/clients", email="kim@example.com").get_json()["clients"]) == 1


def test_a_magic_login_link_opened_twice_at_once_logs_in_once(app, provider, make_client, clock):
    """A login link works once, also when the client and a mail scanner use it together."""
    person = make_client(email="kim@example.com", name="Kim")
    token = accounts.magic_token(db.session.get(Client, person["id"]), link_flow.signing_keys())

    def log_in(session: Session) -> Outcome:
        found = session.get(Provider, provider.id)
        accounts.log_in_by_magic_link(session, found, token, link_flow.signing_keys(), clock.now)
        return "logged in"

    with _pause_after("FROM clients"):
        outcomes = _race([_domain(app, log_in) for _ in range(4)])

    assert _sorted(outcomes) == ["link_used"] * 3 + ["logged in"], outcomes


# 4. Caps.


def test_racing_bookings_cannot_overrun_a_day_cap(app, provider, api, make_type, make_client):
    walk = make_type(
        name="Walk", duration_minutes=30, audience="everyone", requires_credit=False, max_per_day=2
    )
    people = [make_client() for _ in range(8)]
    racers = [
        _http(
            app,
            "POST",
            "/api/v1/bookings",
            key=provider.key,
            json={"client_id": p["id"], "appointment_type_id": walk["id"], "start": at(9, 30 * i)},
        )
        for i, p in enumerate(people)
    ]

    outcomes = _race(racers)

    assert _sorted(outcomes) == [(201, None)] * 2 + [(409, "slot_unavailable")] * 6, outcomes
    assert len(api.get("/api/v1/bookings", status="confirmed").get_json()["bookings"]) == 2


# 5. Client packages: archive and delete at once.


def test_archiving_while_deleting_a_client_package_leaves_it_deleted(
    app, provider, api, follow_up, make_client, make_package, buy, engine_name
):
    """In either order the package ends deleted (archiving a deleted one is refused)."""
    person = make_client()
    bought = buy(
        person["id"], make_package([{"appointment_type_id": follow_up["id"], "quantity": 1}])["id"]
    )
    deleted = threading.Event()

    def archive(session: Session) -> Outcome:
        found = session.get(Provider, provider.id)
        cp = packages.archive_client_package(session, found, bought["id"], MONDAY)
        if engine_name == "postgresql":
            # Commit after the delete did (on SQLite this transaction holds the write lock,
            # so the delete cannot run first). A row lock taken by the read makes this wait
            # time out and the delete wait for us instead: the right answer either way.
            deleted.wait(timeout=1)
        return cp.status.value

    def delete(session: Session) -> Outcome:
        found = session.get(Provider, provider.id)
        time.sleep(0.05)  # let the archive read first
        status = packages.delete_client_package(session, found, bought["id"], MONDAY).status
        session.commit()
        deleted.set()
        return status.value

    outcomes = _race([_domain(app, archive), _domain(app, delete)])

    db.session.expire_all()
    final = db.session.get(ClientPackage, bought["id"])
    assert final.status == ClientPackageStatus.deleted, outcomes


# 6. The outbox: concurrent sweeps.


def test_concurrent_outbox_sweeps_send_each_message_once(app, clock, engine_name):
    sent_at = clock.now
    for n in range(40):
        db.session.add(
            OutboxMessage(
                recipient=f"p{n}@example.com",
                subject=f"Message {n}",
                text_body="hello",
                created_at=sent_at,
                next_attempt_at=sent_at,
                attempts=0,
            )
        )
    db.session.commit()
    sent: list[tuple[int, int]] = []
    lock = threading.Lock()

    def sweep(index: int) -> Callable[[Session], Outcome]:
        def send(row: OutboxMessage) -> None:
            time.sleep(0.002)
            with lock:
                sent.append((row.id, index))

        def work(session: Session) -> Outcome:
            counts = outbox.deliver_due(
                session, OutboxMessage, send, at=sent_at, logger=logging.getLogger(__name__)
            )
            return counts.sent

        return work

    outcomes = _race([_domain(app, sweep(i)) for i in range(4)])

    ids = sorted(row_id for row_id, _ in sent)
    assert len(ids) == len(set(ids)) == 40, "a message was sent twice"
    assert sum(outcomes) == 40, outcomes
    if engine_name == "postgresql":
        # (On SQLite the busy handler's backoff may let one sweep claim every row.)
        assert len({sweeper for _, sweeper in sent}) > 1, "the sweeps did not overlap"
    db.session.expire_all()
    assert (
        db.session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.sent_at.is_(None))
        )
        == 0
    )
