"""GET /api/v1/slots: free starts from weekly hours, exceptions, bookings and the type's rules.

Every expected slot is written out by hand (local wall-clock time plus the offset the
zone has on that date), never computed by the code under test. The default clock is
2026-11-24T14:00Z, a Tuesday: 09:00 in New York (EST, -05:00).
"""

from datetime import UTC, date, datetime, timedelta

import pytest

from tests import sql

from .helpers import created, expect_error, invalid_fields, new_type, ok, slots, starts

SLOTS = "/api/v1/slots"
HOURS = "/api/v1/availability"
NINE_TO_FIVE = [{"start": "09:00", "end": "17:00"}]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
ALL_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
NINE_TO_FIVE_HOURLY = [f"{h:02d}:00" for h in range(9, 17)]  # 60-minute slots: 09:00 .. 16:00


def put_hours(api, days=WEEKDAYS, hours=NINE_TO_FIVE, exceptions=()):
    ok(api.put(HOURS, json={"weekly": {d: hours for d in days}, "exceptions": list(exceptions)}))


def book(api, client_id, type_id, start):
    body = {"client_id": client_id, "appointment_type_id": type_id, "start": start}
    return created(api.post("/api/v1/bookings", json=body))


@pytest.fixture
def hour_type(make_type):
    """A 60-minute type that needs no credit, so bookings in these tests need no package."""
    return make_type(name="Session", duration_minutes=60, requires_credit=False)


@pytest.fixture
def someone(make_client):
    return make_client()


# --- weekly hours ------------------------------------------------------------------


def test_fifty_minute_slots_step_from_nine_and_end_by_five(api, weekday_hours, make_type):
    follow_up = make_type()  # 50 minutes, step = duration
    assert slots(api, follow_up["id"], "2026-11-30", "2026-11-30") == [
        {"start": "2026-11-30T09:00:00-05:00", "end": "2026-11-30T09:50:00-05:00"},
        {"start": "2026-11-30T09:50:00-05:00", "end": "2026-11-30T10:40:00-05:00"},
        {"start": "2026-11-30T10:40:00-05:00", "end": "2026-11-30T11:30:00-05:00"},
        {"start": "2026-11-30T11:30:00-05:00", "end": "2026-11-30T12:20:00-05:00"},
        {"start": "2026-11-30T12:20:00-05:00", "end": "2026-11-30T13:10:00-05:00"},
        {"start": "2026-11-30T13:10:00-05:00", "end": "2026-11-30T14:00:00-05:00"},
        {"start": "2026-11-30T14:00:00-05:00", "end": "2026-11-30T14:50:00-05:00"},
        {"start": "2026-11-30T14:50:00-05:00", "end": "2026-11-30T15:40:00-05:00"},
        {"start": "2026-11-30T15:40:00-05:00", "end": "2026-11-30T16:30:00-05:00"},
    ]


def test_monday_to_friday_hours_give_slots_on_weekdays_only_with_end_date_inclusive(
    api, weekday_hours, hour_type
):
    weekdays = ["2026-11-30", "2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04"]
    expected = [f"{day}T{hh}:00-05:00" for day in weekdays for hh in NINE_TO_FIVE_HOURLY]
    assert starts(api, hour_type["id"], "2026-11-30", "2026-12-06") == expected
    assert starts(api, hour_type["id"], "2026-12-05", "2026-12-06") == []
    assert starts(api, hour_type["id"], "2026-12-04", "2026-12-04") == expected[-8:]


def test_a_slot_step_shorter_than_the_duration_gives_overlapping_starts(
    api, weekday_hours, make_type
):
    walk = make_type(duration_minutes=60, slot_step_minutes=30, requires_credit=False)
    expected = [f"2026-11-30T{h:02d}:{m:02d}:00-05:00" for h in range(9, 17) for m in (0, 30)][
        :-1
    ]  # 16:30 would end at 17:30
    assert starts(api, walk["id"], "2026-11-30", "2026-11-30") == expected


# --- daylight-saving changes ----------------------------------------------------------


