"""Provider bookings through the API: book, list, cancel, reschedule, no-show.

The provider (America/New_York) works Monday to Friday 09:00-17:00. The default
clock is Tuesday 2026-11-24T14:00Z (09:00 EST); 2026-11-30 is a Monday.
"""

from datetime import UTC, datetime

import pytest

from tests import sql

from .helpers import BIG_IDS, created, expect_error, invalid_fields, new_type, ok, post_booking

BOOKINGS = "/api/v1/bookings"
MON_10 = "2026-11-30T10:00:00-05:00"
MON_11 = "2026-11-30T11:00:00-05:00"
TUE_10 = "2026-12-01T10:00:00-05:00"
WED_10 = "2026-12-02T10:00:00-05:00"


pytestmark = pytest.mark.usefixtures("weekday_hours")


@pytest.fixture
def follow_up(make_type):
    """60 minutes, existing clients, one credit per booking."""
    return make_type(duration_minutes=60)


def account(api, client_id, type_id):
    return ok(api.get(f"/api/v1/clients/{client_id}/credits/{type_id}"))


def balance(api, client_id, type_id):
    return account(api, client_id, type_id)["balance"]


def kinds(api, client_id, type_id):
    return [entry["kind"] for entry in account(api, client_id, type_id)["history"]]


def listed(api, **query):
    return ok(api.get(BOOKINGS, **query))["bookings"]


def set_negative_limit(api, limit):
    assert (
        ok(api.patch("/api/v1/settings", json={"negative_credit_limit": limit}))[
            "negative_credit_limit"
        ]
        == limit
    )


# --- POST /api/v1/bookings ------------------------------------------------------------


def test_a_provider_booking_is_confirmed_on_the_provider_channel(api, follow_up, credited):
    client = credited()
    booking = created(post_booking(api, client["id"], follow_up["id"], MON_10))
    assert isinstance(booking["id"], int)
    assert booking["status"] == "confirmed"
    assert booking["channel"] == "provider"
    assert booking["start"] == "2026-11-30T10:00:00-05:00"
    assert booking["end"] == "2026-11-30T11:00:00-05:00"
    assert booking["client_id"] == client["id"]
    assert booking["appointment_type_id"] == follow_up["id"]


def test_a_start_given_in_utc_comes_back_in_the_providers_offset(api, follow_up, credited):
    client = credited()
    booking = created(post_booking(api, client["id"], follow_up["id"], "2026-11-30T15:00:00Z"))
    assert booking["start"] == "2026-11-30T10:00:00-05:00"
    assert booking["end"] == "2026-11-30T11:00:00-05:00"


def test_a_booking_in_summer_time_carries_the_summer_offset(api, clock, follow_up, credited):
    clock.now = clock.now.replace(year=2027, month=6, day=1)
    client = credited()
    booking = created(post_booking(api, client["id"], follow_up["id"], "2027-06-07T10:00:00-04:00"))
    assert booking["start"] == "2027-06-07T10:00:00-04:00"
    assert booking["end"] == "2027-06-07T11:00:00-04:00"


def test_a_booking_spends_one_credit_recorded_against_the_booking(api, follow_up, credited):
    client = credited(2)
    booking = created(post_booking(api, client["id"], follow_up["id"], MON_10))
    history = account(api, client["id"], follow_up["id"])
    assert history["balance"] == 1
    spent = history["history"][-1]
    assert spent["kind"] == "booking"
    assert spent["delta"] == -1
    assert spent["balance_after"] == 1
    assert spent["booking_id"] == booking["id"]
    assert spent["override"] is False


def test_a_booking_of_a_free_type_spends_nothing(api, make_type, credited, follow_up):
    free = make_type(name="Check-in", duration_minutes=30, requires_credit=False)
    client = credited(1)
    created(post_booking(api, client["id"], free["id"], MON_10))
    assert account(api, client["id"], free["id"]) == {"balance": 0, "history": []}
    assert balance(api, client["id"], follow_up["id"]) == 1


def test_without_credits_the_booking_is_refused_and_nothing_is_booked(api, follow_up, make_client):
    client = make_client()
    expect_error(
        post_booking(api, client["id"], follow_up["id"], MON_10), 403, "insufficient_credits"
    )
    assert listed(api) == []
    assert balance(api, client["id"], follow_up["id"]) == 0


