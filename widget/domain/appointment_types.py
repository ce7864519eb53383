"""Appointment types: what can be booked, for whom, and at what credit cost."""

from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from ..models import AppointmentType, Audience, Provider
from .errors import NotFound, ValidationFailed

DEFAULTS: dict[str, Any] = {
    "buffer_before_minutes": 0,
    "buffer_after_minutes": 0,
    "min_notice_minutes": 0,
    "max_days_ahead": 60,
    "max_per_day": None,
    "late_cancel_hours": None,
    "active": True,
}


LONGEST_BLOCK = timedelta(minutes=3 * 1440)
"""A booking's block (duration and both buffers, each at most a day) is never longer:
overlap queries look back this far from a window, so they read a few rows, not a history."""


def _check_rules(appointment_type: AppointmentType) -> None:
    block = (
        appointment_type.duration_minutes
        + appointment_type.buffer_before_minutes
        + appointment_type.buffer_after_minutes
    )
    if timedelta(minutes=block) > LONGEST_BLOCK:
        raise ValidationFailed({"duration_minutes": "the duration and buffers are too long"})
    if appointment_type.audience == Audience.new_clients and appointment_type.requires_credit:
        raise ValidationFailed(
            {
                "requires_credit": "a new_clients type cannot require a credit: buying a "
                "package makes the buyer an existing client"
            }
        )


def create_appointment_type(
    session: Session, provider: Provider, fields: dict[str, Any]
) -> AppointmentType:
    values = {**DEFAULTS, **fields}
    values.setdefault("slot_step_minutes", None)
    if values["slot_step_minutes"] is None:
        values["slot_step_minutes"] = values["duration_minutes"]
    values["audience"] = Audience(values["audience"])
    appointment_type = AppointmentType(provider_id=provider.id, **values)
    _check_rules(appointment_type)
    session.add(appointment_type)
    session.flush()
    return appointment_type


def update_appointment_type(
    session: Session, provider: Provider, type_id: int, changes: dict[str, Any]
) -> AppointmentType:
    appointment_type = appointment_type_of(session, provider, type_id)
    if (
        "duration_minutes" in changes
        and "slot_step_minutes" not in changes
        and appointment_type.slot_step_minutes == appointment_type.duration_minutes
    ):
        # A step that is the duration (its default) follows the duration.
        changes = {**changes, "slot_step_minutes": None}
    for field, value in changes.items():
        if field == "audience":
            value = Audience(value)
        elif field == "slot_step_minutes" and value is None:
            value = changes.get("duration_minutes", appointment_type.duration_minutes)
        setattr(appointment_type, field, value)
    _check_rules(appointment_type)
    session.flush()
    return appointment_type


_TYPE_OF = select(AppointmentType).where(
    AppointmentType.id == bindparam("type_id"),
    AppointmentType.provider_id == bindparam("provider_id"),
)


def appointment_type_of(
    session: Session, provider: Provider, type_id: int, *, field: str | None = None
) -> AppointmentType:
    """The provider's type with this id; another provider's is as unknown as a missing one.

    With `field`, an unknown id is a bad field of the request rather than a missing page.
    """
    appointment_type = session.scalar(_TYPE_OF, {"type_id": type_id, "provider_id": provider.id})
    if appointment_type is None:
        if field is not None:
            raise ValidationFailed({field: f"no appointment type with id {type_id}"})
        raise NotFound("No such appointment type.")
    return appointment_type


def appointment_types_by_id(
    session: Session, provider: Provider, type_ids: list[int]
) -> dict[int, AppointmentType]:
    """The provider's types among these ids, in one query; others' ids are simply absent."""
    return {
        t.id: t
        for t in session.scalars(
            select(AppointmentType).where(
                AppointmentType.provider_id == provider.id, AppointmentType.id.in_(type_ids)
            )
        )
    }


def appointment_types_of(session: Session, provider: Provider) -> list[AppointmentType]:
    return list(
        session.scalars(
            select(AppointmentType)
            .where(AppointmentType.provider_id == provider.id)
            .order_by(AppointmentType.id)
        )
    )