def test_new_york_opens_at_nine_local_on_both_sides_of_the_november_fall_back(
    api, clock, hour_type
):
    clock.now = datetime(2026, 10, 28, 12, 0, tzinfo=UTC)
    put_hours(api, days=ALL_DAYS, hours=[{"start": "09:00", "end": "10:00"}])
    assert slots(api, hour_type["id"], "2026-10-30", "2026-11-02") == [
        {"start": "2026-10-30T09:00:00-04:00", "end": "2026-10-30T10:00:00-04:00"},
        {"start": "2026-10-31T09:00:00-04:00", "end": "2026-10-31T10:00:00-04:00"},
        {"start": "2026-11-01T09:00:00-05:00", "end": "2026-11-01T10:00:00-05:00"},
        {"start": "2026-11-02T09:00:00-05:00", "end": "2026-11-02T10:00:00-05:00"},
    ]


def test_new_york_opens_at_nine_local_on_both_sides_of_the_march_spring_forward(
    api, clock, hour_type
):
    clock.now = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)
    put_hours(api, days=ALL_DAYS, hours=[{"start": "09:00", "end": "10:00"}])
    assert slots(api, hour_type["id"], "2027-03-12", "2027-03-15") == [
        {"start": "2027-03-12T09:00:00-05:00", "end": "2027-03-12T10:00:00-05:00"},
        {"start": "2027-03-13T09:00:00-05:00", "end": "2027-03-13T10:00:00-05:00"},
        {"start": "2027-03-14T09:00:00-04:00", "end": "2027-03-14T10:00:00-04:00"},
        {"start": "2027-03-15T09:00:00-04:00", "end": "2027-03-15T10:00:00-04:00"},
    ]


@pytest.fixture
def berlin(create_provider):
    account = create_provider(timezone="Europe/Berlin")
    put_hours(account.api, days=ALL_DAYS, hours=[{"start": "09:00", "end": "10:00"}])
    return account


def test_berlin_opens_at_nine_local_on_both_sides_of_the_october_fall_back(berlin, clock):
    clock.now = datetime(2026, 10, 20, 12, 0, tzinfo=UTC)
    session = new_type(berlin.api, duration_minutes=60, requires_credit=False)
    assert slots(berlin.api, session["id"], "2026-10-24", "2026-10-26") == [
        {"start": "2026-10-24T09:00:00+02:00", "end": "2026-10-24T10:00:00+02:00"},
        {"start": "2026-10-25T09:00:00+01:00", "end": "2026-10-25T10:00:00+01:00"},
        {"start": "2026-10-26T09:00:00+01:00", "end": "2026-10-26T10:00:00+01:00"},
    ]


def test_berlin_opens_at_nine_local_on_both_sides_of_the_march_spring_forward(berlin, clock):
    clock.now = datetime(2027, 3, 20, 12, 0, tzinfo=UTC)
    session = new_type(berlin.api, duration_minutes=60, requires_credit=False)
    assert slots(berlin.api, session["id"], "2027-03-27", "2027-03-29") == [
        {"start": "2027-03-27T09:00:00+01:00", "end": "2027-03-27T10:00:00+01:00"},
        {"start": "2027-03-28T09:00:00+02:00", "end": "2027-03-28T10:00:00+02:00"},
        {"start": "2027-03-29T09:00:00+02:00", "end": "2027-03-29T10:00:00+02:00"},
    ]


def test_hours_over_the_repeated_fall_back_hour_offer_one_oclock_twice(api, clock, hour_type):
    clock.now = datetime(2026, 10, 28, 12, 0, tzinfo=UTC)
    ok(
        api.put(
            HOURS,
            json={
                "exceptions": [
                    {"date": "2026-11-01", "hours": [{"start": "00:00", "end": "03:00"}]}
                ]
            },
        )
    )
    # 00:00 EDT .. 03:00 EST is four real hours: 01:00 happens once in EDT, once in EST.
    assert slots(api, hour_type["id"], "2026-11-01", "2026-11-01") == [
        {"start": "2026-11-01T00:00:00-04:00", "end": "2026-11-01T01:00:00-04:00"},
        {"start": "2026-11-01T01:00:00-04:00", "end": "2026-11-01T01:00:00-05:00"},
        {"start": "2026-11-01T01:00:00-05:00", "end": "2026-11-01T02:00:00-05:00"},
        {"start": "2026-11-01T02:00:00-05:00", "end": "2026-11-01T03:00:00-05:00"},
    ]


