"""Free slots at the calendar's edges: days a zone skipped, buffers across 23-hour days,
the range limit. What GET /api/v1/slots offers is what POST /api/v1/bookings accepts.
(Found by an audit; each test failed before its fix.)"""

from datetime import UTC, datetime

from .helpers import created, expect_error, new_client, new_type, ok, post_booking, starts

SLOTS = "/api/v1/slots"
HOURS = "/api/v1/availability"


def put(api, weekly=None, exceptions=()):
    ok(api.put(HOURS, json={"weekly": weekly or {}, "exceptions": list(exceptions)}))


def free(api, minutes, **fields):
    return new_type(
        api,
        name=f"T{minutes}",
        duration_minutes=minutes,
        audience="everyone",
        requires_credit=False,
        max_days_ahead=365,
        **fields,
    )


# Expect 200 and no slots: Apia skipped 2011-12-30 entirely, so that viewer day is empty
# (it answered 500: the window of a day that never happened is empty).
def test_a_viewer_day_the_date_line_skipped_answers_with_no_slots(api, clock):
    clock.now = datetime(2011, 12, 20, 12, tzinfo=UTC)
    put(api, weekly={d: [{"start": "00:00", "end": "24:00"}] for d in ("thu", "fri", "sat")})
    hour = free(api, 60)
    response = api.get(
        SLOTS,
        appointment_type_id=hour["id"],
        start="2011-12-30",
        end="2011-12-30",
        timezone="Pacific/Apia",
    )
    assert response.status_code == 200, response.status_code
    assert response.get_json() == {"slots": []}


# Expect Saturday 2011-12-31 (closed) to offer nothing in Apia: Friday 2011-12-30 never
# happened there, and its weekly hours were resolved onto Saturday morning and offered.
def test_hours_of_a_skipped_date_line_day_do_not_open_the_next_day(create_provider, clock):
    clock.now = datetime(2011, 12, 20, 12, tzinfo=UTC)
    apia = create_provider(timezone="Pacific/Apia").api
    put(apia, weekly={"fri": [{"start": "09:00", "end": "11:00"}]})
    hour = free(apia, 60)
    assert starts(apia, hour["id"], "2011-12-31", "2011-12-31") == []
    assert starts(apia, hour["id"], "2011-12-29", "2011-12-31") == []


# Expect Monday 00:00 EDT not offered: its 24-hour buffer before reaches back over the
# 23-hour spring-forward Sunday into Saturday 23:00 EST, where a booking runs to 23:30;
# the calendar read bookings only from Sunday 00:00, so the slot was offered and then
# POST /api/v1/bookings refused it (409 slot_unavailable).
def test_a_long_buffer_before_over_a_23_hour_day_sees_the_booking_before_it(api, clock):
    clock.now = datetime(2027, 3, 10, 12, tzinfo=UTC)
    put(
        api,
        exceptions=[
            {"date": "2027-03-13", "hours": [{"start": "22:00", "end": "24:00"}]},
            {"date": "2027-03-15", "hours": [{"start": "00:00", "end": "01:00"}]},
        ],
    )
    plain = free(api, 60, slot_step_minutes=30)
    careful = free(api, 60, buffer_before_minutes=1440)
    mia, ben = new_client(api, "mia@example.com"), new_client(api, "ben@example.com")
    created(post_booking(api, mia["id"], plain["id"], "2027-03-13T22:30:00-05:00"))

    offered = starts(api, careful["id"], "2027-03-15", "2027-03-15")
    refused = post_booking(api, ben["id"], careful["id"], "2027-03-15T00:00:00-04:00")
    expect_error(refused, 409, "slot_unavailable")
    assert offered == []


# Expect the Tokyo viewer to be refused the same slot the New York view hides: Saturday
# 09:00-24:00 EST plus a 24-hour buffer after runs past Monday 00:00 EDT (Sunday is 23
# hours), where a booking starts; asked through a viewer day that ends mid-Saturday, the
# calendar stopped reading bookings at Monday 00:00 and offered it.
def test_a_long_buffer_after_over_a_23_hour_day_sees_the_booking_after_it_for_any_viewer(
    api, clock
):
    clock.now = datetime(2027, 3, 10, 12, tzinfo=UTC)
    put(
        api,
        exceptions=[
            {"date": "2027-03-13", "hours": [{"start": "09:00", "end": "24:00"}]},
            {"date": "2027-03-15", "hours": [{"start": "00:00", "end": "01:00"}]},
        ],
    )
    plain = free(api, 60)
    long_one = free(api, 900, buffer_after_minutes=1440)
    mia, ben = new_client(api, "mia@example.com"), new_client(api, "ben@example.com")
    created(post_booking(api, mia["id"], plain["id"], "2027-03-15T00:00:00-04:00"))

    assert starts(api, long_one["id"], "2027-03-13", "2027-03-13") == []
    refused = post_booking(api, ben["id"], long_one["id"], "2027-03-13T09:00:00-05:00")
    expect_error(refused, 409, "slot_unavailable")
    assert starts(api, long_one["id"], "2027-03-13", "2027-03-13", timezone="Asia/Tokyo") == []


# Expect a validation_error on end: the limit says "at most 366 days at a time", and
# 2027-01-01..2028-01-02 is 367 local days, both ends included.
def test_a_range_of_367_days_is_over_the_366_day_limit(api):
    hour = free(api, 60)
    response = api.get(SLOTS, appointment_type_id=hour["id"], start="2027-01-01", end="2028-01-02")
    assert response.status_code == 422, response.status_code
    assert "end" in response.get_json()["error"]["details"]
