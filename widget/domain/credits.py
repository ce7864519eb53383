"""The credit ledger: one account per (client, appointment type), append-only.

Every change to an account locks its balance row, writes the expiry entries that
are due, then appends exactly one entry (plus any expiry it causes) and moves the
balance by the same delta, all in the caller's transaction. So balance == sum of
entries at every commit, and an expired credit is never spendable, whether or not
the scheduled `credits expire` sweep has run yet.

Credits arrive in lots (a purchase item, a positive adjustment); spending takes from
the lot that expires first, a refund goes back to the lot it came from, and any
inflow pays back a negative balance before it fills a lot. While the balance is
negative every lot is empty; otherwise the lots' remaining credits add up to it.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Text,
    and_,
    bindparam,
    cast,
    event,
    insert,
    inspect,
    literal_column,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, SessionTransaction, aliased, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from ..models import AppointmentType, Booking, CreditBalance, CreditEntry, CreditLot, EntryKind
from . import webhooks
from .errors import InvalidState, Refused, ValidationFailed
from .policy import may_spend

_OPENED = "credit_accounts_opened"

# How a change to a loaded row is recorded: for the session's flush to write (setattr),
# or as already written by a statement of the caller's own (set_committed_value).
Record = Callable[[object, str, Any], None]


@dataclass(frozen=True)
class AccountBalance:
    appointment_type: AppointmentType
    balance: int


# Statements of every spend, built once (building one costs as much as running it).
_LOCKED = (
    select(CreditBalance)
    .where(
        CreditBalance.client_id == bindparam("client_id"),
        CreditBalance.appointment_type_id == bindparam("type_id"),
    )
    .with_for_update()
    .execution_options(populate_existing=True)
)
_DUE_LOTS = (
    select(CreditLot)
    .where(
        CreditLot.client_id == bindparam("client_id"),
        CreditLot.appointment_type_id == bindparam("type_id"),
        CreditLot.remaining > 0,
        CreditLot.expires_at <= bindparam("now"),
    )
    .order_by(CreditLot.expires_at, CreditLot.id)
)


# Whether the lots read with the lock are current. On PostgreSQL a statement reads as of
# its start; when it waited for the lock, it gets the balance row as the last holder left
# it, but the lots joined to it as they were before (read committed's re-check refetches
# only locked rows). The row's xmin then differs from the one the same statement sees.
# On SQLite a transaction starts with the database's write lock: nothing can change.
_seen = aliased(CreditBalance, name="seen")
_CURRENT = {
    "postgresql": cast(literal_column("credit_balances.xmin"), Text)
    == select(cast(literal_column("seen.xmin"), Text))
    .where(
        _seen.client_id == CreditBalance.client_id,
        _seen.appointment_type_id == CreditBalance.appointment_type_id,
    )
    .scalar_subquery(),
    "sqlite": true(),
}
_LOCKED_WITH_LOTS = {
    dialect: select(CreditBalance, CreditLot, current)
    .outerjoin(
        CreditLot,
        and_(
            CreditLot.client_id == CreditBalance.client_id,
            CreditLot.appointment_type_id == CreditBalance.appointment_type_id,
            CreditLot.remaining > 0,
        ),
    )
    .where(
        CreditBalance.client_id == bindparam("client_id"),
        CreditBalance.appointment_type_id == bindparam("type_id"),
    )
    .order_by(CreditLot.expires_at.asc().nulls_last(), CreditLot.id)
    .with_for_update(of=CreditBalance)
    .execution_options(populate_existing=True)
    for dialect, current in _CURRENT.items()
}
_SPENDABLE_LOTS = (
    select(CreditLot)
    .where(
        CreditLot.client_id == bindparam("client_id"),
        CreditLot.appointment_type_id == bindparam("type_id"),
        CreditLot.remaining > 0,
        (CreditLot.expires_at.is_(None)) | (CreditLot.expires_at > bindparam("now")),
    )
    .order_by(CreditLot.expires_at.asc().nulls_last(), CreditLot.id)
)


def _locked(session: Session, client_id: int, type_id: int, query: Any) -> list[Any]:
    """`query`'s rows, led by the account's balance row, created if new and locked until
    the transaction ends.

    On PostgreSQL the row lock serialises every writer of this account; on SQLite the
    transaction already holds the database's write lock (BEGIN IMMEDIATE). An account
    that exists (the usual case) costs one statement; a new one is inserted (or waits
    for a concurrent insert of it) and then locked.
    """
    account = {"client_id": client_id, "type_id": type_id}
    rows = session.execute(query, account).all()
    if rows:
        return list(rows)
    dialect = session.get_bind().dialect.name
    upsert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        upsert(CreditBalance)
        .values(client_id=client_id, appointment_type_id=type_id, balance=0)
        .on_conflict_do_nothing()
    )
    return list(session.execute(query, account).all())


def _locked_balance(session: Session, client_id: int, type_id: int) -> CreditBalance:
    """The account's balance row, locked (created if new)."""
    return _locked(session, client_id, type_id, _LOCKED)[0][0]


