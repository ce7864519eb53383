"""A credit account's history in words: what caused each entry, and what a balance means.

The ledger stores kinds and references; people read causes ("Bought package 'Spring
Reset' on 3 Mar: +4"). All the wording lives here, so a client and their provider
read the same story, and a negative balance is always explained, never just shown.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import (
    AppointmentType,
    Booking,
    Channel,
    Client,
    ClientPackage,
    CreditEntry,
    CreditLot,
    EntryKind,
    Package,
    Provider,
)
from .credits import account_history
from .timezones import clock_time


@dataclass(frozen=True)
class Cause:
    """What an entry's references point at, read in one go for the whole history."""

    booking: Booking | None = None
    package_name: str | None = None
    purchased_at: datetime | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True)
class HistoryLine:
    entry_id: int
    kind: EntryKind
    at: datetime
    """When the entry was written, in the reader's zone."""
    text: str
    detail: str | None
    delta: int
    balance_after: int


@dataclass(frozen=True)
class AccountStory:
    appointment_type: AppointmentType
    balance: int
    summary: str
    lines: list[HistoryLine]


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if abs(count) == 1 else f"{count} {word}s"


def signed(delta: int) -> str:
    return f"+{delta}" if delta > 0 else str(delta)


def day_words(moment: datetime, zone: ZoneInfo, today: date) -> str:
    """'3 Mar', with the year only when it is not this year's."""
    local = moment.astimezone(zone)
    year = "" if local.year == today.year else f" {local.year}"
    return f"{local.day} {local:%b}{year}"


def describe_entry(
    entry: CreditEntry,
    cause: Cause,
    *,
    type_name: str,
    provider_name: str,
    zone: ZoneInfo,
    today: date,
) -> tuple[str, str | None]:
    """The entry's cause as one sentence, and a second line with what else matters."""

    def day(moment: datetime) -> str:
        return day_words(moment, zone, today)

    booking = cause.booking
    appointment = (
        f"{type_name} on {day(booking.start_at)} at {clock_time(booking.start_at.astimezone(zone))}"
        if booking is not None
        else type_name
    )
    by_provider = booking is not None and booking.cancelled_by == Channel.provider.value
    balance_before = entry.balance_after - entry.delta
    match entry.kind:
        case EntryKind.package_grant:
            text = (
                f"Bought package '{cause.package_name}' on "
                f"{day(cause.purchased_at or entry.created_at)}: {signed(entry.delta)}"
            )
            details = []
            if balance_before < 0:
                paid = min(entry.delta, -balance_before)
                sessions = "a session" if paid == 1 else "sessions"
                details.append(f"{plural(paid, 'credit')} paid for {sessions} already had.")
            if cause.expires_at is not None:
                details.append(f"These credits expire on {day(cause.expires_at)}.")
            return text, " ".join(details) or None
        case EntryKind.booking:
            when = day(booking.start_at) if booking is not None else day(entry.created_at)
            text = f"{type_name} on {when}: {signed(entry.delta)}"
            if entry.override:
                return text, f"Booked by {provider_name} beyond the credit limit."
            if booking is not None and booking.channel == Channel.provider:
                return text, f"Booked for you by {provider_name}."
            if entry.balance_after < 0:
                return text, "Booked before buying credits: the balance went below zero."
            return text, None
        case EntryKind.cancellation_refund:
            who = f" by {provider_name}" if by_provider else ""
            text = (
                f"Cancelled{who} on {day(entry.created_at)}: {signed(entry.delta)}, credit refunded"
            )
            return text, appointment
        case EntryKind.late_cancellation:
            text = f"Cancelled late on {day(entry.created_at)}: credit forfeited"
            if by_provider:
                return text, f"{appointment}, marked a late cancellation by {provider_name}."
            return text, f"{appointment}, inside the late-cancellation window."
        case EntryKind.manual_adjustment:
            text = (
                f"Adjusted by {entry.actor or provider_name}: {signed(entry.delta)}, '{entry.note}'"
            )
            return text, None
        case EntryKind.expiry:
            expired = plural(-entry.delta, "unused credit")
            text = (
                f"{expired} expired on {day(cause.expires_at or entry.created_at)}: {entry.delta}"
            )
            if cause.package_name is None:
                return text, None
            bought = f", bought on {day(cause.purchased_at)}" if cause.purchased_at else ""
            return text, f"From package '{cause.package_name}'{bought}."
    raise ValueError(f"unknown entry kind {entry.kind}")


