"""Bookable slots from a provider's hours, pure and database-free.

Hours are wall-clock ranges in the provider's IANA zone; everything returned is an
absolute interval in UTC, so a 09:00 opening stays 09:00 local across daylight-saving
changes while the absolute arithmetic (steps, buffers, overlaps) stays exact.
"""

import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .timezones import is_repeated

__all__ = [
    "Hours",
    "Interval",
    "format_hours",
    "free_slots",
    "parse_hours",
    "working_intervals",
]

_MIDNIGHT = time(0, 0)
_ONE_DAY = timedelta(days=1)
_INSTANT = timedelta(microseconds=1)
_ZERO = timedelta(0)


@dataclass(frozen=True, order=True)
class Interval:
    """A half-open span of absolute time [start, end); touching intervals do not overlap."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        # tzinfo, not utcoffset(): as strict for every zone Widget uses, and this runs for
        # every booking a slot request reads.
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("an interval needs timezone-aware start and end")
        if self.end <= self.start:
            raise ValueError(f"an interval must end after it starts: {self.start} .. {self.end}")

    def overlaps(self, other: "Interval") -> bool:
        return self.start < other.end and other.start < self.end


Hours = list[tuple[time, time]]
"""Wall-clock opening ranges of one day, each (start, end) with start < end.

An end of time(0, 0) means midnight at the END of the day (24:00), so (22:00, 00:00)
runs to the next local midnight and (00:00, 00:00) is the whole day.
"""


def _check_range(start: time, end: time) -> None:
    if start.tzinfo is not None or end.tzinfo is not None:
        raise ValueError("opening hours are wall-clock times and must not carry a time zone")
    if end != _MIDNIGHT and end <= start:
        raise ValueError(
            f"opening hours {start:%H:%M}-{end:%H:%M} end before they start "
            "(use 00:00 or 24:00 as the end for 'until midnight')"
        )


def _check_hours(hours: Hours) -> None:
    for start, end in hours:
        _check_range(start, end)


def _utc_start(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The first reading of a wall-clock time; a time in a spring-forward gap moves
    forward (fold=0), as zoneinfo resolves it."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def _utc_end(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The later of the two readings when the range runs into a repeated (fall-back) hour,
    so it keeps all of it; an end at the first instant of that hour (01:00) is the first
    reading, as is an end inside a gap (fold=0, as zoneinfo resolves it)."""
    if at == _MIDNIGHT:
        return _utc_start(day + _ONE_DAY, _MIDNIGHT, zone)
    local = datetime.combine(day, at, tzinfo=zone)
    first, second = local.astimezone(UTC), local.replace(fold=1).astimezone(UTC)
    # Equal on every day without a clock change: the check below runs on those days only.
    if second > first and is_repeated(local - _INSTANT):
        return second
    return first