def _append(
    session: Session,
    account: CreditBalance,
    *,
    provider_id: int,
    kind: EntryKind,
    delta: int,
    now: datetime,
    **refs: object,
) -> CreditEntry:
    entry = CreditEntry(provider_id=provider_id, kind=kind, delta=delta, created_at=now, **refs)
    _move_balance(session, account, entry)
    session.add(entry)
    _announce(session, entry, refs)
    return entry


def _move_balance(
    session: Session, account: CreditBalance, entry: CreditEntry, record: Record = setattr
) -> None:
    """Move the balance by the entry's delta, and make the entry the account's next."""
    record(account, "balance", account.balance + entry.delta)
    _lots_changed(session, account)
    entry.client_id = account.client_id
    entry.appointment_type_id = account.appointment_type_id
    entry.balance_after = account.balance


def _announce(session: Session, entry: CreditEntry, refs: dict[str, object]) -> None:
    """credits.changed, naming what the entry refers to (read from it: written by now)."""
    webhooks.emit(
        session,
        entry.provider_id,
        "credits.changed",
        lambda: {
            "client_id": entry.client_id,
            "appointment_type_id": entry.appointment_type_id,
            "kind": entry.kind.value,
            "delta": entry.delta,
            "balance": entry.balance_after,
            **{name: getattr(entry, name) for name in refs if name.endswith("_id")},
        },
        entry.created_at,
    )


def _expire_due(
    session: Session, account: CreditBalance, provider_id: int, now: datetime
) -> list[CreditEntry]:
    due = session.scalars(_DUE_LOTS, _lot_params(account, now)).all()
    return _expire(session, account, provider_id, now, due)


def _expire(
    session: Session,
    account: CreditBalance,
    provider_id: int,
    now: datetime,
    due: Sequence[CreditLot],
) -> list[CreditEntry]:
    entries = []
    for lot in due:
        entries.append(
            _append(
                session,
                account,
                provider_id=provider_id,
                kind=EntryKind.expiry,
                delta=-lot.remaining,
                now=now,
                lot_id=lot.id,
                client_package_id=lot.client_package_id,
                note="unused credits expired",
            )
        )
        lot.remaining = 0
    return entries


def _open_account(
    session: Session, client_id: int, type_id: int, provider_id: int, now: datetime
) -> CreditBalance:
    """The account locked, with the expiries due at `now` written.

    Once per transaction: a booking asks the policy with the balance and then spends
    from the same account, and the second open finds it still locked and up to date.
    The lots with credit left are read with the lock, in the same query (again if the
    account changed while it waited), and kept for the next spend until an entry
    changes them.
    """
    opened: dict[tuple[int, int], _Opened] = session.info.setdefault(_OPENED, {})
    known = opened.get((client_id, type_id))
    if known is not None and known.at == now:
        return known.account
    query = _LOCKED_WITH_LOTS[session.get_bind().dialect.name]
    rows = _locked(session, client_id, type_id, query)
    if not rows[0][2]:
        # Changed while this waited for the lock: read again, now that nothing else can.
        for _account, stale, _current in rows:
            if stale is not None:
                session.expire(stale)
        rows = _locked(session, client_id, type_id, query)
    account = rows[0][0]
    lots = [lot for _account, lot, _current in rows if lot is not None]
    due = [lot for lot in lots if lot.expires_at is not None and lot.expires_at <= now]
    _expire(session, account, provider_id, now, due)
    spendable = [lot for lot in lots if lot.remaining > 0]
    opened[(client_id, type_id)] = _Opened(account, now, spendable)
    return account


