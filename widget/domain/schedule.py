"""The provider's stored hours: weekly ranges and date exceptions, in the provider's zone."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Date,
    Integer,
    Select,
    Time,
    bindparam,
    cast,
    delete,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from ..models import (
    AppointmentType,
    Booking,
    BookingStatus,
    DateException,
    Provider,
    UTCDateTime,
    WeeklyHours,
)
from .appointment_types import LONGEST_BLOCK
from .availability import (
    Hours,
    Interval,
    format_hours,
    free_slots,
    local_days_in_utc,
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


# The statements of every slot request are built once: building one costs as much as running it.
NO_INT: Any = cast(null(), Integer)
NO_DATE: Any = cast(null(), Date)
NO_TIME: Any = cast(null(), Time)
NO_MOMENT: Any = cast(null(), UTCDateTime())


def hours_parts(*padding: Any) -> list[Any]:
    """The weekly rows (no date) and the exception rows (no weekday), as
    (weekday, day, start_time, end_time, *padding)."""
    return [
        select(
            WeeklyHours.weekday,
            NO_DATE,
            WeeklyHours.start_time,
            WeeklyHours.end_time,
            *padding,
        ).where(WeeklyHours.provider_id == bindparam("provider_id")),
        select(
            NO_INT,
            DateException.day,
            DateException.start_time,
            DateException.end_time,
            *padding,
        ).where(DateException.provider_id == bindparam("provider_id")),
    ]


_HOURS: Any = union_all(*hours_parts())


def hours_of(rows: Any) -> tuple[dict[int, Hours], dict[date, Hours]]:
    weekly: dict[int, Hours] = {}
    exceptions: dict[date, Hours] = {}
    for weekday, day, start, end, *_rest in rows:
        if day is None:
            weekly.setdefault(weekday, []).append((start, end))
            continue
        hours = exceptions.setdefault(day, [])
        if start is not None and end is not None:
            hours.append((start, end))
    for ranges in (*weekly.values(), *exceptions.values()):
        ranges.sort()
    return weekly, exceptions


def stored_hours(session: Session, provider_id: int) -> tuple[dict[int, Hours], dict[date, Hours]]:
    """Weekly hours by weekday and exceptions by date (an empty list closes the day).

    One query: the weekly rows and the exception rows together.
    """
    return hours_of(session.execute(_HOURS, {"provider_id": provider_id}))


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
    session: Session,
    provider_id: int,
    window: Interval,
    now: datetime,
    *,
    with_days: bool,
    excluding: int | None,
) -> list[Any]:
    """Bookings whose block overlaps the window and still holds its slot (holds until expiry):
    (block_start, block_end), and (type id, start) too `with_days`.

    Plain columns rather than ORM objects, and only those asked for: this runs on every
    slot request, and reading a row's datetimes is most of its cost.
    """
    params = _window_params(provider_id, window, now, excluding)
    return list(session.execute(_live_blocks_query(with_days, excluding is not None), params))


def _window_params(
    provider_id: int, window: Interval, now: datetime, excluding: int | None
) -> dict[str, Any]:
    """The parameters of `_live_in_window`; blocks are looked for from LONGEST_BLOCK back."""
    return {
        "provider_id": provider_id,
        "window_start": window.start,
        "reach": window.start - LONGEST_BLOCK,
        "window_end": window.end,
        "now": now,
        "excluding": excluding,
    }


def _blocks_columns(with_days: bool) -> list[Any]:
    columns: list[Any] = [Booking.block_start, Booking.block_end]
    if with_days:
        columns += [Booking.appointment_type_id, Booking.start_at]
    return columns


def _live_in_window(query: Any, excluding: bool) -> Any:
    query = query.where(
        Booking.provider_id == bindparam("provider_id"),
        Booking.block_start < bindparam("window_end"),
        Booking.block_start > bindparam("reach"),
        Booking.block_end > bindparam("window_start"),
        (Booking.status == BookingStatus.confirmed)
        | (
            (Booking.status == BookingStatus.pending_verification)
            & (Booking.hold_expires_at > bindparam("now"))
        ),
    )
    if excluding:
        query = query.where(Booking.id != bindparam("excluding"))
    return query


@cache
def _live_blocks_query(with_days: bool, excluding: bool) -> Select[Any]:
    query: Select[Any] = _live_in_window(select(*_blocks_columns(with_days)), excluding)
    return query


@cache
def _calendar_query(with_days: bool, excluding: bool) -> Any:
    """The hours and the live blocks in one statement (one round trip), as rows of
    (weekday, day, start_time, end_time, block_start, block_end[, type id, start])."""
    padding = [NO_MOMENT, NO_MOMENT] + ([NO_INT, NO_MOMENT] if with_days else [])
    blocks = _live_in_window(
        select(NO_INT, NO_DATE, NO_TIME, NO_TIME, *_blocks_columns(with_days)), excluding
    )
    return union_all(*hours_parts(*padding), blocks)


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

    One query whatever the range: the hours and the live bookings together. Bookings
    per day are counted only for a type that caps them.
    """
    zone = zone_named(provider.timezone)
    # What a slot starting on these days can run into: its buffers reach out in real
    # time, which a 23- or 25-hour day makes different from whole local days.
    days_start, days_end = local_days_in_utc(first_day, last_day, zone)
    span = Interval(
        days_start - timedelta(minutes=appointment_type.buffer_before_minutes),
        days_end
        + timedelta(
            minutes=appointment_type.duration_minutes + appointment_type.buffer_after_minutes
        ),
    )
    capped = appointment_type.max_per_day is not None
    params = _window_params(provider.id, span, now, excluding)
    rows = list(session.execute(_calendar_query(capped, excluding is not None), params))
    hours = [row for row in rows if row[4] is None]
    blocks = [row[4:] for row in rows if row[4] is not None]
    weekly, exceptions = hours_of(hours)
    working = working_intervals(weekly, exceptions, zone, first_day, last_day)
    busy = [Interval(block[0], block[1]) for block in blocks]
    per_day: dict[date, int] = {}
    if capped:
        for _start, _end, type_id, start_at in blocks:
            if type_id == appointment_type.id:
                day = start_at.astimezone(zone).date()
                per_day[day] = per_day.get(day, 0) + 1
    return Calendar(working, busy, per_day)


