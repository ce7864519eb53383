"""Any sequence of ledger operations keeps the ledger's promises (Hypothesis, stateful)."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from widget.domain import credits, packages
from widget.domain.errors import InvalidState, Refused
from widget.extensions import db
from widget.models import (
    Booking,
    ClientPackage,
    CreditBalance,
    CreditEntry,
    CreditLot,
    EntryKind,
    Provider,
)

from .ledger_fixtures import new_account, new_booking, new_package

_emails = itertools.count()


class LedgerMachine(RuleBasedStateMachine):
    """Drives one fresh account per example through the domain functions, committing each step."""

    @initialize(limit=st.integers(min_value=0, max_value=3))
    def open_account(self, limit: int) -> None:
        session = db.session
        self.account = new_account(session, email=f"ledger{next(_emails)}@example.com")
        self.provider = session.get(Provider, self.account.provider_id)
        self.limit = limit
        self.now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
        self.packages = [
            new_package(session, self.account, 3, None),
            new_package(session, self.account, 2, 2),
            new_package(session, self.account, 1, 5),
        ]
        self.spent: list[int] = []
        session.commit()

    def _ledger(self) -> tuple[int, list[CreditEntry]]:
        db.session.expire_all()
        balance = db.session.scalar(
            select(CreditBalance.balance).where(
                CreditBalance.client_id == self.account.client_id,
                CreditBalance.appointment_type_id == self.account.type_id,
            )
        )
        entries = db.session.scalars(
            select(CreditEntry)
            .where(CreditEntry.client_id == self.account.client_id)
            .order_by(CreditEntry.id)
        ).all()
        return balance or 0, list(entries)

    @rule(which=st.integers(min_value=0, max_value=2))
    def buy(self, which: int) -> None:
        packages.buy_package(
            db.session,
            self.provider,
            client_id=self.account.client_id,
            package_id=self.packages[which].id,
            now=self.now,
        )
        db.session.commit()

    @rule(override=st.booleans(), new=st.booleans())
    def book(self, override: bool, new: bool) -> None:
        # A `new` booking is written with its spend (one statement on PostgreSQL).
        session = db.session
        booking = new_booking(session, self.account, written=not new)
        lots_before = session.scalars(
            select(CreditLot).where(
                CreditLot.client_id == self.account.client_id,
                CreditLot.remaining > 0,
                (CreditLot.expires_at.is_(None)) | (CreditLot.expires_at > self.now),
            )
        ).all()
        soonest = min(
            (lot.expires_at or datetime.max.replace(tzinfo=UTC) for lot in lots_before),
            default=None,
        )
        balance, _ = self._ledger()
        due = sum(
            lot.remaining
            for lot in session.scalars(
                select(CreditLot).where(
                    CreditLot.client_id == self.account.client_id,
                    CreditLot.remaining > 0,
                    CreditLot.expires_at <= self.now,
                )
            )
        )
        spendable = balance - due
        try:
            entry = credits.consume_credit(
                session,
                booking=booking,
                negative_limit=self.limit,
                now=self.now,
                override=override,
            )
        except Refused as refusal:
            assert refusal.code == "insufficient_credits"
            assert spendable - 1 < -self.limit and not override
            session.rollback()
            return
        assert spendable - 1 >= -self.limit or override
        if entry.lot_id is not None:
            lot = session.get(CreditLot, entry.lot_id)
            assert lot is not None
            assert lot.expires_at is None or lot.expires_at > self.now, "spent an expired credit"
            assert (lot.expires_at or datetime.max.replace(tzinfo=UTC)) == soonest
        else:
            assert spendable <= 0, "went negative while an unexpired credit was left"
        session.commit()
        self.spent.append(booking.id)

    @rule(data=st.data(), late=st.booleans())
    def cancel(self, data: st.DataObject, late: bool) -> None:
        if not self.spent:
            return
        booking_id = self.spent.pop(data.draw(st.integers(0, len(self.spent) - 1)))
        booking = db.session.get(Booking, booking_id)
        if late:
            credits.forfeit_credit(db.session, booking=booking, now=self.now)
        else:
            credits.refund_credit(db.session, booking=booking, now=self.now)
        db.session.commit()

    @rule(delta=st.integers(min_value=-3, max_value=3).filter(bool))
    def adjust(self, delta: int) -> None:
        credits.adjust_credits(
            db.session,
            provider_id=self.account.provider_id,
            client_id=self.account.client_id,
            type_id=self.account.type_id,
            delta=delta,
            note="correction",
            actor="Dr. Test",
            now=self.now,
        )
        db.session.commit()

    @rule(hours=st.sampled_from([1, 12, 47, 49, 72, 121]))
    def time_passes(self, hours: int) -> None:
        self.now += timedelta(hours=hours)

    @rule()
    def scheduled_expiry_runs(self) -> None:
        credits.expire_credits(db.session, self.now)
        db.session.commit()

    @rule(data=st.data(), delete=st.booleans())
    def archive_or_delete(self, data: st.DataObject, delete: bool) -> None:
        owned = db.session.scalars(
            select(ClientPackage.id).where(ClientPackage.client_id == self.account.client_id)
        ).all()
        if not owned:
            return
        before = self._ledger()
        target = data.draw(st.sampled_from(owned))
        if delete:
            packages.delete_client_package(db.session, self.provider, target, self.now)
        else:
            try:
                packages.archive_client_package(db.session, self.provider, target, self.now)
            except InvalidState:
                db.session.rollback()
                return
        db.session.commit()
        after = self._ledger()
        assert before[0] == after[0]
        assert [e.id for e in before[1]] == [e.id for e in after[1]]

    @invariant()
    def balance_is_the_sum_of_its_entries(self) -> None:
        balance, entries = self._ledger()
        assert balance == sum(e.delta for e in entries)
        running = 0
        for entry in entries:
            running += entry.delta
            assert entry.balance_after == running

    @invariant()
    def only_an_override_or_an_adjustment_goes_below_the_limit(self) -> None:
        _, entries = self._ledger()
        for entry in entries:
            if entry.delta < 0 and entry.balance_after < -self.limit:
                assert entry.kind == EntryKind.manual_adjustment or entry.override, entry.kind
            if entry.kind == EntryKind.expiry:
                assert entry.balance_after >= 0

    @invariant()
    def lots_hold_exactly_the_positive_balance(self) -> None:
        balance, _ = self._ledger()
        remaining = db.session.scalar(
            select(func.coalesce(func.sum(CreditLot.remaining), 0)).where(
                CreditLot.client_id == self.account.client_id
            )
        )
        assert remaining == max(balance, 0)


def test_any_sequence_of_ledger_operations_keeps_its_invariants(app):
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=100,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


@pytest.mark.parametrize("delete", [False, True])
def test_archiving_or_deleting_a_package_keeps_its_credits(app, delete):
    session = db.session
    account = new_account(session)
    provider = session.get(Provider, account.provider_id)
    package = new_package(session, account, 4, None)
    now = datetime(2026, 3, 1, tzinfo=UTC)
    purchase = packages.buy_package(
        session, provider, client_id=account.client_id, package_id=package.id, now=now
    )
    session.commit()
    before = credits.account_history(
        session,
        provider_id=provider.id,
        client_id=account.client_id,
        type_id=account.type_id,
        now=now,
    )
    change = packages.delete_client_package if delete else packages.archive_client_package
    change(session, provider, purchase.client_package.id, now)
    session.commit()
    balance, history = credits.account_history(
        session,
        provider_id=provider.id,
        client_id=account.client_id,
        type_id=account.type_id,
        now=now,
    )
    assert balance == before[0] == 4
    assert [(e.id, e.delta) for e in history] == [(e.id, e.delta) for e in before[1]]
