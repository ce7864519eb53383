import pytest

from .helpers import BIG_IDS, created, expect_error, invalid_fields, new_type, ok

TYPES = "/api/v1/appointment-types"
BASE = {
    "name": "Initial Consultation",
    "duration_minutes": 45,
    "audience": "everyone",
    "requires_credit": False,
}


def test_creating_a_type_answers_201_with_the_documented_defaults(api):
    body = created(api.post(TYPES, json=BASE))
    assert isinstance(body["id"], int)
    assert body["name"] == "Initial Consultation"
    assert body["duration_minutes"] == 45
    assert body["audience"] == "everyone"
    assert body["requires_credit"] is False
    assert body["slot_step_minutes"] == 45
    assert body["max_days_ahead"] == 60
    assert body["buffer_before_minutes"] == 0
    assert body["buffer_after_minutes"] == 0
    assert body["min_notice_minutes"] == 0
    assert body["max_per_day"] is None
    assert body["active"] is True


def test_explicit_optional_fields_are_kept(api):
    fields = {
        "buffer_before_minutes": 10,
        "buffer_after_minutes": 5,
        "min_notice_minutes": 120,
        "max_days_ahead": 30,
        "slot_step_minutes": 15,
        "max_per_day": 4,
        "late_cancel_hours": 12,
        "active": False,
    }
    body = created(api.post(TYPES, json={**BASE, **fields}))
    assert {key: body[key] for key in fields} == fields


@pytest.mark.parametrize("audience", ["new_clients", "existing_clients", "everyone"])
def test_each_audience_is_accepted(api, audience):
    body = created(api.post(TYPES, json={**BASE, "audience": audience}))
    assert body["audience"] == audience


def test_the_name_is_trimmed(api):
    assert created(api.post(TYPES, json={**BASE, "name": "  Intake  "}))["name"] == "Intake"


def test_a_new_clients_type_that_requires_a_credit_is_refused(api):
    response = api.post(TYPES, json={**BASE, "audience": "new_clients", "requires_credit": True})
    assert invalid_fields(response) == {"requires_credit"}
    assert ok(api.get(TYPES)) == {"appointment_types": []}


@pytest.mark.parametrize("duration", [0, -30, "50", 50.5, True, None, 1441])
def test_a_duration_that_is_not_a_positive_whole_number_is_refused(api, duration):
    response = api.post(TYPES, json={**BASE, "duration_minutes": duration})
    assert invalid_fields(response) == {"duration_minutes"}


def test_a_missing_duration_is_refused(api):
    body = {k: v for k, v in BASE.items() if k != "duration_minutes"}
    assert invalid_fields(api.post(TYPES, json=body)) == {"duration_minutes"}


@pytest.mark.parametrize("audience", ["new", "all", "NEW_CLIENTS", "", None, 1])
def test_an_unknown_audience_is_refused(api, audience):
    assert invalid_fields(api.post(TYPES, json={**BASE, "audience": audience})) == {"audience"}


def test_a_missing_name_is_refused(api):
    body = {k: v for k, v in BASE.items() if k != "name"}
    assert invalid_fields(api.post(TYPES, json=body)) == {"name"}


@pytest.mark.parametrize("name", ["", "   ", 7, "x" * 201])
def test_a_blank_or_malformed_name_is_refused(api, name):
    assert invalid_fields(api.post(TYPES, json={**BASE, "name": name})) == {"name"}


@pytest.mark.parametrize("value", ["true", 1, None])
def test_requires_credit_must_be_a_json_boolean(api, value):
    response = api.post(TYPES, json={**BASE, "requires_credit": value})
    assert invalid_fields(response) == {"requires_credit"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("buffer_before_minutes", -5),
        ("buffer_after_minutes", "10"),
        ("min_notice_minutes", -1),
        ("max_days_ahead", -1),
        ("slot_step_minutes", 0),
        ("max_per_day", 0),
        ("late_cancel_hours", -1),
        ("active", "yes"),
    ],
)
def test_a_bad_optional_field_is_refused_by_name(api, field, value):
    assert invalid_fields(api.post(TYPES, json={**BASE, field: value})) == {field}


def test_creating_a_type_needs_a_json_body(client, provider):
    response = client.post(
        TYPES,
        data="name=Intake",
        content_type="application/x-www-form-urlencoded",
        headers={"Authorization": f"Bearer {provider.key}"},
    )
    expect_error(response, 400, "bad_request")


def test_creating_a_type_needs_a_key(client):
    expect_error(client.post(TYPES, json=BASE), 401, "unauthorized")


def test_the_list_holds_the_providers_types_in_creation_order(api):
    first = new_type(api, name="A")
    second = new_type(api, name="B", active=False)
    assert ok(api.get(TYPES)) == {"appointment_types": [first, second]}


def test_the_list_leaves_out_other_providers_types(api, create_provider):
    new_type(create_provider().api, name="Theirs")
    mine = new_type(api, name="Mine")
    assert ok(api.get(TYPES))["appointment_types"] == [mine]


def test_listing_types_needs_a_key(client):
    expect_error(client.get(TYPES), 401, "unauthorized")


def test_a_type_can_be_read_by_id(api):
    made = new_type(api)
    assert ok(api.get(f"{TYPES}/{made['id']}")) == made


def test_an_unknown_type_id_is_not_found(api):
    expect_error(api.get(f"{TYPES}/4242"), 404, "not_found")


def test_another_providers_type_is_not_found(api, create_provider):
    theirs = new_type(create_provider().api)
    expect_error(api.get(f"{TYPES}/{theirs['id']}"), 404, "not_found")