def booked_on(
    session: Session,
    provider: Provider,
    appointment_type: AppointmentType,
    day: date,
    now: datetime,
    *,
    excluding: int | None = None,
) -> int:
    """Live bookings of the type on the provider-local `day`, for its max_per_day."""
    zone = zone_named(provider.timezone)
    span = Interval(
        datetime.combine(day, time(0), tzinfo=zone),
        datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone),
    )
    rows = _live_blocks(session, provider.id, span, now, with_days=True, excluding=excluding)
    return sum(
        1
        for _start, _end, type_id, start_at in rows
        if type_id == appointment_type.id and start_at.astimezone(zone).date() == day
    )


def local_day_window(first_day: date, last_day: date, zone: ZoneInfo) -> Interval | None:
    """Local days first_day..last_day in `zone` as one absolute window; None when they
    never happened there (Pacific/Apia went from 29 to 31 December 2011)."""
    start, end = local_days_in_utc(first_day, last_day, zone)
    return Interval(start, end) if end > start else None


def open_slots(
    session: Session,
    provider: Provider,
    appointment_type: AppointmentType,
    *,
    first_day: date,
    last_day: date,
    viewer_zone: ZoneInfo,
    now: datetime,
    excluding: int | None = None,
) -> list[Interval]:
    """Free slots of a type on the viewer's local days first_day..last_day (inclusive);
    the booking `excluding` (one being moved) is not in their way."""
    if last_day < first_day:
        raise ValidationFailed({"end": "must not be before start"})
    if (last_day - first_day).days >= MAX_RANGE_DAYS:  # both days count
        raise ValidationFailed({"end": f"ask for at most {MAX_RANGE_DAYS} days at a time"})
    zone = zone_named(provider.timezone)
    window = local_day_window(first_day, last_day, viewer_zone)
    if window is None:
        return []
    calendar = calendar_for(
        session,
        provider,
        appointment_type,
        window.start.astimezone(zone).date(),
        window.end.astimezone(zone).date(),
        now,
        excluding=excluding,
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


def free_starts_by_day(
    session: Session,
    provider: Provider,
    appointment_type: AppointmentType,
    *,
    first_day: date,
    last_day: date,
    viewer_zone: ZoneInfo,
    now: datetime,
    excluding: int | None = None,
) -> dict[date, list[datetime]]:
    """`open_slots`' starts in the viewer's zone, by the viewer's local day, every day of the
    range a key (empty when nothing is free): what a week view lists."""
    days: dict[date, list[datetime]] = {
        first_day + timedelta(days=n): [] for n in range((last_day - first_day).days + 1)
    }
    for slot in open_slots(
        session,
        provider,
        appointment_type,
        first_day=first_day,
        last_day=last_day,
        viewer_zone=viewer_zone,
        now=now,
        excluding=excluding,
    ):
        local = slot.start.astimezone(viewer_zone)
        days.setdefault(local.date(), []).append(local)
    return days