def test_after_the_last_credit_the_next_booking_is_refused(api, follow_up, credited):
    client = credited(1)
    created(post_booking(api, client["id"], follow_up["id"], MON_10))
    expect_error(
        post_booking(api, client["id"], follow_up["id"], TUE_10), 403, "insufficient_credits"
    )
    assert balance(api, client["id"], follow_up["id"]) == 0
    assert [b["start"] for b in listed(api)] == [MON_10]


def test_a_negative_limit_of_one_lets_one_booking_go_to_minus_one(api, follow_up, make_client):
    set_negative_limit(api, 1)
    client = make_client()
    booking = created(post_booking(api, client["id"], follow_up["id"], MON_10))
    history = account(api, client["id"], follow_up["id"])
    assert history["balance"] == -1
    assert history["history"][-1]["booking_id"] == booking["id"]
    assert history["history"][-1]["override"] is False


def test_a_negative_limit_of_one_refuses_a_second_booking(api, follow_up, make_client):
    set_negative_limit(api, 1)
    client = make_client()
    created(post_booking(api, client["id"], follow_up["id"], MON_10))
    expect_error(
        post_booking(api, client["id"], follow_up["id"], TUE_10), 403, "insufficient_credits"
    )
    assert balance(api, client["id"], follow_up["id"]) == -1
    assert len(listed(api)) == 1


def test_allow_negative_goes_below_the_limit_and_says_it_was_an_override(
    api, follow_up, make_client
):
    client = make_client()
    booking = created(post_booking(api, client["id"], follow_up["id"], MON_10, allow_negative=True))
    history = account(api, client["id"], follow_up["id"])
    assert history["balance"] == -1
    entry = history["history"][-1]
    assert entry["kind"] == "booking"
    assert entry["booking_id"] == booking["id"]
    assert entry["override"] is True


def test_allow_negative_goes_past_a_non_zero_limit_too(api, follow_up, make_client):
    set_negative_limit(api, 1)
    client = make_client()
    created(post_booking(api, client["id"], follow_up["id"], MON_10))
    created(post_booking(api, client["id"], follow_up["id"], TUE_10, allow_negative=True))
    history = account(api, client["id"], follow_up["id"])
    assert history["balance"] == -2
    assert [e["override"] for e in history["history"]] == [False, True]


def test_allow_negative_must_be_a_boolean(api, follow_up, credited):
    client = credited()
    response = post_booking(api, client["id"], follow_up["id"], MON_10, allow_negative="yes")
    assert invalid_fields(response) == {"allow_negative"}


def test_an_overlapping_booking_is_refused_and_spends_no_credit(api, follow_up, credited):
    first, second = credited(), credited()
    created(post_booking(api, first["id"], follow_up["id"], MON_10))
    response = post_booking(api, second["id"], follow_up["id"], "2026-11-30T10:30:00-05:00")
    expect_error(response, 409, "slot_unavailable")
    assert balance(api, second["id"], follow_up["id"]) == 2
    assert kinds(api, second["id"], follow_up["id"]) == ["package_grant"]
    assert len(listed(api)) == 1


def test_back_to_back_bookings_without_buffers_are_both_accepted(api, follow_up, credited):
    client = credited()
    created(post_booking(api, client["id"], follow_up["id"], MON_10))
    created(post_booking(api, client["id"], follow_up["id"], MON_11))
    assert balance(api, client["id"], follow_up["id"]) == 0


def test_the_booked_types_buffer_after_makes_the_next_hour_overlap(
    api, make_type, follow_up, credited
):
    padded = make_type(
        name="Padded", duration_minutes=60, buffer_after_minutes=15, requires_credit=False
    )
    client = credited()
    created(post_booking(api, client["id"], padded["id"], MON_10))
    expect_error(post_booking(api, client["id"], follow_up["id"], MON_11), 409, "slot_unavailable")
    assert balance(api, client["id"], follow_up["id"]) == 2


def test_the_new_types_buffer_before_makes_it_overlap_the_previous_hour(
    api, make_type, follow_up, credited
):
    careful = make_type(name="Careful", duration_minutes=60, buffer_before_minutes=15)
    client = credited()
    created(post_booking(api, client["id"], follow_up["id"], MON_10))
    package_for_careful = created(
        api.post(
            "/api/v1/packages",
            json={
                "name": "C",
                "price_cents": 0,
                "items": [{"appointment_type_id": careful["id"], "quantity": 1}],
            },
        )
    )
    created(
        api.post(
            f"/api/v1/clients/{client['id']}/packages",
            json={"package_id": package_for_careful["id"]},
        )
    )
    expect_error(post_booking(api, client["id"], careful["id"], MON_11), 409, "slot_unavailable")
    assert balance(api, client["id"], careful["id"]) == 1


