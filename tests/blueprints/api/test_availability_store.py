import pytest

from .helpers import expect_error, invalid_fields, ok

HOURS = "/api/v1/availability"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EMPTY_WEEK = {day: [] for day in DAYS}
NINE_TO_FIVE = [{"start": "09:00", "end": "17:00"}]


def test_a_new_provider_has_no_hours_and_no_exceptions(api):
    assert ok(api.get(HOURS)) == {"weekly": EMPTY_WEEK, "exceptions": []}


def test_weekly_hours_and_exceptions_round_trip(api):
    sent = {
        "weekly": {
            "mon": NINE_TO_FIVE,
            "wed": [{"start": "08:00", "end": "12:00"}, {"start": "13:00", "end": "18:30"}],
            "sat": [{"start": "10:00", "end": "24:00"}],
        },
        "exceptions": [
            {"date": "2026-12-25", "closed": True},
            {"date": "2026-12-24", "hours": [{"start": "09:00", "end": "12:00"}]},
        ],
    }
    expected = {
        "weekly": {**EMPTY_WEEK, **sent["weekly"]},
        "exceptions": [
            {"date": "2026-12-24", "hours": [{"start": "09:00", "end": "12:00"}]},
            {"date": "2026-12-25", "closed": True},
        ],
    }
    assert ok(api.put(HOURS, json=sent)) == expected
    assert ok(api.get(HOURS)) == expected


def test_single_digit_hours_come_back_zero_padded(api):
    answer = ok(api.put(HOURS, json={"weekly": {"tue": [{"start": "9:00", "end": "17:00"}]}}))
    assert answer["weekly"]["tue"] == NINE_TO_FIVE


def test_replacing_availability_clears_the_old_hours_and_exceptions(api):
    api.put(
        HOURS,
        json={
            "weekly": {"mon": NINE_TO_FIVE, "tue": NINE_TO_FIVE},
            "exceptions": [{"date": "2026-12-25", "closed": True}],
        },
    )
    answer = ok(api.put(HOURS, json={"weekly": {"fri": [{"start": "10:00", "end": "14:00"}]}}))
    expected = {
        "weekly": {**EMPTY_WEEK, "fri": [{"start": "10:00", "end": "14:00"}]},
        "exceptions": [],
    }
    assert answer == expected
    assert ok(api.get(HOURS)) == expected


def test_an_empty_body_object_clears_all_hours(api):
    api.put(HOURS, json={"weekly": {"mon": NINE_TO_FIVE}})
    assert ok(api.put(HOURS, json={})) == {"weekly": EMPTY_WEEK, "exceptions": []}


def test_availability_is_per_provider(api, create_provider):
    other = create_provider()
    other.api.put(HOURS, json={"weekly": {"mon": NINE_TO_FIVE}})
    assert ok(api.get(HOURS))["weekly"]["mon"] == []
    assert ok(other.api.get(HOURS))["weekly"]["mon"] == NINE_TO_FIVE


@pytest.mark.parametrize("day", ["monday", "Mon", "xyz", "0"])
def test_an_unknown_weekday_key_is_refused(api, day):
    response = api.put(HOURS, json={"weekly": {day: NINE_TO_FIVE}})
    assert invalid_fields(response) == {f"weekly.{day}"}


@pytest.mark.parametrize(
    "hours",
    [
        [{"start": "9am", "end": "17:00"}],
        [{"start": "09:00", "end": "5pm"}],
        [{"start": "25:00", "end": "26:00"}],
        [{"start": "09:60", "end": "17:00"}],
        [{"start": "09:00"}],
        [{"start": 9, "end": 17}],
        "09:00-17:00",
    ],
)
def test_malformed_hours_are_refused_on_their_day(api, hours):
    response = api.put(HOURS, json={"weekly": {"mon": hours}})
    assert all(field.startswith("weekly.mon") for field in invalid_fields(response))


def test_hours_that_end_before_they_start_are_refused(api):
    response = api.put(HOURS, json={"weekly": {"tue": [{"start": "17:00", "end": "09:00"}]}})
    assert invalid_fields(response) == {"weekly.tue"}


def test_hours_that_end_when_they_start_are_refused(api):
    response = api.put(HOURS, json={"weekly": {"tue": [{"start": "09:00", "end": "09:00"}]}})
    assert invalid_fields(response) == {"weekly.tue"}


def test_an_exception_with_both_closed_and_hours_is_refused(api):
    response = api.put(
        HOURS, json={"exceptions": [{"date": "2026-12-25", "closed": True, "hours": NINE_TO_FIVE}]}
    )
    assert invalid_fields(response) == {"exceptions.0"}


def test_an_exception_with_neither_closed_nor_hours_is_refused(api):
    response = api.put(HOURS, json={"exceptions": [{"date": "2026-12-25"}]})
    assert invalid_fields(response) == {"exceptions.0"}


@pytest.mark.parametrize("day", ["2026-13-01", "25/12/2026", "", None])
def test_an_exception_with_a_bad_date_is_refused(api, day):
    response = api.put(HOURS, json={"exceptions": [{"date": day, "closed": True}]})
    assert invalid_fields(response) == {"exceptions.0.date"}


def test_an_exception_without_a_date_is_refused(api):
    response = api.put(HOURS, json={"exceptions": [{"closed": True}]})
    assert invalid_fields(response) == {"exceptions.0.date"}


def test_an_exception_with_malformed_hours_is_refused(api):
    response = api.put(
        HOURS,
        json={"exceptions": [{"date": "2026-12-24", "hours": [{"start": "noon", "end": "18:00"}]}]},
    )
    assert invalid_fields(response) == {"exceptions.0.hours"}


def test_the_same_date_twice_is_refused(api):
    response = api.put(
        HOURS,
        json={
            "exceptions": [
                {"date": "2026-12-25", "closed": True},
                {"date": "2026-12-25", "hours": NINE_TO_FIVE},
            ]
        },
    )
    assert invalid_fields(response) == {"exceptions.1.date"}


@pytest.mark.parametrize("body", [{"weekly": []}, {"weekly": "mon"}, {"exceptions": {}}])
def test_weekly_must_be_an_object_and_exceptions_a_list(api, body):
    assert invalid_fields(api.put(HOURS, json=body)) == set(body)


def test_a_refused_replacement_keeps_the_old_availability(api):
    api.put(HOURS, json={"weekly": {"mon": NINE_TO_FIVE}})
    response = api.put(
        HOURS,
        json={"weekly": {"tue": NINE_TO_FIVE, "wed": [{"start": "18:00", "end": "08:00"}]}},
    )
    assert invalid_fields(response) == {"weekly.wed"}
    assert ok(api.get(HOURS)) == {"weekly": {**EMPTY_WEEK, "mon": NINE_TO_FIVE}, "exceptions": []}


def test_putting_availability_needs_a_json_body(client, provider):
    response = client.put(
        HOURS,
        data="mon=09:00-17:00",
        content_type="text/plain",
        headers={"Authorization": f"Bearer {provider.key}"},
    )
    expect_error(response, 400, "bad_request")


def test_availability_needs_a_key(client):
    expect_error(client.get(HOURS), 401, "unauthorized")
    expect_error(client.put(HOURS, json={"weekly": {}}), 401, "unauthorized")
