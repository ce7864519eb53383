"""Specifications for slot computation: wall-clock hours in the provider's zone,
absolute arithmetic for steps, buffers and overlaps."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from widget.domain.availability import (
    Hours,
    Interval,
    format_hours,
    free_slots,
    parse_hours,
    working_intervals,
)

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
TOKYO = ZoneInfo("Asia/Tokyo")

NINE_TO_FIVE: Hours = [(time(9), time(17))]
EVERY_DAY_NINE_TO_FIVE = {weekday: NINE_TO_FIVE for weekday in range(7)}
WEEKDAYS_NINE_TO_FIVE = {weekday: NINE_TO_FIVE for weekday in range(5)}

MINUTES = timedelta(minutes=1)
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


def at(zone: ZoneInfo, day: date, hour: int, minute: int = 0, fold: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, fold=fold), tzinfo=zone)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local_starts(slots: list[Interval], zone: ZoneInfo) -> list[str]:
    return [f"{slot.start.astimezone(zone):%m-%d %H:%M%z}" for slot in slots]


def slots_for(
    weekly: dict[int, Hours],
    zone: ZoneInfo,
    first_day: date,
    last_day: date,
    *,
    exceptions: dict[date, Hours] | None = None,
    busy: list[Interval] | None = None,
    duration: timedelta = 60 * MINUTES,
    step: timedelta | None = None,
    buffer_before: timedelta = 0 * MINUTES,
    buffer_after: timedelta = 0 * MINUTES,
    earliest: datetime = LONG_AGO,
    latest_local_date: date | None = None,
    max_per_day: int | None = None,
    booked_per_day: dict[date, int] | None = None,
    window: Interval | None = None,
) -> list[Interval]:
    return free_slots(
        working=working_intervals(weekly, exceptions or {}, zone, first_day, last_day),
        busy=busy or [],
        duration=duration,
        buffer_before=buffer_before,
        buffer_after=buffer_after,
        step=step or duration,
        earliest=earliest,
        latest_local_date=latest_local_date or last_day,
        zone=zone,
        max_per_day=max_per_day,
        booked_per_day=booked_per_day,
        window=window,
    )


# Daylight saving -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "change_day"),
    [
        pytest.param(NEW_YORK, date(2024, 3, 10), id="new-york-spring"),
        pytest.param(NEW_YORK, date(2024, 11, 3), id="new-york-autumn"),
        pytest.param(BERLIN, date(2024, 3, 31), id="berlin-spring"),
        pytest.param(BERLIN, date(2024, 10, 27), id="berlin-autumn"),
    ],
)
def test_a_nine_oclock_slot_stays_nine_local_across_a_clock_change(
    zone: ZoneInfo, change_day: date
) -> None:
    days = [change_day - timedelta(days=1), change_day, change_day + timedelta(days=1)]
    slots = slots_for(EVERY_DAY_NINE_TO_FIVE, zone, days[0], days[-1])

    for day in days:
        todays = [s for s in slots if s.start.astimezone(zone).date() == day]
        assert [s.start.astimezone(zone).time() for s in todays] == [
            time(hour) for hour in range(9, 17)
        ]
    offset_before = slots[0].start.astimezone(zone).utcoffset()
    offset_after = slots[-1].start.astimezone(zone).utcoffset()
    assert offset_before != offset_after


def test_a_nine_oclock_slot_stays_nine_local_across_spring_forward() -> None:
    slots = slots_for(EVERY_DAY_NINE_TO_FIVE, NEW_YORK, date(2024, 3, 9), date(2024, 3, 11))

    first_of_each_day = [slots[0], slots[8], slots[16]]
    assert [s.start for s in first_of_each_day] == [
        utc(2024, 3, 9, 14),
        utc(2024, 3, 10, 13),
        utc(2024, 3, 11, 13),
    ]


def test_a_nine_oclock_slot_stays_nine_local_across_fall_back_in_berlin() -> None:
    slots = slots_for(EVERY_DAY_NINE_TO_FIVE, BERLIN, date(2024, 10, 26), date(2024, 10, 28))

    assert [s.start for s in (slots[0], slots[8], slots[16])] == [
        utc(2024, 10, 26, 7),
        utc(2024, 10, 27, 8),
        utc(2024, 10, 28, 8),
    ]


def test_hours_spanning_the_missing_hour_lose_it() -> None:
    spring = date(2024, 3, 10)
    working = working_intervals({6: [(time(1), time(4))]}, {}, NEW_YORK, spring, spring)

    assert working == [Interval(utc(2024, 3, 10, 6), utc(2024, 3, 10, 8))]
    slots = slots_for({6: [(time(1), time(4))]}, NEW_YORK, spring, spring)
    assert local_starts(slots, NEW_YORK) == ["03-10 01:00-0500", "03-10 03:00-0400"]


@pytest.mark.parametrize(
    ("zone", "spring", "expected_start"),
    [
        pytest.param(NEW_YORK, date(2024, 3, 10), utc(2024, 3, 10, 7, 30), id="new-york"),
        pytest.param(BERLIN, date(2024, 3, 31), utc(2024, 3, 31, 1, 30), id="berlin"),
    ],
)
def test_a_start_inside_the_missing_hour_moves_forward_as_fold_zero_reads_it(
    zone: ZoneInfo, spring: date, expected_start: datetime
) -> None:
    working = working_intervals({6: [(time(2, 30), time(6))]}, {}, zone, spring, spring)

    assert working[0].start == expected_start
    assert f"{working[0].start.astimezone(zone):%H:%M}" == "03:30"


def test_a_range_wholly_inside_the_missing_hour_gives_no_working_time() -> None:
    spring = date(2024, 3, 10)

    assert working_intervals({6: [(time(2, 30), time(3))]}, {}, NEW_YORK, spring, spring) == []


@pytest.mark.parametrize(
    ("zone", "autumn", "repeated", "expected"),
    [
        pytest.param(
            NEW_YORK,
            date(2024, 11, 3),
            (time(1), time(2)),
            Interval(utc(2024, 11, 3, 5), utc(2024, 11, 3, 7)),
            id="new-york",
        ),
        pytest.param(
            BERLIN,
            date(2024, 10, 27),
            (time(2), time(3)),
            Interval(utc(2024, 10, 27, 0), utc(2024, 10, 27, 2)),
            id="berlin",
        ),
    ],
)
def test_the_repeated_hour_is_worked_twice(
    zone: ZoneInfo, autumn: date, repeated: tuple[time, time], expected: Interval
) -> None:
    working = working_intervals({6: [repeated]}, {}, zone, autumn, autumn)

    assert working == [expected]
    slots = free_slots(
        working=working,
        busy=[],
        duration=30 * MINUTES,
        buffer_before=0 * MINUTES,
        buffer_after=0 * MINUTES,
        step=30 * MINUTES,
        earliest=LONG_AGO,
        latest_local_date=autumn,
        zone=zone,
    )
    assert len(slots) == 4
    wall_times = [f"{s.start.astimezone(zone):%H:%M}" for s in slots]
    assert wall_times == [f"{repeated[0]:%H}:00", f"{repeated[0]:%H}:30"] * 2


def test_a_range_ending_inside_the_repeated_hour_runs_to_its_second_reading() -> None:
    autumn = date(2024, 11, 3)
    working = working_intervals({6: [(time(0), time(1, 30))]}, {}, NEW_YORK, autumn, autumn)

    assert working == [Interval(utc(2024, 11, 3, 4), utc(2024, 11, 3, 6, 30))]


def test_a_range_starting_inside_the_repeated_hour_starts_at_its_first_reading() -> None:
    autumn = date(2024, 11, 3)
    working = working_intervals({6: [(time(1, 30), time(3))]}, {}, NEW_YORK, autumn, autumn)

    assert working == [Interval(utc(2024, 11, 3, 5, 30), utc(2024, 11, 3, 8))]


def test_ranges_that_meet_only_after_the_repeated_hour_is_read_twice_are_merged() -> None:
    autumn = date(2024, 11, 3)
    hours: Hours = [(time(1), time(1, 20)), (time(1, 40), time(2))]

    working = working_intervals({6: hours}, {}, NEW_YORK, autumn, autumn)

    assert working == [Interval(utc(2024, 11, 3, 5), utc(2024, 11, 3, 7))]


def test_a_whole_day_lasts_as_long_as_the_clock_says() -> None:
    whole_day = {weekday: [(time(0), time(0))] for weekday in range(7)}

    def length(day: date) -> timedelta:
        [interval] = working_intervals(whole_day, {}, NEW_YORK, day, day)
        return interval.end - interval.start

    assert length(date(2024, 3, 10)) == timedelta(hours=23)
    assert length(date(2024, 11, 3)) == timedelta(hours=25)
    assert length(date(2024, 6, 1)) == timedelta(hours=24)


# Hours ---------------------------------------------------------------------------


def test_an_end_of_midnight_means_the_end_of_the_day() -> None:
    day = date(2024, 6, 3)
    working = working_intervals({0: [(time(22), time(0))]}, {}, BERLIN, day, day)

    assert working == [Interval(at(BERLIN, day, 22), at(BERLIN, date(2024, 6, 4), 0))]


def test_overlapping_and_touching_ranges_of_a_day_are_merged() -> None:
    day = date(2024, 6, 3)
    hours: Hours = [(time(11), time(14)), (time(9), time(12)), (time(14), time(15))]

    working = working_intervals({0: hours}, {}, NEW_YORK, day, day)

    assert working == [Interval(at(NEW_YORK, day, 9), at(NEW_YORK, day, 15))]


def test_working_intervals_come_back_sorted_in_utc() -> None:
    working = working_intervals(
        WEEKDAYS_NINE_TO_FIVE, {}, TOKYO, date(2024, 6, 3), date(2024, 6, 9)
    )

    assert len(working) == 5
    assert working == sorted(working)
    assert all(i.start.tzinfo is UTC and i.end.tzinfo is UTC for i in working)


def test_ranges_of_neighbouring_days_are_never_joined() -> None:
    late_and_early = {0: [(time(22), time(0))], 1: [(time(0), time(2))]}

    working = working_intervals(late_and_early, {}, BERLIN, date(2024, 6, 3), date(2024, 6, 4))

    assert len(working) == 2
    assert working[0].end == working[1].start


@pytest.mark.parametrize(
    "hours",
    [
        pytest.param([(time(17), time(9))], id="ends-before-start"),
        pytest.param([(time(9), time(9))], id="empty"),
        pytest.param([(time(9), time(12)), (time(14), time(13))], id="second-range"),
    ],
)
def test_a_range_that_ends_before_it_starts_is_refused(hours: Hours) -> None:
    with pytest.raises(ValueError, match="end before they start"):
        working_intervals({0: hours}, {}, NEW_YORK, date(2024, 6, 3), date(2024, 6, 3))


def test_an_invalid_exception_is_refused_even_outside_the_asked_days() -> None:
    with pytest.raises(ValueError, match="end before they start"):
        working_intervals(
            {},
            {date(2030, 1, 1): [(time(12), time(8))]},
            NEW_YORK,
            date(2024, 6, 3),
            date(2024, 6, 3),
        )


def test_a_weekday_outside_monday_to_sunday_is_refused() -> None:
    with pytest.raises(ValueError, match="weekday"):
        working_intervals({7: NINE_TO_FIVE}, {}, NEW_YORK, date(2024, 6, 3), date(2024, 6, 3))


def test_an_exception_with_no_hours_closes_the_day() -> None:
    closed = date(2024, 6, 4)

    slots = slots_for(
        WEEKDAYS_NINE_TO_FIVE, NEW_YORK, date(2024, 6, 3), date(2024, 6, 5), exceptions={closed: []}
    )

    days = {s.start.astimezone(NEW_YORK).date() for s in slots}
    assert days == {date(2024, 6, 3), date(2024, 6, 5)}


def test_an_exception_with_hours_replaces_the_weekly_hours() -> None:
    special = date(2024, 6, 4)
    saturday = date(2024, 6, 8)

    slots = slots_for(
        WEEKDAYS_NINE_TO_FIVE,
        NEW_YORK,
        special,
        saturday,
        exceptions={special: [(time(13), time(15))], saturday: [(time(10), time(12))]},
    )

    assert [f for f in local_starts(slots, NEW_YORK) if f.startswith(("06-04", "06-08"))] == [
        "06-04 13:00-0400",
        "06-04 14:00-0400",
        "06-08 10:00-0400",
        "06-08 11:00-0400",
    ]


# Free slots ----------------------------------------------------------------------


MONDAY = date(2024, 6, 3)


def busy_local(start_hour: int, end_hour: int, day: date = MONDAY) -> Interval:
    return Interval(at(NEW_YORK, day, start_hour), at(NEW_YORK, day, end_hour))


def monday_starts(**kwargs: object) -> list[str]:
    slots = slots_for(WEEKDAYS_NINE_TO_FIVE, NEW_YORK, MONDAY, MONDAY, **kwargs)  # type: ignore[arg-type]
    return [f"{s.start.astimezone(NEW_YORK):%H:%M}" for s in slots]


def test_slot_starts_step_from_the_start_of_the_working_interval() -> None:
    slots = slots_for(
        {0: [(time(9, 10), time(11))]},
        NEW_YORK,
        MONDAY,
        MONDAY,
        duration=30 * MINUTES,
        step=20 * MINUTES,
    )

    assert [f"{s.start.astimezone(NEW_YORK):%H:%M}" for s in slots] == [
        "09:10",
        "09:30",
        "09:50",
        "10:10",
        "10:30",
    ]


def test_a_slot_must_fit_inside_working_hours() -> None:
    slots = slots_for(
        {0: [(time(9), time(10))]},
        NEW_YORK,
        MONDAY,
        MONDAY,
        duration=45 * MINUTES,
        step=30 * MINUTES,
    )

    assert len(slots) == 1
    assert slots[0].end == at(NEW_YORK, MONDAY, 9, 45)


def test_a_slot_may_touch_a_busy_block() -> None:
    assert monday_starts(busy=[busy_local(11, 12)]) == [
        "09:00",
        "10:00",
        "12:00",
        "13:00",
        "14:00",
        "15:00",
        "16:00",
    ]


def test_the_buffer_after_keeps_a_slot_clear_of_the_next_booking() -> None:
    starts = monday_starts(busy=[busy_local(11, 12)], buffer_after=15 * MINUTES)

    assert "10:00" not in starts
    assert "12:00" in starts


def test_the_buffer_before_keeps_a_slot_clear_of_the_previous_booking() -> None:
    starts = monday_starts(busy=[busy_local(11, 12)], buffer_before=15 * MINUTES)

    assert "10:00" in starts
    assert "12:00" not in starts


def test_buffers_on_both_sides_skip_to_the_first_clear_step() -> None:
    starts = monday_starts(
        busy=[busy_local(11, 12)],
        step=30 * MINUTES,
        buffer_before=15 * MINUTES,
        buffer_after=15 * MINUTES,
    )

    assert starts == [
        "09:00",
        "09:30",
        "12:30",
        "13:00",
        "13:30",
        "14:00",
        "14:30",
        "15:00",
        "15:30",
        "16:00",
    ]


def test_overlapping_busy_blocks_are_all_respected() -> None:
    busy = [busy_local(10, 12), busy_local(11, 13), busy_local(15, 16)]

    assert monday_starts(busy=busy) == ["09:00", "13:00", "14:00", "16:00"]


def test_a_booking_ending_inside_the_buffer_before_the_earliest_slot_blocks_it() -> None:
    busy = [Interval(at(NEW_YORK, MONDAY, 9), at(NEW_YORK, MONDAY, 9, 50))]

    starts = monday_starts(
        busy=busy,
        earliest=at(NEW_YORK, MONDAY, 10),
        buffer_before=15 * MINUTES,
        buffer_after=15 * MINUTES,
    )

    assert starts[0] == "11:00"


def test_a_booking_just_after_the_window_still_blocks_a_slot_near_its_end() -> None:
    window = Interval(at(NEW_YORK, MONDAY, 9), at(NEW_YORK, MONDAY, 10, 10))
    busy = [Interval(at(NEW_YORK, MONDAY, 11, 10), at(NEW_YORK, MONDAY, 12))]

    starts = monday_starts(busy=busy, window=window, buffer_after=15 * MINUTES)

    assert starts == ["09:00"]


def test_minimum_notice_is_honoured_through_earliest() -> None:
    starts = monday_starts(earliest=at(NEW_YORK, MONDAY, 10, 10), step=30 * MINUTES)

    assert starts[0] == "10:30"


def test_earliest_may_be_given_in_any_zone() -> None:
    starts = monday_starts(earliest=at(TOKYO, date(2024, 6, 4), 0))  # 11:00 in New York

    assert starts[0] == "11:00"


def test_the_horizon_counts_provider_local_dates() -> None:
    late = {weekday: [(time(21), time(0))] for weekday in range(7)}

    slots = slots_for(late, NEW_YORK, MONDAY, date(2024, 6, 5), latest_local_date=MONDAY)

    assert local_starts(slots, NEW_YORK) == [
        "06-03 21:00-0400",
        "06-03 22:00-0400",
        "06-03 23:00-0400",
    ]
    assert slots[-1].start == utc(2024, 6, 4, 3)


def test_a_horizon_before_the_first_day_leaves_no_slots() -> None:
    assert monday_starts(latest_local_date=MONDAY - timedelta(days=1)) == []


def test_a_day_at_its_booking_limit_shows_no_slots() -> None:
    tuesday = date(2024, 6, 4)

    slots = slots_for(
        WEEKDAYS_NINE_TO_FIVE,
        NEW_YORK,
        MONDAY,
        tuesday,
        max_per_day=3,
        booked_per_day={MONDAY: 3, tuesday: 2},
    )

    assert {s.start.astimezone(NEW_YORK).date() for s in slots} == {tuesday}
    assert len(slots) == 8


def test_a_booking_limit_of_zero_closes_every_day() -> None:
    assert monday_starts(max_per_day=0) == []


def test_booked_counts_without_a_limit_change_nothing() -> None:
    assert len(monday_starts(booked_per_day={MONDAY: 99})) == 8


def test_a_window_of_one_tokyo_day_picks_slots_from_two_new_york_days() -> None:
    tokyo_day = date(2024, 3, 12)
    window = Interval(at(TOKYO, tokyo_day, 0), at(TOKYO, tokyo_day + timedelta(days=1), 0))

    slots = slots_for(
        WEEKDAYS_NINE_TO_FIVE, NEW_YORK, date(2024, 3, 8), date(2024, 3, 15), window=window
    )

    assert local_starts(slots, NEW_YORK) == [
        "03-11 11:00-0400",
        "03-11 12:00-0400",
        "03-11 13:00-0400",
        "03-11 14:00-0400",
        "03-11 15:00-0400",
        "03-11 16:00-0400",
        "03-12 09:00-0400",
        "03-12 10:00-0400",
    ]
    assert {s.start.astimezone(TOKYO).date() for s in slots} == {tokyo_day}


def test_a_slot_starting_at_the_window_end_is_outside_it() -> None:
    window = Interval(at(NEW_YORK, MONDAY, 10), at(NEW_YORK, MONDAY, 12))

    assert monday_starts(window=window) == ["10:00", "11:00"]


def test_slots_come_back_sorted_in_utc_without_duplicates() -> None:
    working = [busy_local(9, 12), busy_local(10, 11), busy_local(9, 12)]

    slots = free_slots(
        working=working,
        busy=[],
        duration=60 * MINUTES,
        buffer_before=0 * MINUTES,
        buffer_after=0 * MINUTES,
        step=60 * MINUTES,
        earliest=LONG_AGO,
        latest_local_date=MONDAY,
        zone=NEW_YORK,
    )

    assert [s.start for s in slots] == [
        utc(2024, 6, 3, 13),
        utc(2024, 6, 3, 14),
        utc(2024, 6, 3, 15),
    ]
    assert all(s.start.tzinfo is UTC for s in slots)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"duration": 0 * MINUTES}, "positive"),
        ({"step": -5 * MINUTES}, "positive"),
        ({"buffer_before": -5 * MINUTES}, "negative"),
        ({"earliest": datetime(2024, 6, 3, 9)}, "aware"),
    ],
)
def test_nonsense_slot_settings_are_refused(change: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {
        "working": [],
        "busy": [],
        "duration": 60 * MINUTES,
        "buffer_before": 0 * MINUTES,
        "buffer_after": 0 * MINUTES,
        "step": 60 * MINUTES,
        "earliest": LONG_AGO,
        "latest_local_date": MONDAY,
        "zone": NEW_YORK,
    }
    with pytest.raises(ValueError, match=message):
        free_slots(**(arguments | change))  # type: ignore[arg-type]


# Interval ------------------------------------------------------------------------


def test_intervals_are_half_open() -> None:
    morning = Interval(utc(2024, 6, 3, 9), utc(2024, 6, 3, 10))

    assert not morning.overlaps(Interval(utc(2024, 6, 3, 10), utc(2024, 6, 3, 11)))
    assert morning.overlaps(Interval(utc(2024, 6, 3, 9, 59), utc(2024, 6, 3, 11)))
    assert morning.overlaps(Interval(utc(2024, 6, 3, 9, 15), utc(2024, 6, 3, 9, 30)))


def test_an_interval_must_be_aware_and_end_after_it_starts() -> None:
    with pytest.raises(ValueError, match="aware"):
        Interval(datetime(2024, 6, 3, 9), datetime(2024, 6, 3, 10))
    with pytest.raises(ValueError, match="end after"):
        Interval(utc(2024, 6, 3, 10), utc(2024, 6, 3, 10))


# Parsing hours -------------------------------------------------------------------


def test_hours_are_parsed_from_their_json_form() -> None:
    parsed = parse_hours([{"start": "09:00", "end": "12:30"}, {"start": "13:15", "end": "24:00"}])

    assert parsed == [(time(9), time(12, 30)), (time(13, 15), time(0))]


def test_an_end_of_midnight_is_formatted_as_twenty_four_hundred() -> None:
    assert format_hours([(time(0), time(0)), (time(8, 5), time(9))]) == [
        {"start": "00:00", "end": "24:00"},
        {"start": "08:05", "end": "09:00"},
    ]


def test_an_end_written_as_midnight_means_the_end_of_the_day() -> None:
    assert parse_hours([{"start": "22:00", "end": "00:00"}]) == [(time(22), time(0))]


@pytest.mark.parametrize(
    ("ranges", "message"),
    [
        ({"start": "09:00", "end": "17:00"}, "must be a list"),
        (["09:00-17:00"], "range 1 must have"),
        ([{"start": "09:00"}], "range 1 must have"),
        ([{"start": "09:00", "end": "17:00", "note": "x"}], "range 1 must have"),
        ([{"start": "9am", "end": "17:00"}], "range 1: start '9am'"),
        ([{"start": 9, "end": "17:00"}], "range 1: start must be"),
        ([{"start": "09:00", "end": "17:60"}], "not a valid time"),
        ([{"start": "24:00", "end": "24:00"}], "start '24:00' is not a valid time"),
        ([{"start": "09:00", "end": "25:00"}], "not a valid time"),
        (
            [{"start": "09:00", "end": "12:00"}, {"start": "17:00", "end": "09:00"}],
            "range 2: opening hours 17:00-09:00 end before they start",
        ),
    ],
)
def test_malformed_hours_are_refused_with_a_message_for_the_provider(
    ranges: object, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        parse_hours(ranges)  # type: ignore[arg-type]


quarter_hours = st.integers(min_value=0, max_value=95)


@st.composite
def day_hours(draw: st.DrawFn) -> Hours:
    """Up to three ranges on quarter hours; 96 quarters is 24:00."""
    hours: Hours = []
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        first = draw(quarter_hours)
        last = draw(st.integers(min_value=first + 1, max_value=96))
        hours.append((_quarter(first), _quarter(last)))
    return hours


def _quarter(index: int) -> time:
    return time((index // 4) % 24, (index % 4) * 15)


@settings(database=None)
@given(day_hours())
def test_formatted_hours_parse_back_unchanged(hours: Hours) -> None:
    assert parse_hours(format_hours(hours)) == hours


# Properties ----------------------------------------------------------------------

ZONES = [
    "America/New_York",
    "Europe/Berlin",
    "America/Santiago",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "UTC",
]
CLOCK_CHANGES = [
    date(2024, 3, 10),
    date(2024, 11, 3),
    date(2024, 3, 31),
    date(2024, 10, 27),
    date(2024, 4, 7),
    date(2024, 9, 8),
    date(2024, 10, 6),
    date(2024, 9, 29),
]

first_days = st.one_of(
    st.builds(
        lambda change, back: change - timedelta(days=back),
        st.sampled_from(CLOCK_CHANGES),
        st.integers(min_value=0, max_value=3),
    ),
    st.dates(min_value=date(2024, 1, 1), max_value=date(2024, 12, 31)),
)
five_minutes = st.integers(min_value=0, max_value=6).map(lambda n: n * 5 * MINUTES)


def reference_free_slots(
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
    max_per_day: int | None,
    booked_per_day: dict[date, int],
    window: Interval | None,
) -> list[datetime]:
    """Every candidate start tried against every rule, the slow and obvious way."""
    starts: set[datetime] = set()
    for interval in working:
        start = interval.start
        while start + duration <= interval.end:
            block = Interval(start - buffer_before, start + duration + buffer_after)
            local_day = start.astimezone(zone).date()
            if (
                start >= earliest
                and not any(block.overlaps(b) for b in busy)
                and local_day <= latest_local_date
                and (max_per_day is None or booked_per_day.get(local_day, 0) < max_per_day)
                and (window is None or window.start <= start < window.end)
            ):
                starts.add(start)
            start += step
    return sorted(starts)


@settings(database=None, max_examples=300, deadline=None)
@given(
    zone_name=st.sampled_from(ZONES),
    weekly=st.fixed_dictionaries({weekday: day_hours() for weekday in range(7)}),
    first_day=first_days,
    days=st.integers(min_value=1, max_value=6),
    busy_spans=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=8 * 96), st.integers(min_value=1, max_value=48)
        ),
        max_size=12,
    ),
    duration=st.integers(min_value=1, max_value=24).map(lambda n: n * 5 * MINUTES),
    step=st.integers(min_value=1, max_value=12).map(lambda n: n * 5 * MINUTES),
    buffer_before=five_minutes,
    buffer_after=five_minutes,
    earliest_quarters=st.integers(min_value=0, max_value=8 * 96),
    horizon_days=st.integers(min_value=-1, max_value=7),
    max_per_day=st.none() | st.integers(min_value=0, max_value=3),
    booked=st.lists(st.integers(min_value=0, max_value=4), min_size=8, max_size=8),
    window_quarters=st.none()
    | st.tuples(
        st.integers(min_value=0, max_value=8 * 96), st.integers(min_value=1, max_value=3 * 96)
    ),
)
def test_free_slots_are_exactly_the_candidates_that_keep_every_rule(
    zone_name: str,
    weekly: dict[int, Hours],
    first_day: date,
    days: int,
    busy_spans: list[tuple[int, int]],
    duration: timedelta,
    step: timedelta,
    buffer_before: timedelta,
    buffer_after: timedelta,
    earliest_quarters: int,
    horizon_days: int,
    max_per_day: int | None,
    booked: list[int],
    window_quarters: tuple[int, int] | None,
) -> None:
    zone = ZoneInfo(zone_name)
    last_day = first_day + timedelta(days=days - 1)
    working = working_intervals(weekly, {}, zone, first_day, last_day)
    origin = datetime.combine(first_day, time(0), tzinfo=zone).astimezone(UTC) - timedelta(days=1)
    quarter = 15 * MINUTES
    busy = [Interval(origin + q * quarter, origin + (q + n) * quarter) for q, n in busy_spans]
    window = (
        None
        if window_quarters is None
        else Interval(
            origin + window_quarters[0] * quarter, origin + sum(window_quarters) * quarter
        )
    )
    booked_per_day = {
        first_day + timedelta(days=offset - 1): count for offset, count in enumerate(booked)
    }
    rules = dict(
        working=working,
        busy=busy,
        duration=duration,
        buffer_before=buffer_before,
        buffer_after=buffer_after,
        step=step,
        earliest=origin + earliest_quarters * quarter,
        latest_local_date=first_day + timedelta(days=horizon_days),
        zone=zone,
        max_per_day=max_per_day,
        booked_per_day=booked_per_day,
        window=window,
    )

    slots = free_slots(**rules)  # type: ignore[arg-type]

    for slot in slots:
        assert slot.end - slot.start == duration
        assert any(w.start <= slot.start and slot.end <= w.end for w in working)
        block = Interval(slot.start - buffer_before, slot.end + buffer_after)
        assert not any(block.overlaps(b) for b in busy)
    assert [s.start for s in slots] == reference_free_slots(**rules)  # type: ignore[arg-type]


@settings(database=None, max_examples=200, deadline=None)
@given(
    zone_name=st.sampled_from(ZONES),
    weekly=st.fixed_dictionaries({weekday: day_hours() for weekday in range(7)}),
    first_day=first_days,
    days=st.integers(min_value=1, max_value=6),
)
def test_working_intervals_follow_the_wall_clock_on_days_without_a_clock_change(
    zone_name: str, weekly: dict[int, Hours], first_day: date, days: int
) -> None:
    zone = ZoneInfo(zone_name)
    last_day = first_day + timedelta(days=days - 1)

    working = working_intervals(weekly, {}, zone, first_day, last_day)

    assert all(a.end <= b.start for a, b in zip(working, working[1:], strict=False))
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        midnight = datetime.combine(day, time(0), tzinfo=zone)
        next_midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
        if midnight.utcoffset() != next_midnight.utcoffset():
            continue
        expected: set[int] = set()
        for start, end in weekly[day.weekday()]:
            last = 24 * 4 if end == time(0) else end.hour * 4 + end.minute // 15
            expected.update(range(start.hour * 4 + start.minute // 15, last))
        covered: set[int] = set()
        for interval in working:
            moment = interval.start
            while moment < interval.end:
                wall = moment.astimezone(zone)
                if wall.date() == day:
                    covered.add(wall.hour * 4 + wall.minute // 15)
                moment += 15 * MINUTES
        assert covered == expected