@pytest.mark.parametrize(
    "start",
    [
        "2026-11-30T08:00:00-05:00",  # before opening
        "2026-11-30T16:30:00-05:00",  # would end at 17:30
        "2026-11-30T17:00:00-05:00",  # at closing
        "2026-12-05T10:00:00-05:00",  # a Saturday
    ],
)
def test_a_start_outside_working_hours_is_refused(api, follow_up, credited, start):
    client = credited()
    expect_error(
        post_booking(api, client["id"], follow_up["id"], start), 422, "outside_availability"
    )
    assert balance(api, client["id"], follow_up["id"]) == 2


def test_a_start_on_a_day_closed_by_an_exception_is_refused(api, follow_up, credited):
    hours = [{"start": "09:00", "end": "17:00"}]
    ok(
        api.put(
            "/api/v1/availability",
            json={"weekly": {"mon": hours}, "exceptions": [{"date": "2026-11-30", "closed": True}]},
        )
    )
    client = credited()
    expect_error(
        post_booking(api, client["id"], follow_up["id"], MON_10), 422, "outside_availability"
    )


def test_a_booking_may_not_run_across_a_break_in_the_hours(api, follow_up, credited):
    split = [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "17:00"}]
    ok(api.put("/api/v1/availability", json={"weekly": {"mon": split}}))
    client = credited()
    expect_error(
        post_booking(api, client["id"], follow_up["id"], "2026-11-30T11:30:00-05:00"),
        422,
        "outside_availability",
    )
    created(post_booking(api, client["id"], follow_up["id"], "2026-11-30T13:00:00-05:00"))


def test_special_hours_on_a_weekend_day_accept_a_booking(api, follow_up, credited):
    ok(
        api.put(
            "/api/v1/availability",
            json={
                "exceptions": [
                    {"date": "2026-12-05", "hours": [{"start": "10:00", "end": "12:00"}]}
                ]
            },
        )
    )
    client = credited()
    booking = created(post_booking(api, client["id"], follow_up["id"], "2026-12-05T11:00:00-05:00"))
    assert booking["end"] == "2026-12-05T12:00:00-05:00"


def test_both_one_oclocks_of_the_fall_back_night_can_be_booked(api, clock, follow_up, credited):
    clock.now = datetime(2026, 10, 28, 12, 0, tzinfo=UTC)
    night = [{"start": "00:00", "end": "03:00"}]
    ok(
        api.put(
            "/api/v1/availability", json={"exceptions": [{"date": "2026-11-01", "hours": night}]}
        )
    )
    client = credited()
    first = created(post_booking(api, client["id"], follow_up["id"], "2026-11-01T01:00:00-04:00"))
    second = created(post_booking(api, client["id"], follow_up["id"], "2026-11-01T01:00:00-05:00"))
    assert (first["start"], first["end"]) == (
        "2026-11-01T01:00:00-04:00",
        "2026-11-01T01:00:00-05:00",
    )
    assert (second["start"], second["end"]) == (
        "2026-11-01T01:00:00-05:00",
        "2026-11-01T02:00:00-05:00",
    )


def test_a_provider_may_start_a_booking_off_the_slot_grid(api, make_type, make_client):
    fifty = make_type(name="Fifty", duration_minutes=50, requires_credit=False)
    client = make_client()  # the grid is 09:00, 09:50, 10:40, ...
    booking = created(post_booking(api, client["id"], fifty["id"], "2026-11-30T10:05:00-05:00"))
    assert booking["start"] == "2026-11-30T10:05:00-05:00"
    assert booking["end"] == "2026-11-30T10:55:00-05:00"


def test_the_provider_books_a_new_client_into_an_existing_clients_type_when_credits_allow(
    api, follow_up, make_client
):
    client = make_client()
    created(
        api.post(
            f"/api/v1/clients/{client['id']}/credits/{follow_up['id']}/adjustments",
            json={"delta": 1, "note": "welcome credit"},
        )
    )
    assert ok(api.get(f"/api/v1/clients/{client['id']}"))["status"] == "new"
    booking = created(post_booking(api, client["id"], follow_up["id"], MON_10))
    assert booking["status"] == "confirmed"
    assert balance(api, client["id"], follow_up["id"]) == 0


