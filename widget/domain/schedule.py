"""The provider's stored hours: weekly ranges and date exceptions, in the provider's zone."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..models import (
    AppointmentType,
    Booking,
    BookingStatus,
    DateException,
    Provider,
    WeeklyHours,
)
from .availability import (
    Hours,
    Interval,
    format_hours,
    free_slots,
    parse_hours,
    working_intervals,
)
from .errors import ValidationFailed
from .timezones import zone_named

MAX_RANGE_DAYS = 366
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _parse(ranges: Any, field: str, errors: dict[str, str]) -> Hours:
    try:
        return parse_hours(ranges)
    except ValueError as exc:
        errors[field] = str(exc)
        return []


def replace_availability(
    session: Session,
    provider: Provider,
    *,
    weekly: dict[str, list[dict[str, str]]],
    exceptions: list[dict[str, Any]],
) -> None:
    """Replace every weekly range and exception at once: what the provider sends is the truth."""
    errors: dict[str, str] = {}
    weekly_hours: list[tuple[int, time, time]] = []
    for day_name, ranges in weekly.items():
        if day_name not in WEEKDAYS:
            errors[f"weekly.{day_name}"] = "must be one of " + ", ".join(WEEKDAYS)
            continue
        weekday = WEEKDAYS.index(day_name)
        weekly_hours += [(weekday, s, e) for s, e in _parse(ranges, f"weekly.{day_name}", errors)]
    days: dict[date, Hours] = {}
    for index, exception in enumerate(exceptions):
        field = f"exceptions.{index}"
        day = exception["date"]
        if day in days:
            errors[f"{field}.date"] = f"{day.isoformat()} is listed twice"
        closed = exception.get("closed")
        hours = exception.get("hours")
        if closed and hours:
            errors[field] = "give either closed: true or hours, not both"
        elif not closed and hours is None:
            errors[field] = "give closed: true or a list of hours"
        days[day] = [] if closed else _parse(hours or [], f"{field}.hours", errors)
    if errors:
        raise ValidationFailed(errors)
    session.execute(delete(WeeklyHours).where(WeeklyHours.provider_id == provider.id))
    session.execute(delete(DateException).where(DateException.provider_id == provider.id))
    session.add_all(
        WeeklyHours(provider_id=provider.id, weekday=weekday, start_time=s, end_time=e)
        for weekday, s, e in weekly_hours
    )
    for day, hours in days.items():
        if not hours:
            session.add(DateException(provider_id=provider.id, day=day))
        session.add_all(
            DateException(provider_id=provider.id, day=day, start_time=s, end_time=e)
            for s, e in hours
        )
    session.flush()


def stored_hours(session: Session, provider_id: int) -> tuple[dict[int, Hours], dict[date, Hours]]:
    """Weekly hours by weekday and exceptions by date (an empty list closes the day)."""
    weekly: dict[int, Hours] = {}
    for row in session.scalars(
        select(WeeklyHours)
        .where(WeeklyHours.provider_id == provider_id)
        .order_by(WeeklyHours.weekday, WeeklyHours.start_time)
    ):
        weekly.setdefault(row.weekday, []).append((row.start_time, row.end_time))
    exceptions: dict[date, Hours] = {}
    for exc in session.scalars(
        select(DateException)
        .where(DateException.provider_id == provider_id)
        .order_by(DateException.day, DateException.start_time)
    ):
        hours = exceptions.setdefault(exc.day, [])
        if exc.start_time is not None and exc.end_time is not None:
            hours.append((exc.start_time, exc.end_time))
    return weekly, exceptions


def availability_of(session: Session, provider: Provider) -> dict[str, Any]:
    weekly, exceptions = stored_hours(session, provider.id)
    return {
        "weekly": {name: format_hours(weekly.get(day, [])) for day, name in enumerate(WEEKDAYS)},
        "exceptions": [
            {"date": day.isoformat(), "closed": True}
            if not hours
            else {"date": day.isoformat(), "hours": format_hours(hours)}
            for day, hours in sorted(exceptions.items())
        ],
    }


@dataclass(frozen=True)
class Calendar:
    """What the slot rules need about one provider and type over a window, read in one go."""

    working: list[Interval]
    busy: list[Interval]
    booked_per_day: dict[date, int]


def _live_blocks(
    session: Session, provider_id: int, window: Interval, now: datetime
) -> list[tuple[int, int, datetime, datetime, datetime]]:
    """Bookings whose block overlaps the window and still holds its slot (holds until expiry).

    Plain columns rather than ORM objects: this runs on every slot request.
    """
    rows = session.execute(
        select(
            Booking.id,
            Booking.appointment_type_id,
            Booking.start_at,
            Booking.block_start,
            Booking.block_end,
        ).where(
            Booking.provider_id == provider_id,
            Booking.block_start < window.end,
            Booking.block_end > window.start,
            (Booking.status == BookingStatus.confirmed)
            | (
                (Booking.status == BookingStatus.pending_verification)
                & (Booking.hold_expires_at > now)
            ),
        )
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


def calendar_for(
    session: Session,
    provider: Provider,
    appointment_type: AppointmentType,
    first_day: date,
    last_day: date,
    now: datetime,
    *,
    excluding: int | None = None,
) -> Calendar:
    """Hours for the provider-local days first_day..last_day and the bookings among them.

    Three queries whatever the range: weekly hours, exceptions, and live bookings.
    """
    zone = zone_named(provider.timezone)
    weekly, exceptions = stored_hours(session, provider.id)
    working = working_intervals(weekly, exceptions, zone, first_day, last_day)
    span = Interval(
        datetime.combine(first_day - timedelta(days=1), time(0), tzinfo=zone),
        datetime.combine(last_day + timedelta(days=2), time(0), tzinfo=zone),
    )
    busy: list[Interval] = []
    per_day: dict[date, int] = {}
    for booking_id, type_id, start_at, block_start, block_end in _live_blocks(
        session, provider.id, span, now
    ):
        if booking_id == excluding:
            continue
        busy.append(Interval(block_start, block_end))
        if type_id == appointment_type.id:
            day = start_at.astimezone(zone).date()
            per_day[day] = per_day.get(day, 0) + 1
    return Calendar(working, busy, per_day)


def local_day_window(first_day: date, last_day: date, zone: ZoneInfo) -> Interval:
    """Local days first_day..last_day in `zone` as one absolute window."""
    return Interval(
        datetime.combine(first_day, time(0), tzinfo=zone).astimezone(UTC),
        datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC),
    )


def open_slots(
    session: Session,
    provider: Provider,
    appointment_type: AppointmentType,
    *,
    first_day: date,
    last_day: date,
    viewer_zone: ZoneInfo,
    now: datetime,
) -> list[Interval]:
    """Free slots of a type on the viewer's local days first_day..last_day (inclusive)."""
    if last_day < first_day:
        raise ValidationFailed({"end": "must not be before start"})
    if (last_day - first_day).days > MAX_RANGE_DAYS:
        raise ValidationFailed({"end": f"ask for at most {MAX_RANGE_DAYS} days at a time"})
    zone = zone_named(provider.timezone)
    window = local_day_window(first_day, last_day, viewer_zone)
    calendar = calendar_for(
        session,
        provider,
        appointment_type,
        window.start.astimezone(zone).date(),
        window.end.astimezone(zone).date(),
        now,
    )
    return free_slots(
        working=calendar.working,
        busy=calendar.busy,
        duration=timedelta(minutes=appointment_type.duration_minutes),
        buffer_before=timedelta(minutes=appointment_type.buffer_before_minutes),
        buffer_after=timedelta(minutes=appointment_type.buffer_after_minutes),
        step=timedelta(minutes=appointment_type.slot_step_minutes),
        earliest=now + timedelta(minutes=appointment_type.min_notice_minutes),
        latest_local_date=now.astimezone(zone).date()
        + timedelta(days=appointment_type.max_days_ahead),
        zone=zone,
        max_per_day=appointment_type.max_per_day,
        booked_per_day=calendar.booked_per_day,
        window=window,
    )