def test_hours_over_the_spring_forward_gap_skip_the_missing_hour(api, clock, hour_type):
    clock.now = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)
    ok(
        api.put(
            HOURS,
            json={
                "exceptions": [
                    {"date": "2027-03-14", "hours": [{"start": "01:00", "end": "04:00"}]}
                ]
            },
        )
    )
    # 01:00 EST .. 04:00 EDT is two real hours: 02:00-03:00 does not exist that night.
    assert slots(api, hour_type["id"], "2027-03-14", "2027-03-14") == [
        {"start": "2027-03-14T01:00:00-05:00", "end": "2027-03-14T03:00:00-04:00"},
        {"start": "2027-03-14T03:00:00-04:00", "end": "2027-03-14T04:00:00-04:00"},
    ]


# --- the viewer's time zone --------------------------------------------------------


def test_a_tokyo_viewer_gets_tokyo_offsets_and_asks_for_tokyo_days(api, weekday_hours, hour_type):
    # Tokyo's 2026-12-01 is 2026-11-30T15:00Z .. 2026-12-01T15:00Z. New York's Monday
    # 09:00-17:00 EST is 14:00Z-22:00Z (15:00Z onwards falls inside), and Tuesday's
    # first slot, 14:00Z, is 23:00 in Tokyo.
    assert slots(api, hour_type["id"], "2026-12-01", "2026-12-01", timezone="Asia/Tokyo") == [
        {"start": "2026-12-01T00:00:00+09:00", "end": "2026-12-01T01:00:00+09:00"},
        {"start": "2026-12-01T01:00:00+09:00", "end": "2026-12-01T02:00:00+09:00"},
        {"start": "2026-12-01T02:00:00+09:00", "end": "2026-12-01T03:00:00+09:00"},
        {"start": "2026-12-01T03:00:00+09:00", "end": "2026-12-01T04:00:00+09:00"},
        {"start": "2026-12-01T04:00:00+09:00", "end": "2026-12-01T05:00:00+09:00"},
        {"start": "2026-12-01T05:00:00+09:00", "end": "2026-12-01T06:00:00+09:00"},
        {"start": "2026-12-01T06:00:00+09:00", "end": "2026-12-01T07:00:00+09:00"},
        {"start": "2026-12-01T23:00:00+09:00", "end": "2026-12-02T00:00:00+09:00"},
    ]


def test_naming_the_providers_own_zone_changes_nothing(api, weekday_hours, hour_type):
    assert slots(
        api, hour_type["id"], "2026-11-30", "2026-12-01", timezone="America/New_York"
    ) == slots(api, hour_type["id"], "2026-11-30", "2026-12-01")


# --- bookings, buffers and the type's rules ----------------------------------------------


def test_a_booking_takes_its_slot_and_only_that_slot(api, weekday_hours, hour_type, someone):
    book(api, someone["id"], hour_type["id"], "2026-11-30T11:00:00-05:00")
    expected = [f"2026-11-30T{hh}:00-05:00" for hh in NINE_TO_FIVE_HOURLY if hh != "11:00"]
    assert starts(api, hour_type["id"], "2026-11-30", "2026-11-30") == expected


def test_a_booking_with_a_buffer_after_blocks_the_slot_that_follows(
    api, weekday_hours, make_type, someone
):
    padded = make_type(
        name="Padded", duration_minutes=60, buffer_after_minutes=30, requires_credit=False
    )
    half_hourly = make_type(
        name="Short", duration_minutes=60, slot_step_minutes=30, requires_credit=False
    )
    book(api, someone["id"], padded["id"], "2026-11-30T09:00:00-05:00")
    # The booking blocks 09:00-10:30: 10:00 would start inside the buffer, 10:30 is free.
    found = starts(api, half_hourly["id"], "2026-11-30", "2026-11-30")
    assert "2026-11-30T10:00:00-05:00" not in found
    assert found[0] == "2026-11-30T10:30:00-05:00"
    assert (
        found
        == [f"2026-11-30T{h:02d}:{m:02d}:00-05:00" for h in range(10, 17) for m in (0, 30)][1:-1]
    )