def test_a_new_client_without_credits_is_refused_for_credits_not_audience(
    api, follow_up, make_client
):
    client = make_client()
    expect_error(
        post_booking(api, client["id"], follow_up["id"], MON_10), 403, "insufficient_credits"
    )


def test_the_provider_books_an_existing_client_into_a_new_clients_type(api, make_type, credited):
    intro = make_type(
        name="Intro", duration_minutes=30, audience="new_clients", requires_credit=False
    )
    client = credited()
    assert ok(api.get(f"/api/v1/clients/{client['id']}"))["status"] == "existing"
    created(post_booking(api, client["id"], intro["id"], MON_10))


def test_the_provider_ignores_minimum_notice(api, make_type, credited):
    # now is 09:00 EST on Tuesday 2026-11-24; a day's notice does not bind the provider.
    strict = make_type(duration_minutes=60, min_notice_minutes=1440, requires_credit=False)
    client = credited()
    booking = created(post_booking(api, client["id"], strict["id"], "2026-11-24T09:05:00-05:00"))
    assert booking["start"] == "2026-11-24T09:05:00-05:00"


def test_the_provider_ignores_the_booking_horizon(api, make_type, credited):
    near = make_type(duration_minutes=60, max_days_ahead=7, requires_credit=False)
    client = credited()
    created(post_booking(api, client["id"], near["id"], "2027-02-01T10:00:00-05:00"))


def test_a_type_at_max_per_day_refuses_another_booking_that_day(api, make_type, credited):
    capped = make_type(name="Capped", duration_minutes=60, max_per_day=1, requires_credit=False)
    client = credited()
    created(post_booking(api, client["id"], capped["id"], MON_10))
    expect_error(
        post_booking(api, client["id"], capped["id"], "2026-11-30T14:00:00-05:00"),
        409,
        "slot_unavailable",
    )
    created(post_booking(api, client["id"], capped["id"], TUE_10))


def test_a_start_without_an_offset_is_a_validation_error_on_start(api, follow_up, credited):
    client = credited()
    response = post_booking(api, client["id"], follow_up["id"], "2026-11-30T10:00:00")
    assert invalid_fields(response) == {"start"}
    assert listed(api) == []


@pytest.mark.parametrize("missing", ["client_id", "appointment_type_id", "start"])
def test_each_required_field_is_named_when_missing(api, follow_up, credited, missing):
    client = credited()
    body = {"client_id": client["id"], "appointment_type_id": follow_up["id"], "start": MON_10}
    del body[missing]
    assert invalid_fields(api.post(BOOKINGS, json=body)) == {missing}


def test_an_unknown_client_is_not_found(api, follow_up):
    expect_error(post_booking(api, 999999, follow_up["id"], MON_10), 404, "not_found")


def test_another_providers_client_is_not_found(api, follow_up, create_provider):
    other = create_provider()
    theirs = created(
        other.api.post("/api/v1/clients", json={"email": "t@example.com", "name": "Theirs"})
    )
    expect_error(post_booking(api, theirs["id"], follow_up["id"], MON_10), 404, "not_found")
    assert listed(api) == []


def test_another_providers_type_is_not_found(api, credited, create_provider):
    other = create_provider()
    theirs = new_type(other.api, requires_credit=False)
    client = credited()
    expect_error(post_booking(api, client["id"], theirs["id"], MON_10), 404, "not_found")


def test_booking_needs_a_provider_key(client, follow_up):
    body = {"client_id": 1, "appointment_type_id": follow_up["id"], "start": MON_10}
    expect_error(client.post(BOOKINGS, json=body), 401, "unauthorized")


# --- GET /api/v1/bookings --------------------------------------------------------------


@pytest.fixture
def three_bookings(api, follow_up, credited):
    """Monday, Tuesday (then cancelled) and Wednesday at 10:00."""
    client = credited(3)
    made = [
        created(post_booking(api, client["id"], follow_up["id"], s))
        for s in (MON_10, TUE_10, WED_10)
    ]
    ok(api.post(f"{BOOKINGS}/{made[1]['id']}/cancel", json={}))
    return made


def test_bookings_are_listed_by_start(api, three_bookings):
    assert [b["id"] for b in listed(api)] == [b["id"] for b in three_bookings]
    assert [b["start"] for b in listed(api)] == [MON_10, TUE_10, WED_10]


def test_from_keeps_bookings_on_or_after_that_local_day(api, three_bookings):
    assert [b["start"] for b in listed(api, **{"from": "2026-12-01"})] == [TUE_10, WED_10]


