from datetime import datetime

import pytest

from .helpers import BIG_IDS, created, expect_error, invalid_fields, new_client, new_type, ok

HISTORY_FIELDS = {
    "id",
    "kind",
    "delta",
    "balance_after",
    "created_at",
    "note",
    "booking_id",
    "client_package_id",
}


@pytest.fixture
def follow_up(make_type):
    return make_type(name="Follow-Up (50 min)")


@pytest.fixture
def massage(make_type):
    return make_type(name="Massage", duration_minutes=60)


@pytest.fixture
def customer(make_client):
    return make_client(email="ann@example.com", name="Ann")


def credits_path(client_id, type_id=None):
    path = f"/api/v1/clients/{client_id}/credits"
    return path if type_id is None else f"{path}/{type_id}"


def adjust(api, client_id, type_id, delta, note="correction"):
    return api.post(
        f"{credits_path(client_id, type_id)}/adjustments", json={"delta": delta, "note": note}
    )


def test_a_new_client_has_no_credit_rows(api, customer, follow_up):
    assert ok(api.get(credits_path(customer["id"]))) == {"credits": []}


def test_credits_list_one_row_per_type_touched_with_its_name(
    api, customer, follow_up, massage, make_type, make_package, buy
):
    untouched = make_type(name="Never bought")
    package = make_package(
        [
            {"appointment_type_id": follow_up["id"], "quantity": 5},
            {"appointment_type_id": massage["id"], "quantity": 2},
        ]
    )
    buy(customer["id"], package["id"])
    rows = ok(api.get(credits_path(customer["id"])))["credits"]
    assert sorted(rows, key=lambda row: row["appointment_type_id"]) == [
        {
            "appointment_type_id": follow_up["id"],
            "appointment_type": "Follow-Up (50 min)",
            "balance": 5,
        },
        {"appointment_type_id": massage["id"], "appointment_type": "Massage", "balance": 2},
    ]
    assert untouched["id"] not in {row["appointment_type_id"] for row in rows}


def test_a_type_whose_balance_went_back_to_zero_keeps_its_row(api, customer, follow_up):
    created(adjust(api, customer["id"], follow_up["id"], 2))
    created(adjust(api, customer["id"], follow_up["id"], -2))
    assert ok(api.get(credits_path(customer["id"])))["credits"] == [
        {
            "appointment_type_id": follow_up["id"],
            "appointment_type": follow_up["name"],
            "balance": 0,
        }
    ]


def test_credits_are_kept_per_client(api, customer, follow_up):
    other = new_client(api, email="bob@example.com")
    created(adjust(api, customer["id"], follow_up["id"], 3))
    assert ok(api.get(credits_path(other["id"]))) == {"credits": []}
    assert ok(api.get(credits_path(other["id"], follow_up["id"]))) == {"balance": 0, "history": []}


def test_another_providers_client_has_no_credits_here(api, create_provider):
    theirs = new_client(create_provider().api)
    expect_error(api.get(credits_path(theirs["id"])), 404, "not_found")


@pytest.mark.parametrize("big", [*BIG_IDS, "4242"])
def test_credits_of_an_unknown_client_are_not_found(api, big):
    expect_error(api.get(credits_path(big)), 404, "not_found")


def test_credits_need_a_key(client, customer):
    expect_error(client.get(credits_path(customer["id"])), 401, "unauthorized")


def test_a_type_without_entries_has_balance_zero_and_empty_history(api, customer, follow_up):
    assert ok(api.get(credits_path(customer["id"], follow_up["id"]))) == {
        "balance": 0,
        "history": [],
    }


def test_history_is_oldest_first_with_a_running_balance(
    api, customer, follow_up, make_package, buy, clock
):
    package = make_package([{"appointment_type_id": follow_up["id"], "quantity": 5}])
    bought = buy(customer["id"], package["id"])
    clock.advance(hours=1)
    created(adjust(api, customer["id"], follow_up["id"], -2, "two sessions taken on paper"))
    clock.advance(hours=1)
    created(adjust(api, customer["id"], follow_up["id"], 1, "goodwill"))
    body = ok(api.get(credits_path(customer["id"], follow_up["id"])))
    assert body["balance"] == 4
    history = body["history"]
    assert [(e["kind"], e["delta"], e["balance_after"]) for e in history] == [
        ("package_grant", 5, 5),
        ("manual_adjustment", -2, 3),
        ("manual_adjustment", 1, 4),
    ]
    assert history[0]["client_package_id"] == bought["id"]
    assert [e["note"] for e in history[1:]] == ["two sessions taken on paper", "goodwill"]
    times = [datetime.fromisoformat(e["created_at"]) for e in history]
    assert times == sorted(times)
    assert [e["id"] for e in history] == sorted(e["id"] for e in history)


def test_history_entries_carry_the_documented_fields(api, customer, follow_up):
    created(adjust(api, customer["id"], follow_up["id"], 1))
    (entry,) = ok(api.get(credits_path(customer["id"], follow_up["id"])))["history"]
    assert set(entry) >= HISTORY_FIELDS
    assert entry["booking_id"] is None and entry["client_package_id"] is None
    assert datetime.fromisoformat(entry["created_at"]).utcoffset() is not None


def test_history_shows_only_the_asked_type(api, customer, follow_up, massage):
    created(adjust(api, customer["id"], massage["id"], 2))
    created(adjust(api, customer["id"], follow_up["id"], 1))
    history = ok(api.get(credits_path(customer["id"], follow_up["id"])))["history"]
    assert [(e["delta"], e["balance_after"]) for e in history] == [(1, 1)]