def test_the_asked_types_own_buffer_before_keeps_it_clear_of_a_booking(
    api, weekday_hours, make_type, hour_type, someone
):
    careful = make_type(
        name="Careful",
        duration_minutes=60,
        buffer_before_minutes=30,
        slot_step_minutes=30,
        requires_credit=False,
    )
    book(api, someone["id"], hour_type["id"], "2026-11-30T09:00:00-05:00")
    # 10:00 would need 09:30-11:00 free; the 09:00-10:00 booking is in the way.
    found = starts(api, careful["id"], "2026-11-30", "2026-11-30")
    assert found[0] == "2026-11-30T10:30:00-05:00"


def test_a_cancelled_booking_frees_its_slot_at_once(api, weekday_hours, hour_type, someone):
    made = book(api, someone["id"], hour_type["id"], "2026-11-30T10:00:00-05:00")
    assert "2026-11-30T10:00:00-05:00" not in starts(
        api, hour_type["id"], "2026-11-30", "2026-11-30"
    )
    ok(api.post(f"/api/v1/bookings/{made['id']}/cancel", json={}))
    assert starts(api, hour_type["id"], "2026-11-30", "2026-11-30") == [
        f"2026-11-30T{hh}:00-05:00" for hh in NINE_TO_FIVE_HOURLY
    ]


def test_another_providers_bookings_do_not_block_this_provider(
    api, weekday_hours, hour_type, create_provider
):
    other = create_provider()
    put_hours(other.api)
    other_type = new_type(other.api, duration_minutes=60, requires_credit=False)
    other_client = created(
        other.api.post("/api/v1/clients", json={"email": "x@example.com", "name": "X"})
    )
    book(other.api, other_client["id"], other_type["id"], "2026-11-30T09:00:00-05:00")
    assert starts(api, hour_type["id"], "2026-11-30", "2026-11-30")[0] == (
        "2026-11-30T09:00:00-05:00"
    )


def test_min_notice_hides_starts_too_close_to_now(api, weekday_hours, make_type):
    # now is Tuesday 2026-11-24 09:00 EST; three hours' notice opens at 12:00.
    soon = make_type(duration_minutes=60, min_notice_minutes=180, requires_credit=False)
    assert starts(api, soon["id"], "2026-11-24", "2026-11-24") == [
        f"2026-11-24T{h:02d}:00:00-05:00" for h in range(12, 17)
    ]


def test_without_notice_a_start_at_exactly_now_is_offered(api, weekday_hours, hour_type):
    assert starts(api, hour_type["id"], "2026-11-24", "2026-11-24")[0] == (
        "2026-11-24T09:00:00-05:00"
    )


def test_slots_keep_their_grid_when_now_falls_between_two_starts(
    api, clock, weekday_hours, hour_type
):
    clock.now = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)  # 09:30 EST
    assert starts(api, hour_type["id"], "2026-11-24", "2026-11-24") == [
        f"2026-11-24T{h:02d}:00:00-05:00" for h in range(10, 17)
    ]


def test_past_days_have_no_slots(api, weekday_hours, hour_type):
    assert starts(api, hour_type["id"], "2026-11-16", "2026-11-23") == []


def test_max_days_ahead_counts_local_dates_from_today(api, make_type):
    put_hours(api, hours=[{"start": "09:00", "end": "10:00"}])
    week = make_type(duration_minutes=60, max_days_ahead=7, requires_credit=False)
    # Today is Tuesday 2026-11-24: the last bookable date is Tuesday 2026-12-01.
    assert starts(api, week["id"], "2026-11-30", "2026-12-04") == [
        "2026-11-30T09:00:00-05:00",
        "2026-12-01T09:00:00-05:00",
    ]