def test_to_keeps_bookings_on_or_before_that_local_day(api, three_bookings):
    assert [b["start"] for b in listed(api, to="2026-12-01")] == [MON_10, TUE_10]


def test_from_and_to_on_one_day_keep_that_day(api, three_bookings):
    assert [b["start"] for b in listed(api, **{"from": "2026-12-01", "to": "2026-12-01"})] == [
        TUE_10
    ]


def test_from_and_to_are_the_providers_local_days(api, follow_up, credited):
    # 20:00 EST on Monday is 01:00Z on Tuesday: it is still a Monday booking.
    ok(
        api.put(
            "/api/v1/availability", json={"weekly": {"mon": [{"start": "09:00", "end": "22:00"}]}}
        )
    )
    client = credited()
    created(post_booking(api, client["id"], follow_up["id"], "2026-11-30T20:00:00-05:00"))
    assert len(listed(api, **{"from": "2026-11-30", "to": "2026-11-30"})) == 1
    assert listed(api, **{"from": "2026-12-01", "to": "2026-12-01"}) == []


def test_status_filters_the_list(api, three_bookings):
    assert [b["start"] for b in listed(api, status="cancelled")] == [TUE_10]
    assert [b["start"] for b in listed(api, status="confirmed")] == [MON_10, WED_10]
    assert listed(api, status="no_show") == []


def test_an_unknown_status_filter_is_a_validation_error(api):
    assert invalid_fields(api.get(BOOKINGS, status="done")) == {"status"}


def test_another_providers_bookings_are_not_listed(api, three_bookings, create_provider):
    assert listed(create_provider().api) == []


# --- cancel ---------------------------------------------------------------------------


def test_a_provider_cancel_refunds_the_credit(api, follow_up, credited):
    client = credited(2)
    booking = created(post_booking(api, client["id"], follow_up["id"], MON_10))
    cancelled = ok(api.post(f"{BOOKINGS}/{booking['id']}/cancel", json={"reason": "ill"}))
    assert cancelled["id"] == booking["id"]
    assert cancelled["status"] == "cancelled"
    assert cancelled["credit_refunded"] is True
    history = account(api, client["id"], follow_up["id"])
    assert history["balance"] == 2
    refund = history["history"][-1]
    assert (refund["kind"], refund["delta"], refund["booking_id"]) == (
        "cancellation_refund",
        1,
        booking["id"],
    )


def test_a_late_provider_cancel_keeps_the_credit_spent_and_says_so(api, follow_up, credited):
    client = credited(2)
    booking = created(post_booking(api, client["id"], follow_up["id"], MON_10))
    cancelled = ok(api.post(f"{BOOKINGS}/{booking['id']}/cancel", json={"late": True}))
    assert cancelled["status"] == "cancelled"
    assert cancelled["credit_refunded"] is False
    history = account(api, client["id"], follow_up["id"])
    assert history["balance"] == 1
    forfeited = history["history"][-1]
    assert (forfeited["kind"], forfeited["delta"], forfeited["booking_id"]) == (
        "late_cancellation",
        0,
        booking["id"],
    )


def test_cancel_accepts_an_empty_body(api, follow_up, credited):
    client = credited()
    booking = created(post_booking(api, client["id"], follow_up["id"], MON_10))
    cancelled = ok(api.post(f"{BOOKINGS}/{booking['id']}/cancel"))
    assert cancelled["status"] == "cancelled"
    assert cancelled["credit_refunded"] is True


def test_cancelling_a_free_booking_refunds_nothing(api, make_type, make_client):
    free = make_type(name="Check-in", duration_minutes=30, requires_credit=False)
    client = make_client()
    booking = created(post_booking(api, client["id"], free["id"], MON_10))
    cancelled = ok(api.post(f"{BOOKINGS}/{booking['id']}/cancel", json={}))
    assert cancelled["status"] == "cancelled"
    assert cancelled["credit_refunded"] is False
    assert account(api, client["id"], free["id"]) == {"balance": 0, "history": []}


def test_cancelling_twice_is_an_invalid_state_and_refunds_once(api, follow_up, credited):
    client = credited(2)
    booking = created(post_booking(api, client["id"], follow_up["id"], MON_10))
    ok(api.post(f"{BOOKINGS}/{booking['id']}/cancel", json={}))
    expect_error(api.post(f"{BOOKINGS}/{booking['id']}/cancel", json={}), 409, "invalid_state")
    assert balance(api, client["id"], follow_up["id"]) == 2
    assert kinds(api, client["id"], follow_up["id"]) == [
        "package_grant",
        "booking",
        "cancellation_refund",
    ]