def _merged(spans: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Overlapping or touching spans joined, sorted by start."""
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def working_intervals(
    weekly: dict[int, Hours],
    exceptions: dict[date, Hours],
    zone: ZoneInfo,
    first_day: date,
    last_day: date,
) -> list[Interval]:
    """Absolute (UTC) working intervals for each LOCAL date first_day..last_day inclusive.

    weekly is keyed by weekday (0=Monday..6=Sunday). exceptions replace that date's
    hours entirely; an empty list means closed that day. Result sorted, in UTC.

    An end of time(0, 0) means 24:00 (the next local midnight). Local times become
    absolute with datetime.combine(day, t, tzinfo=zone): a start in a spring-forward
    gap resolves with fold=0 (02:30 -> 03:30 in New York), and so does an end there;
    on a fall-back day a start takes the first reading and an end the second, so
    01:00-02:00 covers both hours.
    Overlapping or touching ranges of one date are merged (also when they only meet
    after conversion); ranges of different dates are never joined, so slots never
    run across a local midnight. A range left empty by a gap is dropped.
    Raises ValueError for a weekday outside 0..6 or a range that ends before it starts.
    """
    for weekday, hours in weekly.items():
        if weekday not in range(7):
            raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), got {weekday!r}")
        _check_hours(hours)
    for hours in exceptions.values():
        _check_hours(hours)

    result: list[Interval] = []
    day = first_day
    skipping = _skips_a_date(first_day, last_day, zone)
    while day <= last_day:
        if skipping and not _happened(day, zone):  # a date the zone skipped: no hours
            day += _ONE_DAY
            continue
        hours = exceptions[day] if day in exceptions else weekly.get(day.weekday(), [])
        spans = ((_utc_start(day, start, zone), _utc_end(day, end, zone)) for start, end in hours)
        result.extend(Interval(start, end) for start, end in _merged(spans) if end > start)
        day += _ONE_DAY
    result.sort()
    return result


def local_days_in_utc(first_day: date, last_day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """When the local days first_day..last_day begin and end, in UTC (the end not after
    the start when the zone skipped them all)."""
    return (
        datetime.combine(first_day, time(0), tzinfo=zone).astimezone(UTC),
        datetime.combine(last_day + _ONE_DAY, time(0), tzinfo=zone).astimezone(UTC),
    )


def _skips_a_date(first_day: date, last_day: date, zone: ZoneInfo) -> bool:
    """Whether the zone skipped a date in first_day..last_day: their span in real time is
    then a day short. (Checked once, so the days of a range need no check of their own.)"""
    start, end = local_days_in_utc(first_day, last_day, zone)
    return end - start < ((last_day - first_day).days + 0.5) * _ONE_DAY


def _happened(day: date, zone: ZoneInfo) -> bool:
    """False for a date the zone skipped when it crossed the date line (Pacific/Apia,
    30 December 2011): its noon, read back, falls on another date."""
    noon = datetime.combine(day, time(12), tzinfo=zone)
    return noon.astimezone(UTC).astimezone(zone).date() == day


def _by_start(interval: Interval) -> datetime:
    return interval.start


def _steps_to_reach(origin: datetime, target: datetime, step: timedelta) -> int:
    """The number of whole steps from origin to the first point at or after target."""
    if target <= origin:
        return 0
    return -((origin - target) // step)


def free_slots(
    *,
    working: list[Interval],
    busy: list[Interval],
    duration: timedelta,
    buffer_before: timedelta,
    buffer_after: timedelta,
    step: timedelta,
    earliest: datetime,
    latest_local_date: date,
    zone: ZoneInfo,
    max_per_day: int | None = None,
    booked_per_day: dict[date, int] | None = None,
    window: Interval | None = None,
) -> list[Interval]:
    """Free slot intervals (UTC, sorted).

    Starts step in absolute time from the start of each working interval and a slot
    must fit inside it. A slot is free when its block [start - buffer_before,
    end + buffer_after) overlaps no busy block (busy holds bookings' blocks, already
    widened by their own buffers). Also kept only: start >= earliest (notice is
    folded in by the caller), start's local date in zone <= latest_local_date, dates
    not already at max_per_day bookings, and window.start <= start < window.end.
    """
    if duration <= _ZERO or step <= _ZERO:
        raise ValueError("slot duration and step must be positive")
    if buffer_before < _ZERO or buffer_after < _ZERO:
        raise ValueError("buffers cannot be negative")
    if earliest.utcoffset() is None:
        raise ValueError("earliest must be timezone-aware")

    if max_per_day is not None and max_per_day <= 0:
        return []

    full_days = (
        set()
        if max_per_day is None
        else {day for day, booked in (booked_per_day or {}).items() if booked >= max_per_day}
    )
    lowest = earliest.astimezone(UTC)
    # Only an outer bound to stop early: the horizon itself is checked on each slot's local date.
    beyond = _utc_start(latest_local_date + 2 * _ONE_DAY, _MIDNIGHT, zone)
    if window is not None:
        lowest = max(lowest, window.start.astimezone(UTC))
        beyond = min(beyond, window.end.astimezone(UTC))

    reach_from = lowest - buffer_before
    reach_to = beyond + duration + buffer_after
    blocks = _merged(
        (b.start.astimezone(UTC), b.end.astimezone(UTC))
        for b in busy
        if b.end > reach_from and b.start < reach_to
    )
    block_starts = [start for start, _ in blocks]
    block_ends = [end for _, end in blocks]

    found: list[datetime] = []
    for interval in sorted(working, key=_by_start):
        origin = interval.start.astimezone(UTC)
        if origin >= beyond:
            break
        last_start = min(interval.end.astimezone(UTC) - duration, beyond - timedelta.resolution)
        start = origin + _steps_to_reach(origin, lowest, step) * step
        while start <= last_start:
            block_start = start - buffer_before
            hit = bisect_right(block_ends, block_start)
            if hit < len(blocks) and block_starts[hit] < start + duration + buffer_after:
                clear = block_ends[hit] + buffer_before
                start = origin + _steps_to_reach(origin, clear, step) * step
                continue
            local_day = start.astimezone(zone).date()
            if local_day <= latest_local_date and local_day not in full_days:
                found.append(start)
            start += step

    found.sort()
    return [
        Interval(start, start + duration)
        for i, start in enumerate(found)
        if i == 0 or start != found[i - 1]
    ]


_HH_MM = re.compile(r"(\d{1,2}):(\d{2})")


def _parse_time(text: object, what: str, position: int, *, is_end: bool) -> time:
    if not isinstance(text, str):
        raise ValueError(f'opening hours range {position}: {what} must be a time like "09:00"')
    match = _HH_MM.fullmatch(text.strip())
    if match is None:
        raise ValueError(
            f'opening hours range {position}: {what} {text!r} is not a time like "09:00"'
        )
    hour, minute = int(match[1]), int(match[2])
    if is_end and (hour, minute) == (24, 0):
        return _MIDNIGHT
    if hour > 23 or minute > 59:
        raise ValueError(f"opening hours range {position}: {what} {text!r} is not a valid time")
    return time(hour, minute)


def parse_hours(ranges: list[dict[str, str]]) -> Hours:
    """Hours from their JSON form [{"start": "09:00", "end": "17:00"}, ...].

    "24:00" (or "00:00") as an end means until midnight at the end of the day.
    Ranges keep their given order; overlaps are allowed and merged later.
    Raises ValueError with a message fit to show the provider.
    """
    if not isinstance(ranges, list):
        raise ValueError('opening hours must be a list of {"start", "end"} ranges')
    hours: Hours = []
    for position, item in enumerate(ranges, start=1):
        if not isinstance(item, dict) or set(item) != {"start", "end"}:
            raise ValueError(
                f'opening hours range {position} must have exactly a "start" and an "end"'
            )
        start = _parse_time(item["start"], "start", position, is_end=False)
        end = _parse_time(item["end"], "end", position, is_end=True)
        try:
            _check_range(start, end)
        except ValueError as error:
            raise ValueError(f"opening hours range {position}: {error}") from None
        hours.append((start, end))
    return hours


def format_hours(h: Hours) -> list[dict[str, str]]:
    """The JSON form read by parse_hours; an end of midnight is shown as "24:00"."""
    return [
        {"start": f"{start:%H:%M}", "end": "24:00" if end == _MIDNIGHT else f"{end:%H:%M}"}
        for start, end in h
    ]