def test_an_exception_closes_a_day(api, hour_type):
    put_hours(api, exceptions=[{"date": "2026-12-01", "closed": True}])
    found = starts(api, hour_type["id"], "2026-11-30", "2026-12-02")
    assert [s[:10] for s in found] == ["2026-11-30"] * 8 + ["2026-12-02"] * 8


def test_an_exception_replaces_a_days_hours(api, hour_type):
    put_hours(
        api,
        exceptions=[
            {
                "date": "2026-12-01",
                "hours": [{"start": "13:00", "end": "15:00"}, {"start": "16:00", "end": "17:00"}],
            }
        ],
    )
    assert starts(api, hour_type["id"], "2026-12-01", "2026-12-01") == [
        "2026-12-01T13:00:00-05:00",
        "2026-12-01T14:00:00-05:00",
        "2026-12-01T16:00:00-05:00",
    ]
    assert len(starts(api, hour_type["id"], "2026-12-02", "2026-12-02")) == 8


def test_an_exception_opens_a_day_without_weekly_hours(api, hour_type):
    put_hours(
        api, exceptions=[{"date": "2026-12-05", "hours": [{"start": "10:00", "end": "12:00"}]}]
    )
    assert starts(api, hour_type["id"], "2026-12-05", "2026-12-06") == [
        "2026-12-05T10:00:00-05:00",
        "2026-12-05T11:00:00-05:00",
    ]


def test_a_day_at_max_per_day_shows_no_slots(api, weekday_hours, make_type, someone):
    capped = make_type(duration_minutes=60, max_per_day=2, requires_credit=False)
    book(api, someone["id"], capped["id"], "2026-11-30T09:00:00-05:00")
    assert len(starts(api, capped["id"], "2026-11-30", "2026-11-30")) == 7
    book(api, someone["id"], capped["id"], "2026-11-30T13:00:00-05:00")
    assert starts(api, capped["id"], "2026-11-30", "2026-11-30") == []
    assert len(starts(api, capped["id"], "2026-12-01", "2026-12-01")) == 8


def test_max_per_day_counts_only_bookings_of_that_type(
    api, weekday_hours, make_type, hour_type, someone
):
    capped = make_type(name="Capped", duration_minutes=60, max_per_day=1, requires_credit=False)
    book(api, someone["id"], hour_type["id"], "2026-11-30T09:00:00-05:00")
    assert len(starts(api, capped["id"], "2026-11-30", "2026-11-30")) == 7


# --- bad requests ------------------------------------------------------------------


def test_an_unknown_type_is_not_found(api, weekday_hours):
    response = api.get(SLOTS, appointment_type_id=999999, start="2026-11-30", end="2026-11-30")
    expect_error(response, 404, "not_found")


def test_another_providers_type_is_not_found(api, weekday_hours, create_provider):
    other = create_provider()
    theirs = new_type(other.api, requires_credit=False)
    response = api.get(
        SLOTS, appointment_type_id=theirs["id"], start="2026-11-30", end="2026-11-30"
    )
    expect_error(response, 404, "not_found")


def test_a_missing_start_is_a_validation_error_on_start(api, hour_type):
    response = api.get(SLOTS, appointment_type_id=hour_type["id"], end="2026-11-30")
    assert "start" in invalid_fields(response)


def test_a_missing_type_is_a_validation_error_on_the_type(api):
    response = api.get(SLOTS, start="2026-11-30", end="2026-11-30")
    assert "appointment_type_id" in invalid_fields(response)


def test_a_malformed_date_is_a_validation_error(api, hour_type):
    response = api.get(
        SLOTS, appointment_type_id=hour_type["id"], start="30/11/2026", end="2026-11-30"
    )
    assert "start" in invalid_fields(response)


def test_a_type_id_that_is_not_a_number_is_a_validation_error(api):
    response = api.get(SLOTS, appointment_type_id="abc", start="2026-11-30", end="2026-11-30")
    assert invalid_fields(response) == {"appointment_type_id"}