def test_a_cancelled_slot_can_be_booked_again_at_once(api, follow_up, credited):
    first, second = credited(), credited()
    booking = created(post_booking(api, first["id"], follow_up["id"], MON_10))
    ok(api.post(f"{BOOKINGS}/{booking['id']}/cancel", json={}))
    again = created(post_booking(api, second["id"], follow_up["id"], MON_10))
    assert again["id"] != booking["id"]
    assert again["start"] == MON_10


def test_late_must_be_a_boolean(api, follow_up, credited):
    client = credited()
    booking = created(post_booking(api, client["id"], follow_up["id"], MON_10))
    response = api.post(f"{BOOKINGS}/{booking['id']}/cancel", json={"late": "yes"})
    assert invalid_fields(response) == {"late"}
    assert ok(api.get(f"{BOOKINGS}/{booking['id']}"))["status"] == "confirmed"


# --- reschedule -----------------------------------------------------------------------


def test_reschedule_keeps_the_id_moves_the_times_and_leaves_the_credit(api, follow_up, credited):
    client = credited(2)
    booking = created(post_booking(api, client["id"], follow_up["id"], MON_10))
    history_before = account(api, client["id"], follow_up["id"])
    moved = ok(api.post(f"{BOOKINGS}/{booking['id']}/reschedule", json={"start": TUE_10}))
    assert moved["id"] == booking["id"]
    assert moved["status"] == "confirmed"
    assert moved["start"] == TUE_10
    assert moved["end"] == "2026-12-01T11:00:00-05:00"
    assert account(api, client["id"], follow_up["id"]) == history_before
    assert [b["start"] for b in listed(api)] == [TUE_10]


def test_reschedule_frees_the_old_slot_and_takes_the_new_one(api, follow_up, credited):
    client, other = credited(), credited()
    booking = created(post_booking(api, client["id"], follow_up["id"], MON_10))
    ok(api.post(f"{BOOKINGS}/{booking['id']}/reschedule", json={"start": TUE_10}))
    created(post_booking(api, other["id"], follow_up["id"], MON_10))
    expect_error(post_booking(api, other["id"], follow_up["id"], TUE_10), 409, "slot_unavailable")


def test_reschedule_to_a_time_overlapping_its_own_old_time_is_allowed(api, follow_up, credited):
    client = credited()
    booking = created(post_booking(api, client["id"], follow_up["id"], MON_10))
    moved = ok(
        api.post(
            f"{BOOKINGS}/{booking['id']}/reschedule", json={"start": "2026-11-30T10:30:00-05:00"}
        )
    )
    assert moved["start"] == "2026-11-30T10:30:00-05:00"


def test_reschedule_into_a_taken_slot_is_refused_and_the_booking_stays(api, follow_up, credited):
    client, other = credited(), credited()
    booking = created(post_booking(api, client["id"], follow_up["id"], MON_10))
    created(post_booking(api, other["id"], follow_up["id"], TUE_10))
    response = api.post(f"{BOOKINGS}/{booking['id']}/reschedule", json={"start": TUE_10})
    expect_error(response, 409, "slot_unavailable")
    assert ok(api.get(f"{BOOKINGS}/{booking['id']}"))["start"] == MON_10


def test_reschedule_outside_working_hours_is_refused(api, follow_up, credited):
    client = credited()
    booking = created(post_booking(api, client["id"], follow_up["id"], MON_10))
    response = api.post(
        f"{BOOKINGS}/{booking['id']}/reschedule", json={"start": "2026-12-05T10:00:00-05:00"}
    )
    expect_error(response, 422, "outside_availability")


def test_reschedule_within_a_day_at_max_per_day_is_allowed(api, make_type, make_client):
    capped = make_type(name="Capped", duration_minutes=60, max_per_day=1, requires_credit=False)
    client = make_client()
    booking = created(post_booking(api, client["id"], capped["id"], MON_10))
    moved = ok(
        api.post(
            f"{BOOKINGS}/{booking['id']}/reschedule", json={"start": "2026-11-30T14:00:00-05:00"}
        )
    )
    assert moved["start"] == "2026-11-30T14:00:00-05:00"