def summarise_balance(
    balance: int,
    entries: Sequence[CreditEntry],
    *,
    type_name: str,
    provider_name: str,
    negative_limit: int,
) -> str:
    """The balance in plain words; below zero, why it got there and what settles it."""
    if balance > 0:
        return f"You have {plural(balance, 'credit')} for {type_name}: each pays for one session."
    if balance == 0:
        if negative_limit > 0:
            return (
                f"You have no credits for {type_name}. {provider_name} lets you book up to "
                f"{plural(negative_limit, 'session')} before buying a package."
            )
        return (
            f"You have no credits for {type_name}. Buy a package from {provider_name} to book it."
        )
    owed = -balance
    reasons: list[str] = []
    for entry in _since_last_in_credit(entries):
        if entry.delta >= 0:
            continue
        if entry.kind == EntryKind.booking and entry.override:
            reason = f"{provider_name} booked a session for you beyond the credit limit"
        elif entry.kind == EntryKind.booking:
            reason = (
                f"{provider_name} lets you book up to {plural(negative_limit, 'session')} "
                "before buying credits"
                if negative_limit > 0
                else f"{provider_name} let you book before buying credits"
            )
        elif entry.kind == EntryKind.manual_adjustment:
            reason = f"{provider_name} corrected your credits ('{entry.note}')"
        else:
            continue
        if reason not in reasons:
            reasons.append(reason)
    because = f" This is because {' and '.join(reasons)}." if reasons else ""
    return (
        f"Your balance is {balance}: you have had {plural(owed, 'session')} of {type_name} "
        f"that no credit has paid for yet.{because} The next package you buy pays for "
        f"{'it' if owed == 1 else 'them'} first."
    )


def _since_last_in_credit(entries: Sequence[CreditEntry]) -> Sequence[CreditEntry]:
    """The entries after the balance was last zero or more: the ones that made the debt."""
    for index in range(len(entries) - 1, -1, -1):
        if entries[index].balance_after - entries[index].delta >= 0:
            return entries[index:]
    return entries


def _causes(session: Session, entries: Sequence[CreditEntry]) -> dict[int, Cause]:
    """Each entry's booking, package and lot expiry, in three queries whatever the length."""
    booking_ids = {e.booking_id for e in entries if e.booking_id is not None}
    package_ids = {e.client_package_id for e in entries if e.client_package_id is not None}
    lot_ids = {e.lot_id for e in entries if e.lot_id is not None}
    bookings = {
        b.id: b for b in session.scalars(select(Booking).where(Booking.id.in_(booking_ids)))
    }
    packages = {
        row.id: (row.name, row.purchased_at)
        for row in session.execute(
            select(ClientPackage.id, Package.name, ClientPackage.purchased_at)
            .join(Package, Package.id == ClientPackage.package_id)
            .where(ClientPackage.id.in_(package_ids))
        )
    }
    expiries: dict[int, datetime | None] = {
        lot_id: expires_at
        for lot_id, expires_at in session.execute(
            select(CreditLot.id, CreditLot.expires_at).where(CreditLot.id.in_(lot_ids))
        )
    }
    causes = {}
    for entry in entries:
        name, purchased_at = packages.get(entry.client_package_id or 0, (None, None))
        causes[entry.id] = Cause(
            booking=bookings.get(entry.booking_id or 0),
            package_name=name,
            purchased_at=purchased_at,
            expires_at=expiries.get(entry.lot_id or 0),
        )
    return causes


def account_story(
    session: Session,
    provider: Provider,
    client: Client,
    appointment_type: AppointmentType,
    *,
    zone: ZoneInfo,
    now: datetime,
) -> AccountStory:
    """The account's balance in words and every entry, newest first, with its cause."""
    balance, entries = account_history(
        session,
        provider_id=provider.id,
        client_id=client.id,
        type_id=appointment_type.id,
        now=now,
    )
    causes = _causes(session, entries)
    today = now.astimezone(zone).date()
    lines = []
    for entry in reversed(entries):
        text, detail = describe_entry(
            entry,
            causes[entry.id],
            type_name=appointment_type.name,
            provider_name=provider.name,
            zone=zone,
            today=today,
        )
        lines.append(
            HistoryLine(
                entry_id=entry.id,
                kind=entry.kind,
                at=entry.created_at.astimezone(zone),
                text=text,
                detail=detail,
                delta=entry.delta,
                balance_after=entry.balance_after,
            )
        )
    summary = summarise_balance(
        balance,
        entries,
        type_name=appointment_type.name,
        provider_name=provider.name,
        negative_limit=provider.negative_credit_limit,
    )
    return AccountStory(appointment_type, balance, summary, lines)