def test_another_providers_type_cannot_be_patched(api, create_provider):
    other = create_provider()
    theirs = new_type(other.api, name="Theirs")
    expect_error(api.patch(f"{TYPES}/{theirs['id']}", json={"name": "Mine"}), 404, "not_found")
    assert ok(other.api.get(f"{TYPES}/{theirs['id']}"))["name"] == "Theirs"


@pytest.mark.parametrize("big", BIG_IDS)
def test_reading_a_type_id_no_row_can_have_is_not_found(api, big):
    expect_error(api.get(f"{TYPES}/{big}"), 404, "not_found")


@pytest.mark.parametrize("big", BIG_IDS)
def test_patching_a_type_id_no_row_can_have_is_not_found(api, big):
    expect_error(api.patch(f"{TYPES}/{big}", json={"name": "X"}), 404, "not_found")


def test_a_non_numeric_id_is_not_found(api):
    expect_error(api.get(f"{TYPES}/abc"), 404, "not_found")


def test_patching_one_field_keeps_the_others(api):
    made = new_type(api)
    answer = ok(api.patch(f"{TYPES}/{made['id']}", json={"name": "Follow-Up (60)"}))
    assert answer == {**made, "name": "Follow-Up (60)"}
    assert ok(api.get(f"{TYPES}/{made['id']}")) == answer


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("duration_minutes", 60),
        ("audience", "everyone"),
        ("requires_credit", False),
        ("buffer_before_minutes", 15),
        ("buffer_after_minutes", 10),
        ("min_notice_minutes", 1440),
        ("max_days_ahead", 90),
        ("slot_step_minutes", 30),
        ("max_per_day", 3),
        ("late_cancel_hours", 6),
        ("active", False),
    ],
)
def test_each_field_of_a_type_can_be_patched(api, field, value):
    made = new_type(api)
    assert ok(api.patch(f"{TYPES}/{made['id']}", json={field: value}))[field] == value


def test_an_inactive_type_stays_in_the_providers_list(api):
    made = new_type(api)
    api.patch(f"{TYPES}/{made['id']}", json={"active": False})
    listed = ok(api.get(TYPES))["appointment_types"]
    assert [(t["id"], t["active"]) for t in listed] == [(made["id"], False)]


def test_patching_max_per_day_to_null_clears_the_limit(api):
    made = new_type(api, max_per_day=2)
    assert ok(api.patch(f"{TYPES}/{made['id']}", json={"max_per_day": None}))["max_per_day"] is None


def test_patching_slot_step_to_null_goes_back_to_the_duration(api):
    made = new_type(api, duration_minutes=50, slot_step_minutes=10)
    answer = ok(api.patch(f"{TYPES}/{made['id']}", json={"slot_step_minutes": None}))
    assert answer["slot_step_minutes"] == 50


@pytest.mark.parametrize(
    "field", ["name", "duration_minutes", "audience", "requires_credit", "active"]
)
def test_a_required_field_cannot_be_patched_to_null(api, field):
    made = new_type(api)
    assert invalid_fields(api.patch(f"{TYPES}/{made['id']}", json={field: None})) == {field}


def test_patching_a_new_clients_type_to_require_a_credit_is_refused(api):
    made = new_type(api, audience="new_clients", requires_credit=False)
    response = api.patch(f"{TYPES}/{made['id']}", json={"requires_credit": True})
    assert invalid_fields(response) == {"requires_credit"}
    assert ok(api.get(f"{TYPES}/{made['id']}")) == made


def test_patching_a_credit_type_to_new_clients_is_refused(api):
    made = new_type(api, audience="existing_clients", requires_credit=True)
    response = api.patch(f"{TYPES}/{made['id']}", json={"audience": "new_clients"})
    assert invalid_fields(response) == {"requires_credit"}
    assert ok(api.get(f"{TYPES}/{made['id']}")) == made


def test_a_credit_type_may_move_to_new_clients_when_it_stops_requiring_credit(api):
    made = new_type(api, audience="existing_clients", requires_credit=True)
    answer = ok(
        api.patch(
            f"{TYPES}/{made['id']}", json={"audience": "new_clients", "requires_credit": False}
        )
    )
    assert (answer["audience"], answer["requires_credit"]) == ("new_clients", False)


@pytest.mark.parametrize("duration", [0, -10, "60", 12.5])
def test_patching_a_bad_duration_is_refused(api, duration):
    made = new_type(api)
    response = api.patch(f"{TYPES}/{made['id']}", json={"duration_minutes": duration})
    assert invalid_fields(response) == {"duration_minutes"}
    assert ok(api.get(f"{TYPES}/{made['id']}")) == made


def test_patching_an_unknown_audience_is_refused(api):
    made = new_type(api)
    assert invalid_fields(api.patch(f"{TYPES}/{made['id']}", json={"audience": "vip"})) == {
        "audience"
    }


def test_patching_a_type_needs_a_json_body(client, provider):
    made = new_type(provider.api)
    response = client.patch(
        f"{TYPES}/{made['id']}",
        data="{not json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {provider.key}"},
    )
    expect_error(response, 400, "bad_request")


def test_reading_or_patching_a_type_needs_a_key(client, api):
    made = new_type(api)
    expect_error(client.get(f"{TYPES}/{made['id']}"), 401, "unauthorized")
    expect_error(client.patch(f"{TYPES}/{made['id']}", json={"name": "X"}), 401, "unauthorized")


def test_a_type_name_with_a_nul_character_is_refused(api):
    response = api.post(TYPES, json={**BASE, "name": "Intake\u0000"})
    assert invalid_fields(response) == {"name"}