def test_reschedule_into_a_day_at_max_per_day_is_refused(api, make_type, make_client):
    capped = make_type(name="Capped", duration_minutes=60, max_per_day=1, requires_credit=False)
    client = make_client()
    booking = created(post_booking(api, client["id"], capped["id"], MON_10))
    created(post_booking(api, client["id"], capped["id"], TUE_10))
    response = api.post(
        f"{BOOKINGS}/{booking['id']}/reschedule", json={"start": "2026-12-01T14:00:00-05:00"}
    )
    expect_error(response, 409, "slot_unavailable")


def test_reschedule_of_a_no_show_is_an_invalid_state(api, clock, follow_up, credited):
    client = credited()
    booking = created(post_booking(api, client["id"], follow_up["id"], MON_10))
    clock.advance(days=7)
    ok(api.post(f"{BOOKINGS}/{booking['id']}/no-show"))
    response = api.post(
        f"{BOOKINGS}/{booking['id']}/reschedule", json={"start": "2026-12-07T10:00:00-05:00"}
    )
    expect_error(response, 409, "invalid_state")


def test_reschedule_of_a_cancelled_booking_is_an_invalid_state(api, follow_up, credited):
    client = credited()
    booking = created(post_booking(api, client["id"], follow_up["id"], MON_10))
    ok(api.post(f"{BOOKINGS}/{booking['id']}/cancel", json={}))
    response = api.post(f"{BOOKINGS}/{booking['id']}/reschedule", json={"start": TUE_10})
    expect_error(response, 409, "invalid_state")


def test_reschedule_needs_a_start_with_an_offset(api, follow_up, credited):
    client = credited()
    booking = created(post_booking(api, client["id"], follow_up["id"], MON_10))
    path = f"{BOOKINGS}/{booking['id']}/reschedule"
    assert invalid_fields(api.post(path, json={})) == {"start"}
    assert invalid_fields(api.post(path, json={"start": "2026-12-01T10:00:00"})) == {"start"}


# --- no-show --------------------------------------------------------------------------


def test_a_future_booking_cannot_be_a_no_show(api, follow_up, credited):
    client = credited()
    booking = created(post_booking(api, client["id"], follow_up["id"], MON_10))
    expect_error(api.post(f"{BOOKINGS}/{booking['id']}/no-show"), 409, "invalid_state")
    assert ok(api.get(f"{BOOKINGS}/{booking['id']}"))["status"] == "confirmed"


def test_after_its_start_a_booking_can_be_a_no_show_and_its_credit_stays_spent(
    api, clock, follow_up, credited
):
    client = credited(2)
    booking = created(post_booking(api, client["id"], follow_up["id"], MON_10))
    clock.advance(days=6, hours=1, minutes=5)  # Monday 2026-11-30 10:05 EST
    marked = ok(api.post(f"{BOOKINGS}/{booking['id']}/no-show"))
    assert marked["id"] == booking["id"]
    assert marked["status"] == "no_show"
    assert balance(api, client["id"], follow_up["id"]) == 1
    assert kinds(api, client["id"], follow_up["id"]) == ["package_grant", "booking"]


def test_a_no_show_cannot_be_cancelled_for_a_refund(api, clock, follow_up, credited):
    client = credited(2)
    booking = created(post_booking(api, client["id"], follow_up["id"], MON_10))
    clock.advance(days=7)
    ok(api.post(f"{BOOKINGS}/{booking['id']}/no-show"))
    expect_error(api.post(f"{BOOKINGS}/{booking['id']}/cancel", json={}), 409, "invalid_state")
    assert balance(api, client["id"], follow_up["id"]) == 1


def test_a_cancelled_booking_cannot_be_a_no_show(api, clock, follow_up, credited):
    client = credited()
    booking = created(post_booking(api, client["id"], follow_up["id"], MON_10))
    ok(api.post(f"{BOOKINGS}/{booking['id']}/cancel", json={}))
    clock.advance(days=7)
    expect_error(api.post(f"{BOOKINGS}/{booking['id']}/no-show"), 409, "invalid_state")


# --- another provider's booking ------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "body"),
    [("cancel", {}), ("reschedule", {"start": TUE_10}), ("no-show", None)],
)
def test_another_providers_booking_is_not_found(
    api, clock, follow_up, credited, create_provider, action, body
):
    client = credited()
    booking = created(post_booking(api, client["id"], follow_up["id"], MON_10))
    clock.advance(days=7)
    other = create_provider()
    expect_error(
        other.api.post(f"{BOOKINGS}/{booking['id']}/{action}", json=body), 404, "not_found"
    )
    expect_error(other.api.get(f"{BOOKINGS}/{booking['id']}"), 404, "not_found")
    clock.advance(days=-7)
    assert ok(api.get(f"{BOOKINGS}/{booking['id']}"))["start"] == MON_10
    assert ok(api.get(f"{BOOKINGS}/{booking['id']}"))["status"] == "confirmed"