@dataclass
class _Opened:
    """An account locked in this transaction at `at`; `spendable` are its lots with credit
    left, soonest to expire first, until an entry of the account changes them."""

    account: CreditBalance
    at: datetime
    spendable: list[CreditLot] | None


def _lots_changed(session: Session, account: CreditBalance) -> None:
    known = session.info.get(_OPENED, {}).get((account.client_id, account.appointment_type_id))
    if known is not None:
        known.spendable = None


@event.listens_for(Session, "after_transaction_end")
def _forget_opened(session: Session, transaction: SessionTransaction) -> None:
    """A lock lasts as long as its transaction; a savepoint's end forgets too, to be safe.
    (A flush's own inner transaction is neither, and keeps them.)"""
    if transaction.parent is None or transaction.nested:
        session.info.pop(_OPENED, None)


def balance_for_update(
    session: Session, *, provider_id: int, client_id: int, type_id: int, now: datetime
) -> int:
    """The account's balance, locked for the rest of the transaction, expiries written."""
    return _open_account(session, client_id, type_id, provider_id, now).balance


def _lot_params(account: CreditBalance, now: datetime) -> dict[str, object]:
    return {"client_id": account.client_id, "type_id": account.appointment_type_id, "now": now}


def _spendable_lots(session: Session, account: CreditBalance, now: datetime) -> list[CreditLot]:
    return list(session.scalars(_SPENDABLE_LOTS, _lot_params(account, now)))


def _debt(account: CreditBalance) -> int:
    return max(0, -account.balance)


def _take(
    session: Session,
    account: CreditBalance,
    count: int,
    now: datetime,
    *,
    record: Record = setattr,
) -> CreditLot | None:
    """Remove `count` credits from the lots, soonest to expire first; returns the first lot."""
    known = session.info.get(_OPENED, {}).get((account.client_id, account.appointment_type_id))
    lots = known.spendable if known is not None and known.at == now else None
    if lots is None:
        lots = _spendable_lots(session, account, now)
    first = None
    for lot in lots:
        if count == 0:
            break
        if lot.remaining <= 0:
            continue
        taken = min(lot.remaining, count)
        record(lot, "remaining", lot.remaining - taken)
        count -= taken
        first = first or lot
    return first


def grant_credits(
    session: Session,
    *,
    provider_id: int,
    client_id: int,
    type_id: int,
    quantity: int,
    client_package_id: int,
    expires_at: datetime | None,
    now: datetime,
) -> CreditEntry:
    """A package purchase's credits for one type: paying back any negative balance first."""
    account = _open_account(session, client_id, type_id, provider_id, now)
    lot = CreditLot(
        client_id=client_id,
        appointment_type_id=type_id,
        client_package_id=client_package_id,
        granted=quantity,
        remaining=quantity - min(quantity, _debt(account)),
        expires_at=expires_at,
        created_at=now,
    )
    session.add(lot)
    session.flush()
    return _append(
        session,
        account,
        provider_id=provider_id,
        kind=EntryKind.package_grant,
        delta=quantity,
        now=now,
        client_package_id=client_package_id,
        lot_id=lot.id,
    )