def test_history_of_another_providers_type_is_not_found(api, customer, create_provider):
    theirs = new_type(create_provider().api)
    expect_error(api.get(credits_path(customer["id"], theirs["id"])), 404, "not_found")


def test_history_of_another_providers_client_is_not_found(api, follow_up, create_provider):
    theirs = new_client(create_provider().api)
    expect_error(api.get(credits_path(theirs["id"], follow_up["id"])), 404, "not_found")


@pytest.mark.parametrize("big", [*BIG_IDS, "4242"])
def test_history_of_an_unknown_type_is_not_found(api, customer, big):
    expect_error(api.get(credits_path(customer["id"], big)), 404, "not_found")


def test_history_needs_a_key(client, customer, follow_up):
    expect_error(client.get(credits_path(customer["id"], follow_up["id"])), 401, "unauthorized")


def test_an_adjustment_answers_201_with_a_manual_adjustment_entry(api, customer, follow_up):
    entry = created(adjust(api, customer["id"], follow_up["id"], 3, "  migrated from paper  "))
    assert entry["kind"] == "manual_adjustment"
    assert entry["delta"] == 3
    assert entry["balance_after"] == 3
    assert entry["note"] == "migrated from paper"
    assert isinstance(entry["id"], int)


def test_an_adjustment_moves_the_balance(api, customer, follow_up):
    created(adjust(api, customer["id"], follow_up["id"], 3))
    body = ok(api.get(credits_path(customer["id"], follow_up["id"])))
    assert body["balance"] == 3


def test_a_negative_adjustment_may_take_the_balance_below_zero(api, customer, follow_up):
    entry = created(adjust(api, customer["id"], follow_up["id"], -3, "owed from last year"))
    assert entry["balance_after"] == -3
    assert ok(api.get(credits_path(customer["id"], follow_up["id"])))["balance"] == -3
    assert ok(api.get(credits_path(customer["id"])))["credits"][0]["balance"] == -3


def test_a_zero_adjustment_is_refused_on_delta(api, customer, follow_up):
    assert invalid_fields(adjust(api, customer["id"], follow_up["id"], 0)) == {"delta"}
    assert ok(api.get(credits_path(customer["id"], follow_up["id"])))["history"] == []


@pytest.mark.parametrize("delta", ["2", 1.5, None, True, 10_001, -10_001])
def test_a_delta_that_is_not_a_whole_number_in_range_is_refused(api, customer, follow_up, delta):
    assert invalid_fields(adjust(api, customer["id"], follow_up["id"], delta)) == {"delta"}


def test_a_missing_delta_is_refused(api, customer, follow_up):
    response = api.post(
        f"{credits_path(customer['id'], follow_up['id'])}/adjustments", json={"note": "why"}
    )
    assert invalid_fields(response) == {"delta"}


def test_an_adjustment_without_a_note_is_refused(api, customer, follow_up):
    response = api.post(
        f"{credits_path(customer['id'], follow_up['id'])}/adjustments", json={"delta": 1}
    )
    assert invalid_fields(response) == {"note"}


@pytest.mark.parametrize("note", ["", "   ", None, 7])
def test_an_adjustment_with_a_blank_note_is_refused(api, customer, follow_up, note):
    assert invalid_fields(adjust(api, customer["id"], follow_up["id"], 1, note)) == {"note"}
    assert ok(api.get(credits_path(customer["id"], follow_up["id"])))["history"] == []


def test_adjusting_another_providers_client_is_not_found(api, follow_up, create_provider):
    theirs = new_client(create_provider().api)
    expect_error(adjust(api, theirs["id"], follow_up["id"], 1), 404, "not_found")


def test_adjusting_with_another_providers_type_is_not_found(api, customer, create_provider):
    theirs = new_type(create_provider().api)
    expect_error(adjust(api, customer["id"], theirs["id"], 1), 404, "not_found")


@pytest.mark.parametrize("big", [*BIG_IDS, "4242"])
def test_adjusting_an_unknown_type_is_not_found(api, customer, big):
    expect_error(adjust(api, customer["id"], big, 1), 404, "not_found")


def test_an_adjustment_needs_a_json_body(client, provider, customer, follow_up):
    response = client.post(
        f"{credits_path(customer['id'], follow_up['id'])}/adjustments",
        data="delta=1&note=x",
        content_type="application/x-www-form-urlencoded",
        headers={"Authorization": f"Bearer {provider.key}"},
    )
    expect_error(response, 400, "bad_request")


def test_an_adjustment_needs_a_key(client, customer, follow_up):
    response = client.post(
        f"{credits_path(customer['id'], follow_up['id'])}/adjustments",
        json={"delta": 1, "note": "x"},
    )
    expect_error(response, 401, "unauthorized")


def test_an_adjustment_note_with_a_nul_character_is_refused(api, customer, follow_up):
    response = adjust(api, customer["id"], follow_up["id"], 1, "paper\u0000")
    assert invalid_fields(response) == {"note"}


def test_entries_are_stamped_with_the_apps_clock(api, customer, follow_up, clock):
    entry = created(adjust(api, customer["id"], follow_up["id"], 1))
    assert datetime.fromisoformat(entry["created_at"]) == clock.now


def test_a_json_content_type_with_a_charset_is_accepted(api, customer, follow_up):
    response = api.post(
        f"{credits_path(customer['id'], follow_up['id'])}/adjustments",
        json={"delta": 1, "note": "x"},
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert created(response)["delta"] == 1
