"""The ledger's rules, one at a time, and its behaviour under concurrent spending."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from widget.domain import credits, packages
from widget.domain.errors import Refused
from widget.extensions import db
from widget.models import Booking, CreditEntry, CreditLot, EntryKind, Provider

from .ledger_fixtures import new_account, new_booking, new_package

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _buy(session, account, quantity, expires_after_days=None, now=NOW):
    provider = session.get(Provider, account.provider_id)
    package = new_package(session, account, quantity, expires_after_days)
    purchase = packages.buy_package(
        session, provider, client_id=account.client_id, package_id=package.id, now=now
    )
    session.commit()
    return purchase


def _spend(session, account, now=NOW, limit=0, override=False):
    booking = new_booking(session, account)
    entry = credits.consume_credit(
        session,
        booking=booking,
        negative_limit=limit,
        now=now,
        override=override,
    )
    session.commit()
    return booking, entry


def _history(session, account, now=NOW):
    return credits.account_history(
        session,
        provider_id=account.provider_id,
        client_id=account.client_id,
        type_id=account.type_id,
        now=now,
    )


def test_an_expired_credit_cannot_be_spent_before_the_sweep_runs(app):
    account = new_account(db.session)
    _buy(db.session, account, 2, expires_after_days=30)
    with pytest.raises(Refused) as refusal:
        _spend(db.session, account, now=NOW + timedelta(days=30))
    assert refusal.value.code == "insufficient_credits"
    db.session.rollback()
    balance, history = _history(db.session, account, now=NOW + timedelta(days=30))
    assert balance == 0
    assert [e.kind for e in history] == [EntryKind.package_grant, EntryKind.expiry]
    assert history[-1].delta == -2


def test_spending_takes_the_credit_that_expires_first(app):
    account = new_account(db.session)
    _buy(db.session, account, 1)
    _buy(db.session, account, 1, expires_after_days=10)
    _spend(db.session, account)
    balance, history = _history(db.session, account, now=NOW + timedelta(days=11))
    assert balance == 1, "the never-expiring credit is the one left"
    assert EntryKind.expiry not in [e.kind for e in history]


def test_a_refund_returns_the_credit_to_the_lot_it_came_from(app):
    account = new_account(db.session)
    _buy(db.session, account, 1, expires_after_days=5)
    booking, _ = _spend(db.session, account)
    credits.refund_credit(db.session, booking=booking, now=NOW + timedelta(days=1))
    db.session.commit()
    balance, history = _history(db.session, account, now=NOW + timedelta(days=6))
    assert balance == 0
    assert [e.kind for e in history][-1] == EntryKind.expiry


def test_a_grant_pays_back_a_negative_balance_first(app):
    account = new_account(db.session)
    _spend(db.session, account, limit=2)
    _spend(db.session, account, limit=2)
    _buy(db.session, account, 5)
    balance, history = _history(db.session, account)
    assert balance == 3
    assert [e.balance_after for e in history] == [-1, -2, 3]


def test_a_negative_balance_stops_at_the_providers_limit(app):
    account = new_account(db.session)
    _spend(db.session, account, limit=1)
    with pytest.raises(Refused):
        _spend(db.session, account, limit=1)
    db.session.rollback()
    _, entry = _spend(db.session, account, limit=1, override=True)
    assert entry.override is True
    assert entry.balance_after == -2


def test_a_late_cancellation_writes_a_zero_entry_and_keeps_the_credit_spent(app):
    account = new_account(db.session)
    _buy(db.session, account, 1)
    booking, _ = _spend(db.session, account)
    credits.forfeit_credit(db.session, booking=booking, now=NOW)
    db.session.commit()
    balance, history = _history(db.session, account)
    assert balance == 0
    assert (history[-1].kind, history[-1].delta) == (EntryKind.late_cancellation, 0)


def test_the_expiry_sweep_writes_each_due_expiry_once(app):
    account = new_account(db.session)
    _buy(db.session, account, 3, expires_after_days=1)
    later = NOW + timedelta(days=2)
    assert credits.expire_credits(db.session, later) == 1
    db.session.commit()
    assert credits.expire_credits(db.session, later) == 0
    balance, _ = _history(db.session, account, now=later)
    assert balance == 0


def _spend_concurrently(app, account, bookings, limit, now=NOW):
    """Each thread has its own session; a barrier releases them together."""
    barrier = threading.Barrier(len(bookings))
    outcomes: list[str] = []
    lock = threading.Lock()

    def spend(booking_id: int) -> None:
        with app.app_context(), Session(db.engine, expire_on_commit=False) as session:
            booking = session.get(Booking, booking_id)
            session.commit()  # on SQLite, lets go of the write lock the lookup took
            barrier.wait()
            try:
                credits.consume_credit(
                    session,
                    booking=booking,
                    negative_limit=limit,
                    now=now,
                )
                session.commit()
                outcome = "spent"
            except Refused as refusal:
                session.rollback()
                outcome = refusal.code
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=spend, args=(b,)) for b in bookings]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


@pytest.mark.parametrize(("limit", "winners"), [(0, 5), (2, 7)])
def test_twenty_concurrent_spends_of_five_credits(app, limit, winners):
    account = new_account(db.session)
    _buy(db.session, account, 5)
    bookings = [new_booking(db.session, account).id for _ in range(20)]
    db.session.commit()

    outcomes = _spend_concurrently(app, account, bookings, limit)

    assert len(outcomes) == 20
    assert outcomes.count("spent") == winners
    assert outcomes.count("insufficient_credits") == 20 - winners
    db.session.expire_all()
    balance, history = _history(db.session, account)
    assert balance == 5 - winners
    booking_entries = [e for e in history if e.kind == EntryKind.booking]
    assert len(booking_entries) == winners
    assert len({e.booking_id for e in booking_entries}) == winners
    assert (
        db.session.scalar(
            select(CreditEntry.balance_after).order_by(CreditEntry.id.desc()).limit(1)
        )
        == 5 - winners
    )


def _lots_left(session, account):
    return session.scalar(
        select(func.coalesce(func.sum(CreditLot.remaining), 0)).where(
            CreditLot.client_id == account.client_id,
            CreditLot.appointment_type_id == account.type_id,
        )
    )


def test_concurrent_spends_take_each_credit_from_a_lot_once(app):
    """A spender that waited for the account's lock must not take from the lots as they were
    before the spends it waited for: the lots would keep credits the balance no longer has."""
    account = new_account(db.session)
    _buy(db.session, account, 50)
    bookings = [new_booking(db.session, account).id for _ in range(20)]
    db.session.commit()

    outcomes = _spend_concurrently(app, account, bookings, 0)

    assert outcomes == ["spent"] * 20
    db.session.expire_all()
    balance, _ = _history(db.session, account)
    assert balance == 30
    assert _lots_left(db.session, account) == 30


def test_concurrent_spends_expire_a_due_lot_once(app):
    """Twenty spends that each find a lot past its expiry: one expiry entry, not one per
    spender that waited for the lock."""
    account = new_account(db.session)
    _buy(db.session, account, 5, expires_after_days=1)
    _buy(db.session, account, 50)
    bookings = [new_booking(db.session, account).id for _ in range(20)]
    db.session.commit()
    later = NOW + timedelta(days=2)

    outcomes = _spend_concurrently(app, account, bookings, 0, now=later)

    assert outcomes == ["spent"] * 20
    db.session.expire_all()
    balance, history = _history(db.session, account, now=later)
    assert [e.delta for e in history if e.kind == EntryKind.expiry] == [-5]
    assert balance == sum(e.delta for e in history) == 30
    assert _lots_left(db.session, account) == 30