def consume_credit(
    session: Session,
    *,
    booking: Booking,
    negative_limit: int,
    now: datetime,
    override: bool = False,
) -> CreditEntry:
    """Spend one credit on a booking; below -negative_limit only with the provider's override.

    A booking not written yet is written with its spend; on PostgreSQL in one statement
    with the entry, the lot and the balance, as those writes were most of a booking's
    round trips to the database.
    """
    assert booking.client_id is not None
    account = _open_account(
        session, booking.client_id, booking.appointment_type_id, booking.provider_id, now
    )
    below_limit = not may_spend(account.balance, negative_limit)
    if below_limit and not override:
        raise Refused(
            "insufficient_credits",
            "No credit is left for this appointment type."
            if negative_limit == 0
            else f"No credit is left, and the balance may not go below -{negative_limit}.",
        )
    # A new booking is written with its spend: on PostgreSQL in one statement, so the
    # lot and balance are changed as written by it, and what is pending goes first.
    one_statement = booking.id is None and session.get_bind().dialect.name == "postgresql"
    record: Record = set_committed_value if one_statement else setattr
    if one_statement:
        session.flush()
    lot = _take(session, account, 1, now, record=record)
    refs: dict[str, object] = {
        "booking_id": booking.id,
        "lot_id": lot.id if lot else None,
        "override": below_limit,
        "note": "booked beyond the negative-credit limit by the provider" if below_limit else None,
    }
    entry = CreditEntry(
        provider_id=booking.provider_id, kind=EntryKind.booking, delta=-1, created_at=now, **refs
    )
    _move_balance(session, account, entry, record)
    if one_statement:
        _write_with_booking(session, entry, booking, account, lot)
    else:
        if booking.id is None:
            session.add(booking)
            session.flush()
            entry.booking_id = booking.id
        session.add(entry)
    _announce(session, entry, refs)
    return entry


