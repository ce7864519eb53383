"""JSON shapes of the API's objects, in one place so every endpoint answers alike."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ...domain.availability import Interval
from ...domain.booking import late_cancel_hours
from ...models import (
    AppointmentType,
    Booking,
    Client,
    ClientPackage,
    CreditEntry,
    Package,
    Provider,
)


def timestamp(value: datetime | None, zone: ZoneInfo | None = None) -> str | None:
    """ISO 8601; in `zone` where the answer shows its times there."""
    if value is None:
        return None
    return (value.astimezone(zone) if zone is not None else value).isoformat()


def appointment_type_json(t: AppointmentType, provider: Provider) -> dict[str, Any]:
    """A type as the API shows it; a type without its own late-cancel window shows the
    provider's, which it follows."""
    return {
        "id": t.id,
        "name": t.name,
        "duration_minutes": t.duration_minutes,
        "audience": t.audience.value,
        "requires_credit": t.requires_credit,
        "buffer_before_minutes": t.buffer_before_minutes,
        "buffer_after_minutes": t.buffer_after_minutes,
        "min_notice_minutes": t.min_notice_minutes,
        "max_days_ahead": t.max_days_ahead,
        "slot_step_minutes": t.slot_step_minutes,
        "max_per_day": t.max_per_day,
        "late_cancel_hours": late_cancel_hours(provider, t),
        "active": t.active,
    }


def package_json(p: Package) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "price_cents": p.price_cents,
        "active": p.active,
        "items": [
            {
                "appointment_type_id": item.appointment_type_id,
                "quantity": item.quantity,
                "expires_after_days": item.expires_after_days,
            }
            for item in p.items
        ],
    }


def client_json(client: Client, existing: bool) -> dict[str, Any]:
    return {
        "id": client.id,
        "email": client.email,
        "name": client.name,
        "status": "existing" if existing else "new",
        "created_at": timestamp(client.created_at),
    }


def entry_json(entry: CreditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "kind": entry.kind.value,
        "appointment_type_id": entry.appointment_type_id,
        "delta": entry.delta,
        "balance_after": entry.balance_after,
        "created_at": timestamp(entry.created_at),
        "note": entry.note,
        "actor": entry.actor,
        "override": entry.override,
        "booking_id": entry.booking_id,
        "client_package_id": entry.client_package_id,
    }


def client_package_json(cp: ClientPackage, grants: list[CreditEntry]) -> dict[str, Any]:
    return {
        "id": cp.id,
        "client_id": cp.client_id,
        "package_id": cp.package_id,
        "status": cp.status.value,
        "purchased_at": timestamp(cp.purchased_at),
        "archived_at": timestamp(cp.archived_at),
        "deleted_at": timestamp(cp.deleted_at),
        "grants": [entry_json(entry) for entry in grants],
    }


def booking_json(booking: Booking, zone: ZoneInfo) -> dict[str, Any]:
    """A booking as the provider sees it, with all its times in `zone`."""
    return {
        "id": booking.id,
        "status": booking.status.value,
        "start": booking.start_at.astimezone(zone).isoformat(),
        "end": booking.end_at.astimezone(zone).isoformat(),
        "appointment_type_id": booking.appointment_type_id,
        "channel": booking.channel.value,
        "client_id": booking.client_id,
        "name": booking.name,
        "email": booking.email,
        "credit_spent": booking.credit_spent,
        "credit_refunded": booking.credit_refunded,
        "late_cancellation": booking.late_cancellation,
        "cancel_reason": booking.cancel_reason,
        "created_at": timestamp(booking.created_at, zone),
        "cancelled_at": timestamp(booking.cancelled_at, zone),
        "hold_expires_at": timestamp(booking.hold_expires_at, zone),
    }


def slots_json(slots: list[Interval], zone: ZoneInfo) -> dict[str, Any]:
    return {
        "slots": [
            {
                "start": s.start.astimezone(zone).isoformat(),
                "end": s.end.astimezone(zone).isoformat(),
            }
            for s in slots
        ]
    }
