"""Times and dates in requests are the ISO forms API.md names, and nothing else.

API.md, preamble: "JSON in and out; times are ISO 8601 with a UTC offset
(`2026-12-01T09:00:00-05:00`)", and the error table: "`validation_error` | 422 | a
field is missing, malformed or out of range".

Pydantic's lax mode would take a JSON number, or a string of digits, as seconds since
1970 in UTC, and a date-time where a date is asked for; the API booked, held and moved
on such times before it refused them.

The provider (America/New_York) works Monday to Friday 09:00-17:00. The clock starts
on Tuesday 2026-11-24T14:00Z (09:00 EST); 2026-11-30 is a Monday.
1796050800 is 2026-11-30T15:00:00Z, Monday 10:00 in New York: a free slot.
"""

import pytest

from .helpers import at, created, invalid_fields, ok, post_booking, share, submit

pytestmark = pytest.mark.usefixtures("weekday_hours")

MONDAY_10_AM_AS_UNIX_SECONDS = 1796050800


# API.md: "times are ISO 8601 with a UTC offset"; `POST /api/v1/bookings` takes
# `client_id`, `appointment_type_id`, `start`; validation_error 422 when "a field is
# ... malformed".
def test_a_provider_booking_start_given_as_a_number_is_a_validation_error(api, credited, follow_up):
    client = credited()
    response = post_booking(api, client["id"], follow_up["id"], MONDAY_10_AM_AS_UNIX_SECONDS)
    assert invalid_fields(response) == {"start"}


# API.md: "times are ISO 8601 with a UTC offset"; a string of digits is neither.
def test_a_provider_booking_start_given_as_a_string_of_digits_is_a_validation_error(
    api, credited, follow_up
):
    client = credited()
    response = post_booking(api, client["id"], follow_up["id"], str(MONDAY_10_AM_AS_UNIX_SECONDS))
    assert invalid_fields(response) == {"start"}


# API.md: `POST /api/v1/links/{token}/bookings` takes `appointment_type_id`, `start`,
# `name`, `email`; "times are ISO 8601 with a UTC offset"; "checks that do not depend
# on who the person is (link, type, slot, fields, rate limit) answer at once".
def test_a_public_submission_start_given_as_a_number_is_a_validation_error(client, api, discovery):
    link = share(api, discovery)
    response = submit(client, link, discovery, start=MONDAY_10_AM_AS_UNIX_SECONDS)
    assert invalid_fields(response) == {"start"}


# API.md: `POST /api/v1/bookings/{id}/reschedule` takes `start`; "times are ISO 8601
# with a UTC offset".
def test_a_reschedule_start_given_as_a_number_is_a_validation_error(api, credited, follow_up):
    client = credited()
    booking = created(post_booking(api, client["id"], follow_up["id"], at(9)))
    response = api.post(
        f"/api/v1/bookings/{booking['id']}/reschedule",
        json={"start": MONDAY_10_AM_AS_UNIX_SECONDS},
    )
    assert invalid_fields(response) == {"start"}


# API.md: `POST /api/v1/share-links` takes optional `expires_at`; "times are ISO 8601
# with a UTC offset".
def test_a_share_link_expires_at_given_as_a_number_is_a_validation_error(api, discovery):
    response = api.post(
        "/api/v1/share-links",
        json={"appointment_type_ids": [discovery["id"]], "expires_at": 1896050800},
    )
    assert invalid_fields(response) == {"expires_at"}


# API.md: "dates are `YYYY-MM-DD`".
@pytest.mark.parametrize("day", ["2026-11-30T00:00:00", "2026-11-30T00:00:00-05:00", "1796025600"])
def test_a_slots_day_given_as_anything_but_a_date_is_a_validation_error(api, follow_up, day):
    response = api.get(
        "/api/v1/slots", appointment_type_id=follow_up["id"], start=day, end="2026-12-01"
    )
    assert invalid_fields(response) == {"start"}


def test_iso_times_and_dates_are_still_taken(api, credited, follow_up):
    client = credited()
    created(post_booking(api, client["id"], follow_up["id"], "2026-11-30T10:00:00-05:00"))
    created(post_booking(api, client["id"], follow_up["id"], "2026-11-30T16:00:00Z"))
    day = "2026-11-30"
    answer = ok(api.get("/api/v1/slots", appointment_type_id=follow_up["id"], start=day, end=day))
    starts = [slot["start"] for slot in answer["slots"]]
    assert "2026-11-30T10:00:00-05:00" not in starts and "2026-11-30T11:00:00-05:00" not in starts


# A start with seconds (or a fraction of one) is no time a calendar books: it was kept,
# and the half-second it added pushed the next slot out of the day's list.
@pytest.mark.parametrize("start", ["2026-11-30T10:00:00.5-05:00", "2026-11-30T10:00:30-05:00"])
def test_a_provider_booking_start_off_the_minute_is_a_validation_error(
    api, credited, follow_up, start
):
    client = credited()
    assert invalid_fields(post_booking(api, client["id"], follow_up["id"], start)) == {"start"}
    assert ok(api.get("/api/v1/bookings"))["bookings"] == []


def test_a_reschedule_start_off_the_minute_is_a_validation_error(api, credited, follow_up):
    client = credited()
    booking = created(post_booking(api, client["id"], follow_up["id"], at(9)))
    move = f"/api/v1/bookings/{booking['id']}/reschedule"
    assert invalid_fields(api.post(move, json={"start": "2026-11-30T11:00:00.25-05:00"})) == {
        "start"
    }
    assert ok(api.get(f"/api/v1/bookings/{booking['id']}"))["start"] == booking["start"]