def test_an_end_before_the_start_is_a_validation_error(api, hour_type):
    response = api.get(
        SLOTS, appointment_type_id=hour_type["id"], start="2026-12-02", end="2026-12-01"
    )
    assert invalid_fields(response) == {"end"}


def test_an_unknown_time_zone_is_a_validation_error(api, hour_type):
    response = api.get(
        SLOTS,
        appointment_type_id=hour_type["id"],
        start="2026-11-30",
        end="2026-11-30",
        timezone="Mars/Olympus_Mons",
    )
    assert invalid_fields(response) == {"timezone"}


def test_slots_need_a_provider_key(client, hour_type):
    query = {"appointment_type_id": hour_type["id"], "start": "2026-11-30", "end": "2026-11-30"}
    expect_error(client.get(SLOTS, query_string=query), 401, "unauthorized")
    wrong = {"Authorization": "Bearer not-a-key"}
    expect_error(client.get(SLOTS, query_string=query, headers=wrong), 401, "unauthorized")


# --- cost --------------------------------------------------------------------------


def _statements_during(call):
    with sql.statements() as sent:
        result = call()
    return len(sent), result


def test_a_thirty_day_slots_request_runs_a_small_constant_number_of_statements(
    api, hour_type, someone
):
    put_hours(api, days=ALL_DAYS)
    days = [date(2026, 11, 25) + timedelta(days=n) for n in range(30)]  # all EST dates
    for day in days:
        book(api, someone["id"], hour_type["id"], f"{day.isoformat()}T09:00:00-05:00")

    def ask():
        return starts(api, hour_type["id"], days[0].isoformat(), days[-1].isoformat())

    first_count, found = _statements_during(ask)
    assert len(found) == 30 * 7
    assert 1 <= first_count <= 12

    for day in days:
        book(api, someone["id"], hour_type["id"], f"{day.isoformat()}T13:00:00-05:00")
    second_count, found = _statements_during(ask)
    assert len(found) == 30 * 6
    assert second_count == first_count


def test_slot_reads_only_select_and_on_postgresql_outside_a_transaction(
    api, client, weekday_hours, make_type, hour_type, someone, engine_name
):
    """The slot views are marked reads_only: they never write (outside a transaction each
    statement would commit alone), on PostgreSQL they skip BEGIN and ROLLBACK, and the
    connection they used is transactional again for the next request."""
    from sqlalchemy import event

    from widget.extensions import db

    intro = make_type(
        name="Intro", duration_minutes=60, audience="new_clients", requires_credit=False
    )
    link = created(api.post("/api/v1/share-links", json={"appointment_type_ids": [intro["id"]]}))
    autocommit: list[bool] = []

    def on_execute(conn, *_rest):
        dbapi = conn.connection.dbapi_connection
        # psycopg's own flag on PostgreSQL; SQLite keeps its BEGIN IMMEDIATE transactions
        autocommit.append(
            bool(getattr(dbapi, "autocommit", False))
            if engine_name == "postgresql"
            else conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
        )

    def watched(call):
        autocommit.clear()
        event.listen(db.engine, "before_cursor_execute", on_execute)
        try:
            with sql.statements() as sent:
                call()
        finally:
            event.remove(db.engine, "before_cursor_execute", on_execute)
        return sent, list(autocommit)

    query = {"appointment_type_id": hour_type["id"], "start": "2026-11-30", "end": "2026-12-04"}
    sent, modes = watched(lambda: ok(api.get(SLOTS, **query)))
    public_query = {**query, "appointment_type_id": intro["id"]}
    public, public_modes = watched(
        lambda: ok(client.get(f"/api/v1/links/{link['token']}/slots", query_string=public_query))
    )
    assert all(s.lstrip().startswith(("SELECT", "BEGIN")) for s in sent + public)
    assert set(modes + public_modes) == {engine_name == "postgresql"}
    _, booking_modes = watched(
        lambda: book(api, someone["id"], hour_type["id"], "2026-11-30T09:00:00-05:00")
    )
    assert booking_modes and not any(booking_modes)