@pytest.mark.parametrize("action", ["cancel", "reschedule", "no-show"])
def test_an_unknown_booking_is_not_found(api, action):
    body = {"start": TUE_10} if action == "reschedule" else {}
    expect_error(api.post(f"{BOOKINGS}/999999/{action}", json=body), 404, "not_found")


@pytest.mark.parametrize("big", BIG_IDS)
@pytest.mark.parametrize("action", ["cancel", "no-show"])
def test_an_id_no_row_can_have_is_not_found(api, action, big):
    expect_error(api.post(f"{BOOKINGS}/{big}/{action}", json={}), 404, "not_found")


def test_a_malformed_from_date_is_a_validation_error_on_from(api):
    assert invalid_fields(api.get(BOOKINGS, **{"from": "1 December"})) == {"from"}


# As /slots does: a reversed range is a mistake to name, not an empty list.
def test_to_before_from_is_a_validation_error_on_to(api, three_bookings):
    assert invalid_fields(api.get(BOOKINGS, **{"from": "2026-12-02", "to": "2026-12-01"})) == {"to"}


def test_a_body_that_is_not_json_is_a_bad_request(api, follow_up):
    response = api.client.post(
        BOOKINGS,
        data="client_id=1",
        headers={"Authorization": f"Bearer {api.key}", "Content-Type": "text/plain"},
    )
    expect_error(response, 400, "bad_request")


# --- what a booking reads and writes ---------------------------------------------------


@pytest.fixture
def long_block(make_type):
    """Booked Monday 10:00, its block runs from Sunday 10:00 to Tuesday 11:00 (EST): one
    hour with a day's buffer on each side, the longest buffers a type may have."""
    return make_type(
        name="Retreat",
        duration_minutes=60,
        buffer_before_minutes=1440,
        buffer_after_minutes=1440,
        requires_credit=False,
    )


def test_a_block_that_began_days_earlier_still_keeps_its_slots(
    api, long_block, follow_up, credited
):
    client = credited()
    created(post_booking(api, client["id"], long_block["id"], MON_10))
    expect_error(post_booking(api, client["id"], follow_up["id"], TUE_10), 409, "slot_unavailable")
    query = {"appointment_type_id": follow_up["id"], "start": "2026-12-01", "end": "2026-12-01"}
    slots = ok(api.get("/api/v1/slots", **query))["slots"]
    assert [slot["start"][11:16] for slot in slots] == [
        "11:00",
        "12:00",
        "13:00",
        "14:00",
        "15:00",
        "16:00",
    ]
    assert balance(api, client["id"], follow_up["id"]) == 2


def test_a_type_with_a_block_longer_than_three_days_is_refused(app, provider):
    from widget.domain import appointment_types
    from widget.domain.errors import ValidationFailed
    from widget.extensions import db
    from widget.models import Provider

    owner = db.session.get(Provider, provider.id)
    fields = {
        "name": "Too long",
        "duration_minutes": 1441,
        "buffer_before_minutes": 1440,
        "buffer_after_minutes": 1440,
        "audience": "everyone",
        "requires_credit": False,
    }
    with pytest.raises(ValidationFailed) as refused:
        appointment_types.create_appointment_type(db.session, owner, fields)
    assert set(refused.value.details) == {"duration_minutes"}
    fields["duration_minutes"] = 1440
    assert appointment_types.create_appointment_type(db.session, owner, fields).id


def test_a_booking_without_webhooks_is_a_fixed_handful_of_statements(
    api, follow_up, credited, engine_name
):
    client = credited()
    with sql.statements() as seen:
        created(post_booking(api, client["id"], follow_up["id"], MON_10))
    assert not [s for s in seen if s.startswith("SELECT webhook_endpoints.")]
    # key (and whether an endpoint listens), client and type, hours and what overlaps,
    # account, then the booking with its ledger entry, lot and balance: one statement
    # on PostgreSQL, four elsewhere
    writes = 1 if engine_name == "postgresql" else 4
    assert len([s for s in seen if not s.startswith("BEGIN")]) == 4 + writes, seen