def _binds(table: Any, prefix: str, *, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """A bound parameter for each column; every column is sent, so none may count on a
    default the server fills in."""
    filled = [column.key for column in table.columns if column.server_default is not None]
    if filled:
        raise TypeError(f"{table.name}.{filled[0]} has a server default a write would override")
    return {
        column.key: bindparam(prefix + column.key, type_=column.type)
        for column in table.columns
        if not column.primary_key and column.key not in skip
    }


_BOOKINGS, _ENTRIES = Booking.__table__, CreditEntry.__table__
_new_booking = insert(_BOOKINGS).values(_binds(_BOOKINGS, "booking_")).returning(_BOOKINGS.c.id)
_entry_binds = _binds(_ENTRIES, "entry_", skip=("booking_id",))
_BOOKING_WITH_SPEND = (
    insert(_ENTRIES)
    .from_select(
        [*_entry_binds, "booking_id"],
        select(*_entry_binds.values(), _new_booking.cte("new_booking").c.id),
    )
    .add_cte(
        update(CreditBalance.__table__)
        .where(
            CreditBalance.__table__.c.client_id == _entry_binds["client_id"],
            CreditBalance.__table__.c.appointment_type_id == _entry_binds["appointment_type_id"],
        )
        .values(balance=bindparam("balance"))
        .cte("balance")
    )
    .add_cte(
        update(CreditLot.__table__)
        .where(CreditLot.__table__.c.id == _entry_binds["lot_id"])
        .values(remaining=bindparam("remaining"))
        .cte("lot")
    )
    .returning(_ENTRIES.c.id, _ENTRIES.c.booking_id)
)


def _write_with_booking(
    session: Session,
    entry: CreditEntry,
    booking: Booking,
    account: CreditBalance,
    lot: CreditLot | None,
) -> None:
    """Write a new booking, its spend's entry, the lot and the balance in one statement
    (PostgreSQL runs every part of a WITH), and tell the session the new rows are written."""
    params = {
        **_insert_values(booking, "booking_"),
        **_insert_values(entry, "entry_"),
        "balance": account.balance,
        "remaining": lot.remaining if lot is not None else None,
    }
    entry.id, booking.id = session.execute(_BOOKING_WITH_SPEND, params).one()
    entry.booking_id = booking.id
    for row in (booking, entry):
        make_transient_to_detached(row)
        session.add(row)


def _insert_values(row: Any, prefix: str) -> dict[str, Any]:
    """What a flush would insert for a new row: the values it was given, else its
    columns' defaults, which are set on it too, so it reads as loaded once written."""
    given = inspect(row).dict
    values = {}
    for column in row.__table__.columns:
        if column.primary_key:
            continue
        if column.key in given:
            value = given[column.key]
        else:
            if column.default is None:
                value = None
            elif column.default.is_callable:
                value = column.default.arg(None)
            else:
                value = column.default.arg
            setattr(row, column.key, value)
        values[prefix + column.key] = value
    return values


def _booking_debit(session: Session, booking: Booking) -> CreditEntry:
    entry = session.scalar(
        select(CreditEntry)
        .where(CreditEntry.booking_id == booking.id, CreditEntry.kind == EntryKind.booking)
        .order_by(CreditEntry.id.desc())
        .limit(1)
    )
    if entry is None:
        raise InvalidState("This booking spent no credit.")
    return entry


def _lot_with_room(
    session: Session, account: CreditBalance, debit: CreditEntry, now: datetime
) -> CreditLot:
    """Where a credit goes back when the booking that spent it took it from no lot: it was
    booked on credit, so the first grant after it with room paid it back, and the credit
    returns there, expired or not (an expired one then expires again at once). Failing
    that, the unexpired lot with room that expires last, or a new lot."""
    same_account = (
        CreditLot.client_id == account.client_id,
        CreditLot.appointment_type_id == account.appointment_type_id,
        CreditLot.remaining < CreditLot.granted,
    )
    lot = session.scalar(
        select(CreditLot)
        .join(CreditEntry, CreditEntry.lot_id == CreditLot.id)
        .where(
            *same_account,
            CreditEntry.kind.in_([EntryKind.package_grant, EntryKind.manual_adjustment]),
            CreditEntry.delta > 0,
            CreditEntry.id > debit.id,
        )
        .order_by(CreditEntry.id)
        .limit(1)
    ) or session.scalar(
        select(CreditLot)
        .where(*same_account, (CreditLot.expires_at.is_(None)) | (CreditLot.expires_at > now))
        .order_by(CreditLot.expires_at.desc().nulls_first(), CreditLot.id.desc())
        .limit(1)
    )
    if lot is None:
        lot = CreditLot(
            client_id=account.client_id,
            appointment_type_id=account.appointment_type_id,
            granted=1,
            remaining=0,
            created_at=now,
        )
        session.add(lot)
        session.flush()
    return lot


def refund_credit(session: Session, *, booking: Booking, now: datetime) -> CreditEntry:
    """Give a cancelled booking's credit back, to the lot it came from."""
    debit = _booking_debit(session, booking)
    account = _open_account(
        session, debit.client_id, debit.appointment_type_id, booking.provider_id, now
    )
    lot = None
    if not _debt(account):
        lot = session.get(CreditLot, debit.lot_id) if debit.lot_id else None
        if lot is None or lot.remaining >= lot.granted:
            lot = _lot_with_room(session, account, debit, now)
        lot.remaining += 1
    entry = _append(
        session,
        account,
        provider_id=booking.provider_id,
        kind=EntryKind.cancellation_refund,
        delta=1,
        now=now,
        booking_id=booking.id,
        lot_id=lot.id if lot else None,
    )
    session.flush()
    _expire_due(session, account, booking.provider_id, now)
    return entry


def forfeit_credit(session: Session, *, booking: Booking, now: datetime) -> CreditEntry:
    """Record that a late cancellation keeps the credit spent: a zero entry the history shows."""
    debit = _booking_debit(session, booking)
    account = _open_account(
        session, debit.client_id, debit.appointment_type_id, booking.provider_id, now
    )
    return _append(
        session,
        account,
        provider_id=booking.provider_id,
        kind=EntryKind.late_cancellation,
        delta=0,
        now=now,
        booking_id=booking.id,
        note="cancelled inside the late-cancel window: credit forfeited",
    )


def adjust_credits(
    session: Session,
    *,
    provider_id: int,
    client_id: int,
    type_id: int,
    delta: int,
    note: str,
    actor: str,
    now: datetime,
) -> CreditEntry:
    """A provider's correction. It may go below the negative limit; its credits never expire."""
    errors = {}
    if delta == 0:
        errors["delta"] = "must not be zero"
    if not note.strip():
        errors["note"] = "is required: say why the credits change"
    if errors:
        raise ValidationFailed(errors)
    account = _open_account(session, client_id, type_id, provider_id, now)
    lot_id = None
    if delta > 0:
        lot = CreditLot(
            client_id=client_id,
            appointment_type_id=type_id,
            granted=delta,
            remaining=delta - min(delta, _debt(account)),
            created_at=now,
        )
        session.add(lot)
        session.flush()
        lot_id = lot.id
    else:
        _take(session, account, -delta, now)
    entry = _append(
        session,
        account,
        provider_id=provider_id,
        kind=EntryKind.manual_adjustment,
        delta=delta,
        now=now,
        note=note.strip(),
        actor=actor,
        lot_id=lot_id,
    )
    session.flush()  # written, so the answer shows its id
    return entry


def expire_credits(session: Session, now: datetime) -> int:
    """The scheduled sweep: write every expiry entry that is due; returns how many."""
    accounts = session.execute(
        select(CreditLot.client_id, CreditLot.appointment_type_id, AppointmentType.provider_id)
        .join(AppointmentType, AppointmentType.id == CreditLot.appointment_type_id)
        .where(CreditLot.remaining > 0, CreditLot.expires_at <= now)
        .distinct()
        .order_by(CreditLot.client_id, CreditLot.appointment_type_id)
    ).all()
    written = 0
    for client_id, type_id, provider_id in accounts:
        account = _locked_balance(session, client_id, type_id)
        written += len(_expire_due(session, account, provider_id, now))
    return written


def account_history(
    session: Session, *, provider_id: int, client_id: int, type_id: int, now: datetime
) -> tuple[int, list[CreditEntry]]:
    """Balance and every entry, oldest first, after writing the expiries that are due."""
    exists = session.scalar(
        select(CreditBalance.balance).where(
            CreditBalance.client_id == client_id, CreditBalance.appointment_type_id == type_id
        )
    )
    if exists is None:
        return 0, []
    account = _open_account(session, client_id, type_id, provider_id, now)
    session.flush()
    entries = session.scalars(
        select(CreditEntry)
        .where(CreditEntry.client_id == client_id, CreditEntry.appointment_type_id == type_id)
        .order_by(CreditEntry.id)
    ).all()
    return account.balance, list(entries)


def client_balances(
    session: Session, *, provider_id: int, client_id: int, now: datetime
) -> list[AccountBalance]:
    """Every account the client ever had an entry in, after the expiries that are due."""
    due = session.scalars(
        select(CreditLot.appointment_type_id)
        .where(
            CreditLot.client_id == client_id, CreditLot.remaining > 0, CreditLot.expires_at <= now
        )
        .distinct()
        .order_by(CreditLot.appointment_type_id)
    ).all()
    for type_id in due:
        _open_account(session, client_id, type_id, provider_id, now)
    session.flush()
    rows = session.execute(
        select(AppointmentType, CreditBalance.balance)
        .join(
            CreditBalance,
            and_(
                CreditBalance.appointment_type_id == AppointmentType.id,
                CreditBalance.client_id == client_id,
            ),
        )
        .where(
            select(CreditEntry.id)
            .where(
                CreditEntry.client_id == client_id,
                CreditEntry.appointment_type_id == AppointmentType.id,
            )
            .exists()
        )
        .order_by(AppointmentType.id)
    ).all()
    return [AccountBalance(appointment_type, balance) for appointment_type, balance in rows]
