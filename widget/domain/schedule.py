"""The provider's stored hours: weekly ranges and date exceptions, in the provider's zone."""

from datetime import date, time
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..models import DateException, Provider, WeeklyHours
from .availability import Hours, format_hours, parse_hours
from .errors import ValidationFailed

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
    for day, ranges in weekly.items():
        if day not in WEEKDAYS:
            errors[f"weekly.{day}"] = "must be one of " + ", ".join(WEEKDAYS)
            continue
        weekday = WEEKDAYS.index(day)
        weekly_hours += [(weekday, s, e) for s, e in _parse(ranges, f"weekly.{day}", errors)]
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
